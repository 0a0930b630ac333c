package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// ErrCapacity: the node has not enough free capacity for the deployment.
var ErrCapacity = errors.New("not enough free capacity on this node")

// admissible checks what only this node can tell: the workload types it runs, the images it has,
// disk sizes its disk backend takes, and free capacity (memory and disk for real, CPU up to the
// overcommit ratio). current is the running version of an update (nil on create); its own
// capacity is not counted as used.
func (e *Engine) admissible(d *deployment.Deployment, current *deployment.Deployment) error {
	for _, w := range d.Workloads {
		if err := e.admitWorkload(d, w); err != nil {
			return err
		}
	}
	if err := e.admitNetworks(d); err != nil {
		return err
	}
	need, err := d.Capacity()
	if err != nil {
		return fmt.Errorf("contract %d: %w", d.ContractID, err)
	}
	var had deployment.Capacity
	if current != nil {
		if had, err = current.Capacity(); err != nil {
			return fmt.Errorf("contract %d: %w", d.ContractID, err)
		}
	}
	used, err := e.used(d.ContractID)
	if err != nil {
		return err
	}
	avail, err := e.opts.MemAvailable()
	if err != nil {
		return fmt.Errorf("read free memory: %w", err)
	}
	return checkFree(d.ContractID, need, had, used, e.opts.Total.CRU, e.opts.CPUOvercommit,
		deployment.Capacity{MRU: e.opts.Total.MRU, SRU: e.opts.Total.SRU, HRU: e.opts.Total.HRU}, avail)
}

func (e *Engine) admitWorkload(d *deployment.Deployment, w deployment.Workload) error {
	contract := d.ContractID
	if w.Type == deployment.TypeIP && e.b.PublicIPs == nil {
		return fmt.Errorf("contract %d: workload %q: type %q: %w", contract, w.Name, w.Type, ErrNoPublicNetwork)
	}
	if !e.supports(w.Type) {
		return fmt.Errorf("contract %d: workload %q: type %q: %w (this node runs %v)",
			contract, w.Name, w.Type, ErrUnsupported, e.supportedTypes())
	}
	data, err := w.DecodeData()
	if err != nil {
		return fmt.Errorf("contract %d: %w", contract, err)
	}
	switch wd := data.(type) {
	case *deployment.ZMount:
		return diskSize(contract, w.Name, wd.Size)
	case *deployment.Volume:
		return diskSize(contract, w.Name, wd.Size)
	case *deployment.ZMachine:
		if _, err := e.b.Images.Resolve(wd.FList); err != nil {
			return fmt.Errorf("contract %d: workload %q: flist: %w", contract, w.Name, err)
		}
		_, isVM, err := e.vmBootOf(wd)
		if err != nil {
			return fmt.Errorf("contract %d: workload %q: flist: %w", contract, w.Name, err)
		}
		if isVM {
			return e.admitVM(d, w.Name, wd)
		}
		if _, err := splitCommand(wd.Entrypoint); err != nil {
			return fmt.Errorf("contract %d: workload %q: entrypoint %q: %w", contract, w.Name, wd.Entrypoint, err)
		}
	}
	return nil
}

func (e *Engine) supportedTypes() []string {
	var out []string
	for _, t := range deployment.KnownTypes() {
		if e.supports(t) {
			out = append(out, t)
		}
	}
	return out
}

func diskSize(contract uint64, name string, size uint64) error {
	if err := disk.ValidateSize(size); err != nil {
		return fmt.Errorf("contract %d: workload %q: size %d: %w", contract, name, size, err)
	}
	return nil
}

// checkFree is the admission rule: with used taken by the other deployments, the node's memory,
// SSD and HDD must hold need, its CPUs × overcommit must cover need's cores, and the memory the
// deployment adds over what it had must really be free on the machine (memAvailable).
func checkFree(contract uint64, need, had, used deployment.Capacity, cpus uint64, overcommit float64,
	total deployment.Capacity, memAvailable uint64) error {
	refuse := func(resource string, want, free, of uint64) error {
		return fmt.Errorf("contract %d: needs %d %s, the node has %d free of %d: %w", contract, want, resource, free, of, ErrCapacity)
	}
	free := func(total, used uint64) uint64 { return total - min(used, total) }
	if f := free(total.MRU, used.MRU); need.MRU > f {
		return refuse("bytes of memory (mru)", need.MRU, f, total.MRU)
	}
	if grow := need.MRU - min(had.MRU, need.MRU); grow > memAvailable {
		return refuse("more bytes of memory (mru) than the machine has available now", grow, memAvailable, total.MRU)
	}
	if f := free(total.SRU, used.SRU); need.SRU > f {
		return refuse("bytes of SSD storage (sru)", need.SRU, f, total.SRU)
	}
	if f := free(total.HRU, used.HRU); need.HRU > f {
		return refuse("bytes of HDD storage (hru)", need.HRU, f, total.HRU)
	}
	cores := uint64(float64(cpus) * overcommit)
	if f := free(cores, used.CRU); need.CRU > f {
		return refuse("cores (cru, overcommitted)", need.CRU, f, cores)
	}
	return nil
}

// memAvailable is the memory the machine really has free, in bytes.
func memAvailable() (uint64, error) { return capacity.MemInfo("/proc/meminfo", "MemAvailable") }

// splitCommand splits a machine's entrypoint into arguments the way a shell splits words: spaces
// separate, single quotes keep everything literal, double quotes keep spaces, a backslash escapes
// the next character outside single quotes. Nothing is expanded.
func splitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		return nil, errors.New("ends with a backslash")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
