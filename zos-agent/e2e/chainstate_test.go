package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	grpctypes "github.com/cosmos/cosmos-sdk/types/grpc"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// atHeight makes the chain answer a query with its state after block h (0: the latest).
func atHeight(h int64) context.Context {
	if h == 0 {
		return context.Background()
	}
	return metadata.AppendToOutgoingContext(context.Background(), grpctypes.GRPCBlockHeightHeader, strconv.FormatInt(h, 10))
}

func (g *grid) height(t *testing.T) int64 {
	h, err := g.chain.Height()
	require.NoError(t, err)
	return h
}

// balance is the utft of a user's account after block h (0: the latest).
func (g *grid) balance(t *testing.T, name string, h int64) sdkmath.Int {
	var res *banktypes.QueryBalanceResponse
	retryFutureHeight(t, func() (err error) {
		res, err = g.client.Bank.Balance(atHeight(h), &banktypes.QueryBalanceRequest{Address: g.users[name].bc.Address(), Denom: "utft"})
		return err
	})
	return res.Balance.Amount
}

// billing is a contract's billing state after block h (0: the latest).
func (g *grid) billing(t *testing.T, contract uint64, h int64) billingtypes.ContractBilling {
	var res *billingtypes.QueryContractResponse
	retryFutureHeight(t, func() (err error) {
		res, err = g.client.Billing.Contract(atHeight(h), &billingtypes.QueryContractRequest{Id: contract})
		return err
	})
	return res.Billing
}

// retryFutureHeight runs a query at a height the RPC reported until the gRPC endpoint, which can be a
// block behind it right after the chain restarts, has committed that height.
func retryFutureHeight(t *testing.T, query func() error) {
	t.Helper()
	var err error
	for range 50 {
		if err = query(); err == nil || !strings.Contains(err.Error(), "height in the future") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err)
}

// heightEvent is a typed event with the block it was emitted in.
type heightEvent struct {
	height int64
	msg    proto.Message
}

// events returns the typed events of blocks (from, to] that keep says are wanted.
func (g *grid) events(t *testing.T, from, to int64, keep func(proto.Message) bool) []heightEvent {
	var out []heightEvent
	for h := from + 1; h <= to; h++ {
		b, err := g.client.BlockEvents(context.Background(), h)
		require.NoError(t, err)
		for _, ev := range b.Events {
			msg, err := sdk.ParseTypedEvent(ev)
			if err == nil && keep(msg) {
				out = append(out, heightEvent{height: h, msg: msg})
			}
		}
	}
	return out
}

// settlementsOf keeps a contract's EventContractSettled.
func settlementsOf(contract uint64) func(proto.Message) bool {
	return func(m proto.Message) bool {
		e, ok := m.(*billingtypes.EventContractSettled)
		return ok && e.ContractId == contract
	}
}

// reportsOf keeps a contract's EventConsumptionReported.
func reportsOf(contract uint64) func(proto.Message) bool {
	return func(m proto.Message) bool {
		e, ok := m.(*billingtypes.EventConsumptionReported)
		return ok && e.ContractId == contract
	}
}

// pricing is what a node contract on the agent's node is charged with.
type pricing struct {
	policy tftypes.PricingPolicy
	price  sdkmath.LegacyDec // mUSD per TFT
	tiers  []billingtypes.DiscountTier
}

func (g *grid) pricing(t *testing.T) pricing {
	ctx := context.Background()
	farm, err := g.client.Tfgrid.Farm(ctx, &tftypes.QueryFarmRequest{Id: g.farm})
	require.NoError(t, err)
	policy, err := g.client.Tfgrid.PricingPolicy(ctx, &tftypes.QueryPricingPolicyRequest{Id: farm.Farm.PricingPolicyId})
	require.NoError(t, err)
	price, err := g.client.Billing.Price(ctx, &billingtypes.QueryPriceRequest{})
	require.NoError(t, err)
	params, err := g.client.Billing.Params(ctx, &billingtypes.QueryParamsRequest{})
	require.NoError(t, err)
	node, err := g.client.Tfgrid.Node(ctx, &tftypes.QueryNodeRequest{Id: g.node})
	require.NoError(t, err)
	require.NotEqual(t, tftypes.NodeCertificationCertified, node.Node.Certification, "the certified markup is not part of the expectation")
	return pricing{policy: policy.PricingPolicy, price: price.PriceMusd, tiers: params.Params.DiscountLevels}
}

// charge is the utft x/billing's pricing gives for holding used for seconds, by an owner holding
// balance (which sets the discount): the pure functions of x/billing/types, with no IPs and no
// network use.
func (p pricing) charge(used deployment.Capacity, seconds uint64, balance sdkmath.Int) (sdkmath.Int, billingtypes.DiscountLevel) {
	c := billingtypes.Capacity{Cru: used.CRU, Sru: used.SRU, Hru: used.HRU, Mru: used.MRU}
	hourly := billingtypes.ResourceCost(p.policy.Cu, p.policy.Su, c, 3600)
	level, mult := billingtypes.Discount(balance, billingtypes.MonthlyCost(hourly, p.price), p.tiers)
	cost := billingtypes.ResourceCost(p.policy.Cu, p.policy.Su, c, seconds)
	return billingtypes.ToUTFT(cost.Mul(cost, billingtypes.RatOfDec(mult)), p.price), level
}
