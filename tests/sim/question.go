// vimon-sim: VM questions, AnswerVM, lifecycle tasks blocked by a question, CancelTask.
package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

type question struct {
	info types.VirtualMachineQuestionInfo
}

// blockedTask is a lifecycle task waiting for the question on its VM to be answered.
type blockedTask struct {
	task       *simulator.Task
	vm         *simulator.VirtualMachine
	method     string
	cancelable bool
}

// choiceSpec is one choice of a question in the control API.
type choiceSpec struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Summary string `json:"summary"`
}

// questionPreset is a question as ESX asks it: labels are button ids, summaries the button
// text (with the "_" mnemonic), the message id names the question.
type questionPreset struct {
	text    string
	choices []choiceSpec
	def     int
}

var questionPresets = map[string]questionPreset{
	"msg.uuid.altered": {
		text: "This virtual machine might have been moved or copied. In order to configure certain " +
			"management and networking features, VMware ESX needs to know if this virtual machine " +
			"was moved or copied. If you don't know, answer \"I Copied It\".",
		choices: []choiceSpec{
			{"0", "button.uuid.cancel", "Cancel"},
			{"1", "button.uuid.movedTheVM", "I _Moved It"},
			{"2", "button.uuid.copiedTheVM", "I _Copied It"},
		},
		def: 2,
	},
	"msg.serial.file.open": {
		text: "The file specified for serial port 1 (/vmfs/volumes/LocalDS_0/serial.log) already " +
			"exists. Do you want to append new output to it or replace its contents?",
		choices: []choiceSpec{
			{"0", "button.append", "Append"},
			{"1", "button.replace", "Replace"},
			{"2", "button.cancel", "Cancel"},
		},
		def: 0,
	},
	// The default ends the VM's session (a hard power-off) on ESX: not safe to answer blindly.
	"msg.hbacommon.outofspace": {
		text: "There is no more space for virtual disk 'disk-1.vmdk'. You might be able to continue " +
			"this session by freeing disk space on the relevant volume, and clicking _Retry. " +
			"Click Cancel to terminate this session.",
		choices: []choiceSpec{
			{"0", "button.retry", "_Retry"},
			{"1", "button.abort", "Cancel"},
		},
		def: 1,
	},
}

// pendingQuestion is a question to raise ms after the next lifecycle task on its VM starts.
type pendingQuestion struct {
	info types.VirtualMachineQuestionInfo
	ms   int
}

func (s *simState) ctlQuestion(body []byte) (interface{}, error) {
	var req struct {
		VM               string       `json:"vm"`
		ID               string       `json:"id"`
		Preset           string       `json:"preset"`
		Text             string       `json:"text"`
		MessageIDs       []string     `json:"message_ids"`
		Choices          []choiceSpec `json:"choices"`
		Default          *int         `json:"default"`
		DuringNextTaskMs *int         `json:"during_next_task_ms"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	vm, err := lookupVM(req.VM)
	if err != nil {
		return nil, err
	}
	if req.Preset != "" {
		p, ok := questionPresets[req.Preset]
		if !ok {
			return nil, badRequest("unknown preset %q (msg.uuid.altered, msg.serial.file.open, msg.hbacommon.outofspace)", req.Preset)
		}
		if req.Text == "" {
			req.Text = p.text
		}
		if len(req.Choices) == 0 {
			req.Choices = p.choices
			if req.Default == nil {
				d := p.def
				req.Default = &d
			}
		}
		if len(req.MessageIDs) == 0 {
			req.MessageIDs = []string{req.Preset}
		}
	}
	if req.Text == "" {
		return nil, badRequest("\"text\" is required")
	}
	if len(req.Choices) == 0 {
		return nil, badRequest("\"choices\" needs at least one choice")
	}
	def := 0
	if req.Default != nil {
		def = *req.Default
	}
	if def < 0 || def >= len(req.Choices) {
		return nil, badRequest("\"default\" %d is not an index into choices", def)
	}
	if req.DuringNextTaskMs != nil && (*req.DuringNextTaskMs < 0 || *req.DuringNextTaskMs > 600000) {
		return nil, badRequest("\"during_next_task_ms\" must be 0..600000")
	}
	seen := map[string]bool{}
	q := types.VirtualMachineQuestionInfo{Id: req.ID, Text: req.Text}
	for _, c := range req.Choices {
		if c.Key == "" {
			return nil, badRequest("every choice needs a \"key\"")
		}
		if seen[c.Key] {
			return nil, badRequest("duplicate choice key %q", c.Key)
		}
		seen[c.Key] = true
		q.Choice.ChoiceInfo = append(q.Choice.ChoiceInfo, &types.ElementDescription{
			Description: types.Description{Label: c.Label, Summary: c.Summary},
			Key:         c.Key,
		})
	}
	q.Choice.DefaultIndex = int32(def)
	for _, id := range req.MessageIDs {
		q.Message = append(q.Message, types.VirtualMachineMessage{Id: id, Text: req.Text})
	}
	s.mu.Lock()
	if q.Id == "" {
		s.nextID++
		q.Id = fmt.Sprintf("%d", s.nextID)
	}
	if req.DuringNextTaskMs != nil {
		s.armed[vm.Self.Value] = &pendingQuestion{info: q, ms: *req.DuringNextTaskMs}
		s.mu.Unlock()
		return struct {
			VM               string `json:"vm"`
			ID               string `json:"id"`
			DuringNextTaskMs int    `json:"during_next_task_ms"`
		}{vm.Self.Value, q.Id, *req.DuringNextTaskMs}, nil
	}
	s.questions[vm.Self.Value] = &question{info: q}
	s.mu.Unlock()
	setQuestion(vm, &q)
	return struct {
		VM string `json:"vm"`
		ID string `json:"id"`
	}{vm.Self.Value, q.Id}, nil
}

// raiseLater asks the armed question ms after bt started, if bt is still waiting by then.
func (s *simState) raiseLater(bt *blockedTask, pq *pendingQuestion) {
	time.Sleep(time.Duration(pq.ms) * time.Millisecond)
	s.mu.Lock()
	if s.blocked[bt.task.Self.Value] != bt {
		s.mu.Unlock()
		return
	}
	q := pq.info
	s.questions[bt.vm.Self.Value] = &question{info: q}
	s.mu.Unlock()
	setQuestion(bt.vm, &q)
}

// setQuestion sets (q != nil) or clears runtime.question, visible to the property collector.
func setQuestion(vm *simulator.VirtualMachine, q *types.VirtualMachineQuestionInfo) {
	var val interface{}
	if q != nil {
		c := *q
		val = &c
	}
	simulator.Map.WithLock(vm, func() {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.question", Val: val},
			{Name: "summary.runtime.question", Val: val},
		})
	})
}

func (s *simState) ctlQuestionClear(body []byte) (interface{}, error) {
	var req struct {
		VM string `json:"vm"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	vm, err := lookupVM(req.VM)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	_, had := s.questions[vm.Self.Value]
	delete(s.questions, vm.Self.Value)
	s.mu.Unlock()
	setQuestion(vm, nil)
	// With the question gone, the tasks it blocked go ahead as if it had been answered.
	s.releaseTasks(vm)
	return map[string]interface{}{"vm": vm.Self.Value, "cleared": had}, nil
}

// answerVM implements VirtualMachine.AnswerVM.
func (s *simState) answerVM(w http.ResponseWriter, r *http.Request, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		writeFault(w, err.Error(), new(types.InvalidRequest))
		return
	}
	req := m.Body.(*types.AnswerVM)
	if !s.requireSession(w, r, req.This) {
		return
	}
	vm, ok := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		writeFault(w, fmt.Sprintf("managed object not found: %s", req.This), &types.ManagedObjectNotFound{Obj: req.This})
		return
	}
	s.mu.Lock()
	q := s.questions[vm.Self.Value]
	if q == nil || q.info.Id != req.QuestionId {
		s.mu.Unlock()
		msg := fmt.Sprintf("question %q is not pending on %s", req.QuestionId, vm.Self.Value)
		if q == nil {
			msg = fmt.Sprintf("%s has no pending question (asked to answer %q)", vm.Self.Value, req.QuestionId)
		}
		writeFault(w, msg, &types.InvalidArgument{InvalidProperty: "questionId"})
		return
	}
	var keys []string
	found := false
	for _, c := range q.info.Choice.ChoiceInfo {
		d := c.GetElementDescription()
		keys = append(keys, d.Key)
		if d.Key == req.AnswerChoice {
			found = true
		}
	}
	if !found {
		s.mu.Unlock()
		writeFault(w, fmt.Sprintf("choice %q is not a choice of question %q (choices: %s)",
			req.AnswerChoice, req.QuestionId, strings.Join(keys, ", ")),
			&types.InvalidArgument{InvalidProperty: "answerChoice"})
		return
	}
	delete(s.questions, vm.Self.Value)
	s.mu.Unlock()
	setQuestion(vm, nil)
	s.releaseTasks(vm)
	writeResult(w, new(types.AnswerVMResponse))
}

// lifecycle blocks a power task on a VM with a pending question; false means "not handled".
func (s *simState) lifecycle(w http.ResponseWriter, r *http.Request, body []byte, name string) bool {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return false
	}
	if m.This.Type != "VirtualMachine" {
		return false
	}
	s.mu.Lock()
	_, pending := s.questions[m.This.Value]
	armed := s.armed[m.This.Value]
	if armed != nil && !pending {
		delete(s.armed, m.This.Value)
	} else {
		armed = nil
	}
	s.mu.Unlock()
	if !pending && armed == nil {
		return false
	}
	if !s.requireSession(w, r, m.This) {
		return true
	}
	vm, ok := simulator.Map.Get(m.This).(*simulator.VirtualMachine)
	if !ok {
		return false
	}
	id := map[string]string{
		"PowerOnVM_Task":  "powerOn",
		"PowerOffVM_Task": "powerOff",
		"ResetVM_Task":    "reset",
		"SuspendVM_Task":  "suspend",
	}[name]
	bt := &blockedTask{vm: vm, method: name, cancelable: name != "PowerOnVM_Task"}
	bt.task = simulator.CreateTask(vm, id, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, nil
	})
	now := time.Now()
	var vmName string
	simulator.Map.WithLock(vm, func() { vmName = vm.Name })
	simulator.Map.WithLock(bt.task, func() {
		simulator.Map.Update(bt.task, []types.PropertyChange{
			{Name: "info.name", Val: name},
			{Name: "info.entityName", Val: vmName},
			{Name: "info.cancelable", Val: bt.cancelable},
			{Name: "info.startTime", Val: now},
			{Name: "info.state", Val: types.TaskInfoStateRunning},
		})
	})
	s.mu.Lock()
	s.blocked[bt.task.Self.Value] = bt
	s.mu.Unlock()
	addRecentTask(vm, bt.task.Self)
	if armed != nil {
		go s.raiseLater(bt, armed)
	}
	ref := bt.task.Self
	var res interface{}
	switch name {
	case "PowerOnVM_Task":
		res = &types.PowerOnVM_TaskResponse{Returnval: ref}
	case "PowerOffVM_Task":
		res = &types.PowerOffVM_TaskResponse{Returnval: ref}
	case "ResetVM_Task":
		res = &types.ResetVM_TaskResponse{Returnval: ref}
	case "SuspendVM_Task":
		res = &types.SuspendVM_TaskResponse{Returnval: ref}
	}
	writeResult(w, res)
	return true
}

// addRecentTask lists a task in the VM's recentTask (ManagedEntity.recentTask), as vCenter
// does for the tasks on an entity; the simulator's own tasks end at once and are not listed.
func addRecentTask(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) {
	simulator.Map.WithLock(vm, func() {
		recent := append(append([]types.ManagedObjectReference(nil), vm.RecentTask...), ref)
		if len(recent) > 20 {
			recent = recent[len(recent)-20:]
		}
		simulator.Map.Update(vm, []types.PropertyChange{{Name: "recentTask", Val: recent}})
	})
}

// finishTask moves a task to its final state, visible to the property collector.
func finishTask(t *simulator.Task, res types.AnyType, f types.BaseMethodFault, msg string, cancelled bool) {
	state := types.TaskInfoStateSuccess
	var errv interface{}
	if f != nil {
		state = types.TaskInfoStateError
		errv = &types.LocalizedMethodFault{Fault: f, LocalizedMessage: msg}
	}
	changes := []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.result", Val: res},
		{Name: "info.error", Val: errv},
	}
	if cancelled {
		changes = append(changes, types.PropertyChange{Name: "info.cancelled", Val: true})
	}
	simulator.Map.WithLock(t, func() { simulator.Map.Update(t, changes) })
}

// releaseTasks runs the real operation of every task blocked on vm (the question is gone).
func (s *simState) releaseTasks(vm *simulator.VirtualMachine) {
	s.mu.Lock()
	var mine []*blockedTask
	for k, bt := range s.blocked {
		if bt.vm == vm {
			mine = append(mine, bt)
			delete(s.blocked, k)
		}
	}
	s.mu.Unlock()
	// Oldest first.
	for i := 1; i < len(mine); i++ {
		for j := i; j > 0 && morefLess(mine[j].task.Self.Value, mine[j-1].task.Self.Value); j-- {
			mine[j], mine[j-1] = mine[j-1], mine[j]
		}
	}
	ctx := context.Background()
	for _, bt := range mine {
		var ref types.ManagedObjectReference
		var err error
		switch bt.method {
		case "PowerOnVM_Task":
			var r *types.PowerOnVM_TaskResponse
			if r, err = methods.PowerOnVM_Task(ctx, s.client, &types.PowerOnVM_Task{This: vm.Self}); err == nil {
				ref = r.Returnval
			}
		case "PowerOffVM_Task":
			var r *types.PowerOffVM_TaskResponse
			if r, err = methods.PowerOffVM_Task(ctx, s.client, &types.PowerOffVM_Task{This: vm.Self}); err == nil {
				ref = r.Returnval
			}
		case "ResetVM_Task":
			var r *types.ResetVM_TaskResponse
			if r, err = methods.ResetVM_Task(ctx, s.client, &types.ResetVM_Task{This: vm.Self}); err == nil {
				ref = r.Returnval
			}
		case "SuspendVM_Task":
			var r *types.SuspendVM_TaskResponse
			if r, err = methods.SuspendVM_Task(ctx, s.client, &types.SuspendVM_Task{This: vm.Self}); err == nil {
				ref = r.Returnval
			}
		}
		if err != nil {
			finishTask(bt.task, nil, &types.SystemError{Reason: err.Error()}, err.Error(), false)
			continue
		}
		inner, ok := simulator.Map.Get(ref).(*simulator.Task)
		if !ok {
			finishTask(bt.task, nil, &types.SystemError{Reason: "lost the inner task"}, "lost the inner task", false)
			continue
		}
		var info types.TaskInfo
		simulator.Map.WithLock(inner, func() { info = inner.Info })
		if info.Error != nil {
			finishTask(bt.task, nil, info.Error.Fault, info.Error.LocalizedMessage, false)
			continue
		}
		finishTask(bt.task, info.Result, nil, "", false)
	}
}

// cancelTask implements Task.CancelTask for blocked tasks (the simulator has none).
func (s *simState) cancelTask(w http.ResponseWriter, r *http.Request, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		writeFault(w, err.Error(), new(types.InvalidRequest))
		return
	}
	if !s.requireSession(w, r, m.This) {
		return
	}
	s.mu.Lock()
	bt := s.blocked[m.This.Value]
	if bt != nil && bt.cancelable {
		delete(s.blocked, m.This.Value)
	}
	s.mu.Unlock()
	if bt == nil {
		t, ok := simulator.Map.Get(m.This).(*simulator.Task)
		if !ok {
			writeFault(w, fmt.Sprintf("managed object not found: %s", m.This), &types.ManagedObjectNotFound{Obj: m.This})
			return
		}
		if t.Info.State == types.TaskInfoStateSuccess || t.Info.State == types.TaskInfoStateError {
			writeFault(w, fmt.Sprintf("%s has already completed (%s)", m.This.Value, t.Info.State), new(types.InvalidState))
			return
		}
		writeFault(w, fmt.Sprintf("%s (%s) cannot be cancelled", m.This.Value, t.Info.Name), new(types.NotSupported))
		return
	}
	if !bt.cancelable {
		writeFault(w, fmt.Sprintf("%s (%s) cannot be cancelled", m.This.Value, bt.method), new(types.InvalidState))
		return
	}
	finishTask(bt.task, nil, new(types.RequestCanceled), "The task was canceled by a user.", true)
	writeResult(w, new(types.CancelTaskResponse))
}
