package deployment

import (
	"bytes"
	"fmt"
	"slices"
)

// Op is what an update does to one workload.
type Op string

// Update operations.
const (
	OpAdd    Op = "add"
	OpUpdate Op = "update"
	OpRemove Op = "remove"
)

// Change is one workload an update adds, updates or removes. Workloads an update keeps as they
// were are not listed.
type Change struct {
	Name string
	Type string
	Op   Op
}

// updatableTypes can change in place; the others are removed and added under a new name.
var updatableTypes = []string{TypeZMount, TypeVolume, TypeZDB, TypeNetwork, TypeQSFS}

// Update checks that next may replace current and returns the changes, in next's workload order
// followed by the removals in current's order. next must be valid on its own; then: same twin
// and contract, version current + 1; a new workload has the new version; a kept workload keeps
// its type and either has the new version (an update, only for types that can be updated, disks
// never shrinking) or keeps its version and its content.
func Update(current, next *Deployment) ([]Change, error) {
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if next.TwinID != current.TwinID {
		return nil, fieldErr("twin_id", next.TwinID, ErrIdentityChanged, "differs from the deployment's twin %d", current.TwinID)
	}
	if next.ContractID != current.ContractID {
		return nil, fieldErr("contract_id", next.ContractID, ErrIdentityChanged, "differs from the deployment's contract %d", current.ContractID)
	}
	if current.Version == ^uint32(0) || next.Version != current.Version+1 {
		return nil, fieldErr("version", next.Version, ErrDeploymentVersion, "is not the current version %d + 1", current.Version)
	}
	currentByName, nextByName := indexByName(current.Workloads), indexByName(next.Workloads)
	var changes []Change
	for i := range next.Workloads {
		w := &next.Workloads[i]
		op, err := workloadChange(currentByName[w.Name], w, next.Version)
		if err != nil {
			return nil, err
		}
		if op != "" {
			changes = append(changes, Change{Name: w.Name, Type: w.Type, Op: op})
		}
	}
	for _, w := range current.Workloads {
		if nextByName[w.Name] == nil {
			changes = append(changes, Change{Name: w.Name, Type: w.Type, Op: OpRemove})
		}
	}
	return changes, nil
}

// workloadChange is what the update does to one workload of the new deployment: OpAdd,
// OpUpdate or "" for none. old is nil for a new name.
func workloadChange(old, w *Workload, version uint32) (Op, error) {
	if old == nil {
		if w.Version != version {
			return "", workloadErr(w.Name, "version", w.Version, ErrWorkloadVersion, "of a new workload must be the deployment version %d", version)
		}
		return OpAdd, nil
	}
	if w.Type != old.Type {
		return "", workloadErr(w.Name, "type", w.Type, ErrTypeChanged, "differs from the workload's type %q; a type never changes", old.Type)
	}
	if w.Version != version {
		if w.Version != old.Version {
			return "", workloadErr(w.Name, "version", w.Version, ErrWorkloadVersion,
				"is neither the workload's version %d (unchanged) nor the deployment version %d (updated)", old.Version, version)
		}
		if !sameContent(old, w) {
			return "", workloadErr(w.Name, "version", w.Version, ErrUnversionedChange,
				"is unchanged but the workload changed; give it the deployment version %d", version)
		}
		return "", nil
	}
	if !slices.Contains(updatableTypes, w.Type) {
		return "", workloadErr(w.Name, "type", w.Type, ErrNotUpdatable,
			"cannot be updated in place (only %v); remove it and add it under a new name", updatableTypes)
	}
	return OpUpdate, checkGrowth(old, w)
}

// sameContent: same data (compared canonically), metadata and description.
func sameContent(a, b *Workload) bool {
	if a.Metadata != b.Metadata || a.Description != b.Description {
		return false
	}
	ca, errA := canonicalData(a.Data)
	cb, errB := canonicalData(b.Data)
	return errA == nil && errB == nil && bytes.Equal(ca, cb)
}

func canonicalData(data []byte) ([]byte, error) {
	tree, err := parseObject(data, "data")
	if err != nil {
		return nil, err
	}
	return canonicalJSON(tree)
}

// checkGrowth refuses what an update of a disk or a zdb cannot do: shrink, or change zdb mode.
// Both workloads are of the same type and their data decodes (next was validated, current was
// accepted before).
func checkGrowth(old, w *Workload) error {
	oldData, err := old.DecodeData()
	if err != nil {
		return fmt.Errorf("current deployment: %w", err)
	}
	newData, err := w.DecodeData()
	if err != nil {
		return err
	}
	var oldSize, newSize uint64
	switch n := newData.(type) {
	case *ZMount:
		oldSize, newSize = oldData.(*ZMount).Size, n.Size
	case *Volume:
		oldSize, newSize = oldData.(*Volume).Size, n.Size
	case *ZDB:
		o := oldData.(*ZDB)
		if n.Mode != o.Mode {
			return workloadErr(w.Name, "mode", n.Mode, ErrInvalidValue, "differs from the zdb's mode %q; a mode never changes", o.Mode)
		}
		oldSize, newSize = o.Size, n.Size
	default:
		return nil
	}
	if newSize < oldSize {
		return workloadErr(w.Name, "size", newSize, ErrShrink, "is below the current size %d; disks only grow", oldSize)
	}
	return nil
}
