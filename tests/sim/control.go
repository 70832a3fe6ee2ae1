// vimon-sim: the JSON control API under /_sim/ (inventory, questions, state changes, faults, stats).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/ioutil"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// fault is one injected fault (POST /_sim/fault).
type fault struct {
	Kind   string `json:"kind"`
	Ms     int    `json:"ms"`
	Count  *int   `json:"count"`
	Fault  string `json:"fault"`
	Method string `json:"method"`
	// Versioned: only WaitForUpdatesEx calls that pass a non-empty version match
	// (the initial sync works, every later wait fails).
	Versioned bool `json:"versioned"`
	// Message: the faultstring of a soap-fault (default "injected fault: TYPE").
	Message string `json:"message"`
	left    int    // calls left; -1 = unlimited
}

// takeFault consumes the faults matching a call: the total delay and the first other fault.
// Called with s.mu held.
func (s *simState) takeFault(name string, versioned bool) (time.Duration, *fault) {
	var delay time.Duration
	var hit *fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		match := (f.Method == "" || f.Method == name) && (!f.Versioned || versioned)
		if match && (f.Kind == "delay" || hit == nil) {
			if f.Kind == "delay" {
				delay += time.Duration(f.Ms) * time.Millisecond
			} else {
				hit = f
			}
			if f.left > 0 {
				f.left--
			}
		}
		if f.left != 0 {
			kept = append(kept, f)
		}
	}
	s.faults = kept
	return delay, hit
}

type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...interface{}) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...interface{}) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the reply failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func (s *simState) control(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = ioutil.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "reading the body: " + err.Error()})
			return
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			body = []byte("{}")
		}
	}
	type route struct {
		method string
		fn     func([]byte) (interface{}, error)
	}
	routes := map[string]route{
		"/_sim/inventory":      {http.MethodGet, s.ctlInventory},
		"/_sim/question":       {http.MethodPost, s.ctlQuestion},
		"/_sim/question/clear": {http.MethodPost, s.ctlQuestionClear},
		"/_sim/vm/power":       {http.MethodPost, s.ctlPower},
		"/_sim/vm/quickstats":  {http.MethodPost, s.ctlQuickStats},
		"/_sim/vm/guest":       {http.MethodPost, s.ctlGuest},
		"/_sim/vm/rename":      {http.MethodPost, s.ctlRename},
		"/_sim/host":           {http.MethodPost, s.ctlHost},
		"/_sim/datastore":      {http.MethodPost, s.ctlDatastore},
		"/_sim/fault":          {http.MethodPost, s.ctlFault},
		"/_sim/fault/clear":    {http.MethodPost, s.ctlFaultClear},
		"/_sim/stats":          {http.MethodGet, s.ctlStats},
		"/_sim/stats/reset":    {http.MethodPost, s.ctlStatsReset},
		"/_sim/health":         {http.MethodPost, s.ctlHealth},
		"/_sim/perf":           {http.MethodPost, s.ctlPerf},
		"/_sim/churn":          {http.MethodPost, s.ctlChurn},
	}
	rt, ok := routes[strings.TrimSuffix(r.URL.Path, "/")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such control endpoint: " + r.URL.Path})
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.URL.Path + " takes " + rt.method})
		return
	}
	res, err := rt.fn(body)
	if err != nil {
		code := http.StatusBadRequest
		if he, ok := err.(*httpError); ok {
			code = he.code
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// decodeStrict decodes a JSON object, refusing unknown fields.
func decodeStrict(body []byte, v interface{}) error {
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return badRequest("bad JSON: %v", err)
	}
	return nil
}

func lookupVM(key string) (*simulator.VirtualMachine, error) {
	if key == "" {
		return nil, badRequest("\"vm\" is required")
	}
	vm, ok := findEntity("VirtualMachine", key).(*simulator.VirtualMachine)
	if !ok {
		return nil, notFound("no VM %q", key)
	}
	return vm, nil
}

func (s *simState) ctlInventory([]byte) (interface{}, error) {
	type vmRow struct {
		Moref    string `json:"moref"`
		Name     string `json:"name"`
		Host     string `json:"host"`
		HostName string `json:"host_name"`
		Power    string `json:"power"`
	}
	type row struct {
		Moref string `json:"moref"`
		Name  string `json:"name"`
	}
	out := struct {
		VMs        []vmRow `json:"vms"`
		Hosts      []row   `json:"hosts"`
		Datastores []row   `json:"datastores"`
	}{[]vmRow{}, []row{}, []row{}}
	hostNames := map[string]string{}
	for _, e := range sortedEntities("HostSystem") {
		h := e.(*simulator.HostSystem)
		hostNames[h.Self.Value] = h.Name
		out.Hosts = append(out.Hosts, row{h.Self.Value, h.Name})
	}
	for _, e := range sortedEntities("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		var rowv vmRow
		simulator.Map.WithLock(vm, func() {
			rowv = vmRow{Moref: vm.Self.Value, Name: vm.Name, Power: string(vm.Runtime.PowerState)}
			if vm.Runtime.Host != nil {
				rowv.Host = vm.Runtime.Host.Value
			}
		})
		rowv.HostName = hostNames[rowv.Host]
		out.VMs = append(out.VMs, rowv)
	}
	for _, e := range sortedEntities("Datastore") {
		out.Datastores = append(out.Datastores, row{e.Reference().Value, e.Entity().Name})
	}
	return out, nil
}

func (s *simState) ctlPower(body []byte) (interface{}, error) {
	var req struct {
		VM    string `json:"vm"`
		State string `json:"state"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	vm, err := lookupVM(req.VM)
	if err != nil {
		return nil, err
	}
	want := types.VirtualMachinePowerState(req.State)
	switch want {
	case types.VirtualMachinePowerStatePoweredOn, types.VirtualMachinePowerStatePoweredOff, types.VirtualMachinePowerStateSuspended:
	default:
		return nil, badRequest("\"state\" must be poweredOn, poweredOff or suspended, not %q", req.State)
	}
	if err := s.setPower(vm, want); err != nil {
		return nil, &httpError{http.StatusConflict, err.Error()}
	}
	return map[string]string{"vm": vm.Self.Value, "power": string(want)}, nil
}

// setPower drives a VM to a power state with the simulator's own power tasks (events, bootTime).
func (s *simState) setPower(vm *simulator.VirtualMachine, want types.VirtualMachinePowerState) error {
	var cur types.VirtualMachinePowerState
	simulator.Map.WithLock(vm, func() { cur = vm.Runtime.PowerState })
	if cur == want {
		return nil
	}
	ctx := context.Background()
	var ref types.ManagedObjectReference
	var err error
	switch want {
	case types.VirtualMachinePowerStatePoweredOn:
		var res *types.PowerOnVM_TaskResponse
		res, err = methods.PowerOnVM_Task(ctx, s.client, &types.PowerOnVM_Task{This: vm.Self})
		if err == nil {
			ref = res.Returnval
		}
	case types.VirtualMachinePowerStatePoweredOff:
		var res *types.PowerOffVM_TaskResponse
		res, err = methods.PowerOffVM_Task(ctx, s.client, &types.PowerOffVM_Task{This: vm.Self})
		if err == nil {
			ref = res.Returnval
		}
	case types.VirtualMachinePowerStateSuspended:
		var res *types.SuspendVM_TaskResponse
		res, err = methods.SuspendVM_Task(ctx, s.client, &types.SuspendVM_Task{This: vm.Self})
		if err == nil {
			ref = res.Returnval
		}
	}
	if err != nil {
		return err
	}
	return taskError(ref)
}

// taskError returns the error of a finished simulator task, or nil.
func taskError(ref types.ManagedObjectReference) error {
	t, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok {
		return fmt.Errorf("task %s not found", ref.Value)
	}
	if t.Info.Error != nil {
		return fmt.Errorf("%s failed: %s", t.Info.Name, t.Info.Error.LocalizedMessage)
	}
	return nil
}

// fieldChanges turns {"apiName": value} into property changes PREFIX+apiName of struct type t
// (integer and string fields only).
func fieldChanges(t reflect.Type, prefix string, raw map[string]json.RawMessage) ([]types.PropertyChange, error) {
	fields := jsonFields(t)
	var changes []types.PropertyChange
	for name, v := range raw {
		i, ok := fields[name]
		if !ok {
			return nil, badRequest("%q is not a %s field", name, t.Name())
		}
		ft := t.Field(i).Type
		val := reflect.New(ft).Elem()
		switch ft.Kind() {
		case reflect.Int32, reflect.Int64:
			var n int64
			if err := json.Unmarshal(v, &n); err != nil {
				return nil, badRequest("%q must be an integer", name)
			}
			val.SetInt(n)
			if val.Int() != n {
				return nil, badRequest("%q: %d is out of range", name, n)
			}
		case reflect.String:
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return nil, badRequest("%q must be a string", name)
			}
			val.SetString(str)
		default:
			return nil, badRequest("%q cannot be set", name)
		}
		changes = append(changes, types.PropertyChange{Name: prefix + name, Val: val.Interface()})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Name < changes[j].Name })
	return changes, nil
}

// apiMap renders a struct's fields under their API (xml) names.
func apiMap(v interface{}) map[string]interface{} {
	rv := reflect.ValueOf(v)
	out := map[string]interface{}{}
	for name, i := range jsonFields(rv.Type()) {
		out[name] = rv.Field(i).Interface()
	}
	return out
}

// jsonFields maps the API (xml) names of a struct's fields to their index.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			continue
		}
		name := strings.Split(f.Tag.Get("xml"), ",")[0]
		if name != "" {
			out[name] = i
		}
	}
	return out
}

func (s *simState) ctlQuickStats(body []byte) (interface{}, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest("bad JSON: %v", err)
	}
	var key string
	if v, ok := raw["vm"]; ok {
		if err := json.Unmarshal(v, &key); err != nil {
			return nil, badRequest("\"vm\" must be a string")
		}
	}
	delete(raw, "vm")
	vm, err := lookupVM(key)
	if err != nil {
		return nil, err
	}
	qt := reflect.TypeOf(types.VirtualMachineQuickStats{})
	changes, err := fieldChanges(qt, "summary.quickStats.", raw)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, badRequest("no quickStats field given")
	}
	simulator.Map.WithLock(vm, func() { simulator.Map.Update(vm, changes) })
	var qs map[string]interface{}
	simulator.Map.WithLock(vm, func() { qs = apiMap(vm.Summary.QuickStats) })
	return struct {
		VM         string                 `json:"vm"`
		QuickStats map[string]interface{} `json:"quickStats"`
	}{vm.Self.Value, qs}, nil
}

func (s *simState) ctlHost(body []byte) (interface{}, error) {
	var req struct {
		Host              string                     `json:"host"`
		ConnectionState   *string                    `json:"connectionState"`
		InMaintenanceMode *bool                      `json:"inMaintenanceMode"`
		QuickStats        map[string]json.RawMessage `json:"quickStats"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Host == "" {
		return nil, badRequest("\"host\" is required")
	}
	h, ok := findEntity("HostSystem", req.Host).(*simulator.HostSystem)
	if !ok {
		return nil, notFound("no host %q", req.Host)
	}
	var changes []types.PropertyChange
	if req.ConnectionState != nil {
		cs := types.HostSystemConnectionState(*req.ConnectionState)
		switch cs {
		case types.HostSystemConnectionStateConnected, types.HostSystemConnectionStateDisconnected, types.HostSystemConnectionStateNotResponding:
		default:
			return nil, badRequest("\"connectionState\" must be connected, disconnected or notResponding")
		}
		changes = append(changes,
			types.PropertyChange{Name: "runtime.connectionState", Val: cs},
			types.PropertyChange{Name: "summary.runtime.connectionState", Val: cs})
	}
	if req.InMaintenanceMode != nil {
		changes = append(changes,
			types.PropertyChange{Name: "runtime.inMaintenanceMode", Val: *req.InMaintenanceMode},
			types.PropertyChange{Name: "summary.runtime.inMaintenanceMode", Val: *req.InMaintenanceMode})
	}
	if len(req.QuickStats) > 0 {
		qs, err := fieldChanges(reflect.TypeOf(types.HostListSummaryQuickStats{}), "summary.quickStats.", req.QuickStats)
		if err != nil {
			return nil, err
		}
		changes = append(changes, qs...)
	}
	if len(changes) == 0 {
		return nil, badRequest("nothing to change: give connectionState, inMaintenanceMode and/or quickStats")
	}
	var out map[string]interface{}
	simulator.Map.WithLock(h, func() {
		simulator.Map.Update(h, changes)
		out = map[string]interface{}{"host": h.Self.Value, "connectionState": h.Runtime.ConnectionState,
			"inMaintenanceMode": h.Runtime.InMaintenanceMode, "quickStats": apiMap(h.Summary.QuickStats)}
	})
	return out, nil
}

func (s *simState) ctlDatastore(body []byte) (interface{}, error) {
	var req struct {
		Datastore  string `json:"datastore"`
		FreeSpace  *int64 `json:"freeSpace"`
		Accessible *bool  `json:"accessible"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Datastore == "" {
		return nil, badRequest("\"datastore\" is required")
	}
	ds, ok := findEntity("Datastore", req.Datastore).(*simulator.Datastore)
	if !ok {
		return nil, notFound("no datastore %q", req.Datastore)
	}
	var changes []types.PropertyChange
	if req.FreeSpace != nil {
		if *req.FreeSpace < 0 {
			return nil, badRequest("\"freeSpace\" must not be negative")
		}
		changes = append(changes, types.PropertyChange{Name: "summary.freeSpace", Val: *req.FreeSpace})
	}
	if req.Accessible != nil {
		changes = append(changes, types.PropertyChange{Name: "summary.accessible", Val: *req.Accessible})
	}
	if len(changes) == 0 {
		return nil, badRequest("nothing to change: give freeSpace and/or accessible")
	}
	var out map[string]interface{}
	simulator.Map.WithLock(ds, func() {
		if req.FreeSpace != nil {
			// info.freeSpace mirrors summary.freeSpace; info is an interface, so set it in place
			// and report it as a change of "info".
			if info, ok := ds.Info.(types.BaseDatastoreInfo); ok && info != nil {
				info.GetDatastoreInfo().FreeSpace = *req.FreeSpace
				changes = append(changes, types.PropertyChange{Name: "info", Val: ds.Info})
			}
		}
		simulator.Map.Update(ds, changes)
		out = map[string]interface{}{"datastore": ds.Self.Value, "freeSpace": ds.Summary.FreeSpace,
			"accessible": ds.Summary.Accessible}
	})
	return out, nil
}

func (s *simState) ctlFault(body []byte) (interface{}, error) {
	f := new(fault)
	if err := decodeStrict(body, f); err != nil {
		return nil, err
	}
	switch f.Kind {
	case "expire-sessions":
		s.expireSessions()
		return map[string]string{"kind": f.Kind}, nil
	case "delay":
		if f.Ms <= 0 {
			return nil, badRequest("delay needs \"ms\" > 0")
		}
		f.left = -1
	case "soap-fault":
		if f.Fault == "" {
			return nil, badRequest("soap-fault needs \"fault\" (a vSphere fault type name)")
		}
		t, ok := types.TypeFunc()(f.Fault)
		if !ok {
			return nil, badRequest("unknown fault type %q", f.Fault)
		}
		if _, ok := reflect.New(t).Interface().(types.BaseMethodFault); !ok {
			return nil, badRequest("%q is not a fault type", f.Fault)
		}
		f.left = 1
	case "truncated", "html", "close", "http500":
		f.left = 1
	case "slow-body":
		if f.Ms <= 0 {
			return nil, badRequest("slow-body needs \"ms\" > 0")
		}
		f.left = 1
	case "invalid-collector-version":
		if f.Method != "" && f.Method != "WaitForUpdatesEx" {
			return nil, badRequest("invalid-collector-version applies to WaitForUpdatesEx only")
		}
		f.Method = "WaitForUpdatesEx"
		f.left = 1
	default:
		return nil, badRequest("unknown fault kind %q", f.Kind)
	}
	if f.Versioned {
		if f.Method != "" && f.Method != "WaitForUpdatesEx" {
			return nil, badRequest("\"versioned\" applies to WaitForUpdatesEx only")
		}
		f.Method = "WaitForUpdatesEx"
	}
	if f.Count != nil {
		if *f.Count <= 0 {
			return nil, badRequest("\"count\" must be positive")
		}
		f.left = *f.Count
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
	return map[string]interface{}{"kind": f.Kind, "count": f.left, "method": f.Method}, nil
}

func (s *simState) ctlFaultClear([]byte) (interface{}, error) {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
	return map[string]bool{"cleared": true}, nil
}

func rssBytes() int64 {
	b, err := ioutil.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func (s *simState) ctlStats([]byte) (interface{}, error) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	calls := map[string]int64{}
	s.mu.Lock()
	for k, v := range s.calls {
		calls[k] = v
	}
	s.mu.Unlock()
	s.mu.Lock()
	in, out := s.bytesIn, s.bytesOut
	s.mu.Unlock()
	return map[string]interface{}{"cpu_seconds": cpu, "calls": calls, "rss_bytes": rssBytes(), "churn": s.churnStatus(),
		"bytes_in": in, "bytes_out": out}, nil
}

func (s *simState) ctlStatsReset([]byte) (interface{}, error) {
	s.mu.Lock()
	s.calls = make(map[string]int64)
	s.bytesIn, s.bytesOut = 0, 0
	s.mu.Unlock()
	return map[string]bool{"reset": true}, nil
}

// ctlRename gives a VM another stored name (two VMs may then share one, as in vCenter across
// folders): name, config.name and summary.config.name change through Map.Update.
func (s *simState) ctlRename(body []byte) (interface{}, error) {
	var req struct {
		VM   string `json:"vm"`
		Name string `json:"name"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	vm, err := lookupVM(req.VM)
	if err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, badRequest("\"name\" is required")
	}
	simulator.Map.WithLock(vm, func() {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "name", Val: req.Name},
			{Name: "config.name", Val: req.Name},
			{Name: "summary.config.name", Val: req.Name},
		})
	})
	return map[string]string{"vm": vm.Self.Value, "name": req.Name}, nil
}
