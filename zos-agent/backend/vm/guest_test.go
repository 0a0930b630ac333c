package vm_test

import (
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
)

// The guest is backendtest's: Debian's cloud kernel and a busybox initramfs.
func TestMain(m *testing.M) { backendtest.MainWithGuest(m) }
