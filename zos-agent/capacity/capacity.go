// Package capacity measures what a node can offer: logical CPUs, memory less the system's reserve,
// and the sizes of its storage pools, split into SSD (sru) and HDD (hru).
package capacity

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	gib = uint64(1) << 30
	// MinSystemReserve is the memory kept for the node itself at the least (as Zero-OS).
	MinSystemReserve = 2 * gib
)

// Resources are a node's capacity in the chain's units: CPUs and bytes.
type Resources struct {
	CRU uint64 `json:"cru"`
	MRU uint64 `json:"mru"`
	SRU uint64 `json:"sru"`
	HRU uint64 `json:"hru"`
}

// Pool is one storage pool as measured.
type Pool struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"` // ssd or hdd
	Bytes uint64 `json:"bytes"`
	// How the kind was decided: "config", "rotational flag of DEV", or "default (...)".
	KindSource string `json:"kind_source"`
}

// Node is the measured capacity: what the node registers, and how it got there.
type Node struct {
	Total         Resources `json:"total"` // registered on chain: memory already less the reserve
	RAM           uint64    `json:"ram"`
	SystemReserve uint64    `json:"system_reserve"`
	Pools         []Pool    `json:"pools"`
}

// PoolConfig names a pool and its kind ("ssd", "hdd", or "auto"/"" for the device's flag).
type PoolConfig struct {
	Path string
	Kind string
}

// SystemReserve is the memory the node keeps for itself: max(10 % of RAM, 2 GiB), never more than
// the RAM.
func SystemReserve(ram uint64) uint64 {
	r := max(ram/10, MinSystemReserve)
	return min(r, ram)
}

// Measure reads this machine's capacity.
func Measure(pools []PoolConfig) (Node, error) {
	ram, err := memTotal("/proc/meminfo")
	if err != nil {
		return Node{}, err
	}
	n := Node{RAM: ram, SystemReserve: SystemReserve(ram)}
	n.Total.CRU = uint64(runtime.NumCPU())
	n.Total.MRU = ram - n.SystemReserve
	for _, pc := range pools {
		p, err := measurePool(pc)
		if err != nil {
			return Node{}, err
		}
		n.Pools = append(n.Pools, p)
		if p.Kind == "hdd" {
			n.Total.HRU += p.Bytes
		} else {
			n.Total.SRU += p.Bytes
		}
	}
	return n, nil
}

func measurePool(pc PoolConfig) (Pool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(pc.Path, &st); err != nil {
		return Pool{}, fmt.Errorf("storage pool %s: %w", pc.Path, err)
	}
	p := Pool{Path: pc.Path, Bytes: st.Blocks * uint64(st.Bsize)}
	switch pc.Kind {
	case "ssd", "hdd":
		p.Kind, p.KindSource = pc.Kind, "config"
	default:
		p.Kind, p.KindSource = detectKind(pc.Path)
	}
	return p, nil
}

// detectKind reads the rotational flag of the block device holding path; a filesystem with no
// block device of its own (tmpfs, overlay) counts as SSD.
func detectKind(path string) (kind, source string) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "ssd", fmt.Sprintf("default (stat: %v)", err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	sys, err := filepath.EvalSymlinks(filepath.Join("/sys/dev/block", dev))
	if err != nil {
		return "ssd", fmt.Sprintf("default (no block device %s)", dev)
	}
	// A partition's queue/ is its disk's, one level up.
	for _, dir := range []string{sys, filepath.Dir(sys)} {
		b, err := os.ReadFile(filepath.Join(dir, "queue", "rotational"))
		if err != nil {
			continue
		}
		if strings.TrimSpace(string(b)) == "1" {
			return "hdd", "rotational flag of " + filepath.Base(dir)
		}
		return "ssd", "rotational flag of " + filepath.Base(dir)
	}
	return "ssd", fmt.Sprintf("default (no rotational flag for %s)", dev)
}

// memTotal reads MemTotal from a meminfo file, in bytes.
func memTotal(path string) (uint64, error) { return MemInfo(path, "MemTotal") }

// MemInfo reads one field (MemTotal, MemAvailable, ...) of a meminfo file, in bytes.
func MemInfo(path, field string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == field+":" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %s %q: %w", path, field, fields[1], err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no %s line", path, field)
}
