// vimon-sim: every session's property collector hears of every change, as on vCenter.
package main

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Why: govmomi's simulator (0.24.2) gives each session its own copy of the PropertyCollector
// singleton, all with the singleton's moref, and a copy's first WaitForUpdatesEx (empty
// version) registers it with Map.AddHandler, which keys handlers by moref: each session that
// starts waiting replaces the copy of the session that started before, which from then on
// gets no object update at all (its waits only time out). With several targets on one
// simulator, only the target whose first wait came last saw renames, power changes and new
// tasks; which one that was depended on timing. Here the copies are sessionPC values: their
// first wait adds them to fanout, a single handler under its own moref that passes every
// change to all of them, and takes them out of the simulator's handler map.

// sessionPC is the type of the PropertyCollector singleton and so of its per-session copies.
type sessionPC struct {
	simulator.PropertyCollector
}

// pcFanout passes the registry's object changes to every waiting session's collector.
type pcFanout struct {
	mu  sync.Mutex
	pcs map[string]*simulator.PropertyCollector // by session key
}

var fanout = &pcFanout{pcs: make(map[string]*simulator.PropertyCollector)}

// installSessionPC makes the singleton at ref a sessionPC and registers fanout.
func installSessionPC(ref types.ManagedObjectReference) {
	pc := &sessionPC{}
	pc.Self = ref
	simulator.Map.Put(pc)
	simulator.Map.AddHandler(fanout)
}

// WaitForUpdatesEx: the first wait of a session (empty version) joins fanout before govmomi
// registers the copy (so no change is lost between the two); the copy then leaves the
// simulator's own handler map, where it would only replace another session's.
func (p *sessionPC) WaitForUpdatesEx(ctx *simulator.Context, r *types.WaitForUpdatesEx) soap.HasFault {
	first := r.Version == "" && ctx.Session != nil
	if first {
		fanout.add(ctx.Session.Key, &p.PropertyCollector)
	}
	res := p.PropertyCollector.WaitForUpdatesEx(ctx, r)
	if first {
		ctx.Map.RemoveHandler(&p.PropertyCollector)
	}
	return res
}

func (f *pcFanout) add(session string, pc *simulator.PropertyCollector) {
	f.mu.Lock()
	f.pcs[session] = pc
	f.mu.Unlock()
}

// drop forgets the collectors of ended sessions.
func (f *pcFanout) drop(sessions map[string]bool) {
	f.mu.Lock()
	for k := range sessions {
		delete(f.pcs, k)
	}
	f.mu.Unlock()
}

func (f *pcFanout) each(fn func(pc *simulator.PropertyCollector)) {
	f.mu.Lock()
	pcs := make([]*simulator.PropertyCollector, 0, len(f.pcs))
	for _, pc := range f.pcs {
		pcs = append(pcs, pc)
	}
	f.mu.Unlock()
	for _, pc := range pcs {
		fn(pc)
	}
}

func (f *pcFanout) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "PropertyCollector", Value: "vimon-sim-fanout"}
}

func (f *pcFanout) PutObject(o mo.Reference) {
	f.each(func(pc *simulator.PropertyCollector) { pc.PutObject(o) })
}

func (f *pcFanout) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	f.each(func(pc *simulator.PropertyCollector) { pc.UpdateObject(o, changes) })
}

func (f *pcFanout) RemoveObject(ref types.ManagedObjectReference) {
	f.each(func(pc *simulator.PropertyCollector) { pc.RemoveObject(ref) })
}
