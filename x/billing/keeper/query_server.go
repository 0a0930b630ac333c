package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

type queryServer struct {
	k *Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the billing module's Query service backed by the keeper.
func NewQueryServerImpl(k *Keeper) types.QueryServer {
	return queryServer{k: k}
}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) Price(ctx context.Context, _ *types.QueryPriceRequest) (*types.QueryPriceResponse, error) {
	params, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	price, err := q.k.Price(ctx, params)
	if err != nil {
		return nil, err
	}
	avg, err := q.k.PriceAverage.Get(ctx)
	if err != nil {
		return nil, err
	}
	n := 0
	err = q.k.PriceSamples.Walk(ctx, nil, func(uint64, types.PriceSample) (bool, error) { n++; return false, nil })
	return &types.QueryPriceResponse{PriceMusd: price, AverageMusd: avg, Samples: uint32(n)}, err
}

// Contract shows a live contract's billing and what it costs now, as if it were settled for one hour.
func (q queryServer) Contract(ctx context.Context, req *types.QueryContractRequest) (*types.QueryContractResponse, error) {
	rd, err := q.k.newReads(ctx)
	if err != nil {
		return nil, err
	}
	params := rd.params
	c, b, err := q.k.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	owner, err := rd.account(ctx, c.TwinId)
	if err != nil {
		return nil, err
	}
	now := keeperutil.BlockTime(ctx)
	pending, err := q.k.chargeFor(ctx, rd, c, b, min(b.LastSettled, now), now, q.k.spendable(ctx, owner))
	if err != nil {
		return nil, err
	}
	owed := b.StandardOverdraft.Add(b.ExtraOverdraft)
	resp := &types.QueryContractResponse{
		Billing: b, Overdraft: owed, HourlyCost: pending.hourly, DiscountLevel: pending.level,
		AmountToLeaveGrace: owed.Add(pending.standard).Add(pending.extra),
	}
	if c.GraceSince != 0 {
		resp.GraceDeadline = c.GraceSince + int64(params.GracePeriod)
	}
	return resp, nil
}

// TwinCosts adds up the hourly cost of a twin's live contracts and projects when its balance runs out.
func (q queryServer) TwinCosts(ctx context.Context, req *types.QueryTwinCostsRequest) (*types.QueryTwinCostsResponse, error) {
	return q.k.TwinCosts(ctx, req.Id)
}
