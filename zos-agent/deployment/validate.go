package deployment

import (
	"fmt"
	"slices"
)

// Validate applies the deployment rules that need nothing but the document: the signature
// requirement's shape, workload names, types, versions and data, and the references between
// workloads. It returns the first rule broken.
func (d *Deployment) Validate() error {
	if err := d.SignatureRequirement.validate(d.TwinID); err != nil {
		return err
	}
	data, err := d.validateWorkloads()
	if err != nil {
		return err
	}
	return d.validateReferences(data)
}

// validateWorkloads checks each workload on its own and returns their decoded data by name.
func (d *Deployment) validateWorkloads() (map[string]WorkloadData, error) {
	data := make(map[string]WorkloadData, len(d.Workloads))
	for i := range d.Workloads {
		w := &d.Workloads[i]
		if err := checkName(w.Name, fmt.Sprintf("workloads[%d].name", i), w.Name); err != nil {
			return nil, err
		}
		if _, dup := data[w.Name]; dup {
			return nil, workloadErr(w.Name, "name", w.Name, ErrDuplicateName, "is used by two workloads")
		}
		if w.Version > d.Version {
			return nil, workloadErr(w.Name, "version", w.Version, ErrWorkloadVersion,
				"is above the deployment version %d", d.Version)
		}
		wd, err := w.DecodeData()
		if err != nil {
			return nil, err
		}
		if err := wd.validate(w.Name); err != nil {
			return nil, err
		}
		data[w.Name] = wd
	}
	return data, nil
}

// validateReferences checks what machines and log streams name: every mount a disk, volume or
// qsfs of this deployment (a zmount by one machine only), every public_ip an "ip" workload used
// by no other machine, every zlogs a machine.
func (d *Deployment) validateReferences(data map[string]WorkloadData) error {
	byName := indexByName(d.Workloads)
	attachedTo := map[string]string{} // zmount or ip workload → the machine using it
	for _, w := range d.Workloads {
		switch wd := data[w.Name].(type) {
		case *ZMachine:
			for i, mount := range wd.Mounts {
				field := fmt.Sprintf("mounts[%d].name", i)
				if err := checkReference(byName, w.Name, field, mount.Name, TypeZMount, TypeVolume, TypeQSFS); err != nil {
					return err
				}
				if byName[mount.Name].Type == TypeZMount {
					if err := attach(attachedTo, w.Name, field, mount.Name); err != nil {
						return err
					}
				}
			}
			if ip := wd.Network.PublicIP; ip != "" {
				if err := checkReference(byName, w.Name, "network.public_ip", ip, TypeIP); err != nil {
					return err
				}
				if err := attach(attachedTo, w.Name, "network.public_ip", ip); err != nil {
					return err
				}
			}
		case *ZLogs:
			if err := checkReference(byName, w.Name, "zmachine", wd.ZMachine, TypeZMachine); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkReference: target names a workload of this deployment of one of the types.
func checkReference(byName map[string]*Workload, workload, field, target string, types ...string) error {
	w, ok := byName[target]
	if !ok {
		return workloadErr(workload, field, target, ErrBadReference, "names no workload of this deployment")
	}
	if t := w.Type; !slices.Contains(types, t) {
		return workloadErr(workload, field, target, ErrBadReference, "is a %s workload, expected %v", t, types)
	}
	return nil
}

// attach records that machine uses target, refusing a second machine.
func attach(attachedTo map[string]string, machine, field, target string) error {
	if other, taken := attachedTo[target]; taken && other != machine {
		return workloadErr(machine, field, target, ErrReferenceInUse, "is already used by machine %q", other)
	}
	attachedTo[target] = machine
	return nil
}

// indexByName maps the names of workloads (unique in a validated deployment) to them.
func indexByName(workloads []Workload) map[string]*Workload {
	byName := make(map[string]*Workload, len(workloads))
	for i := range workloads {
		byName[workloads[i].Name] = &workloads[i]
	}
	return byName
}
