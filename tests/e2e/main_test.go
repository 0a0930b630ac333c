package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// tfgriddBin is the binary every test runs, set by TestMain.
var tfgriddBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips itself
	}
	cleanup, err := resolveBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// resolveBinary sets tfgriddBin from $TFGRIDD_BIN, or builds ./cmd/tfgridd once into a temporary
// directory (removed by the returned cleanup).
func resolveBinary() (func(), error) {
	if bin := os.Getenv("TFGRIDD_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(abs); err != nil || st.IsDir() {
			return nil, fmt.Errorf("TFGRIDD_BIN=%s: not a file (run make build)", bin)
		}
		tfgriddBin = abs
		return func() {}, nil
	}

	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tfgrid-e2e-bin-")
	if err != nil {
		return nil, err
	}
	tfgriddBin = filepath.Join(dir, "tfgridd")
	start := time.Now()
	fmt.Fprintf(os.Stderr, "e2e: TFGRIDD_BIN not set: building %s\n", tfgriddBin)
	cmd := exec.Command("go", "build", "-o", tfgriddBin, "./cmd/tfgridd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("go build ./cmd/tfgridd: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built tfgridd in %s\n", time.Since(start).Round(time.Second))
	return func() { _ = os.RemoveAll(dir) }, nil
}

// skipIfShort skips a test under -short: every test here starts a real chain.
func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: starts a real chain; skipped with -short")
	}
}
