// Control endpoint /_sim/health: overallStatus, triggered alarms and VMware Tools status,
// which the plain simulator never changes.
package main

import (
	"fmt"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var healthKinds = map[string]string{
	"vm":        "VirtualMachine",
	"host":      "HostSystem",
	"datastore": "Datastore",
	"cluster":   "ClusterComputeResource",
}

func validStatus(s string) bool {
	switch types.ManagedEntityStatus(s) {
	case types.ManagedEntityStatusGray, types.ManagedEntityStatusGreen,
		types.ManagedEntityStatusYellow, types.ManagedEntityStatusRed:
		return true
	}
	return false
}

func (s *simState) ctlHealth(body []byte) (interface{}, error) {
	var req struct {
		Kind                string  `json:"kind"`
		Entity              string  `json:"entity"`
		OverallStatus       *string `json:"overallStatus"`
		Alarms              *int    `json:"alarms"`
		ToolsRunningStatus  *string `json:"toolsRunningStatus"`
		ToolsVersionStatus2 *string `json:"toolsVersionStatus2"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	kind, ok := healthKinds[req.Kind]
	if !ok {
		return nil, badRequest("\"kind\" must be vm, host, datastore or cluster")
	}
	e := findEntity(kind, req.Entity)
	if e == nil {
		return nil, notFound("no %s %q", req.Kind, req.Entity)
	}
	self := e.Entity().Self
	var changes []types.PropertyChange
	status := types.ManagedEntityStatusRed
	if req.OverallStatus != nil {
		if !validStatus(*req.OverallStatus) {
			return nil, badRequest("\"overallStatus\" must be gray, green, yellow or red")
		}
		status = types.ManagedEntityStatus(*req.OverallStatus)
		changes = append(changes, types.PropertyChange{Name: "overallStatus", Val: status})
		if kind == "VirtualMachine" || kind == "HostSystem" {
			changes = append(changes, types.PropertyChange{Name: "summary.overallStatus", Val: status})
		}
	}
	if req.Alarms != nil {
		if *req.Alarms < 0 || *req.Alarms > 1000 {
			return nil, badRequest("\"alarms\" must be between 0 and 1000")
		}
		states := []types.AlarmState{}
		for i := 0; i < *req.Alarms; i++ {
			states = append(states, types.AlarmState{
				Key:           fmt.Sprintf("alarm-%d.%s", i+1, self.Value),
				Entity:        self,
				Alarm:         types.ManagedObjectReference{Type: "Alarm", Value: fmt.Sprintf("alarm-%d", i+1)},
				OverallStatus: status,
				Time:          time.Now(),
			})
		}
		changes = append(changes, types.PropertyChange{Name: "triggeredAlarmState", Val: states})
	}
	for _, f := range []struct {
		name string
		val  *string
	}{{"guest.toolsRunningStatus", req.ToolsRunningStatus}, {"guest.toolsVersionStatus2", req.ToolsVersionStatus2}} {
		if f.val == nil {
			continue
		}
		if kind != "VirtualMachine" {
			return nil, badRequest("Tools status is for VMs only")
		}
		changes = append(changes, types.PropertyChange{Name: f.name, Val: *f.val})
	}
	if len(changes) == 0 {
		return nil, badRequest("nothing to change: give overallStatus, alarms, toolsRunningStatus and/or toolsVersionStatus2")
	}
	out := map[string]interface{}{"kind": req.Kind, "entity": self.Value}
	simulator.Map.WithLock(e, func() {
		simulator.Map.Update(e.(mo.Reference), changes)
		me := e.Entity()
		out["overallStatus"] = me.OverallStatus
		out["alarms"] = len(me.TriggeredAlarmState)
	})
	return out, nil
}
