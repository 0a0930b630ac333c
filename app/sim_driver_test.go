package app_test

// A randomized simulation of the registry (x/tfgrid), the contracts (x/smartcontract) and billing
// (x/billing) on the real app: signed transactions in committed blocks, governance messages through the
// app's msg router, and the keeper calls the billing module makes (grace, out-of-funds deletion).
// Billing runs with a short settlement interval and grace period; two accounts feed TFT prices (some
// outside [min, max], so the price is clamped), nodes report their contracts' usage and their uptime,
// anyone settles contracts, and some twins are drained of their funds and refilled, so contracts go
// through grace and out-of-funds deletion the way billing drives them. After every block the contract
// and billing invariants, the registry's own indexes, the links between contracts and the registry,
// both modules' genesis validation, the TFT price against a model of the feeders' samples, and utft
// conservation (every account's balance moved by exactly what billing's books, the deposits, the fees
// and the simulation's own transfers say) must hold; at the end the whole app state is exported and
// imported into a fresh app, which must export the same.
//
//	go test ./app -run TestSimulation -v                        # default seed, 400 blocks
//	TFGRID_SIM_SEED=7 TFGRID_SIM_BLOCKS=1000 go test ./app -run TestSimulation -v
//	go test ./app -run TestSimulation -sim.seed=7 -sim.blocks=1000
//
// A failing run prints the seed that replays it. The generators are in sim_gen_test.go, the checks in
// sim_checks_test.go; sim_regress_test.go pins the module bugs
// the simulation found, now fixed.

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/app/apptesting"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

var (
	flagSimSeed   = flag.Int64("sim.seed", 0, "TestSimulation seed (default $TFGRID_SIM_SEED, else a fixed seed)")
	flagSimBlocks = flag.Int("sim.blocks", 0, "TestSimulation blocks (default $TFGRID_SIM_BLOCKS, else 400; 80 with -short)")
)

const (
	simDefaultSeed   = 20260101
	simDefaultBlocks = 400
	simShortBlocks   = 80
	// simMinCoverageBlocks: runs at least this long must see every message succeed at least once.
	simMinCoverageBlocks = 300
	simAccounts          = 20
	// simInvalid is the share of generated transactions built to be refused whatever the state.
	simInvalid = 0.12
	// simMaxDeploymentData bounds the deployment data the simulation sends.
	simMaxDeploymentData = 600
	// Billing runs with a settlement every 24 blocks and a 3-minute grace period.
	simSettlementInterval = 120
	// simMaxSettlementInterval lets well-funded twins' contracts be settled 4× less often, so that the
	// runway schedule, and drains bringing settlements forward, run in the simulation.
	simMaxSettlementInterval = 4 * simSettlementInterval
	simGracePeriod           = 180
	// Farms are paid every 60 blocks, at most 2 farms a block, so payouts queue up within the run.
	simPayoutInterval     = 300
	simMaxPayoutsPerBlock = 2
	// A node that has not reported its uptime for 15 minutes is offline: its resources are not billed.
	simNodeOfflineAfter = 900
	// The price is the average of the last 4 samples; each feeder sends at most one every 30 s.
	simPriceWindow         = 4
	simPriceSampleInterval = 30
	simFeeders             = 2
	// The feeders' market stays in a price regime for at least this many samples.
	simMinRegime = 10
)

// Names of the keeper calls the billing module makes.
const (
	opEnterGrace     = "keeper/EnterGrace"
	opLeaveGrace     = "keeper/LeaveGrace"
	opDeleteOutFunds = "keeper/DeleteContract(OUT_OF_FUNDS)"
)

func simSettings(t *testing.T) (seed int64, blocks int) {
	seed, blocks = simDefaultSeed, simDefaultBlocks
	if testing.Short() {
		blocks = simShortBlocks
	}
	if v := os.Getenv("TFGRID_SIM_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "TFGRID_SIM_SEED")
		seed = n
	}
	if v := os.Getenv("TFGRID_SIM_BLOCKS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "TFGRID_SIM_BLOCKS")
		blocks = n
	}
	if *flagSimSeed != 0 {
		seed = *flagSimSeed
	}
	if *flagSimBlocks != 0 {
		blocks = *flagSimBlocks
	}
	return seed, blocks
}

// TestSimulation drives every tfgrid and smartcontract message over hundreds of blocks.
func TestSimulation(t *testing.T) {
	seed, blocks := simSettings(t)
	t.Logf("simulation seed %d, %d blocks", seed, blocks)
	replay := fmt.Sprintf("replay: TFGRID_SIM_SEED=%d TFGRID_SIM_BLOCKS=%d go test ./app -run 'TestSimulation$' -v", seed, blocks)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(replay)
		}
	})
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, replay)
			panic(r)
		}
	}()

	start := time.Now()
	s := newSim(t, seed)
	s.check(0)
	for b := 1; b <= blocks; b++ {
		s.runBlock(b)
	}
	s.report(blocks, time.Since(start))
	if blocks >= simMinCoverageBlocks {
		s.requireCoverage()
	}
	s.requireExportImport()
}

// sim is the driver's state: the chain, the randomness and what it has seen.
type sim struct {
	t     *testing.T
	r     *rand.Rand
	chain *apptesting.Chain
	accs  []apptesting.Account
	// certifier is the account the simulated governance lists in node_certifiers.
	certifier apptesting.Account
	authority string
	stats     map[string]*opStat
	// blockEvents counts what the end blockers (billing) did to contracts; txEvents what billing did
	// inside transactions (reports, settlements, cancels settle first).
	blockEvents map[string]int
	txEvents    map[string]int
	seq         int // feeds unique names, IPs and hashes
	w           *world

	// feeders are the accounts governance lists in price_feeders; market is the level (in 1e-6 mUSD)
	// their samples spread around, in its regime for regimeSamples samples so far; prices are the
	// accepted samples, oldest first: the model of the price billing uses.
	feeders       []apptesting.Account
	market        int64
	regime        int
	regimeSamples int
	prices        []sdkmath.LegacyDec
	// reportTS is the latest report timestamp generated per contract, so a node's reports keep
	// increasing within a block.
	reportTS map[uint64]int64
	// refillAt is when a drained account may be refilled.
	refillAt map[string]int64
	// ledger is the committed state the next block's conservation check starts from; preEvents are
	// the events of the governance and keeper calls made in the block being built.
	ledger    *ledger
	preEvents []abci.Event
	// ledgerStats counts what the conservation and price checks saw.
	ledgerStats map[string]int
}

// opStat counts the outcomes of one message type (or keeper call).
type opStat struct {
	via      string
	ok, fail int
	mustFail int // built to be refused, and refused
	reasons  map[string]int
}

// simOp is one transaction: msg signed by signer; mustFail marks messages built to be refused whatever
// the state (wrong signer, malformed field, unknown id), which the run asserts.
type simOp struct {
	signer   apptesting.Account
	msg      sdk.Msg
	mustFail bool
	// first puts the transaction at the head of its block, where the state is the one its generator saw;
	// expect, if set, checks the outcome further (the error returned, the events emitted).
	first  bool
	expect func(res *abci.ExecTxResult) error
}

func newSim(t *testing.T, seed int64) *sim {
	chain := apptesting.NewChain(t, simAccounts)
	s := &sim{
		t: t, r: rand.New(rand.NewSource(seed)), chain: chain, accs: chain.Accounts,
		certifier: chain.Accounts[simAccounts-1], authority: chain.App.Authority(),
		stats: map[string]*opStat{}, blockEvents: map[string]int{}, txEvents: map[string]int{},
		feeders: chain.Accounts[simAccounts-1-simFeeders : simAccounts-1], reportTS: map[uint64]int64{},
		refillAt: map[string]int64{}, ledgerStats: map[string]int{},
	}
	// Billing settles often enough, and gives up on unpaid contracts soon enough, to act within the run;
	// its price follows the last few samples of the simulated feeders.
	params, err := chain.App.BillingKeeper.Params.Get(chain.Ctx)
	require.NoError(t, err)
	params.SettlementInterval, params.GracePeriod = simSettlementInterval, simGracePeriod
	params.MaxSettlementInterval = simMaxSettlementInterval
	params.NodeOfflineAfter = simNodeOfflineAfter
	params.PayoutInterval, params.MaxPayoutsPerBlock = simPayoutInterval, simMaxPayoutsPerBlock
	params.PriceWindow, params.PriceSampleInterval = simPriceWindow, simPriceSampleInterval
	for _, f := range s.feeders {
		params.PriceFeeders = append(params.PriceFeeders, f.String())
	}
	msg := &billingtypes.MsgUpdateParams{Authority: s.authority, Params: params}
	_, err = chain.App.MsgServiceRouter().Handler(msg)(chain.Ctx, msg)
	s.recordCall(sdk.MsgTypeURL(msg), "gov", false, err)
	require.NoError(t, err)
	err = chain.App.BillingKeeper.PriceSamples.Walk(chain.Ctx, nil, func(_ uint64, p billingtypes.PriceSample) (bool, error) {
		s.prices = append(s.prices, p.PriceMusd)
		return false, nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, s.prices, "genesis carries a starting price sample")
	chain.NextBlock()
	return s
}

// runBlock runs governance and billing calls in the block being built, then a random batch of signed
// transactions, commits, and checks everything.
func (s *sim) runBlock(b int) {
	// s.w is the snapshot check took of the committed state.
	for range s.r.Intn(3) {
		var changed bool
		// Billing makes the keeper calls itself: the driver's own ones are rarer, so that billing, not
		// the driver, gets to delete most contracts whose grace runs out.
		if s.chance(0.75) {
			changed = s.govOp()
		} else {
			changed = s.keeperOp()
		}
		if changed {
			s.w = s.snapshot()
		}
	}

	n := 3 + s.r.Intn(8)
	var ops []simOp
	for tries := 0; len(ops) < n; tries++ {
		require.Less(s.t, tries, 1000, "no transaction can be generated in block %d", b)
		if op, ok := s.genTx(); ok {
			ops = append(ops, op)
		}
	}
	// Transactions whose outcome is asserted against the state the generators saw go first; none of
	// them changes a contract, so each finds that state.
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].first && !ops[j].first })
	// One signer may send several transactions in the block: number them.
	next := map[string]uint64{}
	txs := make([][]byte, len(ops))
	for i, op := range ops {
		addr := op.signer.String()
		if _, ok := next[addr]; !ok {
			_, next[addr] = s.chain.AccountState(op.signer.Address)
		}
		txs[i] = s.chain.SignTxSeq(op.signer, next[addr], op.msg)
		next[addr]++
	}
	// What the keeper calls emitted into the block being built (governance calls' events are kept by
	// govOp): FinalizeBlock starts its own event managers.
	s.preEvents = append(s.preEvents, s.chain.Ctx.EventManager().ABCIEvents()...)
	block := s.chain.FinalizeBlock(txs...)
	require.Len(s.t, block.TxResults, len(ops))
	for i, res := range block.TxResults {
		s.recordTx(ops[i], res)
	}
	s.recordBlockEvents(block.Events)
	s.checkPrice(b, block)
	s.checkConservation(b, ops, block)
	s.check(b)
}

// check runs every invariant on the committed state and keeps its snapshot for the next block.
func (s *sim) check(b int) {
	t, ctx := s.t, s.chain.Ctx
	require.NoError(t, s.chain.App.SmartcontractKeeper.CheckInvariants(ctx), "smartcontract invariants after block %d", b)
	require.NoError(t, s.chain.App.BillingKeeper.CheckInvariants(ctx), "billing invariants after block %d", b)
	require.NoError(t, s.chain.App.TfgridKeeper.CheckInvariants(ctx), "tfgrid invariants after block %d", b)
	s.w = s.snapshot()
	require.NoError(t, s.w.tf.Validate(s.chain.App.AddressCodec()), "tfgrid genesis after block %d", b)
	require.NoError(t, s.w.sc.Validate(sctypes.MaxDeploymentDataBytesCap), "smartcontract genesis after block %d", b)
	require.NoError(t, s.w.crossCheck(), "contracts against the registry after block %d", b)
	require.NoError(t, s.checkSchedule(), "billing schedule after block %d", b)
	s.ledger, s.preEvents = s.takeLedger(), nil
}

// --- outcomes --------------------------------------------------------------------------------------

func (s *sim) stat(key, via string) *opStat {
	st := s.stats[key]
	if st == nil {
		st = &opStat{via: via, reasons: map[string]int{}}
		s.stats[key] = st
	}
	if !strings.Contains(st.via, via) {
		st.via += "+" + via
	}
	return st
}

// reason is the registered error's description: the last part of an error log.
func reason(log string) string {
	if i := strings.LastIndex(log, ": "); i >= 0 {
		return log[i+2:]
	}
	return log
}

// Failures of codespace sdk that only a broken driver produces; codespace undefined is a panic or an
// unregistered error in a handler.
var simDriverFailures = map[uint32]string{2: "tx decode", 4: "unauthorized", 11: "out of gas", 32: "wrong sequence"}

func (s *sim) recordTx(op simOp, res *abci.ExecTxResult) {
	t := s.t
	key := sdk.MsgTypeURL(op.msg)
	st := s.stat(key, "tx")
	if op.expect != nil {
		require.NoError(t, op.expect(res), "%s: %v (code %d %s: %s)", key, op.msg, res.Code, res.Codespace, res.Log)
	}
	if res.Code == 0 {
		require.False(t, op.mustFail, "%s was built to be refused but succeeded: %v", key, op.msg)
		st.ok++
		s.countBillingEvents(s.txEvents, res.Events, false)
		return
	}
	if what, bad := simDriverFailures[res.Code]; bad && res.Codespace == "sdk" {
		require.Failf(t, "tx failed outside the modules", "%s: %s (%s)", key, what, res.Log)
	}
	require.NotEqual(t, "undefined", res.Codespace, "%s: a handler panicked or returned an unregistered error: %s", key, res.Log)
	st.fail++
	if op.mustFail {
		st.mustFail++
	}
	st.reasons[reason(res.Log)]++
}

// recordBlockEvents counts the contract events the end blockers emitted: billing's own settlements,
// grace periods and out-of-funds deletions.
func (s *sim) recordBlockEvents(events []abci.Event) {
	s.countBillingEvents(s.blockEvents, events, true)
	for _, ev := range events {
		if ev.Type == eventType(&billingtypes.EventSettlementFailed{}) {
			failed := parseEvent(s.t, ev).(*billingtypes.EventSettlementFailed)
			require.Failf(s.t, "a scheduled settlement failed", "contract %d: %s", failed.ContractId, failed.Reason)
		}
	}
}

// Short names of the billing events the run counts (and of the contract events billing causes).
var simBillingEvents = map[string]string{
	eventType(&billingtypes.EventContractSettled{}):          "settlements",
	eventType(&billingtypes.EventContractOverdrawn{}):        "overdrawn",
	eventType(&billingtypes.EventSharesDistributed{}):        "shares distributed",
	eventType(&billingtypes.EventFarmPayout{}):               "farm payouts",
	eventType(&billingtypes.EventOverdraftWrittenOff{}):      "written off",
	eventType(&billingtypes.EventConsumptionReported{}):      "reports",
	eventType(&billingtypes.EventConsumptionReportSkipped{}): "reports skipped",
	eventType(&billingtypes.EventSettlementFailed{}):         "settlement failed",
	eventType(&billingtypes.EventTftPriceSet{}):              "prices",
	eventType(&sctypes.EventContractGracePeriodStarted{}):    "grace started",
	eventType(&sctypes.EventContractGracePeriodEnded{}):      "grace ended",
}

// eventType is the ABCI event type of a typed event.
func eventType(ev proto.Message) string { return strings.TrimPrefix(sdk.MsgTypeURL(ev), "/") }

// parseEvent decodes a typed event, without the attributes FinalizeBlock adds (mode, msg_index).
func parseEvent(t *testing.T, ev abci.Event) proto.Message {
	ev.Attributes = filter(ev.Attributes, func(a abci.EventAttribute) bool { return a.Key != "mode" && a.Key != "msg_index" })
	msg, err := sdk.ParseTypedEvent(ev)
	require.NoError(t, err, "event %s", ev.Type)
	return msg
}

// countBillingEvents counts billing's events, and the grace periods and deletions it causes. In a
// transaction only billing starts or ends a grace period; there a deletion counts only for cause out
// of funds (the others are the message's own), in an end blocker whatever the cause.
func (s *sim) countBillingEvents(into map[string]int, events []abci.Event, allCauses bool) {
	for _, ev := range events {
		if name, ok := simBillingEvents[ev.Type]; ok {
			into[name]++
			continue
		}
		if ev.Type == eventType(&sctypes.EventContractCanceled{}) {
			for _, a := range ev.Attributes {
				if a.Key == "cause" && (allCauses || strings.Contains(a.Value, "OUT_OF_FUNDS")) {
					into["deleted "+strings.Trim(a.Value, `"`)]++
				}
			}
		}
	}
}

func (s *sim) recordCall(key, via string, mustFail bool, err error) bool {
	st := s.stat(key, via)
	if err == nil {
		require.False(s.t, mustFail, "%s was built to be refused but succeeded", key)
		st.ok++
		return true
	}
	st.fail++
	if mustFail {
		st.mustFail++
	}
	st.reasons[reason(err.Error())]++
	return false
}

func (s *sim) report(blocks int, elapsed time.Duration) {
	keys := make([]string, 0, len(s.stats))
	for k := range s.stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "simulation: %d blocks in %s\n", blocks, elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "%-55s %-6s %5s %5s %9s  top refusals\n", "message", "via", "ok", "fail", "mustfail")
	for _, k := range keys {
		st := s.stats[k]
		type rc struct {
			r string
			n int
		}
		var rs []rc
		for r, n := range st.reasons {
			rs = append(rs, rc{r, n})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || (rs[i].n == rs[j].n && rs[i].r < rs[j].r) })
		var top []string
		for i := 0; i < len(rs) && i < 3; i++ {
			top = append(top, fmt.Sprintf("%s ×%d", rs[i].r, rs[i].n))
		}
		fmt.Fprintf(&b, "%-55s %-6s %5d %5d %9d  %s\n", strings.TrimPrefix(k, "/tfgrid."), st.via, st.ok, st.fail, st.mustFail, strings.Join(top, "; "))
	}
	counts := func(m map[string]int) string {
		var out []string
		for k, n := range m {
			out = append(out, fmt.Sprintf("%s ×%d", k, n))
		}
		sort.Strings(out)
		return strings.Join(out, "; ")
	}
	fmt.Fprintf(&b, "end blockers (billing): %s\n", counts(s.blockEvents))
	fmt.Fprintf(&b, "billing in transactions: %s\n", counts(s.txEvents))
	fmt.Fprintf(&b, "billing books: %s\n", counts(s.ledgerStats))
	causes := map[string]int{}
	for _, tomb := range s.w.sc.Tombstones {
		causes[tomb.DeleteCause.String()]++
	}
	var cs []string
	for c, n := range causes {
		cs = append(cs, fmt.Sprintf("%s ×%d", strings.TrimPrefix(c, "DELETE_CAUSE_"), n))
	}
	sort.Strings(cs)
	fmt.Fprintf(&b, "tombstones by cause: %s\n", strings.Join(cs, "; "))
	s.t.Log(b.String())
}

// requireCoverage: every message of both modules, and every billing call, succeeded at least once.
func (s *sim) requireCoverage() {
	var want []string
	for _, url := range s.chain.App.InterfaceRegistry().ListImplementations(sdk.MsgInterfaceProtoName) {
		if strings.HasPrefix(url, "/tfgrid.tfgrid.v1.") || strings.HasPrefix(url, "/tfgrid.smartcontract.v1.") {
			want = append(want, url)
		}
	}
	want = append(want, opEnterGrace, opLeaveGrace, opDeleteOutFunds)
	require.Greater(s.t, len(want), 30)
	for _, url := range s.chain.App.InterfaceRegistry().ListImplementations(sdk.MsgInterfaceProtoName) {
		if strings.HasPrefix(url, "/tfgrid.billing.v1.") {
			want = append(want, url)
		}
	}
	for _, key := range want {
		st := s.stats[key]
		require.NotNil(s.t, st, "the simulation never sent %s: add it to the driver", key)
		require.Positive(s.t, st.ok, "%s never succeeded (%d failures: %v)", key, st.fail, st.reasons)
	}
	// Billing itself, in its end blocker or inside transactions, did each of these at least once.
	for _, what := range []string{
		"settlements", "overdrawn", "shares distributed", "farm payouts", "written off", "reports", "reports skipped", "prices",
		"grace started", "grace ended", "deleted DELETE_CAUSE_OUT_OF_FUNDS",
	} {
		require.Positive(s.t, s.blockEvents[what]+s.txEvents[what], "billing never emitted %q", what)
	}
	for _, what := range []string{"payments", "resources billed", "price clamped low", "price clamped high", "price within bounds"} {
		require.Positive(s.t, s.ledgerStats[what], "the run never saw %q", what)
	}
}
