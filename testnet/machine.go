package testnet

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
)

// ClearAgentMachine removes what an agent with this data directory left on the machine (its
// workloads outlive it): containers, root filesystem mounts, disk mounts and loop devices.
func ClearAgentMachine(dataDir string) {
	drv, err := container.New(dataDir)
	if err != nil {
		return
	}
	if list, err := drv.List(context.Background()); err == nil {
		for _, s := range list {
			_ = drv.Delete(context.Background(), strings.TrimPrefix(s.ID, "tfz-"))
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
