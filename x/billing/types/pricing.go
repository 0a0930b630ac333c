package types

import (
	"math/big"

	sdkmath "cosmossdk.io/math"
)

// Billing arithmetic is exact: every amount is a big.Rat until it is converted to utft, where it is
// rounded once, half away from zero. Cost units are 1e-7 USD; the TFT price is mUSD per TFT, so
// utft = cost_units × 10^-7 USD / (price × 10^-3 USD/TFT) × 10^6 utft/TFT = cost_units × 100 / price.

const (
	secondsPerHour  = 3600
	secondsPerMonth = 2_592_000 // 30 days: the period of the extra fee and of the discount's "months"
	hoursPerMonth   = 720
	gib             = 1 << 30
)

// Capacity is the billable size of a workload: cru a count, the rest bytes.
type Capacity struct{ Cru, Sru, Hru, Mru uint64 }

func ratInt(n uint64) *big.Rat { return new(big.Rat).SetInt(new(big.Int).SetUint64(n)) }

func ratFrac(a, b uint64) *big.Rat {
	return new(big.Rat).SetFrac(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
}

// RatOfDec converts a LegacyDec exactly.
func RatOfDec(d sdkmath.LegacyDec) *big.Rat {
	return new(big.Rat).SetFrac(d.BigInt(), sdkmath.LegacyOneDec().BigInt())
}

func minRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func maxRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// CU is the compute units of a capacity: min(max(mru/4, cru/2), max(mru/8, cru), max(mru/2, cru/4)),
// mru in GiB.
func CU(c Capacity) *big.Rat {
	mru, cru := ratFrac(c.Mru, gib), ratInt(c.Cru)
	quo := func(r *big.Rat, d int64) *big.Rat { return new(big.Rat).Quo(r, big.NewRat(d, 1)) }
	a := maxRat(quo(mru, 4), quo(cru, 2))
	b := maxRat(quo(mru, 8), cru)
	d := maxRat(quo(mru, 2), quo(cru, 4))
	return minRat(minRat(a, b), d)
}

// SU is the storage units of a capacity: hru/1200 + sru/200, in GiB.
func SU(c Capacity) *big.Rat {
	return new(big.Rat).Add(ratFrac(c.Hru, 1200*gib), ratFrac(c.Sru, 200*gib))
}

// ResourceCost is the cost units of running a capacity for some seconds at hourly CU and SU prices.
func ResourceCost(cuPrice, suPrice uint64, c Capacity, seconds uint64) *big.Rat {
	perHour := new(big.Rat).Add(new(big.Rat).Mul(ratInt(cuPrice), CU(c)), new(big.Rat).Mul(ratInt(suPrice), SU(c)))
	return PerSeconds(perHour, seconds)
}

// IPCost is the cost units of holding n public IPs for some seconds at an hourly price.
func IPCost(ipuPrice uint64, n uint32, seconds uint64) *big.Rat {
	return PerSeconds(ratInt(ipuPrice*uint64(n)), seconds)
}

// NameCost is the cost units of holding a unique name for some seconds at an hourly price.
func NameCost(uniqueNamePrice, seconds uint64) *big.Rat {
	return PerSeconds(ratInt(uniqueNamePrice), seconds)
}

// NUCost is the cost units of transferring nru bytes at a price per GB (10^9 bytes), whatever the
// report's window.
func NUCost(nuPrice, nruBytes uint64) sdkmath.LegacyDec {
	// nru/10^9 has at most 9 decimals, so the product is exact in a LegacyDec.
	product := new(big.Int).Mul(new(big.Int).SetUint64(nruBytes), new(big.Int).SetUint64(nuPrice))
	return sdkmath.LegacyNewDecFromBigIntWithPrec(product, 9)
}

// ExtraFeeCost is the cost units of a dedicated node's extra fee (mUSD per 30-day month) for some seconds.
func ExtraFeeCost(extraFeeMUSD, seconds uint64) *big.Rat {
	r := ratInt(extraFeeMUSD)
	r.Mul(r, ratInt(10_000))
	return r.Mul(r, ratFrac(seconds, secondsPerMonth))
}

// PerSeconds is an hourly amount over some seconds.
func PerSeconds(perHour *big.Rat, seconds uint64) *big.Rat {
	return new(big.Rat).Mul(perHour, ratFrac(seconds, secondsPerHour))
}

// ToUTFT converts cost units to utft at a price in mUSD per TFT, rounding half away from zero.
func ToUTFT(costUnits *big.Rat, priceMUSD sdkmath.LegacyDec) sdkmath.Int {
	r := new(big.Rat).Mul(costUnits, ratInt(100))
	r.Quo(r, RatOfDec(priceMUSD))
	return RoundHalfAwayFromZero(r)
}

// RoundHalfAwayFromZero rounds a rational to the nearest integer, halves away from zero.
func RoundHalfAwayFromZero(r *big.Rat) sdkmath.Int {
	num, den := new(big.Int).Abs(r.Num()), r.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return sdkmath.NewIntFromBigInt(q)
}

// Discount picks the tier a twin reaches by holding balance utft against monthly, the contract's
// undiscounted standard cost of 720 hours in utft; tiers are by descending min_months. Without any
// cost to compare against, or below every tier, there is no discount.
func Discount(balance, monthly sdkmath.Int, tiers []DiscountTier) (DiscountLevel, sdkmath.LegacyDec) {
	if monthly.IsPositive() {
		for _, t := range tiers {
			// balance / monthly >= min_months  <=>  balance >= min_months × monthly
			if sdkmath.LegacyNewDecFromInt(balance).GTE(t.MinMonths.MulInt(monthly)) {
				return t.Level, t.Multiplier
			}
		}
	}
	return DiscountLevelNone, sdkmath.LegacyOneDec()
}

// Split divides a payment: the farmer and staking shares are floored and the foundation gets the
// rest, so no utft is created or lost.
func Split(amount sdkmath.Int, farmerPercent, stakingPercent uint32) (farmer, foundation, staking sdkmath.Int) {
	farmer = amount.MulRaw(int64(farmerPercent)).QuoRaw(100)
	staking = amount.MulRaw(int64(stakingPercent)).QuoRaw(100)
	return farmer, amount.Sub(farmer).Sub(staking), staking
}

// MonthlyCost is the utft of an hourly cost held for a 30-day month.
func MonthlyCost(hourlyCostUnits *big.Rat, priceMUSD sdkmath.LegacyDec) sdkmath.Int {
	return ToUTFT(new(big.Rat).Mul(hourlyCostUnits, ratInt(hoursPerMonth)), priceMUSD)
}

// ClampPrice bounds a price to [min, max].
func ClampPrice(p, minPrice, maxPrice sdkmath.LegacyDec) sdkmath.LegacyDec {
	if p.LT(minPrice) {
		return minPrice
	}
	if p.GT(maxPrice) {
		return maxPrice
	}
	return p
}

// ValidatePrice accepts a positive price with at most 6 decimals.
func ValidatePrice(p sdkmath.LegacyDec) error {
	if p.IsNil() || !p.IsPositive() {
		return ErrInvalidPrice.Wrapf("price_musd %s: want > 0", p)
	}
	micro := p.MulInt64(1_000_000)
	if !micro.Equal(micro.TruncateDec()) {
		return ErrInvalidPrice.Wrapf("price_musd %s: at most 6 decimals", p)
	}
	return nil
}

// CappedCharge is what a period of some seconds may charge under a cap of maxPerHour utft per hour:
// amount, or floor(maxPerHour × seconds / 3600) when that is less.
func CappedCharge(amount sdkmath.Int, maxPerHour, seconds uint64) sdkmath.Int {
	limit := sdkmath.NewIntFromUint64(maxPerHour).Mul(sdkmath.NewIntFromUint64(seconds)).QuoRaw(secondsPerHour)
	return sdkmath.MinInt(amount, limit)
}

// SecondsBefore is how many seconds of [from, to] lie before until.
func SecondsBefore(from, to, until int64) uint64 {
	end := min(to, until)
	if end <= from {
		return 0
	}
	return uint64(end - from)
}
