package loadgen

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tfgrid/tfgrid/chainclient"
)

// Target is a phase kind's target rate as a fraction of the bank-send rate:
// registry txs at ≥ 0.8×, node contracts at ≥ 0.7×.
func Target(k Kind) float64 {
	if k == KindContract || k == KindContractIP {
		return 0.7
	}
	return 0.8
}

// Report is the outcome of a run.
type Report struct {
	ChainID  string         `json:"chain_id"`
	Accounts int            `json:"accounts"`
	Mode     string         `json:"mode"`
	Workers  int            `json:"workers"`
	Phases   []*PhaseResult `json:"phases"`
	// NodeCPU and LoadgenCPU cover the whole run, setup queries and signing
	// included; Duration is its wall-clock time.
	NodeCPU    time.Duration `json:"node_cpu"`
	LoadgenCPU time.Duration `json:"loadgen_cpu"`
	Duration   time.Duration `json:"duration"`
}

// Run derives accounts 0..n-1, reads their account numbers and sequences and
// runs the phases one after the other on the same node. Sequences are read
// again before every phase.
func Run(ctx context.Context, node *Node, cfg RunConfig, chainID string, n int, specs []PhaseSpec) (*Report, error) {
	begin := time.Now()
	nodeCPU0, _ := nodeCPU(cfg.NodePID)
	selfCPU0, _ := ProcessCPU("self")

	// Queries are served from height 2 on ("not ready; please wait for first block" before).
	if _, err := node.WaitHeight(ctx, 2, 60*time.Second); err != nil {
		return nil, err
	}
	t := time.Now()
	accs := NewAccounts(n)
	var farmers []*Account
	if needsContractNodes(specs) {
		farmers = ContractFarmers(ContractFarms(n, countKind(specs, KindContractIP)))
		cfg.Msgs.IPFarmsPerRound = ContractFarms(n, 1)
	}
	logf(cfg.Log, "derived %d accounts and %d contract farmers in %.2fs", n, len(farmers), time.Since(t).Seconds())

	rep := &Report{ChainID: chainID, Accounts: n, Mode: cfg.Mode, Workers: cfg.Workers}
	refresh := func() error {
		t := time.Now()
		if err := node.RefreshAccounts(ctx, append(append([]*Account(nil), accs...), farmers...), 32); err != nil {
			return fmt.Errorf("reading accounts (are they funded in genesis?): %w", err)
		}
		logf(cfg.Log, "read %d account numbers and sequences over gRPC in %.2fs", n+len(farmers), time.Since(t).Seconds())
		return nil
	}
	if err := refresh(); err != nil {
		return nil, err
	}
	for i, spec := range specs {
		if (spec.Kind == KindContract || spec.Kind == KindContractIP) && cfg.Msgs.ContractNodes == nil {
			nodes, err := SetupContractNodes(ctx, node, cfg, farmers)
			if err != nil {
				return nil, fmt.Errorf("setting up the contract nodes: %w", err)
			}
			cfg.Msgs.ContractNodes = nodes
		}
		if i > 0 {
			// RunPhase advanced the sequences by the txs it saw committed;
			// check a sample against the chain, and read them all on a mismatch.
			ok, err := checkSequences(ctx, node, accs, 64)
			if err != nil {
				return nil, err
			}
			if !ok {
				logf(cfg.Log, "sequences differ from the chain's; reading them all again")
				if err := refresh(); err != nil {
					return nil, err
				}
			}
		}
		res, err := RunPhase(ctx, node, cfg, accs, spec)
		if err != nil {
			return nil, err
		}
		logf(cfg.Log, "phase %s: %d ok, %d failed, %d rejected, %d missing; %.0f tx/s (block time %.0f tx/s)",
			res.Name, res.OK, res.Failed, res.Rejected, res.Missing, res.TPS, res.BlockTPS)
		rep.Phases = append(rep.Phases, res)
	}

	nodeCPU1, _ := nodeCPU(cfg.NodePID)
	selfCPU1, _ := ProcessCPU("self")
	rep.NodeCPU, rep.LoadgenCPU = nodeCPU1-nodeCPU0, selfCPU1-selfCPU0
	rep.Duration = time.Since(begin)
	return rep, nil
}

// checkSequences compares the tracked account numbers and sequences of k
// accounts spread over accs with the chain's.
func checkSequences(ctx context.Context, node *Node, accs []*Account, k int) (bool, error) {
	step := max(1, len(accs)/k)
	var sample []*Account
	for i := 0; i < len(accs); i += step {
		c := *accs[i]
		sample = append(sample, &c)
	}
	sample = append(sample, func() *Account { c := *accs[len(accs)-1]; return &c }())
	if err := node.RefreshAccounts(ctx, sample, 8); err != nil {
		return false, err
	}
	for _, c := range sample {
		orig := accs[c.Index]
		if c.AccountNumber != orig.AccountNumber || c.Sequence != orig.Sequence {
			return false, nil
		}
	}
	return true, nil
}

// NewSigner builds a Signer on chainclient's codec (the modules' messages, SIGN_MODE_DIRECT).
func NewSigner(chainID string, gas uint64) (*Signer, error) {
	cdc, err := chainclient.NewCodec()
	if err != nil {
		return nil, err
	}
	return &Signer{TxConfig: cdc.TxConfig, ChainID: chainID, Gas: gas}, nil
}

// Baseline returns the mean committed rate of the bank phases and the rates
// of each.
func (r *Report) Baseline() (mean float64, each []float64) {
	for _, p := range r.Phases {
		if p.Kind == KindBank && p.TPS > 0 {
			each = append(each, p.TPS)
			mean += p.TPS
		}
	}
	if len(each) > 0 {
		mean /= float64(len(each))
	}
	return mean, each
}

// Ratio is a registry phase's rate against the bank baseline.
type Ratio struct {
	Phase  string
	Kind   Kind
	Rate   float64
	Target float64 // the phase kind's target ratio
	// Mean is against the mean bank rate; Low/High against the fastest and
	// slowest bank phase.
	Mean, Low, High float64
	// Adjacent is against the mean of the nearest bank phase before and the
	// nearest after (the one that exists, if only one does): the fairest
	// comparison when the machine's speed drifts during the run.
	Adjacent float64
	// MsPerTx and BankMsPerTx are node CPU milliseconds per committed tx of
	// the phase and of the bank phases together.
	MsPerTx, BankMsPerTx float64
}

// Ratios returns the ratio of every non-bank phase to the bank baseline.
func (r *Report) Ratios() []Ratio {
	mean, each := r.Baseline()
	if mean == 0 {
		return nil
	}
	lo, hi := each[0], each[0]
	for _, v := range each {
		lo, hi = min(lo, v), max(hi, v)
	}
	var bankCPU time.Duration
	bankOK := 0
	for _, p := range r.Phases {
		if p.Kind == KindBank {
			bankCPU += p.NodeCPU
			bankOK += p.OK
		}
	}
	var out []Ratio
	for i, p := range r.Phases {
		if p.Kind == KindBank {
			continue
		}
		ratio := Ratio{Phase: p.Name, Kind: p.Kind, Rate: p.TPS, Target: Target(p.Kind), Mean: p.TPS / mean, Low: p.TPS / hi, High: p.TPS / lo}
		if adj := r.adjacentBank(i); adj > 0 {
			ratio.Adjacent = p.TPS / adj
		}
		if bankOK > 0 && p.OK > 0 {
			ratio.BankMsPerTx = float64(bankCPU.Microseconds()) / 1000 / float64(bankOK)
			ratio.MsPerTx = float64(p.NodeCPU.Microseconds()) / 1000 / float64(p.OK)
		}
		out = append(out, ratio)
	}
	return out
}

// Verdict is a phase kind's ratio to bank sends over all its phases.
type Verdict struct {
	Kind   Kind
	Phases int
	// Mean, Low and High are the mean, lowest and highest adjacent ratio of
	// the kind's phases.
	Mean, Low, High float64
	Target          float64
}

// Verdicts returns, in order of first appearance, each non-bank kind's
// verdict on the adjacent ratios of its phases.
func (r *Report) Verdicts() []Verdict {
	var out []Verdict
	at := map[Kind]int{}
	for _, ra := range r.Ratios() {
		i, ok := at[ra.Kind]
		if !ok {
			i = len(out)
			at[ra.Kind] = i
			out = append(out, Verdict{Kind: ra.Kind, Low: ra.Adjacent, High: ra.Adjacent, Target: ra.Target})
		}
		v := &out[i]
		v.Phases++
		v.Mean += ra.Adjacent
		v.Low, v.High = min(v.Low, ra.Adjacent), max(v.High, ra.Adjacent)
	}
	for i := range out {
		out[i].Mean /= float64(out[i].Phases)
	}
	return out
}

// adjacentBank returns the mean rate of the nearest bank phases around
// phase i (0 if there is none).
func (r *Report) adjacentBank(i int) float64 {
	var rates []float64
	for j := i - 1; j >= 0; j-- {
		if p := r.Phases[j]; p.Kind == KindBank && p.TPS > 0 {
			rates = append(rates, p.TPS)
			break
		}
	}
	for j := i + 1; j < len(r.Phases); j++ {
		if p := r.Phases[j]; p.Kind == KindBank && p.TPS > 0 {
			rates = append(rates, p.TPS)
			break
		}
	}
	if len(rates) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range rates {
		sum += v
	}
	return sum / float64(len(rates))
}

// Format renders the report as text tables.
func (r *Report) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nbench-chain: chain %s, %d funded accounts, broadcast %s with %d workers\n\n", r.ChainID, r.Accounts, r.Mode, r.Workers)
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\ttxs\tok\tfailed\trejected\tmissing\tblocks\tmax txs/block\tgas/tx\twall s\tcommitted tx/s\tblock-time tx/s\tnode CPU s\tnode cores\tnode ms/tx\tloadgen CPU s\tother CPU s\t")
	for _, p := range r.Phases {
		cores, msPerTx := 0.0, 0.0
		if p.Elapsed > 0 {
			cores = p.NodeCPU.Seconds() / p.Elapsed.Seconds()
		}
		if p.OK > 0 {
			msPerTx = float64(p.NodeCPU.Microseconds()) / 1000 / float64(p.OK)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.2f\t%.0f\t%.0f\t%.2f\t%.2f\t%.3f\t%.2f\t%.2f\t\n",
			p.Name, p.Sent, p.OK, p.Failed, p.Rejected, p.Missing, p.Blocks, p.MaxPerBlock, p.GasPerTx,
			p.Wall.Seconds(), p.TPS, p.BlockTPS, p.NodeCPU.Seconds(), cores, msPerTx, p.LoadgenCPU.Seconds(), p.OtherCPU.Seconds())
	}
	_ = tw.Flush()

	for _, p := range r.Phases {
		for _, reason := range sortedReasons(p.RejectReasons) {
			fmt.Fprintf(&b, "  %s: %d rejected by CheckTx: %s\n", p.Name, p.RejectReasons[reason], reason)
		}
		for _, reason := range sortedReasons(p.FailReasons) {
			fmt.Fprintf(&b, "  %s: %d FAILED in the block: %s\n", p.Name, p.FailReasons[reason], reason)
		}
		if p.Missing > 0 {
			fmt.Fprintf(&b, "  %s: %d accepted txs never committed\n", p.Name, p.Missing)
		}
	}

	mean, each := r.Baseline()
	if mean > 0 {
		parts := make([]string, 0, len(each))
		for _, p := range r.Phases {
			if p.Kind == KindBank {
				parts = append(parts, fmt.Sprintf("%s %.0f", p.Name, p.TPS))
			}
		}
		fmt.Fprintf(&b, "\nbank baseline: %.0f tx/s (mean of %s)\n", mean, strings.Join(parts, ", "))
		fmt.Fprintln(&b, "\neach phase against the bank phases right before and after it (drift-fair), and against the mean bank rate:")
		for _, ra := range r.Ratios() {
			fmt.Fprintf(&b, "  %s/bank: %.2f× adjacent, %.2f× mean (%.0f tx/s; %.2f–%.2f× against each bank phase); node CPU %.2f ms/tx vs bank %.2f ms/tx\n",
				ra.Phase, ra.Adjacent, ra.Mean, ra.Rate, ra.Low, ra.High, ra.MsPerTx, ra.BankMsPerTx)
		}
		fmt.Fprintln(&b, "\nverdict per kind (mean of its phases' adjacent ratios):")
		for _, v := range r.Verdicts() {
			verdict := "MET"
			if v.Mean < v.Target {
				verdict = "NOT MET"
			}
			spread := ""
			if v.Phases > 1 {
				spread = fmt.Sprintf(" (%d phases, %.2f–%.2f×)", v.Phases, v.Low, v.High)
			}
			fmt.Fprintf(&b, "  %s/bank: %.2f×%s  target ≥ %.2f×: %s\n", v.Kind, v.Mean, spread, v.Target, verdict)
		}
	}
	fmt.Fprintln(&b, "\n(node cores = node CPU ÷ time from first broadcast until the mempool drained; other CPU = CPU used meanwhile by every")
	fmt.Fprintln(&b, " other process on the machine — if it is not near zero, the numbers are disturbed by outside load)")
	fmt.Fprintf(&b, "\nCPU time over the whole run (%.1fs wall, setup queries and signing included): node %.1fs, loadgen %.1fs\n",
		r.Duration.Seconds(), r.NodeCPU.Seconds(), r.LoadgenCPU.Seconds())
	return b.String()
}

// ParsePhases turns "bank,twin,farm,bank" into specs over n accounts; bank
// phases send bankPerAccount txs per account, farm phases farmsPerAccount.
// Repeated kinds are numbered (bank-1, bank-2).
func ParsePhases(list string, n, bankPerAccount, farmsPerAccount int) ([]PhaseSpec, error) {
	kinds := strings.Split(list, ",")
	count := map[Kind]int{}
	for _, k := range kinds {
		count[Kind(strings.TrimSpace(k))]++
	}
	switch {
	case count[KindTwin] > 1:
		return nil, fmt.Errorf("phases %q: an account has one twin, so one twin phase at most", list)
	case count[KindFarm] > 1:
		return nil, fmt.Errorf("phases %q: one farm phase at most (farm names must stay unique)", list)
	}
	if bankPerAccount < 1 || farmsPerAccount < 1 || farmsPerAccount > MaxFarmsPerAccount {
		return nil, fmt.Errorf("txs per account: bank %d (≥ 1), farms %d (1..%d)", bankPerAccount, farmsPerAccount, MaxFarmsPerAccount)
	}
	seen := map[Kind]int{}
	var specs []PhaseSpec
	twinDone := false
	for _, k := range kinds {
		kind := Kind(strings.TrimSpace(k))
		spec := PhaseSpec{Kind: kind, Accounts: n, PerAccount: 1}
		switch kind {
		case KindBank:
			spec.PerAccount = bankPerAccount
		case KindTwin:
			twinDone = true
		case KindFarm, KindContract, KindContractIP:
			// Farmers and contract owners need a twin.
			if count[KindTwin] > 0 && !twinDone {
				return nil, fmt.Errorf("phases %q: %s before twin (its accounts need a twin)", list, kind)
			}
			if kind == KindFarm {
				spec.PerAccount = farmsPerAccount
			}
		default:
			return nil, fmt.Errorf("phases %q: unknown kind %q (bank, twin, farm, nc, nc-ip)", list, kind)
		}
		spec.Round = seen[kind]
		seen[kind]++
		spec.Name = string(kind)
		if count[kind] > 1 {
			spec.Name = fmt.Sprintf("%s-%d", kind, seen[kind])
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no phases")
	}
	return specs, nil
}

// countKind counts the phases of kind k.
func countKind(specs []PhaseSpec, k Kind) int {
	n := 0
	for _, s := range specs {
		if s.Kind == k {
			n++
		}
	}
	return n
}

// needsContractNodes tells whether any phase creates node contracts.
func needsContractNodes(specs []PhaseSpec) bool {
	for _, s := range specs {
		if s.Kind == KindContract || s.Kind == KindContractIP {
			return true
		}
	}
	return false
}

// SinkAccount is the account bank sends go to with -bank-to sink.
func SinkAccount() *Account {
	acc := newAccountFromSecret(-1, []byte("loadgen-sink"))
	return acc
}
