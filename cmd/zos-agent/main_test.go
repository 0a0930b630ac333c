package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestImageImportFillsTheStore(t *testing.T) {
	backendtest.RequireRoot(t)
	dataDir := t.TempDir()
	tarPath := backendtest.WriteRootfsTar(t, t.TempDir())
	out, err := run(t, "image", "import", tarPath, "--name", "busybox", "--data-dir", dataDir)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var imported image.Image
	if err := json.Unmarshal([]byte(out), &imported); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	store, err := image.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Resolve("busybox")
	if err != nil || got.Digest != imported.Digest {
		t.Fatalf("resolve busybox = %+v, %v; want digest %s", got, err, imported.Digest)
	}
}

func TestImageImportRefusals(t *testing.T) {
	if _, err := run(t, "image", "import", "x.tar"); err == nil || !strings.Contains(err.Error(), "--data-dir is required") {
		t.Fatalf("without --data-dir: %v", err)
	}
	if _, err := run(t, "image", "import", "/no/such/file.tar", "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "/no/such/file.tar") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestCheckPrintsTheReport(t *testing.T) {
	out, err := run(t, "check")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, b := range []string{`"containers"`, `"images"`, `"disks"`} {
		if !strings.Contains(out, b) {
			t.Errorf("report %s lacks %s", out, b)
		}
	}
}
