// Package loadgen is the tfgrid load generator behind `make bench-chain`: it
// funds deterministic accounts in genesis, pre-signs transactions from them
// and measures the committed tx/s of one real node, phase by phase (bank
// sends, MsgCreateTwin, MsgCreateFarm, MsgCreateNodeContract without and with
// a public IP, each bracketed by bank sends).
package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/app"
)

// DefaultPhases brackets every measured phase with bank-send phases. There is
// one twin per account, hence one twin phase, and one farm phase (names stay
// unique); the node-contract kinds run three rounds each.
const DefaultPhases = "bank,twin,bank,farm,bank,nc,bank,nc-ip,bank,nc,bank,nc-ip,bank,nc,bank,nc-ip,bank"

const usage = `tfgrid-loadgen: load generator for a tfgrid node (used by make bench-chain)

  tfgrid-loadgen genesis -genesis FILE -accounts N [-ip-rounds R] [-amount A] [-pubkeys=true]
      fund accounts loadgen-0..N-1, the bank sink and the contract farmers in genesis.json
  tfgrid-loadgen ports -n K
      print K free TCP ports on 127.0.0.1
  tfgrid-loadgen run -grpc HOST:PORT -rpc http://HOST:PORT -accounts N [flags]
      run the phases (default ` + DefaultPhases + `) and print the tables
  tfgrid-loadgen address -i I
      print the address of account I ("sink" for the sink)
  go tool pprof -traces BINARY PROFILE | tfgrid-loadgen profile-split
      split a node CPU profile by component and by ABCI stage

Run a subcommand with -h for its flags.
`

// Main runs the load generator with the command-line args (without the
// program name) and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	app.SetupSDKConfig()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "genesis":
		err = cmdGenesis(args[1:], stdout, stderr)
	case "ports":
		err = cmdPorts(args[1:], stdout, stderr)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "address":
		err = cmdAddress(args[1:], stdout, stderr)
	case "profile-split":
		err = cmdProfileSplit(args[1:], os.Stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown subcommand %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tfgrid-loadgen %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tfgrid-loadgen "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdGenesis(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("genesis", stderr)
	path := fs.String("genesis", "", "genesis.json to edit in place")
	n := fs.Int("accounts", 10000, "number of accounts loadgen-0..N-1 to fund")
	amount := fs.String("amount", "1000000000", "balance of each account, in -denom")
	denom := fs.String("denom", app.BondDenom, "denom of the balances")
	ipRounds := fs.Int("ip-rounds", 1, "nc-ip phases the run will have (each needs its own contract farms)")
	pubkeys := fs.Bool("pubkeys", true, "store the accounts' public keys in genesis (else the first tx of each account sets it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || *n < 1 {
		return fmt.Errorf("-genesis and -accounts ≥ 1 are required")
	}
	if *ipRounds < 0 {
		return fmt.Errorf("-ip-rounds %d: want ≥ 0", *ipRounds)
	}
	amt, ok := sdkmath.NewIntFromString(*amount)
	if !ok {
		return fmt.Errorf("-amount %q is not an integer", *amount)
	}
	start := time.Now()
	first, err := FundGenesis(*path, GenesisOptions{Accounts: *n, Amount: amt, Denom: *denom, PubKeys: *pubkeys, Sink: true, ContractFarmers: true, IPRounds: *ipRounds})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "funded %d accounts (account numbers %d..%d), the sink and %d contract farmers with %s%s each in %.2fs\n",
		*n, first, first+uint64(*n)-1, ContractFarms(*n, *ipRounds), amt, *denom, time.Since(start).Seconds())
	return nil
}

func cmdPorts(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ports", stderr)
	n := fs.Int("n", 1, "number of ports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ports, err := FreePorts(*n)
	if err != nil {
		return err
	}
	strs := make([]string, len(ports))
	for i, p := range ports {
		strs[i] = strconv.Itoa(p)
	}
	fmt.Fprintln(stdout, strings.Join(strs, " "))
	return nil
}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1 (all
// listeners are held open until every port is picked).
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func cmdAddress(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("address", stderr)
	i := fs.String("i", "0", `account index, or "sink"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *i == "sink" {
		fmt.Fprintln(stdout, SinkAccount().Bech32)
		return nil
	}
	idx, err := strconv.Atoi(*i)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, NewAccount(idx).Bech32)
	return nil
}

func cmdProfileSplit(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("profile-split", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	traces, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	for _, split := range []struct {
		title   string
		buckets []Bucket
	}{{"by component", ComponentBuckets}, {"by ABCI stage", StageBuckets}} {
		total, shares, err := ProfileBuckets(strings.NewReader(string(traces)), split.buckets)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, FormatShares(split.title, total, shares))
	}
	return nil
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	grpcAddr := fs.String("grpc", "127.0.0.1:9090", "gRPC address of the node")
	rpcAddr := fs.String("rpc", "http://127.0.0.1:26657", "CometBFT RPC address of the node")
	chainID := fs.String("chain-id", app.DefaultChainID, "chain id")
	n := fs.Int("accounts", 10000, "funded accounts to send from; every phase sends from all of them")
	phases := fs.String("phases", DefaultPhases, "phases in order: bank, twin, farm, nc (node contract), nc-ip (node contract with a public IP); bank phases around each other phase bracket it")
	bankPer := fs.Int("bank-per-account", 1, "bank sends per account in a bank phase")
	farmsPer := fs.Int("farms-per-account", 1, fmt.Sprintf("farms per account in the farm phase (1..%d)", MaxFarmsPerAccount))
	bankTo := fs.String("bank-to", "sink", `recipient of bank sends: "sink" (one account) or "next" (account i+1)`)
	twinRelays := fs.Int("twin-relays", 1, "relay URLs per twin (0..4)")
	twinE2E := fs.Bool("twin-e2e-key", true, "give each twin an e2e key")
	farmIPs := fs.Int("farm-ips", 0, "public IPs per farm")
	contractData := fs.Int("contract-data-bytes", 128, "deployment data bytes of each node contract")
	mode := fs.String("mode", ModeGRPCSync, "broadcast mode: grpc-sync, rpc-sync or rpc-async")
	workers := fs.Int("workers", 64, "broadcasting goroutines (an account's txs always go in order from one goroutine)")
	gas := fs.Uint64("gas", 500000, "gas limit of every tx (fees are zero)")
	nodePID := fs.Int("node-pid", 0, "pid of the node, to read its CPU time from /proc/<pid>/stat")
	commitTimeout := fs.Duration("commit-timeout", 15*time.Second, "how long to wait without progress for the last commits once the mempool is empty")
	pprofURL := fs.String("pprof", "", "node pprof server (http://host:port) to take a CPU profile of each phase")
	profileDir := fs.String("profile-dir", "", "directory for the per-phase CPU profiles (with -pprof)")
	profileSecs := fs.Int("profile-seconds", 8, "length of each phase's CPU profile")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *mode {
	case ModeGRPCSync, ModeRPCSync, ModeRPCAsync:
	default:
		return fmt.Errorf("-mode %q: want grpc-sync, rpc-sync or rpc-async", *mode)
	}
	if *bankTo != "sink" && *bankTo != "next" {
		return fmt.Errorf(`-bank-to %q: want "sink" or "next"`, *bankTo)
	}
	if *twinRelays < 0 || *twinRelays > 4 || *farmIPs < 0 || *farmIPs > MaxFarmIPs {
		return fmt.Errorf("-twin-relays 0..4, -farm-ips 0..%d", MaxFarmIPs)
	}
	if *contractData < 0 || *contractData > 8192 {
		return fmt.Errorf("-contract-data-bytes %d: want 0..8192 (max_deployment_data_bytes)", *contractData)
	}
	specs, err := ParsePhases(*phases, *n, *bankPer, *farmsPer)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	signer, err := NewSigner(*chainID, *gas)
	if err != nil {
		return err
	}
	node, err := Dial(*grpcAddr, *rpcAddr, *workers)
	if err != nil {
		return err
	}
	defer node.Close()

	cfg := RunConfig{
		Mode:    *mode,
		Workers: *workers,
		Signer:  signer,
		Msgs: MsgOptions{
			Denom: app.BondDenom, BankTo: *bankTo, Sink: SinkAccount().Address,
			TwinRelays: *twinRelays, TwinE2EKey: *twinE2E, FarmIPs: *farmIPs, ContractDataBytes: *contractData,
		},
		CommitTimeout:  *commitTimeout,
		PprofURL:       *pprofURL,
		ProfileDir:     *profileDir,
		ProfileSeconds: *profileSecs,
		Log:            stderr,
	}
	if *quiet {
		cfg.Log = nil
	}
	if *nodePID > 0 {
		cfg.NodePID = strconv.Itoa(*nodePID)
	}
	rep, err := Run(ctx, node, cfg, *chainID, *n, specs)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.Format())
	if *jsonOut != "" {
		bz, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, bz, 0o644); err != nil {
			return err
		}
	}
	for _, p := range rep.Phases {
		if p.Failed > 0 || p.Rejected > 0 || p.Missing > 0 {
			return fmt.Errorf("phase %s: %d failed, %d rejected, %d missing (see above)", p.Name, p.Failed, p.Rejected, p.Missing)
		}
	}
	return nil
}
