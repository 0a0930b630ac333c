package testnet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binary returns the absolute path in the environment variable env if it is set, or builds the
// package pkg (like ./cmd/tfgridd) of the module rooted at repo into dir.
func Binary(env, pkg, repo, dir string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return filepath.Abs(p)
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v: %s", pkg, err, b)
	}
	return out, nil
}
