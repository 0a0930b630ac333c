package keeper_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/billing"
	"github.com/tfgrid/tfgrid/x/billing/keeper"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Every test account is funded with keepertest.StartBalance, 10 TFT: against the contracts of these
// tests (thousands of TFT a month) that is far below every discount tier.

const (
	gib  = tfgridtypes.GiB
	hour = 3600
)

// The default pricing policy (x/tfgrid genesis policy 1) in cost units (1e-7 USD) per hour, NU per GB.
const (
	cuPrice   = 305_600
	suPrice   = 194_400
	ipuPrice  = 69_400
	nuPrice   = 50_000
	namePrice = 13_900
)

// fixture is the contracts layer of internal/keepertest (the real registry and contract keepers on one
// multi-store) with the real billing keeper on it too, wired like app/keepers.go.
type fixture struct {
	*keepertest.Contracts
	k   *keeper.Keeper
	msg types.MsgServer
	q   types.QueryServer

	// corrupted marks a test that breaks the state on purpose: its final invariant check is skipped.
	corrupted bool
}

// newFixture builds the three keepers on fresh stores and loads the default geneses.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newBareFixture(t)
	f.LoadDefaultGenesis()
	gen := types.DefaultGenesis(f.foundation())
	// The scenarios count in settlement_interval steps: a fixed schedule, unless a test of the runway
	// schedule (runway_test.go) lengthens max_settlement_interval.
	gen.Params.MaxSettlementInterval = gen.Params.SettlementInterval
	require.NoError(t, f.k.InitGenesis(f.Ctx, *gen))
	// every scenario ends with the invariants of both contract-facing modules holding
	t.Cleanup(func() {
		if !f.corrupted && !t.Failed() {
			f.T = t
			f.requireInvariants()
		}
	})
	return f
}

// newBareFixture builds the three keepers on fresh stores without loading any genesis.
func newBareFixture(t *testing.T, opts ...keepertest.Option) *fixture {
	t.Helper()
	c := keepertest.NewContracts(t, append(opts, keepertest.Layer{StoreKey: types.StoreKey, Module: billing.AppModule{}})...)
	k := keeper.NewKeeper(runtime.NewKVStoreService(c.Keys[types.StoreKey]), c.Cdc, c.AC, c.Authority, keepertest.Denom,
		authtypes.FeeCollectorName, c.Grid, c.SC, c.Bank)
	// as app/keepers.go
	c.Grid.SetAvailabilityHooks(k)
	c.SC.SetHooks(k)

	f := &fixture{Contracts: c, k: k, msg: keeper.NewMsgServerImpl(k), q: keeper.NewQueryServerImpl(k)}
	// billing's nodes are online from their registration on
	c.OnNewNode = f.uptime
	return f
}

// ---------------------------------------------------------------------------
// time and blocks
// ---------------------------------------------------------------------------

func (f *fixture) now() int64 { return f.Ctx.BlockTime().Unix() }

// advance moves to a later block, seconds later.
func (f *fixture) advance(seconds int64) {
	f.Ctx = f.Ctx.WithBlockTime(f.Ctx.BlockTime().Add(time.Duration(seconds) * time.Second)).
		WithBlockHeight(f.Ctx.BlockHeight() + 1)
}

// advanceTo moves to a later block at unix time t.
func (f *fixture) advanceTo(t int64) {
	f.T.Helper()
	require.GreaterOrEqual(f.T, t, f.now())
	f.advance(t - f.now())
}

// endBlock runs the billing EndBlocker, which must not fail.
func (f *fixture) endBlock() {
	f.T.Helper()
	require.NoError(f.T, f.k.EndBlocker(f.Ctx))
}

// tx runs fn like a transaction: in a cache context that is written only when fn succeeds.
func (f *fixture) tx(fn func() error) error {
	parent := f.Ctx
	cc, write := parent.CacheContext()
	f.Ctx = cc
	err := fn()
	f.Ctx = parent
	if err == nil {
		write()
	}
	return err
}

// ---------------------------------------------------------------------------
// nodes
// ---------------------------------------------------------------------------

// uptime has the node report its uptime now.
func (f *fixture) uptime(n keepertest.Node) {
	f.T.Helper()
	_, err := f.GridMsg.ReportUptime(f.Ctx, &tfgridtypes.MsgReportUptime{Creator: n.Twin.Acc, Uptime: 1, TimestampHint: f.now()})
	require.NoError(f.T, err)
}

// power has the node report a power state.
func (f *fixture) power(n keepertest.Node, state tfgridtypes.PowerState) {
	f.T.Helper()
	_, err := f.GridMsg.ChangePowerState(f.Ctx, &tfgridtypes.MsgChangePowerState{Creator: n.Twin.Acc, State: state})
	require.NoError(f.T, err)
}

func (f *fixture) node(id uint64) tfgridtypes.Node {
	f.T.Helper()
	n, err := f.Grid.GetNode(f.Ctx, id)
	require.NoError(f.T, err)
	return n
}

// ---------------------------------------------------------------------------
// contracts
// ---------------------------------------------------------------------------

// vmContract creates a node contract reserving the worked VM, without a spending cap.
func (f *fixture) vmContract(u keepertest.User, nodeID uint64, deployment string, ips uint32) uint64 {
	f.T.Helper()
	return f.nodeContractReserving(u, nodeID, deployment, ips, workedVM.resources(), 0)
}

// nodeContractReserving creates a node contract reserving reserved, spending at most maxPerHour.
func (f *fixture) nodeContractReserving(u keepertest.User, nodeID uint64, deployment string, ips uint32, reserved tfgridtypes.Resources, maxPerHour uint64) uint64 {
	f.T.Helper()
	msg := keepertest.NodeContractMsg(u, nodeID, deployment, ips)
	msg.Resources, msg.MaxUtftPerHour = reserved, maxPerHour
	id, err := f.CreateNodeContract(msg)
	require.NoError(f.T, err)
	return id
}

// mustCancel has u cancel the contract, which must succeed.
func (f *fixture) mustCancel(u keepertest.User, id uint64) {
	f.T.Helper()
	require.NoError(f.T, f.Cancel(u, id))
}

func (f *fixture) live(id uint64) bool {
	_, err := f.SC.GetContract(f.Ctx, id)
	return err == nil
}

func (f *fixture) state(id uint64) sctypes.ContractState {
	return f.Contract(id).State
}

// billing loads a contract's billing state.
func (f *fixture) billing(id uint64) types.ContractBilling {
	f.T.Helper()
	b, err := f.k.Contracts.Get(f.Ctx, id)
	require.NoError(f.T, err)
	return b
}

func (f *fixture) queued(id uint64, due int64) bool {
	f.T.Helper()
	has, err := f.k.Queue.Keys.Has(f.Ctx, collections.Join(due, id))
	require.NoError(f.T, err)
	return has
}

// settle sends MsgSettleContract from an unrelated account.
func (f *fixture) settle(id uint64) error {
	_, err := f.msg.SettleContract(f.Ctx, &types.MsgSettleContract{Creator: f.foundation(), ContractId: id})
	return err
}

func (f *fixture) mustSettle(id uint64) {
	f.T.Helper()
	require.NoError(f.T, f.settle(id))
}

// usage is a report's resources.
type usage struct{ cru, sru, hru, mru uint64 }

// workedVM is the worked example: cru 2, mru 4 GiB, sru 50 GiB (CU 1, SU 0.25).
var workedVM = usage{cru: 2, mru: 4 * gib, sru: 50 * gib}

// report is a report of the last second: nru at most the test nodes' keepertest.NodeLinkRate.
func (u usage) report(contractID uint64, timestamp int64, nru uint64) types.ConsumptionReport {
	return types.ConsumptionReport{ContractId: contractID, Timestamp: timestamp, Window: 1, Cru: u.cru, Sru: u.sru, Hru: u.hru, Mru: u.mru, Nru: nru}
}

func (u usage) resources() tfgridtypes.Resources {
	return tfgridtypes.Resources{Cru: u.cru, Sru: u.sru, Hru: u.hru, Mru: u.mru}
}

// report sends MsgReportConsumption from a node's twin.
func (f *fixture) report(n keepertest.Node, reports ...types.ConsumptionReport) error {
	_, err := f.msg.ReportConsumption(f.Ctx, &types.MsgReportConsumption{Creator: n.Twin.Acc, Reports: reports})
	return err
}

// use has the node report a contract's usage (and nru bytes) now. The report is stamped one second
// ahead (within the drift), so its one-second window fits even in the block that created the contract.
func (f *fixture) use(n keepertest.Node, contractID uint64, u usage, nru uint64) {
	f.T.Helper()
	require.NoError(f.T, f.report(n, u.report(contractID, f.now()+1, nru)))
}

// ---------------------------------------------------------------------------
// params and price
// ---------------------------------------------------------------------------

func (f *fixture) params() types.Params {
	f.T.Helper()
	p, err := f.k.Params.Get(f.Ctx)
	require.NoError(f.T, err)
	return p
}

// setParams edits the billing params through MsgUpdateParams.
func (f *fixture) setParams(edit func(*types.Params)) {
	f.T.Helper()
	p := f.params()
	edit(&p)
	_, err := f.msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(f.T, err)
}

// setPrice stores a price average directly (the price tests go through MsgSetTftPrice).
func (f *fixture) setPrice(musd string) {
	f.T.Helper()
	require.NoError(f.T, f.k.PriceAverage.Set(f.Ctx, sdkmath.LegacyMustNewDecFromStr(musd)))
}

func (f *fixture) certify(n keepertest.Node) {
	f.T.Helper()
	_, err := f.GridMsg.SetNodeCertification(f.Ctx, &tfgridtypes.MsgSetNodeCertification{
		Signer: f.Authority, NodeId: n.ID, Certification: tfgridtypes.NodeCertificationCertified,
	})
	require.NoError(f.T, err)
}

// ---------------------------------------------------------------------------
// balances
// ---------------------------------------------------------------------------

func (f *fixture) setBalance(acc string, amount int64) {
	f.Bank.SetAmount(f.Ctx, f.Bytes(acc), keepertest.Denom, sdkmath.NewInt(amount))
}

// foundation is the default foundation account (the default pricing policy's and billing's).
func (f *fixture) foundation() string {
	f.T.Helper()
	s, err := f.AC.BytesToString(tfgridtypes.DefaultFoundationAccount)
	require.NoError(f.T, err)
	return s
}

func (f *fixture) feeCollector() sdkmath.Int {
	return f.Bank.Amount(f.Ctx, authtypes.NewModuleAddress(authtypes.FeeCollectorName), keepertest.Denom)
}

// snapshot is the balances of the accounts a settlement moves utft between, at a block time. The
// farmer's is its account plus its farms' pending payouts: what settlements have owed it so far.
type snapshot struct {
	owner, farmer, foundation, staking, supply sdkmath.Int
	time                                       int64
}

func (f *fixture) snap(owner, farmer string) snapshot {
	s := snapshot{
		owner: f.Balance(owner), foundation: f.Balance(f.foundation()), staking: f.feeCollector(),
		supply: f.Bank.Supply(f.Ctx, keepertest.Denom), farmer: sdkmath.ZeroInt(), time: f.now(),
	}
	if farmer != "" {
		s.farmer = f.Balance(farmer).Add(f.pendingPayouts(farmer))
	}
	return s
}

// pendingPayouts is the sum of the pending payouts of the farms whose twin is farmer's.
func (f *fixture) pendingPayouts(farmer string) sdkmath.Int {
	f.T.Helper()
	sum := sdkmath.ZeroInt()
	require.NoError(f.T, f.k.FarmPayouts.Walk(f.Ctx, nil, func(id uint64, p types.FarmPayout) (bool, error) {
		farm, err := f.Grid.GetFarm(f.Ctx, id)
		require.NoError(f.T, err)
		twin, err := f.Grid.GetTwin(f.Ctx, farm.TwinId)
		require.NoError(f.T, err)
		if twin.Account == farmer {
			sum = sum.Add(p.Amount)
		}
		return false, nil
	}))
	return sum
}

// payout is a farm's pending payout (zero amount when none).
func (f *fixture) payout(farmID uint64) types.FarmPayout {
	f.T.Helper()
	p, err := f.k.FarmPayouts.Get(f.Ctx, farmID)
	if errors.Is(err, collections.ErrNotFound) {
		return types.FarmPayout{FarmId: farmID, Amount: sdkmath.ZeroInt()}
	}
	require.NoError(f.T, err)
	return p
}

// paid is what moved between two snapshots: out of the owner, into the farmer, the foundation and the
// fee collector.
type paid struct {
	owner, farmer, foundation, staking int64
}

// requirePaid checks what moved since before, and that billing neither created nor destroyed utft.
func (f *fixture) requirePaid(before snapshot, owner, farmer string, want paid) {
	f.T.Helper()
	after := f.snap(owner, farmer)
	got := paid{
		owner:      before.owner.Sub(after.owner).Int64(),
		farmer:     after.farmer.Sub(before.farmer).Int64(),
		foundation: after.foundation.Sub(before.foundation).Int64(),
		staking:    after.staking.Sub(before.staking).Int64(),
	}
	require.Equal(f.T, want, got)
	require.Equal(f.T, got.owner, got.farmer+got.foundation+got.staking, "utft conservation")
	require.True(f.T, before.supply.Equal(after.supply), "supply changed from %s to %s", before.supply, after.supply)
}

// split is the expected 50/40/10 split of a standard amount plus an extra fee to the farmer.
func split(standard, extra int64) paid {
	farmer, staking := standard*50/100, standard*10/100
	return paid{owner: standard + extra, farmer: farmer + extra, foundation: standard - farmer - staking, staking: staking}
}

// ---------------------------------------------------------------------------
// expectations, computed from the formulas independently of the module
// ---------------------------------------------------------------------------

// costOf is cost units per hour × seconds / 3600.
func costOf(perHour *big.Rat, seconds int64) *big.Rat {
	return new(big.Rat).Mul(perHour, big.NewRat(seconds, hour))
}

// expectUTFT is round(cost_units × 100 / price), halves up (the amounts are positive).
func expectUTFT(cost *big.Rat, priceMUSD string) int64 {
	price, ok := new(big.Rat).SetString(priceMUSD)
	if !ok {
		panic(priceMUSD)
	}
	x := new(big.Rat).Quo(new(big.Rat).Mul(cost, big.NewRat(100, 1)), price)
	// floor(x + 1/2) = (2·num + den) div (2·den)
	num := new(big.Int).Add(new(big.Int).Mul(x.Num(), big.NewInt(2)), x.Denom())
	return new(big.Int).Quo(num, new(big.Int).Mul(x.Denom(), big.NewInt(2))).Int64()
}

// Hourly cost units of the worked VM: CU 1, SU 0.25; with its IP 423,600.
var (
	workedResourcesPerHour = big.NewRat(cuPrice*1+suPrice/4, 1) // 354,200
	ipPerHour              = big.NewRat(ipuPrice, 1)            // 69,400
	// the test node's full capacity: CU = min(max(2, 2), max(1, 4), max(4, 1)) = 2, SU = 500/200 = 2.5
	nodePerHour = big.NewRat(cuPrice*2+suPrice*5/2, 1) // 1,097,200
)

func sum(rs ...*big.Rat) *big.Rat {
	out := new(big.Rat)
	for _, r := range rs {
		out.Add(out, r)
	}
	return out
}

func scale(r *big.Rat, num, den int64) *big.Rat {
	return new(big.Rat).Mul(r, big.NewRat(num, den))
}

// ---------------------------------------------------------------------------
// events
// ---------------------------------------------------------------------------

// typedEvents returns the typed events of T's type emitted since the last ResetEvents.
func typedEvents[T proto.Message](f *fixture) []T { return keepertest.TypedEvents[T](f.Scene) }

// settledEvents maps contract id to the amounts of its EventContractSettled since the last resetEvents.
func (f *fixture) settledEvents() map[uint64][]*types.EventContractSettled {
	out := map[uint64][]*types.EventContractSettled{}
	for _, ev := range typedEvents[*types.EventContractSettled](f) {
		out[ev.ContractId] = append(out[ev.ContractId], ev)
	}
	return out
}

// ---------------------------------------------------------------------------
// checks
// ---------------------------------------------------------------------------

func (f *fixture) requireInvariants() {
	f.T.Helper()
	require.NoError(f.T, f.k.CheckInvariants(f.Ctx))
	require.NoError(f.T, f.SC.CheckInvariants(f.Ctx))
}

func requireInt(t *testing.T, want int64, got sdkmath.Int, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, sdkmath.NewInt(want).String(), got.String(), msgAndArgs...)
}

func bigRat(n int64) *big.Rat { return big.NewRat(n, 1) }

func zeroInt() sdkmath.Int { return sdkmath.ZeroInt() }

func moduleAddr(name string) sdk.AccAddress { return authtypes.NewModuleAddress(name) }
