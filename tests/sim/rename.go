// vimon-sim: POST /_sim/vm/rename, a VM's stored name changed in place (e.g. to an HTML-like name).
package main

import (
	"unicode/utf8"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// ctlRename sets name and summary.config.name of a VM to the given stored name (as vSphere
// keeps it: a '/' in a display name is stored as %2f; the name is taken as given).
func (s *simState) ctlRename(body []byte) (interface{}, error) {
	var req struct {
		VM   string `json:"vm"`
		Name string `json:"name"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Name == "" || len(req.Name) > 80 || !utf8.ValidString(req.Name) {
		return nil, badRequest("\"name\" must be 1 to 80 bytes of UTF-8")
	}
	vm, err := lookupVM(req.VM)
	if err != nil {
		return nil, err
	}
	simulator.Map.WithLock(vm, func() {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "name", Val: req.Name},
			{Name: "summary.config.name", Val: req.Name},
		})
	})
	return struct {
		VM   string `json:"vm"`
		Name string `json:"name"`
	}{vm.Self.Value, req.Name}, nil
}
