package keeper_test

import (
	"fmt"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/internal/storebank"
	"github.com/tfgrid/tfgrid/x/smartcontract/keeper"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const gib = tfgridtypes.GiB

// deposit is the default contract deposit.
var deposit = types.DefaultContractDeposit

// fixture is the contracts layer of internal/keepertest (the real registry and contract keepers on one
// multi-store, like app/keepers.go) with the contract module's query server.
type fixture struct {
	*keepertest.Contracts
	q types.QueryServer
}

// newFixture builds both keepers on fresh stores and loads both default geneses.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newBareFixture(t)
	f.LoadDefaultGenesis()
	return f
}

// newBareFixture builds both keepers on fresh stores without loading any genesis.
func newBareFixture(t *testing.T) *fixture {
	t.Helper()
	c := keepertest.NewContracts(t)
	return &fixture{Contracts: c, q: keeper.NewQueryServerImpl(c.SC)}
}

// setFarmDedicated marks a farm dedicated through governance.
func (f *fixture) setFarmDedicated(farmID uint64, dedicated bool) {
	f.T.Helper()
	_, err := f.GridMsg.SetFarmDedicated(f.Ctx, &tfgridtypes.MsgSetFarmDedicated{Authority: f.Authority, FarmId: farmID, Dedicated: dedicated})
	require.NoError(f.T, err)
}

// setExtraFee sets a node's extra fee as its farmer.
func (f *fixture) setExtraFee(n keepertest.Node, fee uint64) {
	f.T.Helper()
	_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &types.MsgSetDedicatedNodeExtraFee{Creator: n.Farm.Farmer.Acc, NodeId: n.ID, ExtraFee: fee})
	require.NoError(f.T, err)
}

// ---------------------------------------------------------------------------
// observations
// ---------------------------------------------------------------------------

// farmIPs maps each IP of the farm to the contract holding it (0 = free).
func (f *fixture) farmIPs(farmID uint64) map[string]uint64 {
	f.T.Helper()
	ips, err := f.Grid.FarmPublicIPs(f.Ctx, farmID)
	require.NoError(f.T, err)
	out := map[string]uint64{}
	for _, ip := range ips {
		out[ip.Ip] = ip.ContractId
	}
	return out
}

// heldBy lists the farm IPs held by a contract.
func (f *fixture) heldBy(farmID, contractID uint64) []string {
	f.T.Helper()
	ips, err := f.Grid.FarmPublicIPs(f.Ctx, farmID)
	require.NoError(f.T, err)
	var out []string
	for _, ip := range ips {
		if ip.ContractId == contractID {
			out = append(out, ip.Ip)
		}
	}
	return out
}

func (f *fixture) moduleBalance() sdkmath.Int {
	return f.Bank.Amount(f.Ctx, authtypes.NewModuleAddress(types.ModuleName), keepertest.Denom)
}

// foundation is the default pricing policy's foundation account.
func (f *fixture) foundation() string {
	f.T.Helper()
	p, err := f.Grid.GetPricingPolicy(f.Ctx, 1)
	require.NoError(f.T, err)
	return p.FoundationAccount
}

func (f *fixture) requireInvariants() {
	f.T.Helper()
	require.NoError(f.T, f.SC.CheckInvariants(f.Ctx))
}

// state is everything both modules and the bank hold, for before/after comparisons.
type state struct {
	grid *tfgridtypes.GenesisState
	sc   *types.GenesisState
	bank []storebank.Entry
}

func (f *fixture) state() state {
	f.T.Helper()
	grid, err := f.Grid.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	sc, err := f.SC.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	return state{grid: grid, sc: sc, bank: f.Bank.Export(f.Ctx)}
}

// ---------------------------------------------------------------------------
// error checks
// ---------------------------------------------------------------------------

// errCase is an action that must fail with err, mentioning every fragment, and change nothing.
type errCase struct {
	name     string
	run      func() error
	err      error
	contains []string
}

// runErrCases runs each case in a cache context and checks the error and that the state the failing
// call saw (both modules and the bank) is unchanged.
func (f *fixture) runErrCases(cases []errCase) {
	f.T.Helper()
	for _, tc := range cases {
		f.run(tc.name, func(t *testing.T) {
			err := f.InCache(func() error {
				before := f.state()
				err := tc.run()
				require.Equal(t, before, f.state(), "a failed message changed the state")
				return err
			})
			requireerr.Is(t, err, tc.err, tc.contains...)
		})
	}
}

// run runs a subtest in which the fixture's helpers report to the subtest.
func (f *fixture) run(name string, fn func(t *testing.T)) {
	f.T.Helper()
	parent := f.T
	parent.Run(name, func(t *testing.T) {
		f.T = t
		defer func() { f.T = parent }()
		fn(t)
	})
}

// id formats an id for error-message checks.
func id(n uint64) string { return fmt.Sprint(n) }

func sdkInt(n int64) sdkmath.Int { return sdkmath.NewInt(n) }

// typedEvents returns the typed events of T's type emitted since the last ResetEvents.
func typedEvents[T proto.Message](f *fixture) []T { return keepertest.TypedEvents[T](f.Scene) }
