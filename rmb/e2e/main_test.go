// Package e2e runs RMB end to end against real processes: a tfgridd single-validator chain with the
// twins registered through its CLI, rmb-relay processes (embedded store, Redis, federation) and peers
// built on rmb/peer with the chain twin lookup. `go test -short` skips it.
//
//	make build && TFGRIDD_BIN=$PWD/build/tfgridd go test ./rmb/e2e/ -count=1 -v
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/testnet"
)

// net is the shared network of every test: one chain, fixed relay ports, the twins.
var tn struct {
	chain    *testnet.Chain
	relayBin string
	peerBin  string
	dir      string
	ports    map[string]string // relay name → 127.0.0.1:port
	keys     map[string]*secp256k1.PrivKey
	twins    map[string]uint64
}

// relay names and the twins that list them
const (
	relayA  = "A"  // the main relay (embedded store), twin relayA
	relayB  = "B"  // a second relay for federation, twin relayB
	relayR1 = "R1" // two relays sharing Redis
	relayR2 = "R2"
)

// twins: name → (relays, e2e key registered)
var twinSpecs = map[string]struct {
	relays []string
	e2e    bool
}{
	"relayA": {[]string{relayA}, false},
	"relayB": {[]string{relayB}, false},
	"alice":  {[]string{relayA}, true},
	"bob":    {[]string{relayA}, true},
	"carol":  {[]string{relayA}, true},
	"dave":   {[]string{relayA}, false}, // gets an e2e key during a test
	"erin":   {[]string{relayA}, false},
	"frank":  {[]string{relayB}, true},
	"gina":   {[]string{relayR1}, true},
	"hank":   {[]string{relayR1}, true},
	"ivan":   {[]string{relayA}, false},
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rmb e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "rmb-e2e-")
	if err != nil {
		return 0, err
	}
	tn.dir = dir
	defer os.RemoveAll(dir)

	root, _ := filepath.Abs(filepath.Join("..", ".."))
	tfgridd := os.Getenv("TFGRIDD_BIN")
	if tfgridd == "" {
		tfgridd = filepath.Join(dir, "tfgridd")
		if err := build(root, tfgridd, "./cmd/tfgridd"); err != nil {
			return 0, err
		}
	} else if tfgridd, err = filepath.Abs(tfgridd); err != nil {
		return 0, err
	}
	tn.relayBin = filepath.Join(dir, "rmb-relay")
	tn.peerBin = filepath.Join(dir, "rmb-peer")
	if err := build(root, dir+string(filepath.Separator), "./cmd/rmb-relay", "./cmd/rmb-peer"); err != nil {
		return 0, err
	}

	ports, err := testnet.FreePorts(4)
	if err != nil {
		return 0, err
	}
	tn.ports = map[string]string{}
	for i, name := range []string{relayA, relayB, relayR1, relayR2} {
		tn.ports[name] = fmt.Sprintf("127.0.0.1:%d", ports[i])
	}
	tn.keys = map[string]*secp256k1.PrivKey{}
	for name := range twinSpecs {
		tn.keys[name] = secp256k1.GenPrivKey()
	}
	start := time.Now()
	chain, err := testnet.StartChain(tfgridd, dir, tn.keys)
	if err != nil {
		return 0, err
	}
	defer chain.Stop()
	tn.chain = chain
	specs := map[string]testnet.TwinSpec{}
	for name, s := range twinSpecs {
		var relays []string
		for _, r := range s.relays {
			relays = append(relays, "ws://"+tn.ports[r])
		}
		var e2e []byte
		if s.e2e {
			if e2e, err = rmb.E2EPublicKey(tn.keys[name]); err != nil {
				return 0, err
			}
		}
		specs[name] = testnet.TwinSpec{Relays: relays, E2EKey: e2e}
	}
	if tn.twins, err = chain.CreateTwins(specs); err != nil {
		return 0, fmt.Errorf("%w\nchain log:\n%s", err, chain.LogTail(30))
	}
	fmt.Fprintf(os.Stderr, "rmb e2e: chain and %d twins ready in %s\n", len(tn.twins), time.Since(start).Round(time.Second))
	return m.Run(), nil
}

// build runs `go build -o out pkgs...` in root (out is a directory when it ends with a separator).
func build(root, out string, pkgs ...string) error {
	start := time.Now()
	cmd := exec.Command("go", append([]string{"build", "-o", out}, pkgs...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %v\n%s", pkgs, err, b)
	}
	fmt.Fprintf(os.Stderr, "rmb e2e: built %v in %s\n", pkgs, time.Since(start).Round(time.Second))
	return nil
}
