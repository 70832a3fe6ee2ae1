// vimon-sim: builds the simulator's inventory (VMs per host, odd-name VMs) and finds objects by name.
package main

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// oddNames are the stored names of the odd-name VMs (tests/sim/README.md lists the display names).
var oddNames = []string{
	"odd%2fslash",
	"odd%5cback",
	"odd%25percent",
	"odd\"quote",
	"odd|pipe",
	"ödd ünïcödé 日本",
}

// buildInventory creates the model: the simulator creates datacenters, clusters, hosts and
// datastores; the VMs are created here, -vm per host, so the count is hosts * vm (+ odd names).
func buildInventory(o *options) (*simulator.Model, *simState, error) {
	var m *simulator.Model
	if o.esx {
		m = simulator.ESX()
	} else {
		m = simulator.VPX()
		m.Datacenter = o.dc
		m.Cluster = o.cluster
		m.ClusterHost = o.host
		m.Host = o.standalone
	}
	m.Datastore = o.ds
	m.Machine = 0
	m.Autostart = false
	if err := m.Create(); err != nil {
		return m, nil, err
	}

	ctx := context.Background()
	client, err := vim25.NewClient(ctx, m.Service)
	if err != nil {
		return m, nil, err
	}
	installSessionPC(client.ServiceContent.PropertyCollector)

	hosts := sortedEntities("HostSystem")
	first := true
	for _, h := range hosts {
		host := h.(*simulator.HostSystem)
		dc, folder, pool, err := placement(client, host)
		if err != nil {
			return m, nil, err
		}
		prefix := host.Name
		if o.esx {
			prefix = host.Self.Value
		} else if !strings.HasPrefix(prefix, dc) {
			prefix = dc + "_" + prefix
		}
		for i := 0; i < o.vm; i++ {
			ref, err := createVM(ctx, client, fmt.Sprintf("%s_VM%d", prefix, i), folder, pool, host.Self)
			if err != nil {
				return m, nil, err
			}
			if o.powerOn {
				if _, err := methods.PowerOnVM_Task(ctx, client, &types.PowerOnVM_Task{This: ref}); err != nil {
					return m, nil, err
				}
			}
		}
		if first && o.oddNames {
			for _, name := range oddNames {
				if _, err := createVM(ctx, client, name, folder, pool, host.Self); err != nil {
					return m, nil, err
				}
			}
		}
		first = false
	}

	fixDatastoreHosts()
	return m, newSimState(m, client), nil
}

// fixDatastoreHosts lists every host that mounts a datastore in its "host" property: the
// simulator re-creates the shared local datastore for each host it mounts it on, and only the
// last host's mount survives.
func fixDatastoreHosts() {
	mounts := map[types.ManagedObjectReference][]types.DatastoreHostMount{}
	for _, e := range sortedEntities("HostSystem") {
		h := e.(*simulator.HostSystem)
		for _, ref := range h.Datastore {
			mounts[ref] = append(mounts[ref], types.DatastoreHostMount{
				Key: h.Self,
				MountInfo: types.HostMountInfo{
					AccessMode: string(types.HostMountModeReadWrite),
					Mounted:    types.NewBool(true),
					Accessible: types.NewBool(true),
				},
			})
		}
	}
	for ref, list := range mounts {
		if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok {
			simulator.Map.WithLock(ds, func() { ds.Host = list })
		}
	}
}

// placement finds the datacenter name, VM folder and resource pool for VMs on host.
func placement(client *vim25.Client, host *simulator.HostSystem) (string, types.ManagedObjectReference, types.ManagedObjectReference, error) {
	var none types.ManagedObjectReference
	if host.Parent == nil {
		return "", none, none, fmt.Errorf("%s has no parent", host.Self)
	}
	var pool types.ManagedObjectReference
	switch p := simulator.Map.Get(*host.Parent).(type) {
	case *simulator.ClusterComputeResource:
		pool = *p.ResourcePool
	case *mo.ComputeResource:
		pool = *p.ResourcePool
	default:
		if cr, ok := p.(interface {
			GetComputeResource() *mo.ComputeResource
		}); ok {
			pool = *cr.GetComputeResource().ResourcePool
		} else {
			obj := object.NewHostSystem(client, host.Self)
			rp, err := obj.ResourcePool(context.Background())
			if err != nil {
				return "", none, none, err
			}
			pool = rp.Reference()
		}
	}
	var e mo.Entity = host
	for {
		parent := e.Entity().Parent
		if parent == nil {
			return "", none, none, fmt.Errorf("%s is not in a datacenter", host.Self)
		}
		next, ok := simulator.Map.Get(*parent).(mo.Entity)
		if !ok {
			return "", none, none, fmt.Errorf("%s is not in a datacenter", host.Self)
		}
		if dc, ok := next.(*simulator.Datacenter); ok {
			return dc.Name, dc.VmFolder, pool, nil
		}
		e = next
	}
}

// createVM creates one VM the way the simulator's model does (SCSI disk, CD-ROM, one NIC).
func createVM(ctx context.Context, client *vim25.Client, name string, folder, pool, host types.ManagedObjectReference) (types.ManagedObjectReference, error) {
	var none types.ManagedObjectReference
	config := types.VirtualMachineConfigSpec{
		Name:    name,
		GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest),
		Files:   &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"},
	}
	var devices object.VirtualDeviceList
	scsi, _ := devices.CreateSCSIController("pvscsi")
	ide, _ := devices.CreateIDEController()
	cdrom, _ := devices.CreateCdrom(ide.(*types.VirtualIDEController))
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{},
		config.Files.VmPathName+" "+path.Join(strings.ReplaceAll(name, "/", "_"), "disk1.vmdk"))
	disk.CapacityInKB = 1024
	nic := esx.EthernetCard
	devices = append(devices, scsi, cdrom, disk, &nic)
	config.DeviceChange, _ = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)

	res, err := methods.CreateVM_Task(ctx, client, &types.CreateVM_Task{
		This: folder, Config: config, Pool: pool, Host: &host,
	})
	if err != nil {
		return none, err
	}
	task, ok := simulator.Map.Get(res.Returnval).(*simulator.Task)
	if !ok {
		return none, fmt.Errorf("CreateVM_Task for %q: no task", name)
	}
	if task.Info.Error != nil {
		return none, fmt.Errorf("CreateVM_Task for %q: %s", name, task.Info.Error.LocalizedMessage)
	}
	ref, ok := task.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return none, fmt.Errorf("CreateVM_Task for %q: no result", name)
	}
	return ref, nil
}

// morefLess orders morefs of one type by their numeric suffix ("vm-9" before "vm-10").
func morefLess(a, b string) bool {
	na, ea := strconv.Atoi(a[strings.LastIndexAny(a, "-")+1:])
	nb, eb := strconv.Atoi(b[strings.LastIndexAny(b, "-")+1:])
	if ea == nil && eb == nil && na != nb {
		return na < nb
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// sortedEntities lists the simulator's entities of one type in creation order.
func sortedEntities(kind string) []mo.Entity {
	all := simulator.Map.All(kind)
	sort.Slice(all, func(i, j int) bool {
		return morefLess(all[i].Reference().Value, all[j].Reference().Value)
	})
	return all
}

// findEntity resolves a moref value or a (stored) name to an entity of the given type.
func findEntity(kind, key string) mo.Entity {
	if key == "" {
		return nil
	}
	if e, ok := simulator.Map.Get(types.ManagedObjectReference{Type: kind, Value: key}).(mo.Entity); ok {
		return e
	}
	for _, e := range sortedEntities(kind) {
		if e.Entity().Name == key {
			return e
		}
	}
	return nil
}
