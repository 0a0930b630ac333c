// Package vm runs virtual machines for the node agent. Backend is what the engine uses; QEMU is the
// implementation for every node (KVM where it works, TCG software emulation otherwise), and
// another hypervisor (cloud-hypervisor on KVM nodes) can be added behind the same interface.
package vm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
)

var (
	// ErrNotFound: no virtual machine with this id.
	ErrNotFound = errors.New("virtual machine does not exist")
	// ErrExists: a virtual machine with this id already exists.
	ErrExists = errors.New("virtual machine already exists")
	// ErrInvalidSpec: a field of the spec cannot make a virtual machine.
	ErrInvalidSpec = errors.New("invalid virtual machine spec")
)

// Backend runs virtual machines that outlive the agent: a new Backend over the same data
// directory finds the machines an earlier one started.
type Backend interface {
	Create(ctx context.Context, spec Spec) (Record, error)
	State(ctx context.Context, id string) (Status, error)
	// Pause stops the machine's virtual CPUs (the contract's grace period); memory is kept.
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	// Delete stops the machine and removes everything it had on the node; a machine that is
	// already gone is not an error.
	Delete(ctx context.Context, id string) error
	List(ctx context.Context) ([]Status, error)
}

// Spec is what one virtual machine needs; the engine translates a zmachine workload whose image
// is a VM image into it. It boots either Kernel (with Initrd and Cmdline) or the disk Image.
type Spec struct {
	ID          string // without the tfz- prefix
	Kernel      string // absolute path of a bzImage
	Initrd      string // absolute path; optional
	Cmdline     string // the kernel's command line
	Image       string // absolute path of a bootable raw or qcow2 disk image, instead of Kernel
	CPU         uint   // virtual CPUs
	MemoryBytes uint64 // guest memory, a whole number of MiB
	Disks       []Disk // virtio disks, /dev/vda... in this order (after Image when booting one)
	Interfaces  []Interface
	Shares      []Share // host directories the guest mounts through virtio-fs
}

// Share is a host directory (a volume's mount point) given to the guest as a virtio-fs filesystem,
// which the guest mounts by Tag (mount -t virtiofs <tag> <path>). It is read-write.
type Share struct {
	Source string // absolute path of a host directory
	Tag    string // 1 to 36 of a-z, A-Z, 0-9, '_', '.', '-': virtio-fs tags are at most 36 bytes
}

// Disk is a host file or block device (a zmount's file or loop device) given to the guest.
type Disk struct {
	Path     string
	ReadOnly bool
}

// Interface is a virtio network card whose host end is a tap in Bridge, in the network
// namespace NetNS ("" is the agent's own).
type Interface struct {
	NetNS  string
	Bridge string
	// MAC of the guest's card; empty derives one from the machine id and the card's index.
	MAC string
	// Name of the tap; empty derives one from the machine id and the card's index. The network
	// backends name it, so their filters and counters find the machine's traffic on it.
	Name string
}

// Status is what a machine is doing now.
type Status struct {
	ID     string `json:"id"`
	Status string `json:"status"` // StatusRunning, StatusPaused, StatusStopped or what QEMU says
	Pid    int    `json:"pid"`
}

// Machine statuses.
const (
	StatusRunning = "running"
	StatusPaused  = "paused"
	// StatusStopped: the hypervisor process is gone (the guest powered off or was killed).
	StatusStopped = "stopped"
	// StatusBroken: the hypervisor runs but a share's file-system daemon is gone. The guest has
	// lost that filesystem for good (a vhost-user-fs device does not reconnect): only starting the
	// machine afresh mends it.
	StatusBroken = "broken"
)

const (
	minMemoryBytes = 64 << 20
	maxCPU         = 256
	maxInterfaces  = 8
)

// MaxShares is how many shares a machine takes.
const MaxShares = 8

// Validate reports the first field that cannot make a virtual machine, naming it and its value.
func (s Spec) Validate() error {
	if err := backend.ValidateID(s.ID); err != nil {
		return fmt.Errorf("%w: virtual machine %w", ErrInvalidSpec, err)
	}
	switch {
	case s.Kernel == "" && s.Image == "":
		return fmt.Errorf("%w: kernel and image are both empty: need one to boot", ErrInvalidSpec)
	case s.Kernel != "" && s.Image != "":
		return fmt.Errorf("%w: kernel %q and image %q: give only one", ErrInvalidSpec, s.Kernel, s.Image)
	case s.Kernel == "" && (s.Initrd != "" || s.Cmdline != ""):
		return fmt.Errorf("%w: initrd %q / cmdline %q need a kernel", ErrInvalidSpec, s.Initrd, s.Cmdline)
	}
	for _, f := range []struct{ field, path string }{{"kernel", s.Kernel}, {"initrd", s.Initrd}, {"image", s.Image}} {
		if f.path != "" {
			if err := existingFile(f.field, f.path); err != nil {
				return err
			}
		}
	}
	if s.CPU == 0 || s.CPU > maxCPU {
		return fmt.Errorf("%w: cpu %d: must be 1 to %d", ErrInvalidSpec, s.CPU, maxCPU)
	}
	if s.MemoryBytes < minMemoryBytes || s.MemoryBytes%(1<<20) != 0 {
		return fmt.Errorf("%w: memory %d bytes: must be a whole number of MiB, at least %d MiB", ErrInvalidSpec, s.MemoryBytes, minMemoryBytes>>20)
	}
	for i, d := range s.Disks {
		if err := existingFile(fmt.Sprintf("disks[%d].path", i), d.Path); err != nil {
			return err
		}
	}
	if len(s.Interfaces) > maxInterfaces {
		return fmt.Errorf("%w: %d interfaces: at most %d", ErrInvalidSpec, len(s.Interfaces), maxInterfaces)
	}
	for i, ifc := range s.Interfaces {
		if ifc.Bridge == "" {
			return fmt.Errorf("%w: interfaces[%d].bridge is empty", ErrInvalidSpec, i)
		}
		if ifc.Name != "" && !tapNamePattern.MatchString(ifc.Name) {
			return fmt.Errorf("%w: interfaces[%d].name %q: must be 1 to 15 of a-z, A-Z, 0-9, '_', '.', '-'", ErrInvalidSpec, i, ifc.Name)
		}
		if ifc.MAC != "" {
			if mac, err := net.ParseMAC(ifc.MAC); err != nil || len(mac) != 6 || mac[0]&1 != 0 {
				return fmt.Errorf("%w: interfaces[%d].mac %q: must be a unicast Ethernet address", ErrInvalidSpec, i, ifc.MAC)
			}
		}
	}
	return validateShares(s.Shares)
}

// validateShares checks the shares' tags (unique, usable in QEMU's option lists) and sources.
func validateShares(shares []Share) error {
	if len(shares) > MaxShares {
		return fmt.Errorf("%w: %d shares: at most %d", ErrInvalidSpec, len(shares), MaxShares)
	}
	tags := map[string]bool{}
	for i, sh := range shares {
		if !shareTagPattern.MatchString(sh.Tag) {
			return fmt.Errorf("%w: shares[%d].tag %q: must be 1 to 36 of a-z, A-Z, 0-9, '_', '.', '-'", ErrInvalidSpec, i, sh.Tag)
		}
		if tags[sh.Tag] {
			return fmt.Errorf("%w: shares[%d].tag %q: two shares have it", ErrInvalidSpec, i, sh.Tag)
		}
		tags[sh.Tag] = true
		// virtiofsd takes the source inside a comma-separated -o list.
		if strings.Contains(sh.Source, ",") {
			return fmt.Errorf("%w: shares[%d].source %q: must not contain a comma", ErrInvalidSpec, i, sh.Source)
		}
		if err := existingDir(fmt.Sprintf("shares[%d].source", i), sh.Source); err != nil {
			return err
		}
	}
	return nil
}

var shareTagPattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,36}$`)

// existingDir checks that path is absolute and names a directory.
func existingDir(field, path string) error {
	fi, err := statAbsolute(field, path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s %q: not a directory", ErrInvalidSpec, field, path)
	}
	return nil
}

var tapNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)

// existingFile checks that path is absolute and names a regular file or a block device.
func existingFile(field, path string) error {
	fi, err := statAbsolute(field, path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() && fi.Mode()&os.ModeDevice == 0 {
		return fmt.Errorf("%w: %s %q: not a file or block device", ErrInvalidSpec, field, path)
	}
	return nil
}

// statAbsolute checks that path is absolute and exists, naming field in its error.
func statAbsolute(field, path string) (os.FileInfo, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%w: %s %q: must be an absolute path", ErrInvalidSpec, field, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %w", ErrInvalidSpec, field, path, err)
	}
	return fi, nil
}

// mac is the guest card's address: the spec's, or one derived from the machine id and the card's
// index, so it stays the same across restarts (neighbours' ARP caches stay right).
func (ifc Interface) mac(id string, index int) net.HardwareAddr {
	if ifc.MAC != "" {
		mac, _ := net.ParseMAC(ifc.MAC) // checked by Validate
		return mac
	}
	return backend.MAC(fmt.Sprintf("%s/%d", id, index))
}
