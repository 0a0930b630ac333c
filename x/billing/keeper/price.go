package keeper

import (
	"context"
	"errors"
	"slices"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// SetTftPrice records a feeder's price sample and recomputes the average over the last price_window
// samples; a feeder may submit once per price_sample_interval.
func (k *Keeper) SetTftPrice(ctx context.Context, msg *types.MsgSetTftPrice) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(params.PriceFeeders, msg.Feeder) {
		return types.ErrNotPriceFeeder.Wrapf("%s is not in price_feeders", msg.Feeder)
	}
	if err := types.ValidatePrice(msg.PriceMusd); err != nil {
		return err
	}
	now := keeperutil.BlockTime(ctx)
	last, err := k.FeederLastSample.Get(ctx, msg.Feeder)
	switch {
	case err == nil && now-last < int64(params.PriceSampleInterval):
		return types.ErrPriceTooSoon.Wrapf("feeder %s sent a sample at %d; next allowed at %d", msg.Feeder, last, last+int64(params.PriceSampleInterval))
	case err != nil && !errors.Is(err, collections.ErrNotFound):
		return err
	}
	if err := k.FeederLastSample.Set(ctx, msg.Feeder, now); err != nil {
		return err
	}
	seq, err := keeperutil.NextID(ctx, k.PriceSeq)
	if err != nil {
		return err
	}
	if err := k.PriceSamples.Set(ctx, seq, types.PriceSample{Seq: seq, Feeder: msg.Feeder, PriceMusd: msg.PriceMusd, Time: now}); err != nil {
		return err
	}
	avg, err := k.refreshAverage(ctx, seq, params.PriceWindow)
	if err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventTftPriceSet{Feeder: msg.Feeder, PriceMusd: msg.PriceMusd.String(), AverageMusd: avg.String()})
}

// refreshAverage drops samples that fell out of the window and stores the average of the rest; the
// window is bounded by a param, so the work is too.
func (k *Keeper) refreshAverage(ctx context.Context, lastSeq uint64, window uint32) (sdkmath.LegacyDec, error) {
	first := uint64(1)
	if lastSeq > uint64(window) {
		first = lastSeq - uint64(window) + 1
	}
	if err := k.PriceSamples.Clear(ctx, new(collections.Range[uint64]).EndExclusive(first)); err != nil {
		return sdkmath.LegacyDec{}, err
	}
	sum, n := sdkmath.LegacyZeroDec(), int64(0)
	err := k.PriceSamples.Walk(ctx, nil, func(_ uint64, s types.PriceSample) (bool, error) {
		sum, n = sum.Add(s.PriceMusd), n+1
		return false, nil
	})
	if err != nil {
		return sdkmath.LegacyDec{}, err
	}
	if n == 0 {
		return sdkmath.LegacyDec{}, types.ErrNoPrice.Wrap("no price sample in the window")
	}
	avg := sum.QuoInt64(n)
	return avg, k.PriceAverage.Set(ctx, avg)
}

// Price is the TFT price billing uses: the average of the latest samples, clamped to the params' bounds.
func (k *Keeper) Price(ctx context.Context, params types.Params) (sdkmath.LegacyDec, error) {
	avg, err := k.PriceAverage.Get(ctx)
	if err != nil {
		return sdkmath.LegacyDec{}, keeperutil.NotFound(err, types.ErrNoPrice, "no price sample yet")
	}
	return types.ClampPrice(avg, params.MinTftPriceMusd, params.MaxTftPriceMusd), nil
}
