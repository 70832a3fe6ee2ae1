// vimon-sim: churn, the steady quickStats refresh of a real vCenter (every powered-on VM about
// every 20 s), delivered to WaitForUpdatesEx without the simulator's per-change cost.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Why not Map.Update for every VM: govmomi's WaitForUpdatesEx re-applies every filter of the
// collector for each modified object it reports (about 0.1 s per change with a view over
// 10,000 VMs), so 10,000 changes per 20 s would need hundreds of cores. Instead a churn batch
// changes the VM objects in place (under their lock, so RetrievePropertiesEx and new filters
// see the values), remembers per property collector which VMs changed, and the next
// WaitForUpdatesEx on that collector gets them from vimon-sim at once, as one update set (cut
// to maxObjectUpdates like any other). While churn is on, the waits of such a collector go
// to the simulator in slices of one second, so that a batch made during a wait is delivered
// within a second without a Map.Update (which would cost a re-apply of every filter).

// churnConfig is what /_sim/churn and the -churn flags set.
type churnConfig struct {
	Enabled      bool    `json:"enabled"`
	Interval     float64 `json:"interval"`          // seconds between batches
	Share        float64 `json:"share"`             // share of the powered-on VMs changed per batch, 0..1
	EventsPerMin float64 `json:"events_per_minute"` // power and question events
}

// churnFilter is one PropertyFilter whose spec asks for VM quickStats.
type churnFilter struct {
	paths []string // the filter's VirtualMachine paths that cover quickStats
}

// churnCollector is one session's property collector with such filters.
type churnCollector struct {
	session string
	filters map[string]*churnFilter               // by filter moref value
	pending map[types.ManagedObjectReference]bool // VMs changed since the last delivery
	churned bool                                  // the last reply was a churn reply
}

type churnState struct {
	mu         sync.Mutex
	cfg        churnConfig
	collectors map[string]*churnCollector // by updatesKey
	batches    int64
	changes    int64
	events     int64
	delivered  int64
	wake       chan struct{}
	rng        *rand.Rand
}

func newChurnState() *churnState {
	return &churnState{
		cfg:        churnConfig{Interval: 20, Share: 1},
		collectors: make(map[string]*churnCollector),
		wake:       make(chan struct{}, 1),
		rng:        rand.New(rand.NewSource(1)),
	}
}

// quickStatsPaths are the VirtualMachine property paths whose values a quickStats change alters.
func quickStatsPath(p string) bool {
	return p == "summary" || p == "summary.quickStats" || strings.HasPrefix(p, "summary.quickStats.")
}

var filterReturnval = regexp.MustCompile(`<returnval[^>]*>([^<]+)</returnval>`)

// createFilter passes CreateFilter to the simulator and notes filters that ask for VM quickStats.
func (s *simState) createFilter(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := httptest.NewRecorder()
	s.pass(rec, r, body)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	if rec.Code != http.StatusOK {
		return
	}
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return
	}
	req, ok := m.Body.(*types.CreateFilter)
	if !ok {
		return
	}
	var paths []string
	for _, ps := range req.Spec.PropSet {
		if ps.Type != "VirtualMachine" {
			continue
		}
		if ps.All != nil && *ps.All {
			paths = append(paths, "summary")
		}
		for _, p := range ps.PathSet {
			if quickStatsPath(p) {
				paths = append(paths, p)
			}
		}
	}
	reply := rec.Body.Bytes()
	if ce := rec.Header().Get("Content-Encoding"); ce != "" {
		return // the filter's moref is not readable; such clients get no churn
	}
	mm := filterReturnval.FindSubmatch(reply)
	if len(paths) == 0 || mm == nil {
		return
	}
	key := updatesKey(sessionKey(r), req.This)
	c := s.churn
	c.mu.Lock()
	col := c.collectors[key]
	if col == nil {
		col = &churnCollector{session: sessionKey(r), filters: map[string]*churnFilter{},
			pending: map[types.ManagedObjectReference]bool{}}
		c.collectors[key] = col
	}
	col.filters[string(mm[1])] = &churnFilter{paths: paths}
	c.mu.Unlock()
}

// forgetFilter drops a destroyed filter (DestroyPropertyFilter) or collector
// (DestroyPropertyCollector) from the churn bookkeeping.
func (s *simState) forgetFilter(r *http.Request, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return
	}
	c := s.churn
	c.mu.Lock()
	defer c.mu.Unlock()
	switch req := m.Body.(type) {
	case *types.DestroyPropertyFilter:
		for key, col := range c.collectors {
			if col.session == sessionKey(r) {
				delete(col.filters, req.This.Value)
				if len(col.filters) == 0 {
					delete(c.collectors, key)
				}
			}
		}
	case *types.DestroyPropertyCollector:
		delete(c.collectors, updatesKey(sessionKey(r), req.This))
	}
}

// dropChurnSessions forgets the collectors of ended sessions.
func (s *simState) dropChurnSessions(sessions map[string]bool) {
	c := s.churn
	c.mu.Lock()
	for k, col := range c.collectors {
		if sessions[col.session] {
			delete(c.collectors, k)
		}
	}
	c.mu.Unlock()
}

// churnReply builds the WaitForUpdatesEx reply with the pending churn of a collector, or nil
// when there is none. version "" (a new start) only clears what is pending: the initial
// update set reads the current values anyway.
func (s *simState) churnReply(key, version string) []byte {
	c := s.churn
	c.mu.Lock()
	col := c.collectors[key]
	if col == nil || len(col.pending) == 0 {
		c.mu.Unlock()
		return nil
	}
	pending := col.pending
	col.pending = map[types.ManagedObjectReference]bool{}
	col.churned = true
	type fl struct {
		ref   string
		paths []string
	}
	var filters []fl
	for ref, f := range col.filters {
		filters = append(filters, fl{ref, f.paths})
	}
	c.delivered += int64(len(pending))
	c.mu.Unlock()
	if version == "" {
		return nil
	}
	refs := make([]types.ManagedObjectReference, 0, len(pending))
	for ref := range pending {
		refs = append(refs, ref)
	}
	sortRefs(refs)
	set := &types.UpdateSet{Version: version}
	for _, f := range filters {
		fu := types.PropertyFilterUpdate{Filter: types.ManagedObjectReference{Type: "PropertyFilter", Value: f.ref}}
		for _, ref := range refs {
			obj := simulator.Map.Get(ref)
			vm, ok := obj.(*simulator.VirtualMachine)
			if !ok {
				continue
			}
			var changes []types.PropertyChange
			simulator.Map.WithLock(vm, func() {
				for _, p := range f.paths {
					changes = append(changes, types.PropertyChange{Name: p, Op: types.PropertyChangeOpAssign, Val: quickStatsValue(vm, p)})
				}
			})
			fu.ObjectSet = append(fu.ObjectSet, types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: ref, ChangeSet: changes})
		}
		if len(fu.ObjectSet) > 0 {
			set.FilterSet = append(set.FilterSet, fu)
		}
	}
	if len(set.FilterSet) == 0 {
		return nil
	}
	rec := httptest.NewRecorder()
	writeResult(rec, &types.WaitForUpdatesExResponse{Returnval: set})
	return rec.Body.Bytes()
}

func sortRefs(refs []types.ManagedObjectReference) {
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && morefLess(refs[j].Value, refs[j-1].Value); j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
		}
	}
}

// quickStatsValue is the value of a quickStats-covering path of vm. Called with vm locked.
func quickStatsValue(vm *simulator.VirtualMachine, path string) types.AnyType {
	switch {
	case path == "summary":
		return vm.Summary
	case path == "summary.quickStats":
		return vm.Summary.QuickStats
	}
	name := strings.TrimPrefix(path, "summary.quickStats.")
	v := reflect.ValueOf(vm.Summary.QuickStats)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("xml"), ",")[0]
		if tag == name {
			return v.Field(i).Interface()
		}
	}
	return nil
}

// runChurn makes a batch every interval while churn is enabled (the first at once), and the
// events at their rate. A new configuration takes effect at once.
func (s *simState) runChurn() {
	c := s.churn
	var last, lastEvent time.Time
	for {
		c.mu.Lock()
		cfg := c.cfg
		c.mu.Unlock()
		if !cfg.Enabled {
			last, lastEvent = time.Time{}, time.Time{}
			select {
			case <-c.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		now := time.Now()
		interval := time.Duration(cfg.Interval * float64(time.Second))
		if last.IsZero() || !now.Before(last.Add(interval)) {
			s.churnBatch(cfg.Share)
			last = now
		}
		sleep := time.Until(last.Add(interval))
		if cfg.EventsPerMin > 0 {
			every := time.Duration(float64(time.Minute) / cfg.EventsPerMin)
			if lastEvent.IsZero() {
				lastEvent = now
			}
			if !now.Before(lastEvent.Add(every)) {
				s.churnEvent()
				lastEvent = now
			}
			if d := time.Until(lastEvent.Add(every)); d < sleep {
				sleep = d
			}
		}
		if sleep < time.Millisecond {
			sleep = time.Millisecond
		}
		select {
		case <-c.wake:
		case <-time.After(sleep):
		}
	}
}

// churnBatch changes quickStats of share of the powered-on VMs with plausible values.
func (s *simState) churnBatch(share float64) {
	c := s.churn
	var vms []*simulator.VirtualMachine
	for _, e := range sortedEntities("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		on := false
		simulator.Map.WithLock(vm, func() { on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn })
		if on {
			vms = append(vms, vm)
		}
	}
	c.mu.Lock()
	n := int(float64(len(vms))*share + 0.5)
	if n > len(vms) {
		n = len(vms)
	}
	c.rng.Shuffle(len(vms), func(i, j int) { vms[i], vms[j] = vms[j], vms[i] })
	vms = vms[:n]
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = c.rng.Int63()
	}
	c.mu.Unlock()
	if n == 0 {
		return
	}
	refs := make([]types.ManagedObjectReference, n)
	for i, vm := range vms {
		r := rand.New(rand.NewSource(seeds[i]))
		simulator.Map.WithLock(vm, func() {
			refs[i] = vm.Self
			mem := int32(1024)
			if vm.Config != nil && vm.Config.Hardware.MemoryMB > 0 {
				mem = vm.Config.Hardware.MemoryMB
			}
			mhz := int32(2000)
			if vm.Config != nil && vm.Config.Hardware.NumCPU > 0 {
				mhz *= vm.Config.Hardware.NumCPU
			}
			frac := func(max int32, lo, hi float64) int32 {
				return int32(float64(max) * (lo + r.Float64()*(hi-lo)))
			}
			q := &vm.Summary.QuickStats
			q.OverallCpuUsage = frac(mhz, 0.02, 0.6)
			q.OverallCpuDemand = q.OverallCpuUsage + frac(mhz, 0, 0.05)
			q.GuestMemoryUsage = frac(mem, 0.05, 0.5)
			q.HostMemoryUsage = frac(mem, 0.3, 0.9)
			q.GrantedMemory = frac(mem, 0.6, 1)
			q.BalloonedMemory = frac(mem, 0, 0.05)
			q.SwappedMemory = frac(mem, 0, 0.02)
			q.CompressedMemory = int64(frac(mem, 0, 0.02)) * 1024
			q.SharedMemory = frac(mem, 0, 0.2)
			q.PrivateMemory = q.HostMemoryUsage - q.SharedMemory/2
			q.ConsumedOverheadMemory = 20 + frac(64, 0, 1)
			q.UptimeSeconds += int32(20)
		})
	}
	c.mu.Lock()
	for _, col := range c.collectors {
		for _, ref := range refs {
			col.pending[ref] = true
		}
	}
	c.batches++
	c.changes += int64(n)
	c.mu.Unlock()
}

// churnEvent powers a random VM off or on, or raises or clears a question on one.
func (s *simState) churnEvent() {
	c := s.churn
	vms := sortedEntities("VirtualMachine")
	if len(vms) == 0 {
		return
	}
	c.mu.Lock()
	vm := vms[c.rng.Intn(len(vms))].(*simulator.VirtualMachine)
	kind := c.rng.Intn(2)
	c.events++
	c.mu.Unlock()
	if kind == 0 {
		var state types.VirtualMachinePowerState
		simulator.Map.WithLock(vm, func() { state = vm.Runtime.PowerState })
		want := types.VirtualMachinePowerStatePoweredOff
		if state != types.VirtualMachinePowerStatePoweredOn {
			want = types.VirtualMachinePowerStatePoweredOn
		}
		_ = s.setPower(vm, want)
		return
	}
	s.mu.Lock()
	_, has := s.questions[vm.Self.Value]
	s.mu.Unlock()
	if has {
		_, _ = s.ctlQuestionClear([]byte(`{"vm":"` + vm.Self.Value + `"}`))
		return
	}
	_, _ = s.ctlQuestion([]byte(`{"vm":"` + vm.Self.Value + `","text":"churn question","message_ids":["msg.churn"],` +
		`"choices":[{"key":"0","label":"OK"}]}`))
}

// ctlChurn sets the churn configuration (fields given) and reports it with counters.
func (s *simState) ctlChurn(body []byte) (interface{}, error) {
	c := s.churn
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	if len(bytes.TrimSpace(body)) > 2 {
		if err := decodeStrict(body, &cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return s.churnStatus(), nil
}

func (cfg *churnConfig) check() error {
	if cfg.Interval < 0.1 {
		return badRequest("interval must be at least 0.1 s")
	}
	if cfg.Share < 0 || cfg.Share > 1 {
		return badRequest("share must be between 0 and 1")
	}
	if cfg.EventsPerMin < 0 || cfg.EventsPerMin > 6000 {
		return badRequest("events_per_minute must be between 0 and 6000")
	}
	return nil
}

func (s *simState) churnStatus() map[string]interface{} {
	c := s.churn
	c.mu.Lock()
	defer c.mu.Unlock()
	var cfg map[string]interface{}
	b, _ := json.Marshal(c.cfg)
	_ = json.Unmarshal(b, &cfg)
	return map[string]interface{}{"config": cfg, "batches": c.batches, "changes": c.changes,
		"events": c.events, "delivered": c.delivered, "collectors": len(c.collectors)}
}

// churnWatched tells whether churn is on and the collector has a filter on VM quickStats.
// churnTurn tells whether the last reply to the collector was a churn reply, and forgets it:
// the simulator's own updates get the next turn.
func (s *simState) churnTurn(key string) bool {
	c := s.churn
	c.mu.Lock()
	defer c.mu.Unlock()
	col := c.collectors[key]
	if col == nil || !col.churned {
		return false
	}
	col.churned = false
	return true
}

func (s *simState) churnWatched(key string) bool {
	c := s.churn
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.Enabled && c.collectors[key] != nil
}

var maxWaitElem = regexp.MustCompile(`<maxWaitSeconds>[0-9]+</maxWaitSeconds>`)

// waitWithChurn serves a WaitForUpdatesEx of a collector that gets churn: pending churn at
// once; otherwise the simulator's wait in slices of one second (the client's maxWaitSeconds
// in all), delivering churn made meanwhile at the end of the slice it was made in.
func (s *simState) waitWithChurn(w http.ResponseWriter, r *http.Request, body []byte, req *types.WaitForUpdatesEx,
	key, session string, max int) {
	var deadline time.Time
	if req.Options != nil && req.Options.MaxWaitSeconds != nil && *req.Options.MaxWaitSeconds > 1 &&
		maxWaitElem.Match(body) {
		deadline = time.Now().Add(time.Duration(*req.Options.MaxWaitSeconds) * time.Second)
	}
	sliced := maxWaitElem.ReplaceAll(body, []byte("<maxWaitSeconds>1</maxWaitSeconds>"))
	for {
		// Churn and the simulator's own updates (power, questions, values set through the
		// control API) take turns: after a churn reply the simulator is asked first, without
		// waiting, so that churn arriving faster than the client asks (a client that
		// publishes at most once a second) cannot hold them back. A vCenter has one queue.
		if s.churnTurn(key) && maxWaitElem.Match(body) {
			rec := httptest.NewRecorder()
			s.pass(rec, r, maxWaitElem.ReplaceAll(body, []byte("<maxWaitSeconds>0</maxWaitSeconds>")))
			if reply := rec.Body.Bytes(); rec.Code != http.StatusOK || bytes.Contains(reply, []byte("<returnval>")) {
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				s.serveUpdates(w, key, session, max, rec.Code, reply)
				return
			}
		}
		if out := s.churnReply(key, req.Version); out != nil {
			if !s.hasSession(r) {
				writeFault(w, "", &types.NotAuthenticated{NoPermission: types.NoPermission{Object: req.This, PrivilegeId: "System.View"}})
				return
			}
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			s.serveUpdates(w, key, session, max, http.StatusOK, out)
			return
		}
		left := time.Until(deadline)
		last := deadline.IsZero() || left <= time.Second || !s.churnWatched(key)
		rec := httptest.NewRecorder()
		switch {
		case deadline.IsZero():
			s.pass(rec, r, body)
		case last:
			secs := int((left + time.Second - 1) / time.Second)
			if secs < 1 {
				secs = 1
			}
			s.pass(rec, r, maxWaitElem.ReplaceAll(body, []byte(fmt.Sprintf("<maxWaitSeconds>%d</maxWaitSeconds>", secs))))
		default:
			s.pass(rec, r, sliced)
		}
		reply := rec.Body.Bytes()
		if last || rec.Code != http.StatusOK || bytes.Contains(reply, []byte("<returnval>")) {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			s.serveUpdates(w, key, session, max, rec.Code, reply)
			return
		}
	}
}
