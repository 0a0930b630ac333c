package backendtest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// A namespace left by a test process that is gone is swept; one of a live process is kept.
func TestSweepOrphanNetNS(t *testing.T) {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := fmt.Sprintf("%ssweep-%d-%s", NetNSPrefix, gone.Process.Pid, randomHex(t, 3))
	live := fmt.Sprintf("%ssweep-%d-%s", NetNSPrefix, os.Getppid(), randomHex(t, 3))
	for _, name := range []string{orphan, live} {
		if _, err := netnsutil.Create(name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = netnsutil.Delete(name) })
	}

	sweepOrphanNetNS(t)

	if _, err := os.Stat(netnsutil.Path(orphan)); !os.IsNotExist(err) {
		t.Errorf("namespace %s of a finished process: still there (%v)", orphan, err)
	}
	if _, err := os.Stat(netnsutil.Path(live)); err != nil {
		t.Errorf("namespace %s of a running process: %v", live, err)
	}
}
