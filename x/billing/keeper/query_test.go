package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func (f *fixture) queryContract(id uint64) *types.QueryContractResponse {
	f.T.Helper()
	res, err := f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: id})
	require.NoError(f.T, err)
	return res
}

func TestQueryContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)

	res := f.queryContract(id)
	require.Equal(t, f.billing(id), res.Billing)
	requireInt(t, hourly, res.HourlyCost)
	require.Equal(t, types.DiscountLevelNone, res.DiscountLevel)
	requireInt(t, 0, res.Overdraft)
	requireInt(t, 0, res.AmountToLeaveGrace)
	require.Zero(t, res.GraceDeadline)
	require.NotNil(t, res.Billing.LastReport)

	// the discount that applies now
	f.setBalance(w.Alice.Acc, 4_574_880_000)
	res = f.queryContract(id)
	require.Equal(t, types.DiscountLevelDefault, res.DiscountLevel)
	requireInt(t, 3_388_800, res.HourlyCost)

	// in grace: overdraft, deadline, and what it takes to leave grace now
	f.setBalance(w.Alice.Acc, 1_000_000)
	f.advance(hour)
	f.endBlock()
	graceSince := f.now()
	f.advance(600)
	res = f.queryContract(id)
	requireInt(t, hourly-1_000_000, res.Overdraft)
	require.Equal(t, graceSince+gracePeriod, res.GraceDeadline)
	tenMinutes := expectUTFT(costOf(sum(workedResourcesPerHour, ipPerHour), 600), "10")
	requireInt(t, hourly-1_000_000+tenMinutes, res.AmountToLeaveGrace)
	requireInt(t, hourly, res.HourlyCost)

	// paying exactly that leaves grace
	f.setBalance(w.Alice.Acc, hourly-1_000_000+tenMinutes)
	f.mustSettle(id)
	require.Equal(t, sctypes.ContractStateCreated, f.state(id))
	requireInt(t, 0, f.Balance(w.Alice.Acc))
	f.requireInvariants()

	_, err := f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: 99})
	requireerr.Is(t, err, sctypes.ErrContractNotFound)
}

func TestQueryTwinCosts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	f.NameContract(w.Alice, "gateway")
	f.setBalance(w.Alice.Acc, 10_000_000)

	name := expectUTFT(bigRat(namePrice), "10")
	res, err := f.q.TwinCosts(f.Ctx, &types.QueryTwinCostsRequest{Id: w.Alice.Twin})
	require.NoError(t, err)
	requireInt(t, hourly+name, res.HourlyCost)
	requireInt(t, 10_000_000, res.Balance)
	require.EqualValues(t, 2, res.Contracts)
	// 10,000,000 utft at 4,375,000 an hour lasts 8,228 s
	require.Equal(t, f.now()+10_000_000*hour/(hourly+name), res.RunsOutAt)
	require.Equal(t, f.now()+8228, res.RunsOutAt)

	// what is owed already is not there to spend
	f.setBalance(w.Alice.Acc, 0)
	f.advance(hour)
	f.endBlock()
	f.setBalance(w.Alice.Acc, 10_000_000)
	owed := f.billing(id).StandardOverdraft
	require.True(t, owed.IsPositive())
	res, err = f.q.TwinCosts(f.Ctx, &types.QueryTwinCostsRequest{Id: w.Alice.Twin})
	require.NoError(t, err)
	nameOwed := f.billing(id + 1).StandardOverdraft
	left := 10_000_000 - owed.Int64() - nameOwed.Int64()
	require.Equal(t, f.now()+left*hour/(hourly+name), res.RunsOutAt)

	// owing more than the balance: runs out now
	f.setBalance(w.Alice.Acc, 1)
	res, err = f.q.TwinCosts(f.Ctx, &types.QueryTwinCostsRequest{Id: w.Alice.Twin})
	require.NoError(t, err)
	require.Equal(t, f.now(), res.RunsOutAt)

	// a twin without contracts costs nothing and never runs out
	res, err = f.q.TwinCosts(f.Ctx, &types.QueryTwinCostsRequest{Id: w.Farm.Farmer.Twin})
	require.NoError(t, err)
	requireInt(t, 0, res.HourlyCost)
	require.Zero(t, res.RunsOutAt)
	require.Zero(t, res.Contracts)

	_, err = f.q.TwinCosts(f.Ctx, &types.QueryTwinCostsRequest{Id: 999})
	requireerr.Is(t, err, tfgridtypes.ErrTwinNotFound)
}

func TestQueryParamsAndUpdateParams(t *testing.T) {
	f := newFixture(t)
	res, err := f.q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	want := types.DefaultParams(f.foundation())
	want.MaxSettlementInterval = want.SettlementInterval // the fixture's fixed schedule
	require.Equal(t, want, res.Params)

	p := res.Params
	p.SettlementInterval = 60
	p.PriceFeeders = []string{f.NewAccount()}
	f.ResetEvents()
	_, err = f.msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	require.Equal(t, []*types.EventParamsUpdated{{Params: &p}}, typedEvents[*types.EventParamsUpdated](f))
	res, err = f.q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, p, res.Params)

	bad := p
	bad.FarmerSharePercent = 60
	_, err = f.msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: bad})
	requireerr.Is(t, err, types.ErrInvalidParams, "sum of 100")
	_, err = f.msg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.NewAccount(), Params: p})
	requireerr.Is(t, err, sdkerrors.ErrUnauthorized)
	require.Equal(t, p, f.params(), "rejected updates change nothing")

	// a new settlement interval applies from each contract's next settlement
	alice := f.NewUser()
	id := f.NameContract(alice, "gateway")
	require.Equal(t, f.now()+60, f.billing(id).NextDue)
}
