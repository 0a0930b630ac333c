package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
)

// Broadcast modes.
const (
	ModeGRPCSync = "grpc-sync" // cosmos.tx.v1beta1.Service/BroadcastTx, BROADCAST_MODE_SYNC (waits for CheckTx)
	ModeRPCAsync = "rpc-async" // CometBFT broadcast_tx_async (does not wait for CheckTx)
	ModeRPCSync  = "rpc-sync"  // CometBFT broadcast_tx_sync
)

// PhaseSpec is one timed phase: every one of Accounts accounts sends
// PerAccount txs of Kind, sequentially within an account.
type PhaseSpec struct {
	Name       string
	Kind       Kind
	Round      int // how many phases of the same kind came before
	Accounts   int
	PerAccount int
	// Build, when set, builds the messages instead of BuildMsg (setup steps).
	Build func(acc *Account, j int) (sdk.Msg, error) `json:"-"`
	// Gas, when set, is the gas limit of the phase's txs instead of the signer's.
	Gas uint64
}

// PhaseResult is the outcome of a phase.
type PhaseResult struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Accounts int    `json:"accounts"`
	Sent     int    `json:"sent"`
	// Accepted passed CheckTx (every sent tx in rpc-async mode).
	Accepted      int            `json:"accepted"`
	Rejected      int            `json:"rejected"`
	RejectReasons map[string]int `json:"reject_reasons,omitempty"`
	// Missing were accepted but never seen in a block.
	Missing     int            `json:"missing"`
	FailReasons map[string]int `json:"fail_reasons,omitempty"`
	Rates
	SignTime      time.Duration `json:"sign_time"`
	BroadcastTime time.Duration `json:"broadcast_time"` // first broadcast → last broadcast returned
	Elapsed       time.Duration `json:"elapsed"`        // first broadcast → mempool drained after the last broadcast (CPU window)
	NodeCPU       time.Duration `json:"node_cpu"`       // node CPU time over Elapsed
	LoadgenCPU    time.Duration `json:"loadgen_cpu"`    // same, load generator (signing excluded)
	// OtherCPU is the CPU time used in the same window by every other
	// process of the machine: a measure of noise from outside the benchmark.
	OtherCPU time.Duration `json:"other_cpu"`
	Profile  string        `json:"profile,omitempty"`
}

// phaseTx is one pre-signed tx.
type phaseTx struct {
	bytes []byte
	hash  [32]byte
}

// RunConfig drives Run and RunPhase.
type RunConfig struct {
	Mode    string
	Workers int
	Signer  *Signer
	Msgs    MsgOptions
	NodePID string // "" when the node's CPU time is not read

	// CommitTimeout bounds the wait for commits after the last broadcast
	// once the mempool is empty and no new tx of the phase shows up.
	CommitTimeout time.Duration
	// PprofURL (http://host:port of the node's pprof server) and ProfileDir
	// turn on a CPU profile of the node during each phase, ProfileSeconds long.
	PprofURL       string
	ProfileDir     string
	ProfileSeconds int

	Log io.Writer
}

// RunPhase pre-signs the txs of spec from accs[:spec.Accounts] (whose
// account numbers and sequences must be current), broadcasts them and walks
// the blocks until all accepted txs are committed. It then advances each
// sender's Sequence by its txs found in blocks.
func RunPhase(ctx context.Context, node *Node, cfg RunConfig, accs []*Account, spec PhaseSpec) (*PhaseResult, error) {
	if spec.Accounts > len(accs) {
		return nil, fmt.Errorf("phase %s: %d accounts wanted, %d funded", spec.Name, spec.Accounts, len(accs))
	}
	senders := accs[:spec.Accounts]
	res := &PhaseResult{Name: spec.Name, Kind: spec.Kind, Accounts: spec.Accounts,
		RejectReasons: map[string]int{}, FailReasons: map[string]int{}}

	// Pre-sign, outside the timing.
	signStart := time.Now()
	signer := *cfg.Signer
	if spec.Gas > 0 {
		signer.Gas = spec.Gas
	}
	build := spec.Build
	if build == nil {
		build = func(acc *Account, j int) (sdk.Msg, error) { return BuildMsg(spec, accs, acc, j, cfg.Msgs) }
	}
	txs := make([][]phaseTx, len(senders))
	errs := make([]error, len(senders))
	parallelFor(len(senders), func(i int) {
		acc := senders[i]
		for j := range spec.PerAccount {
			msg, err := build(acc, j)
			if err != nil {
				errs[i] = err
				return
			}
			bz, err := signer.Sign(acc, acc.Sequence+uint64(j), msg)
			if err != nil {
				errs[i] = fmt.Errorf("sign tx %d of account %d: %w", j, acc.Index, err)
				return
			}
			txs[i] = append(txs[i], phaseTx{bytes: bz, hash: TxHash(bz)})
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("phase %s: %w", spec.Name, err)
		}
	}
	// index maps a tx hash to its sender's position in senders.
	index := make(map[[32]byte]int, spec.Accounts*spec.PerAccount)
	for i, list := range txs {
		for _, tx := range list {
			index[tx.hash] = i
		}
	}
	res.Sent = len(index)
	res.SignTime = time.Since(signStart)
	logf(cfg.Log, "phase %s: %d txs (%d accounts × %d) pre-signed in %.2fs", spec.Name, res.Sent, spec.Accounts, spec.PerAccount, res.SignTime.Seconds())

	startHeight, err := node.LatestHeight(ctx)
	if err != nil {
		return nil, err
	}
	nodeCPU0, _ := nodeCPU(cfg.NodePID)
	selfCPU0, _ := ProcessCPU("self")
	busy0, _ := SystemBusy()

	var profileDone chan error
	if cfg.PprofURL != "" && cfg.ProfileDir != "" {
		res.Profile = filepath.Join(cfg.ProfileDir, spec.Name+".pprof")
		profileDone = make(chan error, 1)
		go func() { profileDone <- fetchProfile(ctx, cfg.PprofURL, cfg.ProfileSeconds, res.Profile) }()
	}

	// Timing starts with the first broadcast.
	start := time.Now()
	w := newWalker(node, index, len(senders), startHeight+1)
	walkCtx, stopWalk := context.WithCancel(ctx)
	defer stopWalk()
	walkDone := make(chan error, 1)
	var nodeCPU1, selfCPU1, busy1 time.Duration
	drained := func() {
		// Everything accepted is committed: the end of the CPU window.
		nodeCPU1, _ = nodeCPU(cfg.NodePID)
		selfCPU1, _ = ProcessCPU("self")
		busy1, _ = SystemBusy()
		res.Elapsed = time.Since(start)
	}
	go func() { walkDone <- w.run(walkCtx, cfg.CommitTimeout, drained) }()

	accepted, rejected := broadcastAll(ctx, node, cfg, txs)
	res.BroadcastTime = time.Since(start)
	res.Accepted = accepted
	for reason, n := range rejected {
		res.Rejected += n
		res.RejectReasons[reason] = n
	}
	logf(cfg.Log, "phase %s: broadcast %d txs in %.2fs (%d accepted, %d rejected)", spec.Name, res.Sent, res.BroadcastTime.Seconds(), res.Accepted, res.Rejected)
	w.expect(accepted)

	if err := <-walkDone; err != nil {
		return nil, fmt.Errorf("phase %s: %w", spec.Name, err)
	}
	res.NodeCPU = nodeCPU1 - nodeCPU0
	res.LoadgenCPU = selfCPU1 - selfCPU0
	if cfg.NodePID != "" {
		res.OtherCPU = max(0, busy1-busy0-res.NodeCPU-res.LoadgenCPU)
	}

	res.Rates = Summarize(start, w.blocks)
	for i, n := range w.included {
		senders[i].Sequence += uint64(n)
	}
	res.FailReasons = w.failReasons
	res.Missing = res.Accepted - res.OK - res.Failed
	if res.Missing < 0 { // rpc-async counts every sent tx as accepted
		res.Missing = 0
	}
	if profileDone != nil {
		if err := <-profileDone; err != nil {
			logf(cfg.Log, "phase %s: cpu profile: %v", spec.Name, err)
			res.Profile = ""
		}
	}
	if len(res.RejectReasons) == 0 {
		res.RejectReasons = nil
	}
	if len(res.FailReasons) == 0 {
		res.FailReasons = nil
	}
	return res, nil
}

func nodeCPU(pid string) (time.Duration, error) {
	if pid == "" {
		return 0, nil
	}
	return ProcessCPU(pid)
}

// broadcastAll sends every account's txs in order, accounts spread over
// cfg.Workers goroutines. It returns the number of accepted txs and the
// rejections by reason.
func broadcastAll(ctx context.Context, node *Node, cfg RunConfig, txs [][]phaseTx) (int, map[string]int) {
	var (
		mu       sync.Mutex
		accepted int
		rejected = map[string]int{}
		wg       sync.WaitGroup
		next     = make(chan []phaseTx, len(txs))
	)
	for _, list := range txs {
		next <- list
	}
	close(next)
	for range max(1, cfg.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := 0
			bad := map[string]int{}
			for list := range next {
				for _, tx := range list {
					if reason := broadcastOne(ctx, node, cfg.Mode, tx.bytes); reason != "" {
						bad[reason]++
					} else {
						ok++
					}
				}
			}
			mu.Lock()
			accepted += ok
			for r, n := range bad {
				rejected[r] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return accepted, rejected
}

// broadcastOne sends one tx; it returns "" when the node accepted it, else
// the reason.
func broadcastOne(ctx context.Context, node *Node, mode string, tx []byte) string {
	switch mode {
	case ModeRPCAsync:
		if _, err := node.RPC.BroadcastTxAsync(ctx, cmttypes.Tx(tx)); err != nil {
			return "rpc: " + shorten(err.Error())
		}
		return ""
	case ModeRPCSync:
		res, err := node.RPC.BroadcastTxSync(ctx, cmttypes.Tx(tx))
		if err != nil {
			return "rpc: " + shorten(err.Error())
		}
		if res.Code != 0 {
			return fmt.Sprintf("%s/%d: %s", res.Codespace, res.Code, shorten(res.Log))
		}
		return ""
	default:
		res, err := node.Tx.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: tx, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
		if err != nil {
			return "grpc: " + shorten(err.Error())
		}
		if r := res.TxResponse; r != nil && r.Code != 0 {
			return fmt.Sprintf("%s/%d: %s", r.Codespace, r.Code, shorten(r.RawLog))
		}
		return ""
	}
}

// shorten keeps a reason short enough to group and print.
func shorten(s string) string {
	const limit = 160
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// walker follows the chain from a height. While the phase runs it only polls
// abci_info (the app's last committed height: cheap, and exact about when a
// block is committed, unlike /status, whose height moves before the block is
// executed) to note when each block was committed. Once broadcasting is over
// and the mempool has drained, it reads the blocks and their results.
type walker struct {
	node  *Node
	index map[[32]byte]int
	next  int64 // next block to read
	// included counts, per sender, the txs seen in blocks (successful or
	// not: a tx that fails after the ante handler still uses its sequence).
	included []int

	mu       sync.Mutex
	expected int // -1 while broadcasting

	committed   int64               // last height seen committed by the app
	seen        map[int64]time.Time // when each height was first seen committed
	blocks      []BlockObs
	ours        int // phase txs seen in blocks
	lastOurs    int64
	failReasons map[string]int
}

func newWalker(node *Node, index map[[32]byte]int, senders int, from int64) *walker {
	return &walker{node: node, index: index, included: make([]int, senders), next: from, committed: from - 1,
		expected: -1, seen: map[int64]time.Time{}, failReasons: map[string]int{}}
}

// expect tells the walker that broadcasting is over and n txs were accepted.
func (w *walker) expect(n int) {
	w.mu.Lock()
	w.expected = n
	w.mu.Unlock()
}

func (w *walker) expectedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.expected
}

// poll notes the app's committed height.
func (w *walker) poll(ctx context.Context) error {
	info, err := w.node.RPC.ABCIInfo(ctx)
	if err != nil {
		return fmt.Errorf("abci_info: %w", err)
	}
	now := time.Now()
	for h := w.committed + 1; h <= info.Response.LastBlockHeight; h++ {
		w.seen[h] = now
	}
	w.committed = max(w.committed, info.Response.LastBlockHeight)
	return nil
}

// run follows the chain until every accepted tx is found in a committed
// block and the block after the last one is committed (for its header
// time), or until nothing has happened for idle once broadcasting is over
// and the mempool is empty. drained is called once, when broadcasting is
// over and the mempool is first seen empty: all accepted txs are then in
// committed blocks.
func (w *walker) run(ctx context.Context, idle time.Duration, drained func()) error {
	var (
		isDrained    bool
		lastProgress = time.Now()
	)
	for {
		before := w.committed
		if err := w.poll(ctx); err != nil {
			return err
		}
		if w.committed > before {
			lastProgress = time.Now()
		}
		if exp := w.expectedCount(); exp >= 0 {
			if !isDrained {
				pending, err := w.node.RPC.NumUnconfirmedTxs(ctx)
				if err != nil {
					return fmt.Errorf("num_unconfirmed_txs: %w", err)
				}
				if pending.Total == 0 {
					isDrained = true
					drained()
				}
			}
			if isDrained {
				// Read the committed blocks (outside the timing).
				for ; w.next <= w.committed; w.next++ {
					n := w.ours
					if err := w.fetch(ctx, w.next); err != nil {
						return err
					}
					if w.ours > n {
						lastProgress = time.Now()
					}
				}
				if w.ours >= exp && (w.ours == 0 || w.committed > w.lastOurs) {
					return nil
				}
				if time.Since(lastProgress) > idle && w.committed > w.lastOurs {
					return nil // the rest were dropped; RunPhase reports them missing
				}
			}
			if time.Since(lastProgress) > 4*idle {
				return fmt.Errorf("gave up waiting: %d of %d accepted txs committed after %s without progress", w.ours, exp, 4*idle)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// fetch records committed block h.
func (w *walker) fetch(ctx context.Context, h int64) error {
	blk, err := w.node.RPC.Block(ctx, &h)
	if err != nil {
		return fmt.Errorf("block %d: %w", h, err)
	}
	obs := BlockObs{Height: h, Time: blk.Block.Time, Seen: w.seen[h], NumTxs: len(blk.Block.Txs)}
	var mine []int
	for i, tx := range blk.Block.Txs {
		if sender, ok := w.index[TxHash(tx)]; ok {
			mine = append(mine, i)
			w.included[sender]++
		}
	}
	if len(mine) > 0 {
		results, err := w.blockResults(ctx, h)
		if err != nil {
			return err
		}
		if len(results.TxsResults) != len(blk.Block.Txs) {
			return fmt.Errorf("block %d: %d txs but %d results", h, len(blk.Block.Txs), len(results.TxsResults))
		}
		for _, i := range mine {
			r := results.TxsResults[i]
			obs.Ours++
			if r.Code == 0 {
				obs.OK++
				obs.GasOK += r.GasUsed
			} else {
				obs.Failed++
				w.failReasons[fmt.Sprintf("%s/%d: %s", r.Codespace, r.Code, shorten(r.Log))]++
			}
		}
		w.ours += obs.Ours
		w.lastOurs = h
	}
	w.blocks = append(w.blocks, obs)
	return nil
}

// blockResults waits up to 30 s for the results of block h.
func (w *walker) blockResults(ctx context.Context, h int64) (*ctypes.ResultBlockResults, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := w.node.RPC.BlockResults(ctx, &h)
		if err == nil {
			return res, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("block results %d: %w", h, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// fetchProfile saves a CPU profile of the node taken over the next seconds.
func fetchProfile(ctx context.Context, pprofURL string, seconds int, path string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pprofURL, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", url, resp.Status, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sortedReasons returns reasons by count, most frequent first.
func sortedReasons(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func logf(w io.Writer, format string, args ...any) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}
