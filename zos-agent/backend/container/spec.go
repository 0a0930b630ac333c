// Package container runs Linux containers through the runc binary, one OCI bundle per container,
// under the agent's own runc state root so they outlive the agent and a restarted agent finds them
// again with `runc state`.
package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
)

// Spec is what one container needs; the engine translates a zmachine workload into it.
type Spec struct {
	ID          string   // without the tfz- prefix
	Rootfs      string   // absolute path of the container's root directory
	Args        []string // entrypoint and its arguments
	Env         []string // KEY=value
	WorkDir     string   // absolute; "/" when empty
	CPU         uint64   // whole CPUs of CFS quota
	MemoryBytes uint64   // hard memory limit
	Pids        int64    // most processes at once
	Mounts      []Mount
	// NetNS is the path of a network namespace to join; empty gives the container a new one with
	// only loopback.
	NetNS string
}

// Mount binds a host directory (a disk's mount point) into the container.
type Mount struct {
	Source      string
	Destination string
	ReadOnly    bool
}

// minMemoryBytes is below what a shell and the runtime's own setup need.
const minMemoryBytes = 4 << 20

// Validate reports the first field that cannot make a container, naming it and its value.
func (s Spec) Validate() error {
	if err := backend.ValidateID(s.ID); err != nil {
		return fmt.Errorf("container %w", err)
	}
	if err := absoluteDir("rootfs", s.Rootfs); err != nil {
		return err
	}
	if len(s.Args) == 0 || s.Args[0] == "" {
		return fmt.Errorf("args %q: need at least the program to run", s.Args)
	}
	for _, e := range s.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("env %q: must be KEY=value", e)
		}
	}
	if s.WorkDir != "" && !filepath.IsAbs(s.WorkDir) {
		return fmt.Errorf("workdir %q: must be an absolute path", s.WorkDir)
	}
	if s.CPU == 0 {
		return fmt.Errorf("cpu %d: must be at least 1", s.CPU)
	}
	if s.MemoryBytes < minMemoryBytes {
		return fmt.Errorf("memory %d bytes: must be at least %d", s.MemoryBytes, minMemoryBytes)
	}
	if s.Pids <= 0 {
		return fmt.Errorf("pids %d: must be at least 1", s.Pids)
	}
	seen := map[string]bool{}
	for _, m := range s.Mounts {
		if err := m.validate(); err != nil {
			return err
		}
		if seen[filepath.Clean(m.Destination)] {
			return fmt.Errorf("mount destination %q: used twice", m.Destination)
		}
		seen[filepath.Clean(m.Destination)] = true
	}
	if s.NetNS != "" {
		if _, err := os.Stat(s.NetNS); err != nil {
			return fmt.Errorf("netns %q: %w", s.NetNS, err)
		}
	}
	return nil
}

func (m Mount) validate() error {
	if err := absoluteDir("mount source", m.Source); err != nil {
		return err
	}
	if !filepath.IsAbs(m.Destination) || filepath.Clean(m.Destination) == "/" {
		return fmt.Errorf("mount destination %q: must be an absolute path other than /", m.Destination)
	}
	return nil
}

func absoluteDir(field, path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s %q: must be an absolute path", field, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s %q: %w", field, path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %q: not a directory", field, path)
	}
	return nil
}
