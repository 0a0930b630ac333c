package container

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/mountinfo"
)

var (
	// ErrNotFound: runc knows no container with this id.
	ErrNotFound = errors.New("container does not exist")
	// ErrExists: a container with this id already exists.
	ErrExists = errors.New("container already exists")
)

// Container statuses as runc reports them.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusPaused  = "paused"
	StatusStopped = "stopped"
)

// Driver runs containers with runc. Its state lives under <data dir>/containers: runc's own state
// root (runc/) and one bundle directory per container (tfz-<id>/ with config.json and output.log).
type Driver struct {
	runc     string
	stateDir string
	bundles  string
	// scope tells apart the cgroups of drivers over different data directories (two agents, or
	// tests running in parallel, may both run a container "1-vm").
	scope string
	// mu serialises create and delete, so removing the empty shared cgroup parent never races a
	// container being created under it.
	mu sync.Mutex
}

// CgroupsPath is the cgroup of container id, the same below every controller:
// /tfz/tfz-<scope>-<id>, scope a hash of the driver's directory.
func (d *Driver) CgroupsPath(id string) string {
	return "/" + cgroupParent + "/" + backend.Name(d.scope+"-"+id)
}

// New prepares a driver over dataDir. A second driver over the same dataDir (a restarted agent)
// sees the containers the first one started.
func New(dataDir string) (*Driver, error) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		return nil, fmt.Errorf("container backend: runc binary not found in PATH (Debian package runc): %w", err)
	}
	dir, err := filepath.Abs(filepath.Join(dataDir, "containers"))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(dir))
	d := &Driver{runc: runc, stateDir: filepath.Join(dir, "runc"), bundles: dir, scope: hex.EncodeToString(sum[:4])}
	if err := os.MkdirAll(d.stateDir, 0o700); err != nil {
		return nil, err
	}
	return d, nil
}

// Record is what the engine keeps about a created container.
type Record struct {
	ID          string `json:"id"` // runc's id: tfz-<spec id>
	Pid         int    `json:"pid"`
	Bundle      string `json:"bundle"`
	CgroupsPath string `json:"cgroups_path"`
	// Log receives the container's stdout and stderr.
	Log string `json:"log"`
}

// State is runc's view of a container.
type State struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

// Create writes the bundle and starts the container detached: the container's init is not a
// child of the agent, so it keeps running when the agent stops. On failure nothing is left.
func (d *Driver) Create(ctx context.Context, spec Spec) (Record, error) {
	if err := spec.Validate(); err != nil {
		return Record{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	name := backend.Name(spec.ID)
	if st, err := d.State(ctx, spec.ID); err == nil {
		return Record{}, fmt.Errorf("%s (%s): %w", name, st.Status, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return Record{}, err
	}
	rec := Record{
		ID:          name,
		Bundle:      filepath.Join(d.bundles, name),
		CgroupsPath: d.CgroupsPath(spec.ID),
		Log:         filepath.Join(d.bundles, name, "output.log"),
	}
	if err := d.start(ctx, rec, spec); err != nil {
		if cleanupErr := d.remove(ctx, spec.ID); cleanupErr != nil {
			err = errors.Join(err, fmt.Errorf("clean up: %w", cleanupErr))
		}
		return Record{}, fmt.Errorf("create container %s: %w", name, err)
	}
	st, err := d.State(ctx, spec.ID)
	if err != nil {
		return Record{}, err
	}
	rec.Pid = st.Pid
	return rec, nil
}

func (d *Driver) start(ctx context.Context, rec Record, spec Spec) error {
	if err := writeBundle(rec.Bundle, spec, rec.CgroupsPath); err != nil {
		return err
	}
	logFile, err := os.OpenFile(rec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Detached: runc hands its own stdio to the container, so give it the log file (a real file,
	// not a pipe the agent would have to keep draining). runc's own errors land there too.
	create := exec.CommandContext(ctx, d.runc, "--root", d.stateDir, "create", "--bundle", rec.Bundle, rec.ID)
	create.Stdout, create.Stderr = logFile, logFile
	if err := create.Run(); err != nil {
		return fmt.Errorf("runc create: %w: %s", err, tail(rec.Log))
	}
	_, err = d.run(ctx, "start", rec.ID)
	return err
}

// tail is the end of a log, for error messages.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	const keep = 1024
	if len(data) > keep {
		data = data[len(data)-keep:]
	}
	return strings.TrimSpace(string(data))
}

// run calls runc with the driver's state root and returns its stdout.
func (d *Driver) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, d.runc, append([]string{"--root", d.stateDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "does not exist") {
			return nil, fmt.Errorf("runc %s %s: %w", args[0], args[len(args)-1], ErrNotFound)
		}
		return nil, fmt.Errorf("runc %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// State asks runc about container id (the spec id, without the prefix).
func (d *Driver) State(ctx context.Context, id string) (State, error) {
	if err := backend.ValidateID(id); err != nil {
		return State{}, fmt.Errorf("container %w", err)
	}
	out, err := d.run(ctx, "state", backend.Name(id))
	if err != nil {
		return State{}, err
	}
	var st State
	if err := json.Unmarshal(out, &st); err != nil {
		return State{}, fmt.Errorf("runc state %s: %w", backend.Name(id), err)
	}
	return st, nil
}

// List returns every container under the driver's runc root that carries the prefix.
func (d *Driver) List(ctx context.Context) ([]State, error) {
	out, err := d.run(ctx, "list", "--format", "json")
	if err != nil {
		return nil, err
	}
	var all []State
	if err := json.Unmarshal(out, &all); err != nil {
		return nil, fmt.Errorf("runc list: %w", err)
	}
	var ours []State
	for _, st := range all {
		if strings.HasPrefix(st.ID, backend.Prefix) {
			ours = append(ours, st)
		}
	}
	return ours, nil
}

// Pause freezes every process of the container (cgroup freezer); they keep their memory.
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.simple(ctx, "pause", id)
}

// Resume thaws a paused container.
func (d *Driver) Resume(ctx context.Context, id string) error {
	return d.simple(ctx, "resume", id)
}

func (d *Driver) simple(ctx context.Context, verb, id string) error {
	if err := backend.ValidateID(id); err != nil {
		return fmt.Errorf("container %w", err)
	}
	_, err := d.run(ctx, verb, backend.Name(id))
	return err
}

// Delete kills the container's processes and removes it, its cgroups, the shared cgroup parent
// when it is left empty, and its bundle and log. Deleting a container that is already gone is not
// an error, so crash recovery can call it blindly. The container's root filesystem belongs to the
// image store and stays.
func (d *Driver) Delete(ctx context.Context, id string) error {
	if err := backend.ValidateID(id); err != nil {
		return fmt.Errorf("container %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.remove(ctx, id); err != nil {
		return fmt.Errorf("delete container %s: %w", backend.Name(id), err)
	}
	return nil
}

func (d *Driver) remove(ctx context.Context, id string) error {
	// --force kills a running or paused container first.
	if _, err := d.run(ctx, "delete", "--force", backend.Name(id)); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := removeEmptyCgroupParents(); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(d.bundles, backend.Name(id)))
}

// removeEmptyCgroupParents removes the shared parent cgroup below every mounted hierarchy once no
// container is left in it; runc removes only the container's own cgroup.
func removeEmptyCgroupParents() error {
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		err := os.Remove(filepath.Join(m.MountPoint, cgroupParent))
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("remove cgroup %s: %w", filepath.Join(m.MountPoint, cgroupParent), err)
		}
	}
	return nil
}

// Stats are a container's resource usage, read by runc from its cgroups.
type Stats struct {
	MemoryBytes      uint64 `json:"memory_bytes"`
	MemoryLimitBytes uint64 `json:"memory_limit_bytes"`
	CPUNanoseconds   uint64 `json:"cpu_nanoseconds"`
	Pids             uint64 `json:"pids"`
}

// Stats reads the container's current usage.
func (d *Driver) Stats(ctx context.Context, id string) (Stats, error) {
	if err := backend.ValidateID(id); err != nil {
		return Stats{}, fmt.Errorf("container %w", err)
	}
	out, err := d.run(ctx, "events", "--stats", backend.Name(id))
	if err != nil {
		return Stats{}, err
	}
	var ev struct {
		Data struct {
			CPU struct {
				Usage struct {
					Total uint64 `json:"total"`
				} `json:"usage"`
			} `json:"cpu"`
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
					Limit uint64 `json:"limit"`
				} `json:"usage"`
			} `json:"memory"`
			Pids struct {
				Current uint64 `json:"current"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		return Stats{}, fmt.Errorf("runc events %s: %w", backend.Name(id), err)
	}
	return Stats{
		MemoryBytes:      ev.Data.Memory.Usage.Usage,
		MemoryLimitBytes: ev.Data.Memory.Usage.Limit,
		CPUNanoseconds:   ev.Data.CPU.Usage.Total,
		Pids:             ev.Data.Pids.Current,
	}, nil
}
