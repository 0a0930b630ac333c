package vm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
)

// Every bad field is refused with ErrInvalidSpec, naming the field and its value.
func TestSpecValidate(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	if err := os.WriteFile(kernel, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := vm.Spec{ID: "vm1", Kernel: kernel, Cmdline: "console=ttyS0", CPU: 2, MemoryBytes: 256 << 20,
		Interfaces: []vm.Interface{{Bridge: "br0", MAC: "02:00:00:00:00:01"}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good spec: %v", err)
	}
	for name, tc := range map[string]struct {
		change func(*vm.Spec)
		want   string
	}{
		"bad id":                {func(s *vm.Spec) { s.ID = "VM/1" }, `id "VM/1"`},
		"nothing to boot":       {func(s *vm.Spec) { s.Kernel = ""; s.Cmdline = "" }, "kernel and image are both empty"},
		"kernel and image":      {func(s *vm.Spec) { s.Image = kernel }, "give only one"},
		"initrd without kernel": {func(s *vm.Spec) { s.Kernel, s.Cmdline, s.Image, s.Initrd = "", "", kernel, kernel }, "need a kernel"},
		"relative kernel":       {func(s *vm.Spec) { s.Kernel = "vmlinuz" }, `kernel "vmlinuz": must be an absolute path`},
		"missing kernel":        {func(s *vm.Spec) { s.Kernel = "/no/such/vmlinuz" }, `kernel "/no/such/vmlinuz"`},
		"kernel is a dir":       {func(s *vm.Spec) { s.Kernel = dir }, "not a file or block device"},
		"no cpu":                {func(s *vm.Spec) { s.CPU = 0 }, "cpu 0"},
		"too many cpus":         {func(s *vm.Spec) { s.CPU = 1000 }, "cpu 1000"},
		"little memory":         {func(s *vm.Spec) { s.MemoryBytes = 32 << 20 }, "memory 33554432 bytes"},
		"odd memory":            {func(s *vm.Spec) { s.MemoryBytes = 256<<20 + 1 }, "memory 268435457 bytes"},
		"missing disk":          {func(s *vm.Spec) { s.Disks = []vm.Disk{{Path: "/no/such/disk"}} }, `disks[0].path "/no/such/disk"`},
		"no bridge":             {func(s *vm.Spec) { s.Interfaces[0].Bridge = "" }, "interfaces[0].bridge is empty"},
		"bad mac":               {func(s *vm.Spec) { s.Interfaces[0].MAC = "zz" }, `interfaces[0].mac "zz"`},
		"multicast mac":         {func(s *vm.Spec) { s.Interfaces[0].MAC = "01:00:5e:00:00:01" }, `interfaces[0].mac "01:00:5e:00:00:01"`},
		"too many cards":        {func(s *vm.Spec) { s.Interfaces = make([]vm.Interface, 9) }, "9 interfaces"},
	} {
		t.Run(name, func(t *testing.T) {
			s := good
			s.Interfaces = []vm.Interface{good.Interfaces[0]}
			tc.change(&s)
			err := s.Validate()
			if !errors.Is(err, vm.ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want ErrInvalidSpec naming %q", err, tc.want)
			}
		})
	}
}

// A backend refuses a data directory or accelerator it cannot use.
func TestNewQEMURefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  vm.Config
		want string
	}{
		{vm.Config{DataDir: "relative"}, `vm data directory "relative"`},
		{vm.Config{DataDir: t.TempDir(), Binary: "no-such-qemu"}, `QEMU binary "no-such-qemu"`},
		{vm.Config{DataDir: t.TempDir(), Accel: "hvf"}, `vm accel "hvf"`},
	} {
		if _, err := vm.NewQEMU(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewQEMU(%+v) = %v, want an error naming %q", tc.cfg, err, tc.want)
		}
	}
}

// Every operation refuses an id that could not name a machine, before touching anything.
func TestQEMURefusesBadIDs(t *testing.T) {
	q, err := vm.NewQEMU(vm.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bad := "../x"
	_, stateErr := q.State(ctx, bad)
	for op, err := range map[string]error{
		"state": stateErr, "pause": q.Pause(ctx, bad), "resume": q.Resume(ctx, bad), "delete": q.Delete(ctx, bad),
	} {
		if !errors.Is(err, vm.ErrInvalidSpec) || !strings.Contains(err.Error(), `id "../x"`) {
			t.Errorf("%s(%q) = %v, want ErrInvalidSpec naming the id", op, bad, err)
		}
	}
}
