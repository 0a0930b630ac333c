package deployment

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
)

// MinMachineMemory is the least memory a zmachine can have.
const MinMachineMemory = 256 * MiB

// ZMachine is a virtual machine or container (type "zmachine").
type ZMachine struct {
	// FList is the image the machine boots or runs.
	FList   string         `json:"flist"`
	Network MachineNetwork `json:"network"`
	// Size is the root filesystem in bytes; 0 takes the minimum (see minRootSize).
	Size            uint64            `json:"size"`
	ComputeCapacity ComputeCapacity   `json:"compute_capacity"`
	Mounts          []MachineMount    `json:"mounts"`
	Entrypoint      string            `json:"entrypoint"`
	Env             map[string]string `json:"env"`
	// Corex runs a management daemon inside a container.
	Corex bool `json:"corex"`
	// GPU lists GPU ids to pass through.
	GPU []string `json:"gpu"`
}

// MachineNetwork connects a machine.
type MachineNetwork struct {
	// PublicIP names an "ip" workload of the same deployment, or is empty.
	PublicIP   string             `json:"public_ip"`
	Planetary  bool               `json:"planetary"`
	Interfaces []MachineInterface `json:"interfaces"`
	Mycelium   *MachineMycelium   `json:"mycelium"`
}

// MachineInterface attaches the machine to one of its twin's networks at an address.
type MachineInterface struct {
	Network string `json:"network"`
	IP      string `json:"ip"`
}

// MachineMycelium gives the machine an address on a network's mycelium overlay.
type MachineMycelium struct {
	Network string `json:"network"`
	// HexSeed is 6 bytes in hex.
	HexSeed string `json:"hex_seed"`
}

// ComputeCapacity is a machine's cores and memory (bytes).
type ComputeCapacity struct {
	CPU    uint8  `json:"cpu"`
	Memory uint64 `json:"memory"`
}

// MachineMount mounts a zmount, volume or qsfs workload of the same deployment.
type MachineMount struct {
	Name       string `json:"name"`
	Mountpoint string `json:"mountpoint"`
}

// reservedNetworkNames are taken by the node's own networks.
var reservedNetworkNames = []string{"ygg", "pub", "mycelium"}

func (m *ZMachine) validate(name string) error {
	if err := checkRequired(name, "flist", strings.TrimSpace(m.FList)); err != nil {
		return err
	}
	if err := m.Network.validate(name); err != nil {
		return err
	}
	if m.ComputeCapacity.CPU == 0 {
		return workloadErr(name, "compute_capacity.cpu", m.ComputeCapacity.CPU, ErrBelowMinimum, "must be at least 1")
	}
	if mem := m.ComputeCapacity.Memory; mem < MinMachineMemory {
		return workloadErr(name, "compute_capacity.memory", mem, ErrBelowMinimum,
			"is below the minimum %d (256 MiB)", MinMachineMemory)
	}
	if root := minRootSize(m.ComputeCapacity.CPU, m.ComputeCapacity.Memory); m.Size != 0 && m.Size < root {
		return workloadErr(name, "size", m.Size, ErrBelowMinimum,
			"is below the minimum root filesystem %d (%d MiB) for this cpu and memory; 0 takes the minimum", root, root/MiB)
	}
	if err := m.validateMounts(name); err != nil {
		return err
	}
	for key := range m.Env {
		if key == "" || strings.ContainsAny(key, "=\x00") {
			return workloadErr(name, "env", key, ErrInvalidValue, "is not an environment variable name")
		}
	}
	for i, gpu := range m.GPU {
		if err := checkRequired(name, fmt.Sprintf("gpu[%d]", i), gpu); err != nil {
			return err
		}
	}
	return nil
}

func (n *MachineNetwork) validate(name string) error {
	if n.PublicIP != "" {
		if err := checkName(name, "network.public_ip", n.PublicIP); err != nil {
			return err
		}
	}
	if len(n.Interfaces) != 1 {
		return workloadErr(name, "network.interfaces", nil, ErrInvalidValue, "has %d entries; a machine has exactly 1", len(n.Interfaces))
	}
	iface := n.Interfaces[0]
	if err := checkNetworkName(name, "network.interfaces[0].network", iface.Network); err != nil {
		return err
	}
	if ip, err := netip.ParseAddr(iface.IP); err != nil || !ip.Is4() {
		return workloadErr(name, "network.interfaces[0].ip", iface.IP, ErrInvalidValue, "is not an IPv4 address")
	}
	if n.Mycelium != nil {
		if err := checkNetworkName(name, "network.mycelium.network", n.Mycelium.Network); err != nil {
			return err
		}
		if err := checkHexBytes(name, "network.mycelium.hex_seed", n.Mycelium.HexSeed, 6); err != nil {
			return err
		}
	}
	return nil
}

// checkNetworkName checks a reference to one of the twin's network workloads.
func checkNetworkName(workload, field, network string) error {
	if err := checkName(workload, field, network); err != nil {
		return err
	}
	if slices.Contains(reservedNetworkNames, network) {
		return workloadErr(workload, field, network, ErrInvalidName, "is reserved for the node's own networks")
	}
	return nil
}

func (m *ZMachine) validateMounts(name string) error {
	names := map[string]bool{}
	mountpoints := map[string]bool{}
	for i, mount := range m.Mounts {
		field := fmt.Sprintf("mounts[%d]", i)
		if err := checkName(name, field+".name", mount.Name); err != nil {
			return err
		}
		if names[mount.Name] {
			return workloadErr(name, field+".name", mount.Name, ErrReferenceInUse, "is mounted twice")
		}
		names[mount.Name] = true
		if !path.IsAbs(mount.Mountpoint) || path.Clean(mount.Mountpoint) == "/" {
			return workloadErr(name, field+".mountpoint", mount.Mountpoint, ErrInvalidValue, "is not an absolute path other than /")
		}
		clean := path.Clean(mount.Mountpoint)
		if mountpoints[clean] {
			return workloadErr(name, field+".mountpoint", mount.Mountpoint, ErrReferenceInUse, "is used by two mounts")
		}
		mountpoints[clean] = true
	}
	return nil
}

// capacity: cores, memory, and the root filesystem (at least the minimum) on SSD.
func (m *ZMachine) capacity() Capacity {
	return Capacity{
		CRU: uint64(m.ComputeCapacity.CPU),
		MRU: m.ComputeCapacity.Memory,
		SRU: max(m.Size, minRootSize(m.ComputeCapacity.CPU, m.ComputeCapacity.Memory)),
	}
}
