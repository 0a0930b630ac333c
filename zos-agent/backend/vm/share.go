package vm

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
)

// DefaultVirtiofsd is QEMU 7.2's virtio-fs daemon, from Debian's qemu-system-common (a dependency
// of qemu-system-x86); it is not on PATH.
const DefaultVirtiofsd = "/usr/lib/qemu/virtiofsd"

// ShareDaemon is the virtiofsd serving one of a machine's shares. Each share has a daemon of its
// own, started before QEMU and ended after it.
type ShareDaemon struct {
	Tag    string `json:"tag"`
	Source string `json:"source"`
	// Name is the daemon's argv[0], tfz-<id>-fs<index>: with Source it tells the daemon from a
	// later process that reused its pid.
	Name   string `json:"name"`
	Socket string `json:"socket"` // the vhost-user socket QEMU connects to
	Log    string `json:"log"`    // the daemon's stderr
	Pid    int    `json:"pid"`
}

// startShares starts a virtiofsd for each of spec's shares; on failure it ends those it started.
func (q *QEMU) startShares(spec Spec, dir string) ([]ShareDaemon, error) {
	if len(spec.Shares) == 0 {
		return nil, nil
	}
	if _, err := exec.LookPath(q.virtiofsd); err != nil {
		return nil, fmt.Errorf("shares need virtiofsd %q (Debian package qemu-system-common): %w", q.virtiofsd, err)
	}
	var daemons []ShareDaemon
	for i, sh := range spec.Shares {
		d, err := startShare(q.virtiofsd, spec.ID, dir, i, sh)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("shares[%d] %q: %w", i, sh.Tag, err), stopShares(daemons))
		}
		daemons = append(daemons, d)
	}
	return daemons, nil
}

// startShare runs virtiofsd on a listening socket the backend made (--fd), so QEMU can connect at
// once: it waits in the socket's backlog until the daemon accepts. The daemon runs in a session of
// its own, like QEMU, and outlives the agent; it exits by itself when QEMU disconnects.
func startShare(binary, id, dir string, index int, sh Share) (ShareDaemon, error) {
	d := ShareDaemon{Tag: sh.Tag, Source: sh.Source, Name: fmt.Sprintf("%s-fs%d", backend.Name(id), index),
		Socket: filepath.Join(dir, fmt.Sprintf("fs%d.sock", index)), Log: filepath.Join(dir, fmt.Sprintf("fs%d.log", index))}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: d.Socket, Net: "unix"})
	if err != nil {
		return ShareDaemon{}, err
	}
	l.SetUnlinkOnClose(false) // the socket file stays for QEMU
	defer l.Close()
	sock, err := l.File()
	if err != nil {
		return ShareDaemon{}, err
	}
	defer sock.Close()
	log, err := os.OpenFile(d.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return ShareDaemon{}, err
	}
	defer log.Close()
	cmd := &exec.Cmd{Path: binary, Args: []string{d.Name, "--fd=3", "-o", "source=" + sh.Source},
		ExtraFiles: []*os.File{sock}, Stdout: log, Stderr: log, SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		return ShareDaemon{}, fmt.Errorf("%s: %w", binary, err)
	}
	d.Pid = cmd.Process.Pid
	go cmd.Wait() // reap it should it end while this agent runs
	return d, nil
}

// shareLogs is what the daemons wrote, for an error: why QEMU could not use a share.
func shareLogs(daemons []ShareDaemon) string {
	var out strings.Builder
	for _, d := range daemons {
		if log, err := os.ReadFile(d.Log); err == nil && len(bytes.TrimSpace(log)) > 0 {
			fmt.Fprintf(&out, "; virtiofsd %s: %s", d.Tag, bytes.TrimSpace(log))
		}
	}
	return out.String()
}

// shareArgs gives QEMU the machine's shares: the guest's memory in a shared memfd (virtiofsd maps
// it to move file data in and out of the guest) and a vhost-user-fs card per share, connected to
// its daemon's socket. A machine without shares keeps private memory.
func shareArgs(spec Spec, rec Record) []string {
	if len(rec.Shares) == 0 {
		return nil
	}
	args := []string{
		"-object", fmt.Sprintf("memory-backend-memfd,id=mem,size=%dM,share=on", spec.MemoryBytes>>20),
		"-numa", "node,memdev=mem",
	}
	for i, d := range rec.Shares {
		args = append(args,
			"-chardev", fmt.Sprintf("socket,id=fs%d,path=%s", i, optionValue(d.Socket)),
			"-device", fmt.Sprintf("vhost-user-fs-pci,chardev=fs%d,tag=%s", i, d.Tag))
	}
	return args
}

// shareProcess reports whether pid is d's daemon (or the child it forks into its sandbox), not a
// later process that reused the pid, nor a zombie.
func shareProcess(pid int, d ShareDaemon) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := bytes.Split(cmdline, []byte{0})
	return string(args[0]) == d.Name && bytes.Contains(cmdline, []byte("\x00source="+d.Source+"\x00"))
}

// sharesAlive reports whether every share's daemon still runs.
func sharesAlive(daemons []ShareDaemon) bool {
	for _, d := range daemons {
		if !shareProcess(d.Pid, d) {
			return false
		}
	}
	return true
}

// stopShares ends the daemons. virtiofsd forks into its sandbox (new pid, mount and network
// namespaces) and its first process waits for that child: both get SIGTERM, then SIGKILL.
func stopShares(daemons []ShareDaemon) error {
	var errs []error
	for _, d := range daemons {
		if err := stopShare(d); err != nil {
			errs = append(errs, fmt.Errorf("virtiofsd %s pid %d: %w", d.Name, d.Pid, err))
		}
	}
	return errors.Join(errs...)
}

func stopShare(d ShareDaemon) error {
	if !shareProcess(d.Pid, d) {
		return nil
	}
	pids := append(children(d.Pid), d.Pid)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		for _, pid := range pids {
			if shareProcess(pid, d) {
				if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
					return err
				}
			}
		}
		if waitFor(func() bool { return !anyShareProcess(pids, d) }, stopTimeout) {
			return nil
		}
	}
	return fmt.Errorf("still runs %s after SIGKILL", stopTimeout)
}

func anyShareProcess(pids []int, d ShareDaemon) bool {
	for _, pid := range pids {
		if shareProcess(pid, d) {
			return true
		}
	}
	return false
}

// children are pid's child processes.
func children(pid int) []int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if c, err := strconv.Atoi(f); err == nil {
			out = append(out, c)
		}
	}
	return out
}
