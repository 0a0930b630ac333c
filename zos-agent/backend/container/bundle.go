package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
)

// cpuPeriodMicros is the CFS period; a container gets CPU periods of quota per period.
const cpuPeriodMicros = 100_000

// capabilities a workload keeps: enough to run ordinary services as root inside its namespaces,
// nothing that administers the node (no CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_MODULE, ...).
var capabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETPCAP", "CAP_SETFCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_AUDIT_WRITE",
}

// defaultPath is the PATH a container gets when its env sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// cgroupParent groups every container's cgroup; removed when the last container is deleted.
const cgroupParent = "tfz"

// runtimeSpec is the OCI config.json of a container.
func runtimeSpec(s Spec, cgroupsPath string) *specs.Spec {
	cwd := s.WorkDir
	if cwd == "" {
		cwd = "/"
	}
	memory := int64(s.MemoryBytes)
	quota := int64(s.CPU) * cpuPeriodMicros
	period := uint64(cpuPeriodMicros)
	netns := specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: s.NetNS}
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: s.Rootfs},
		Process: &specs.Process{
			Args: s.Args,
			Env:  withDefaultPath(s.Env),
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding: capabilities, Effective: capabilities, Permitted: capabilities,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Hostname: backend.Name(s.ID),
		Mounts:   append(baseMounts(), bindMounts(s.Mounts)...),
		Linux: &specs.Linux{
			CgroupsPath: cgroupsPath,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, netns,
				{Type: specs.UTSNamespace}, {Type: specs.IPCNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
				Memory:  &specs.LinuxMemory{Limit: &memory},
				CPU:     &specs.LinuxCPU{Quota: &quota, Period: &period},
				Pids:    &specs.LinuxPids{Limit: s.Pids},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
				"/proc/scsi",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
}

func withDefaultPath(env []string) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return env
		}
	}
	return append([]string{defaultPath}, env...)
}

// baseMounts are the kernel filesystems every container sees.
func baseMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
	}
}

func bindMounts(mounts []Mount) []specs.Mount {
	out := make([]specs.Mount, 0, len(mounts))
	for _, m := range mounts {
		opts := []string{"rbind", "rprivate", "nosuid", "nodev"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		out = append(out, specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts})
	}
	return out
}

// writeBundle writes config.json into the bundle directory.
func writeBundle(dir string, s Spec, cgroupsPath string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(runtimeSpec(s, cgroupsPath), "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600)
}
