package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

func dec(s string) sdkmath.LegacyDec { return sdkmath.LegacyMustNewDecFromStr(s) }

// priceWorld has two feeders and a price window of 3 samples; the genesis sample (10) is the first.
type priceWorld struct{ a, b string }

func (f *fixture) newPriceWorld() priceWorld {
	pw := priceWorld{a: f.NewAccount(), b: f.NewAccount()}
	f.setParams(func(p *types.Params) {
		p.PriceFeeders = []string{pw.a, pw.b}
		p.PriceWindow = 3
	})
	return pw
}

func (f *fixture) feed(feeder, price string) error {
	_, err := f.msg.SetTftPrice(f.Ctx, &types.MsgSetTftPrice{Feeder: feeder, PriceMusd: dec(price)})
	return err
}

func (f *fixture) queryPrice() *types.QueryPriceResponse {
	f.T.Helper()
	res, err := f.q.Price(f.Ctx, &types.QueryPriceRequest{})
	require.NoError(f.T, err)
	return res
}

func TestPriceAverageOverWindow(t *testing.T) {
	f := newFixture(t)
	pw := f.newPriceWorld()
	require.Equal(t, dec("10"), f.queryPrice().PriceMusd)

	f.ResetEvents()
	require.NoError(t, f.feed(pw.a, "20"))
	require.Equal(t, []*types.EventTftPriceSet{{Feeder: pw.a, PriceMusd: dec("20").String(), AverageMusd: dec("15").String()}},
		typedEvents[*types.EventTftPriceSet](f))
	require.NoError(t, f.feed(pw.b, "30"), "another feeder in the same block")
	require.Equal(t, &types.QueryPriceResponse{PriceMusd: dec("20"), AverageMusd: dec("20"), Samples: 3}, f.queryPrice())

	// the window keeps the last three samples: the genesis sample drops out
	f.advance(60)
	require.NoError(t, f.feed(pw.a, "40"))
	require.Equal(t, &types.QueryPriceResponse{PriceMusd: dec("30"), AverageMusd: dec("30"), Samples: 3}, f.queryPrice())
	_, err := f.k.PriceSamples.Get(f.Ctx, 1)
	require.Error(t, err, "samples out of the window are deleted")

	f.advance(60)
	require.NoError(t, f.feed(pw.b, "0.000001"))
	// (30 + 40 + 0.000001) / 3, a LegacyDec: 18 decimals, truncated
	require.Equal(t, dec("23.333333666666666666"), f.queryPrice().PriceMusd)
}

func TestPriceOneSamplePerIntervalPerFeeder(t *testing.T) {
	f := newFixture(t)
	pw := f.newPriceWorld()
	require.NoError(t, f.feed(pw.a, "11"))
	f.advance(59)
	requireerr.Is(t, f.feed(pw.a, "12"), types.ErrPriceTooSoon, "next allowed at")
	require.NoError(t, f.feed(pw.b, "12"), "the interval is per feeder")
	f.advance(1)
	require.NoError(t, f.feed(pw.a, "13"))
	requireerr.Is(t, f.feed(pw.a, "13"), types.ErrPriceTooSoon)
}

func TestPriceFeedersOnlyAndSixDecimals(t *testing.T) {
	f := newFixture(t)
	pw := f.newPriceWorld()
	outsider := f.NewAccount()
	for _, tc := range []struct {
		name, feeder, price string
		err                 error
	}{
		{"not a feeder", outsider, "10", types.ErrNotPriceFeeder},
		{"the authority is no feeder", f.Authority, "10", types.ErrNotPriceFeeder},
		{"seven decimals", pw.a, "10.0000001", types.ErrInvalidPrice},
		{"zero", pw.a, "0", types.ErrInvalidPrice},
		{"negative", pw.a, "-3", types.ErrInvalidPrice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireerr.Is(t, f.feed(tc.feeder, tc.price), tc.err)
		})
	}
	require.Equal(t, uint32(1), f.queryPrice().Samples, "no rejected sample was stored")
	require.NoError(t, f.feed(pw.a, "10.123456"), "six decimals")
}

// The price billing uses is the average clamped to [min, max]; the average itself is kept.
func TestPriceClamped(t *testing.T) {
	f := newFixture(t)
	pw := f.newPriceWorld()
	require.NoError(t, f.feed(pw.a, "50")) // average 30
	f.setParams(func(p *types.Params) { p.MinTftPriceMusd, p.MaxTftPriceMusd = dec("5"), dec("25") })
	require.Equal(t, &types.QueryPriceResponse{PriceMusd: dec("25"), AverageMusd: dec("30"), Samples: 2}, f.queryPrice())
	f.setParams(func(p *types.Params) { p.MinTftPriceMusd, p.MaxTftPriceMusd = dec("35"), dec("100") })
	require.Equal(t, dec("35"), f.queryPrice().PriceMusd)

	// a name contract for one hour at the clamped price: 13,900 × 100 / 35 = 39,714.29 → 39,714
	alice := f.NewUser()
	id := f.NameContract(alice, "gateway")
	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	want := expectUTFT(costOf(bigRat(namePrice), hour), "35")
	require.EqualValues(t, 39_714, want)
	require.Equal(t, "39714", f.settledEvents()[id][0].Amount)
}

func TestPriceQueryWithoutPrice(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.k.PriceAverage.Remove(f.Ctx))
	_, err := f.q.Price(f.Ctx, &types.QueryPriceRequest{})
	requireerr.Is(t, err, types.ErrNoPrice)
}

// Shrinking price_window drops the samples that fell out of it at once: the average follows, and the
// exported genesis stays valid.
func TestPriceWindowShrinks(t *testing.T) {
	f := newFixture(t)
	pw := f.newPriceWorld() // window 3: 10
	require.NoError(t, f.feed(pw.a, "20"))
	require.NoError(t, f.feed(pw.b, "60")) // 10, 20, 60 → 30
	require.Equal(t, dec("30"), f.queryPrice().PriceMusd)

	f.setParams(func(p *types.Params) { p.PriceWindow = 2 })
	require.Equal(t, &types.QueryPriceResponse{PriceMusd: dec("40"), AverageMusd: dec("40"), Samples: 2}, f.queryPrice())
	gs, err := f.k.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate(f.AC))
	_, err = f.importInto(f.export())
	require.NoError(t, err)

	// growing it back keeps what is left
	f.setParams(func(p *types.Params) { p.PriceWindow = 5 })
	require.Equal(t, dec("40"), f.queryPrice().PriceMusd)
}
