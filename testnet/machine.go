package testnet

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netns"

	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
)

// ClearAgentMachine removes what an agent with this data directory left on the machine (its
// workloads outlive it): containers and their namespaces, networks' namespaces and WireGuard
// sockets, root filesystem mounts, disk mounts and loop devices.
func ClearAgentMachine(dataDir string) {
	drv, err := container.New(dataDir)
	if err != nil {
		return
	}
	if list, err := drv.List(context.Background()); err == nil {
		for _, s := range list {
			_ = drv.Delete(context.Background(), strings.TrimPrefix(s.ID, "tfz-"))
			_ = network.DeleteMachineNS(strings.TrimPrefix(s.ID, "tfz-"))
		}
	}
	// A network's WireGuard device died with the agent; its namespace and UAPI socket stay.
	networks, _ := filepath.Glob(filepath.Join(dataDir, "networks", "tfz-net-*.json"))
	for _, n := range networks {
		var rec struct {
			Spec network.Spec `json:"spec"`
		}
		if raw, err := os.ReadFile(n); err == nil && json.Unmarshal(raw, &rec) == nil {
			names := network.NamesOf(rec.Spec.Twin, rec.Spec.Name)
			_ = netns.DeleteNamed(names.NetNS)
			_ = os.Remove(network.UAPISocket(names.WireGuard))
		}
	}
	mounts, _ := filepath.Glob(filepath.Join(dataDir, "images", "containers", "*", "rootfs"))
	disks, _ := filepath.Glob(filepath.Join(dataDir, "disks", "tfz-*.img"))
	for _, m := range mounts {
		_ = exec.Command("umount", m).Run()
	}
	for _, d := range disks {
		_ = exec.Command("umount", strings.TrimSuffix(d, ".img")).Run()
		if out, err := exec.Command("losetup", "-j", d).Output(); err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if dev, _, ok := strings.Cut(line, ":"); ok {
					_ = exec.Command("losetup", "-d", dev).Run()
				}
			}
		}
	}
}
