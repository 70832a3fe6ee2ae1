// vimon-sim: the guest operations ShutdownGuest, RebootGuest and StandbyGuest (no task; the guest
// changes the power state a little later), and how a VM's guest behaves (/_sim/vm/guest).
package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const defaultGuestDelay = 300 * time.Millisecond

// guestBehaviour is how a VM's guest answers guest operations.
type guestBehaviour struct {
	delay  time.Duration // from the call to the power state change
	ignore bool          // the guest never acts on the request
}

func (s *simState) ctlGuest(body []byte) (interface{}, error) {
	var req struct {
		VM      string `json:"vm"`
		DelayMs *int   `json:"delay_ms"`
		Ignore  *bool  `json:"ignore"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	vm, err := lookupVM(req.VM)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	g := s.guestOf(vm.Self.Value)
	if req.DelayMs != nil {
		if *req.DelayMs < 0 || *req.DelayMs > 600000 {
			s.mu.Unlock()
			return nil, badRequest("\"delay_ms\" must be 0..600000")
		}
		g.delay = time.Duration(*req.DelayMs) * time.Millisecond
	}
	if req.Ignore != nil {
		g.ignore = *req.Ignore
	}
	out := map[string]interface{}{"vm": vm.Self.Value, "delay_ms": int(g.delay / time.Millisecond), "ignore": g.ignore}
	s.mu.Unlock()
	return out, nil
}

// guestOf returns the VM's guest behaviour, made with the defaults on first use. s.mu held.
func (s *simState) guestOf(vm string) *guestBehaviour {
	g := s.guest[vm]
	if g == nil {
		g = &guestBehaviour{delay: defaultGuestDelay}
		s.guest[vm] = g
	}
	return g
}

// guestOp answers ShutdownGuest, RebootGuest and StandbyGuest: refused unless the VM is
// powered on; otherwise the reply comes at once and the guest acts after its delay.
func (s *simState) guestOp(w http.ResponseWriter, r *http.Request, body []byte, name string) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		writeFault(w, err.Error(), new(types.InvalidRequest))
		return
	}
	if !s.requireSession(w, r, m.This) {
		return
	}
	vm, ok := simulator.Map.Get(m.This).(*simulator.VirtualMachine)
	if !ok {
		writeFault(w, fmt.Sprintf("managed object not found: %s", m.This), &types.ManagedObjectNotFound{Obj: m.This})
		return
	}
	var cur types.VirtualMachinePowerState
	simulator.Map.WithLock(vm, func() { cur = vm.Runtime.PowerState })
	if cur != types.VirtualMachinePowerStatePoweredOn {
		writeFault(w, fmt.Sprintf("the VM is %s", cur), &types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: cur})
		return
	}
	s.mu.Lock()
	g := *s.guestOf(vm.Self.Value)
	s.mu.Unlock()
	if !g.ignore {
		go s.guestActs(vm, name, g.delay)
	}
	switch name {
	case "ShutdownGuest":
		writeResult(w, new(types.ShutdownGuestResponse))
	case "RebootGuest":
		writeResult(w, new(types.RebootGuestResponse))
	default:
		writeResult(w, new(types.StandbyGuestResponse))
	}
}

// guestActs is the guest doing what it was asked, after delay.
func (s *simState) guestActs(vm *simulator.VirtualMachine, name string, delay time.Duration) {
	time.Sleep(delay)
	switch name {
	case "ShutdownGuest":
		_ = s.setPower(vm, types.VirtualMachinePowerStatePoweredOff)
	case "StandbyGuest":
		_ = s.setPower(vm, types.VirtualMachinePowerStateSuspended)
	case "RebootGuest":
		now := time.Now()
		simulator.Map.WithLock(vm, func() {
			simulator.Map.Update(vm, []types.PropertyChange{
				{Name: "runtime.bootTime", Val: &now},
				{Name: "summary.runtime.bootTime", Val: &now},
			})
		})
	}
}
