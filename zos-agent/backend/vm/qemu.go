package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/jsonfile"
)

// Accelerators QEMU can run a guest with.
const (
	AccelKVM = "kvm" // hardware virtualisation through /dev/kvm
	AccelTCG = "tcg" // software emulation: slow, works everywhere
)

// DefaultBinary is Debian's QEMU for x86-64 guests (package qemu-system-x86).
const DefaultBinary = "qemu-system-x86_64"

// Config says where a QEMU backend keeps its machines and how it runs them.
type Config struct {
	DataDir string // the agent's data directory; machines live under vms/
	Binary  string // the QEMU binary; DefaultBinary when empty
	// Accel is AccelKVM or AccelTCG; empty picks KVM when backend.KVMUsable, TCG otherwise.
	Accel string
	// Virtiofsd is the virtio-fs daemon machines with shares need; DefaultVirtiofsd when empty.
	Virtiofsd string
}

// Record is what Create made on the node, for the engine to keep; the backend keeps its own copy
// in vms/tfz-<id>/record.json.
type Record struct {
	ID         string        `json:"id"`
	Pid        int           `json:"pid"`
	Accel      string        `json:"accel"`
	Dir        string        `json:"dir"`
	PidFile    string        `json:"pid_file"`
	QMPSocket  string        `json:"qmp_socket"`
	ConsoleLog string        `json:"console_log"`
	Taps       []Tap         `json:"taps,omitempty"`
	Shares     []ShareDaemon `json:"shares,omitempty"`
}

// Tap is the host end of one of the machine's network cards.
type Tap struct {
	NetNS  string `json:"netns"`
	Bridge string `json:"bridge"`
	Name   string `json:"name"`
	MAC    string `json:"mac"` // the guest card's
}

// QEMU runs each machine as a daemonized qemu-system process in its own session, so machines
// survive an agent restart; it talks to them through their QMP sockets.
type QEMU struct {
	dir       string
	binary    string
	accel     string
	virtiofsd string
	// mu serialises QMP exchanges: QEMU serves one monitor client at a time.
	mu sync.Mutex
}

var _ Backend = (*QEMU)(nil)

// stopTimeout is how long Delete waits for a guest to go after QMP quit, and again after SIGKILL.
const stopTimeout = 10 * time.Second

// NewQEMU makes a QEMU backend over cfg.DataDir; machines recorded there are found again.
func NewQEMU(cfg Config) (*QEMU, error) {
	if !filepath.IsAbs(cfg.DataDir) {
		return nil, fmt.Errorf("vm data directory %q: must be an absolute path", cfg.DataDir)
	}
	binary := cfg.Binary
	if binary == "" {
		binary = DefaultBinary
	}
	path, err := exec.LookPath(binary)
	if err != nil {
		return nil, fmt.Errorf("QEMU binary %q (Debian package qemu-system-x86): %w", binary, err)
	}
	accel := cfg.Accel
	switch accel {
	case "":
		accel = AccelTCG
		if backend.KVMUsable(backend.DefaultMachine()) == nil {
			accel = AccelKVM
		}
	case AccelKVM, AccelTCG:
	default:
		return nil, fmt.Errorf("vm accel %q: must be %q, %q or empty", cfg.Accel, AccelKVM, AccelTCG)
	}
	dir := filepath.Join(cfg.DataDir, "vms")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	virtiofsd := cfg.Virtiofsd
	if virtiofsd == "" {
		virtiofsd = DefaultVirtiofsd
	}
	return &QEMU{dir: dir, binary: path, accel: accel, virtiofsd: virtiofsd}, nil
}

// Accel is the accelerator new machines run with.
func (q *QEMU) Accel() string { return q.accel }

func (q *QEMU) machineDir(id string) string { return filepath.Join(q.dir, backend.Name(id)) }
func (q *QEMU) recordPath(id string) string { return filepath.Join(q.machineDir(id), "record.json") }

// record reads machine id's record; the caller holds q.mu.
func (q *QEMU) record(id string) (Record, bool, error) {
	if err := backend.ValidateID(id); err != nil {
		return Record{}, false, fmt.Errorf("%w: virtual machine %w", ErrInvalidSpec, err)
	}
	var rec Record
	found, err := jsonfile.Read(q.recordPath(id), &rec)
	return rec, found, err
}

// Create starts the machine and returns once QEMU has set it up (the guest is booting). A failed
// create leaves nothing behind.
func (q *QEMU) Create(ctx context.Context, spec Spec) (rec Record, err error) {
	if err := spec.Validate(); err != nil {
		return Record{}, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	dir := q.machineDir(spec.ID)
	if _, err := os.Stat(dir); err == nil {
		return Record{}, fmt.Errorf("virtual machine %s: %w", spec.ID, ErrExists)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return Record{}, fmt.Errorf("virtual machine %s: %w", spec.ID, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	rec = Record{ID: spec.ID, Accel: q.accel, Dir: dir, PidFile: filepath.Join(dir, "qemu.pid"),
		QMPSocket: filepath.Join(dir, "qmp.sock"), ConsoleLog: filepath.Join(dir, "console.log")}

	// The taps are opened here, in their namespaces, and handed to QEMU as inherited files: QEMU
	// itself runs in the agent's namespace.
	var taps []*os.File
	defer func() {
		for _, f := range taps {
			f.Close()
		}
	}()
	for i, ifc := range spec.Interfaces {
		t := Tap{NetNS: ifc.NetNS, Bridge: ifc.Bridge, Name: ifc.tapName(spec.ID, i), MAC: ifc.mac(spec.ID, i).String()}
		f, err := openTap(t.NetNS, t.Bridge, t.Name)
		if err != nil {
			return Record{}, fmt.Errorf("virtual machine %s: interfaces[%d]: %w", spec.ID, i, err)
		}
		taps = append(taps, f)
		rec.Taps = append(rec.Taps, t)
	}

	shares, err := q.startShares(spec, dir)
	if err != nil {
		return Record{}, fmt.Errorf("virtual machine %s: %w", spec.ID, err)
	}
	defer func() {
		if err != nil {
			_ = stopShares(shares)
		}
	}()
	rec.Shares = shares

	cmd := exec.CommandContext(ctx, q.binary, qemuArgs(spec, rec)...)
	cmd.ExtraFiles = taps
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// With -daemonize this process exits once the machine is set up, leaving the machine in a
	// session of its own.
	if err := cmd.Run(); err != nil {
		// A cancelled ctx kills only the parent: end a machine it had already daemonized.
		if pid, pidErr := readPid(rec.PidFile); pidErr == nil {
			rec.Pid = pid
			_ = q.stop(rec)
		}
		return Record{}, fmt.Errorf("virtual machine %s: %s: %w: %s%s", spec.ID, q.binary, err, strings.TrimSpace(out.String()), shareLogs(shares))
	}
	pid, err := readPid(rec.PidFile)
	if err != nil {
		return Record{}, fmt.Errorf("virtual machine %s: %w", spec.ID, err)
	}
	rec.Pid = pid
	if err := jsonfile.Write(q.recordPath(spec.ID), rec); err != nil {
		q.stop(rec)
		return Record{}, fmt.Errorf("virtual machine %s: %w", spec.ID, err)
	}
	return rec, nil
}

// qemuArgs is QEMU's command line for spec; the taps are inherited files 3, 4, ...
func qemuArgs(spec Spec, rec Record) []string {
	machine, cpu := "q35,accel=tcg", "max"
	if rec.Accel == AccelKVM {
		machine, cpu = "q35,accel=kvm", "host"
	}
	args := []string{
		"-name", backend.Name(spec.ID), "-machine", machine, "-cpu", cpu,
		"-smp", strconv.FormatUint(uint64(spec.CPU), 10), "-m", fmt.Sprintf("%dM", spec.MemoryBytes>>20),
		"-nodefaults", "-no-user-config", "-display", "none", "-daemonize",
		"-pidfile", rec.PidFile,
		"-qmp", "unix:" + optionValue(rec.QMPSocket) + ",server=on,wait=off",
		"-chardev", "file,id=console,path=" + optionValue(rec.ConsoleLog),
		"-serial", "chardev:console",
	}
	if spec.Kernel != "" {
		args = append(args, "-kernel", spec.Kernel, "-append", spec.Cmdline)
		if spec.Initrd != "" {
			args = append(args, "-initrd", spec.Initrd)
		}
	} else {
		args = append(args, "-drive", "if=virtio,format="+imageFormat(spec.Image)+",file="+optionValue(spec.Image))
	}
	for _, d := range spec.Disks {
		drive := "if=virtio,format=raw,file=" + optionValue(d.Path)
		if d.ReadOnly {
			drive += ",readonly=on"
		}
		args = append(args, "-drive", drive)
	}
	for i, t := range rec.Taps {
		args = append(args,
			"-netdev", fmt.Sprintf("tap,id=net%d,fd=%d", i, 3+i),
			// romfile= (none): no iPXE boot ROM for the firmware to load and run; guests boot
			// their kernel or disk, never from the network.
			"-device", fmt.Sprintf("virtio-net-pci,netdev=net%d,mac=%s,romfile=", i, t.MAC))
	}
	return append(args, shareArgs(spec, rec)...)
}

// optionValue escapes a value inside a QEMU option list, where a comma separates options.
func optionValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// imageFormat tells a qcow2 image (by its magic) from a raw one.
func imageFormat(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "raw"
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.Read(magic); err == nil && string(magic) == "QFI\xfb" {
		return "qcow2"
	}
	return "raw"
}

func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("QEMU pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("QEMU pid file %s: %q is not a pid", path, data)
	}
	return pid, nil
}

// alive reports whether rec's QEMU still runs: the pid is a live process whose command line names
// rec's pid file (not a later process that reused the pid, not a zombie).
func alive(rec Record) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rec.Pid))
	if err != nil {
		return false
	}
	for _, arg := range bytes.Split(cmdline, []byte{0}) {
		if string(arg) == rec.PidFile {
			return true
		}
	}
	return false
}

// State reports whether machine id runs, is paused or has stopped.
func (q *QEMU) State(ctx context.Context, id string) (Status, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rec, found, err := q.record(id)
	if err != nil {
		return Status{}, err
	}
	if !found {
		return Status{}, fmt.Errorf("virtual machine %s: %w", id, ErrNotFound)
	}
	return q.status(rec)
}

func (q *QEMU) status(rec Record) (Status, error) {
	st := Status{ID: rec.ID, Status: StatusStopped, Pid: rec.Pid}
	if !alive(rec) {
		return st, nil
	}
	s, err := qmpStatus(rec.QMPSocket)
	if err != nil {
		return Status{}, fmt.Errorf("virtual machine %s: %w", rec.ID, err)
	}
	st.Status = s
	if !sharesAlive(rec.Shares) {
		st.Status = StatusBroken
	}
	return st, nil
}

// List reports every machine this backend's data directory records.
func (q *QEMU) List(ctx context.Context) ([]Status, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	recs, err := jsonfile.ReadAll[Record](filepath.Join(q.dir, backend.Prefix+"*", "record.json"))
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(recs))
	for _, rec := range recs {
		st, err := q.status(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Pause stops the guest's CPUs (QMP stop): it answers nothing until Resume.
func (q *QEMU) Pause(ctx context.Context, id string) error { return q.command(id, "stop") }

// Resume lets a paused guest run on (QMP cont).
func (q *QEMU) Resume(ctx context.Context, id string) error { return q.command(id, "cont") }

func (q *QEMU) command(id, command string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	rec, found, err := q.record(id)
	if err != nil {
		return err
	}
	if !found || !alive(rec) {
		return fmt.Errorf("virtual machine %s: %w", id, ErrNotFound)
	}
	if _, err := qmpRun(rec.QMPSocket, command); err != nil {
		return fmt.Errorf("virtual machine %s: %w", id, err)
	}
	return nil
}

// Delete ends the machine (QMP quit, SIGKILL if it does not go), then its shares' daemons, and
// removes its taps and files.
func (q *QEMU) Delete(ctx context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	rec, found, err := q.record(id)
	if err != nil {
		return err
	}
	if found {
		if err := q.stop(rec); err != nil {
			return fmt.Errorf("virtual machine %s: %w", id, err)
		}
		if err := stopShares(rec.Shares); err != nil {
			return fmt.Errorf("virtual machine %s: %w", id, err)
		}
		for _, t := range rec.Taps {
			if err := removeTap(t.NetNS, t.Name); err != nil {
				return fmt.Errorf("virtual machine %s: %w", id, err)
			}
		}
	}
	if err := os.RemoveAll(q.machineDir(id)); err != nil {
		return fmt.Errorf("virtual machine %s: %w", id, err)
	}
	return nil
}

// stop ends rec's QEMU: politely through QMP, then with SIGKILL.
func (q *QEMU) stop(rec Record) error {
	if !alive(rec) {
		return nil
	}
	if _, err := qmpRun(rec.QMPSocket, "quit"); err == nil && waitGone(rec, stopTimeout) {
		return nil
	}
	if err := syscall.Kill(rec.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill QEMU pid %d: %w", rec.Pid, err)
	}
	if !waitGone(rec, stopTimeout) {
		return fmt.Errorf("QEMU pid %d still runs %s after SIGKILL", rec.Pid, stopTimeout)
	}
	return nil
}

func waitGone(rec Record, timeout time.Duration) bool {
	return waitFor(func() bool { return !alive(rec) }, timeout)
}

// waitFor polls done until it holds or timeout passes.
func waitFor(done func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
