// Control endpoint /_sim/perf: fixed counter values and counters hidden from perfCounter,
// so that tests can check values, units and a counter the server lacks.
package main

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/simulator/vpx"
	"github.com/vmware/govmomi/vim25/types"
)

func perfManager() (*simulator.PerformanceManager, error) {
	sc := simulator.Map.Get(types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}).(*simulator.ServiceInstance)
	if sc.Content.PerfManager == nil {
		return nil, notFound("the simulator has no PerformanceManager")
	}
	pm, ok := simulator.Map.Get(*sc.Content.PerfManager).(*simulator.PerformanceManager)
	if !ok {
		return nil, notFound("the simulator has no PerformanceManager")
	}
	return pm, nil
}

func counterName(c types.PerfCounterInfo) string {
	if c.GroupInfo == nil || c.NameInfo == nil {
		return ""
	}
	return fmt.Sprintf("%s.%s.%s", c.GroupInfo.GetElementDescription().Key,
		c.NameInfo.GetElementDescription().Key, c.RollupType)
}

func (s *simState) ctlPerf(body []byte) (interface{}, error) {
	var req struct {
		Type   string             `json:"type"`
		Values map[string][]int64 `json:"values"`
		Hide   []string           `json:"hide"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if len(req.Values) == 0 && len(req.Hide) == 0 {
		return nil, badRequest("nothing to change: give values and/or hide")
	}
	pm, err := perfManager()
	if err != nil {
		return nil, err
	}
	data := vpx.MetricData
	if simulator.Map.IsESX() {
		data = esx.MetricData
	}
	out := map[string]interface{}{}
	simulator.Map.WithLock(pm, func() {
		byName := map[string]int32{}
		for _, c := range pm.PerfCounter {
			byName[counterName(c)] = c.Key
		}
		if len(req.Values) > 0 {
			series, ok := data[req.Type]
			if !ok {
				err = badRequest("\"type\" must be an entity type with counters (HostSystem, VirtualMachine, ...)")
				return
			}
			for name, vals := range req.Values {
				key, ok := byName[name]
				if !ok {
					err = notFound("no counter %q", name)
					return
				}
				if len(vals) == 0 {
					err = badRequest("counter %q: give at least one value", name)
					return
				}
				series[key] = append([]int64(nil), vals...)
			}
		}
		hidden := 0
		if len(req.Hide) > 0 {
			hide := map[string]bool{}
			for _, h := range req.Hide {
				hide[h] = true
			}
			kept := pm.PerfCounter[:0:0]
			for _, c := range pm.PerfCounter {
				if hide[counterName(c)] {
					hidden++
					continue
				}
				kept = append(kept, c)
			}
			pm.PerfCounter = kept
		}
		out["hidden"] = hidden
		out["counters"] = len(pm.PerfCounter)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
