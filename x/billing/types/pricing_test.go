package types_test

import (
	"fmt"
	"math/big"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

const gib = uint64(1) << 30

// The default pricing policy (x/tfgrid's genesis policy 1), in cost units (1e-7 USD) per hour; NU per GB.
const (
	cuPrice   = 305_600
	suPrice   = 194_400
	ipuPrice  = 69_400
	nuPrice   = 50_000
	namePrice = 13_900
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad rat " + s)
	}
	return r
}

func dec(s string) sdkmath.LegacyDec { return sdkmath.LegacyMustNewDecFromStr(s) }

func requireRat(t *testing.T, want string, got *big.Rat) {
	t.Helper()
	require.Zero(t, rat(want).Cmp(got), "want %s, got %s", want, got.RatString())
}

func requireInt(t *testing.T, want int64, got sdkmath.Int, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, sdkmath.NewInt(want).String(), got.String(), msgAndArgs...)
}

// ---------------------------------------------------------------------------
// worked checks of the issue
// ---------------------------------------------------------------------------

// workedVM is the worked example: cru 2, mru 4 GiB, sru 50 GiB (and 1 IPv4).
var workedVM = types.Capacity{Cru: 2, Mru: 4 * gib, Sru: 50 * gib}

// workedHourly is the undiscounted standard cost units of the worked VM with its IP, per hour.
func workedHourly() *big.Rat {
	return new(big.Rat).Add(types.ResourceCost(cuPrice, suPrice, workedVM, 3600), types.IPCost(ipuPrice, 1, 3600))
}

func TestWorkedExample(t *testing.T) {
	price := dec("10")
	requireRat(t, "1", types.CU(workedVM))
	requireRat(t, "1/4", types.SU(workedVM))
	// 305,600 × 1 + 194,400 × 0.25 + 69,400 × 1
	requireRat(t, "423600", workedHourly())
	require.Equal(t, "4236000", types.ToUTFT(workedHourly(), price).String())

	// M: the contract's undiscounted cost for 720 h at the price.
	monthly := types.MonthlyCost(workedHourly(), price)
	require.Equal(t, "3049920000", monthly.String())

	level, mult := types.Discount(sdkmath.NewInt(4_574_880_000), monthly, types.DefaultParams("").DiscountLevels)
	require.Equal(t, types.DiscountLevelDefault, level)
	require.Equal(t, dec("0.8"), mult)
	discounted := new(big.Rat).Mul(workedHourly(), types.RatOfDec(mult))
	require.Equal(t, "3388800", types.ToUTFT(discounted, price).String())
}

func TestWorkedDiscountBoundaries(t *testing.T) {
	tiers := types.DefaultParams("").DiscountLevels
	monthly := types.MonthlyCost(workedHourly(), dec("10"))
	for _, tc := range []struct {
		balance int64
		level   types.DiscountLevel
		mult    string
	}{
		{4_574_879_999, types.DiscountLevelNone, "1"},
		{4_574_880_000, types.DiscountLevelDefault, "0.8"},
		{9_149_759_999, types.DiscountLevelDefault, "0.8"},
		{9_149_760_000, types.DiscountLevelBronze, "0.7"},
	} {
		t.Run(fmt.Sprint(tc.balance), func(t *testing.T) {
			level, mult := types.Discount(sdkmath.NewInt(tc.balance), monthly, tiers)
			require.Equal(t, tc.level, level)
			require.Equal(t, dec(tc.mult), mult)
		})
	}
}

func TestWorkedNameContractRounding(t *testing.T) {
	// 13,900 / 3,600 × 100 / 7 = 55.158… → 55 utft
	cost := types.NameCost(namePrice, 1)
	requireRat(t, "13900/3600", cost)
	require.Equal(t, "55", types.ToUTFT(cost, dec("7")).String())
}

// ---------------------------------------------------------------------------
// CU / SU
// ---------------------------------------------------------------------------

func TestCU(t *testing.T) {
	// CU = min(max(mru/4, cru/2), max(mru/8, cru), max(mru/2, cru/4)), mru in GiB.
	for _, tc := range []struct {
		name     string
		cru, mru uint64 // mru in bytes
		want     string
	}{
		{"worked: cru/2 = mru/4 = 1", 2, 4 * gib, "1"},
		{"test node: cru 4, mru 8", 4, 8 * gib, "2"},
		{"first term, mru/4 branch", 2, 6 * gib, "3/2"},
		{"first term, cru/2 branch", 2, 3 * gib, "1"},
		{"second term, mru/8 branch", 1, 64 * gib, "8"},
		{"second term, mru/8 with no cpu", 0, 4 * gib, "1/2"},
		{"second term, cru branch", 3, 16 * gib, "3"},
		{"third term, mru/2 branch", 3, 2 * gib, "1"},
		{"third term, cru/4 branch", 8, 2 * gib, "2"},
		{"third term, cru/4 with no memory", 1, 0, "1/4"},
		{"third term, both equal", 4, 2 * gib, "1"},
		{"nothing", 0, 0, "0"},
		{"fractional memory", 0, gib / 2, "1/16"},
		{"one byte of memory", 0, 1, fmt.Sprintf("1/%d", 8*gib)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireRat(t, tc.want, types.CU(types.Capacity{Cru: tc.cru, Mru: tc.mru}))
		})
	}
}

func TestCUIgnoresStorage(t *testing.T) {
	requireRat(t, "1", types.CU(types.Capacity{Cru: 2, Mru: 4 * gib, Sru: 1000 * gib, Hru: 5000 * gib}))
}

func TestSU(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sru, hru uint64
		want     string
	}{
		{"worked sru 50 GiB", 50 * gib, 0, "1/4"},
		{"sru 200 GiB", 200 * gib, 0, "1"},
		{"hru 1200 GiB", 0, 1200 * gib, "1"},
		{"both", 100 * gib, 600 * gib, "1"},
		{"test node sru 500 GiB", 500 * gib, 0, "5/2"},
		{"one byte of sru", 1, 0, fmt.Sprintf("1/%d", 200*gib)},
		{"one byte of hru", 0, 1, fmt.Sprintf("1/%d", 1200*gib)},
		{"nothing", 0, 0, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireRat(t, tc.want, types.SU(types.Capacity{Sru: tc.sru, Hru: tc.hru, Cru: 7, Mru: 9 * gib}))
		})
	}
}

// ---------------------------------------------------------------------------
// costs in cost units
// ---------------------------------------------------------------------------

func TestResourceCost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       types.Capacity
		seconds uint64
		want    string
	}{
		{"worked, one hour", workedVM, 3600, "354200"},
		{"worked, one second", workedVM, 1, "354200/3600"},
		{"worked, half an hour", workedVM, 1800, "177100"},
		{"worked, zero seconds", workedVM, 0, "0"},
		{"test node, one hour", types.Capacity{Cru: 4, Mru: 8 * gib, Sru: 500 * gib}, 3600, "1097200"},
		{"only hdd, one day", types.Capacity{Hru: 1200 * gib}, 86400, fmt.Sprint(194_400 * 24)},
		{"nothing", types.Capacity{}, 3600, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireRat(t, tc.want, types.ResourceCost(cuPrice, suPrice, tc.c, tc.seconds))
		})
	}
}

func TestIPNameExtraFeeCost(t *testing.T) {
	requireRat(t, "69400", types.IPCost(ipuPrice, 1, 3600))
	requireRat(t, "104100", types.IPCost(ipuPrice, 3, 1800))
	requireRat(t, "69400/3600", types.IPCost(ipuPrice, 1, 1))
	requireRat(t, "0", types.IPCost(ipuPrice, 0, 3600))
	requireRat(t, "0", types.IPCost(ipuPrice, 4, 0))

	requireRat(t, "13900", types.NameCost(namePrice, 3600))
	requireRat(t, "27800", types.NameCost(namePrice, 7200))
	requireRat(t, "0", types.NameCost(namePrice, 0))

	// extra fee: mUSD per 30-day month → cost units = fee × 10,000 × seconds / 2,592,000
	requireRat(t, "50000000", types.ExtraFeeCost(5000, 2_592_000))
	requireRat(t, "50000000/720", types.ExtraFeeCost(5000, 3600))
	requireRat(t, "10000/2592000", types.ExtraFeeCost(1, 1))
	requireRat(t, "0", types.ExtraFeeCost(0, 3600))
	requireRat(t, "0", types.ExtraFeeCost(5000, 0))
}

func TestNUCost(t *testing.T) {
	for _, tc := range []struct {
		nru  uint64
		want string
	}{
		{1_000_000_000, "50000"},
		{2_500_000_000, "125000"},
		{1, "0.00005"},
		{123_456_789, "6172.83945"},
		{0, "0"},
		{18_000_000_000_000_000_000, "900000000000000"},
	} {
		t.Run(fmt.Sprint(tc.nru), func(t *testing.T) {
			require.Equal(t, dec(tc.want), types.NUCost(nuPrice, tc.nru))
		})
	}
}

func TestPerSecondsAndMonthly(t *testing.T) {
	requireRat(t, "1", types.PerSeconds(rat("3600"), 1))
	requireRat(t, "7/2", types.PerSeconds(rat("7"), 1800))
	// 720 hours of 1 cost unit at 10 mUSD = 720 × 100 / 10 = 7,200 utft
	require.Equal(t, "7200", types.MonthlyCost(rat("1"), dec("10")).String())
	require.Equal(t, "0", types.MonthlyCost(rat("0"), dec("10")).String())
}

func TestRatOfDec(t *testing.T) {
	requireRat(t, "1/1000000000000000000", types.RatOfDec(sdkmath.LegacyNewDecWithPrec(1, 18)))
	requireRat(t, "5/4", types.RatOfDec(dec("1.25")))
	requireRat(t, "-3/2", types.RatOfDec(dec("-1.5")))
}

// ---------------------------------------------------------------------------
// conversion and rounding
// ---------------------------------------------------------------------------

func TestToUTFT(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cost  string
		price string
		want  string
	}{
		{"worked", "423600", "10", "4236000"},
		{"name 1 s at 7 mUSD", "13900/3600", "7", "55"},
		{"exact", "1", "100", "1"},
		{"half rounds up", "1", "200", "1"},                        // 0.5
		{"one and a half rounds up", "3", "200", "2"},              // 1.5
		{"two and a half rounds up, not to even", "5", "200", "3"}, // 2.5
		{"just below a half", "4999", "1000000", "0"},              // 0.4999
		{"just above a half", "5001", "1000000", "1"},              // 0.5001
		{"fractional price", "1", "0.3", "333"},                    // 333.33…
		{"fractional price rounds up", "2", "0.3", "667"},          // 666.66…
		{"six-decimal price", "1", "0.000001", "100000000"},        // 10^8
		{"zero", "0", "10", "0"},
		{"negative half away from zero", "-1", "200", "-1"},
		{"beyond 64 bits", "1000000000000000000000", "1", "100000000000000000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, types.ToUTFT(rat(tc.cost), dec(tc.price)).String())
		})
	}
}

func TestRoundHalfAwayFromZero(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"0", "0"},
		{"7", "7"},
		{"-7", "-7"},
		{"1/2", "1"},
		{"-1/2", "-1"},
		{"3/2", "2"},
		{"-3/2", "-2"},
		{"5/2", "3"},
		{"-5/2", "-3"},
		{"1/3", "0"},
		{"-1/3", "0"},
		{"2/3", "1"},
		{"-2/3", "-1"},
		{"499999/1000000", "0"},
		{"-499999/1000000", "0"},
		{"500001/1000000", "1"},
		{"123456789012345678901234567890/7", "17636684144620811271604938270"},
		{"123456789012345678901234567891/2", "61728394506172839450617283946"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, types.RoundHalfAwayFromZero(rat(tc.in)).String())
		})
	}
}

// RoundHalfAwayFromZero agrees with a float reference on many random fractions.
func TestRoundHalfAwayFromZeroRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for range 5000 {
		num := rng.Int63n(2_000_000) - 1_000_000
		den := rng.Int63n(999) + 1
		r := big.NewRat(num, den)
		// reference: |num|/den, integer part and remainder, half up, then the sign back
		a := num
		if a < 0 {
			a = -a
		}
		q, rem := a/den, a%den
		if 2*rem >= den {
			q++
		}
		if num < 0 {
			q = -q
		}
		requireInt(t, q, types.RoundHalfAwayFromZero(r), "%d/%d", num, den)
	}
}

// ---------------------------------------------------------------------------
// discount
// ---------------------------------------------------------------------------

func TestDiscountTiers(t *testing.T) {
	tiers := types.DefaultParams("").DiscountLevels
	const m = 1_000_000 // monthly
	for _, tc := range []struct {
		balance int64
		level   types.DiscountLevel
		mult    string
	}{
		{0, types.DiscountLevelNone, "1"},
		{m, types.DiscountLevelNone, "1"},
		{1_499_999, types.DiscountLevelNone, "1"},
		{1_500_000, types.DiscountLevelDefault, "0.8"},
		{2_999_999, types.DiscountLevelDefault, "0.8"},
		{3_000_000, types.DiscountLevelBronze, "0.7"},
		{5_999_999, types.DiscountLevelBronze, "0.7"},
		{6_000_000, types.DiscountLevelSilver, "0.6"},
		{17_999_999, types.DiscountLevelSilver, "0.6"},
		{18_000_000, types.DiscountLevelGold, "0.4"},
		{1_000_000_000_000, types.DiscountLevelGold, "0.4"},
	} {
		t.Run(fmt.Sprint(tc.balance), func(t *testing.T) {
			level, mult := types.Discount(sdkmath.NewInt(tc.balance), sdkmath.NewInt(m), tiers)
			require.Equal(t, tc.level, level)
			require.Equal(t, dec(tc.mult), mult)
		})
	}
}

func TestDiscountWithoutCostOrTiers(t *testing.T) {
	tiers := types.DefaultParams("").DiscountLevels
	for name, tc := range map[string]struct {
		balance, monthly int64
		tiers            []types.DiscountTier
	}{
		"zero monthly cost":     {1_000_000, 0, tiers},
		"negative monthly cost": {1_000_000, -5, tiers},
		"no tiers":              {1_000_000_000, 1, nil},
		"zero balance":          {0, 1, tiers},
	} {
		t.Run(name, func(t *testing.T) {
			level, mult := types.Discount(sdkmath.NewInt(tc.balance), sdkmath.NewInt(tc.monthly), tc.tiers)
			require.Equal(t, types.DiscountLevelNone, level)
			require.Equal(t, sdkmath.LegacyOneDec(), mult)
		})
	}
}

func TestDiscountFractionalMonths(t *testing.T) {
	// min_months 1.5 against an odd monthly cost: 1.5 × 3 = 4.5, so 5 qualifies and 4 does not
	tiers := []types.DiscountTier{{Level: types.DiscountLevelDefault, MinMonths: dec("1.5"), Multiplier: dec("0.8")}}
	level, _ := types.Discount(sdkmath.NewInt(4), sdkmath.NewInt(3), tiers)
	require.Equal(t, types.DiscountLevelNone, level)
	level, _ = types.Discount(sdkmath.NewInt(5), sdkmath.NewInt(3), tiers)
	require.Equal(t, types.DiscountLevelDefault, level)
}

// ---------------------------------------------------------------------------
// split
// ---------------------------------------------------------------------------

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		amount                      int64
		farmerPct, stakingPct       uint32
		farmer, foundation, staking int64
	}{
		{100, 50, 10, 50, 40, 10},
		{4_236_000, 50, 10, 2_118_000, 1_694_400, 423_600},
		// floors: 2,117,411.5 and 423,482.3; the foundation gets the rest
		{4_234_823, 50, 10, 2_117_411, 1_693_930, 423_482},
		{9, 50, 10, 4, 5, 0},
		{19, 50, 10, 9, 9, 1},
		{1, 50, 10, 0, 1, 0},
		{0, 50, 10, 0, 0, 0},
		// a name contract: no farmer, 90 % foundation, staking floored
		{55, 0, 10, 0, 50, 5},
		{59, 0, 10, 0, 54, 5},
		{100, 0, 0, 0, 100, 0},
		{100, 100, 0, 100, 0, 0},
		{7, 33, 33, 2, 3, 2},
	} {
		t.Run(fmt.Sprintf("%d_%d_%d", tc.amount, tc.farmerPct, tc.stakingPct), func(t *testing.T) {
			f, fo, s := types.Split(sdkmath.NewInt(tc.amount), tc.farmerPct, tc.stakingPct)
			requireInt(t, tc.farmer, f, "farmer")
			requireInt(t, tc.foundation, fo, "foundation")
			requireInt(t, tc.staking, s, "staking")
		})
	}
}

func TestSplitPreservesSumRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for range 10_000 {
		amount := sdkmath.NewInt(rng.Int63n(1_000_000_000_000))
		if rng.Intn(10) == 0 {
			amount = sdkmath.NewInt(rng.Int63n(100)) // small amounts are where the floors bite
		}
		fp := uint32(rng.Intn(101))
		sp := uint32(rng.Intn(101 - int(fp)))
		f, fo, s := types.Split(amount, fp, sp)
		require.True(t, f.Add(fo).Add(s).Equal(amount), "sum of %s split %d/%d", amount, fp, sp)
		require.False(t, f.IsNegative() || fo.IsNegative() || s.IsNegative(), "%s split %d/%d", amount, fp, sp)
		require.True(t, amount.MulRaw(int64(fp)).QuoRaw(100).Equal(f), "farmer share is floored")
		require.True(t, amount.MulRaw(int64(sp)).QuoRaw(100).Equal(s), "staking share is floored")
		// the foundation's share is its exact share plus at most the two lost fractions
		exact := amount.MulRaw(int64(100 - fp - sp))
		require.True(t, fo.MulRaw(100).GTE(exact) && fo.MulRaw(100).LT(exact.AddRaw(200)), "%s split %d/%d: foundation %s", amount, fp, sp, fo)
	}
}

// ---------------------------------------------------------------------------
// price
// ---------------------------------------------------------------------------

func TestClampPrice(t *testing.T) {
	lo, hi := dec("5"), dec("50")
	for _, tc := range []struct{ in, want string }{
		{"1", "5"},
		{"4.999999", "5"},
		{"5", "5"},
		{"5.000001", "5.000001"},
		{"10", "10"},
		{"50", "50"},
		{"50.000001", "50"},
		{"1000", "50"},
	} {
		require.Equal(t, dec(tc.want), types.ClampPrice(dec(tc.in), lo, hi), tc.in)
	}
}

func TestValidatePrice(t *testing.T) {
	for _, ok := range []string{"10", "0.000001", "123.456789", "1000000", "7"} {
		require.NoError(t, types.ValidatePrice(dec(ok)), ok)
	}
	for _, tc := range []struct {
		p    sdkmath.LegacyDec
		frag string
	}{
		{dec("0.0000001"), "at most 6 decimals"},
		{dec("123.4567891"), "at most 6 decimals"},
		{sdkmath.LegacyNewDecWithPrec(1, 18), "at most 6 decimals"},
		{dec("0"), "want > 0"},
		{dec("-1"), "want > 0"},
		{sdkmath.LegacyDec{}, "want > 0"},
	} {
		requireerr.Is(t, types.ValidatePrice(tc.p), types.ErrInvalidPrice, tc.frag)
	}
}

func TestSecondsBefore(t *testing.T) {
	for _, tc := range []struct {
		from, to, until int64
		want            uint64
	}{
		{0, 100, 50, 50},
		{0, 100, 100, 100},
		{0, 100, 200, 100},
		{50, 100, 50, 0},
		{50, 100, 20, 0},
		{100, 100, 200, 0},
		{100, 50, 200, 0},
		{1_750_000_000, 1_750_003_600, 1_750_007_200, 3600},
		{1_750_000_000, 1_750_010_800, 1_750_007_200, 7200},
	} {
		require.Equal(t, tc.want, types.SecondsBefore(tc.from, tc.to, tc.until), "%+v", tc)
	}
}
