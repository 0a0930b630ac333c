package types

import (
	sdkmath "cosmossdk.io/math"
)

// Runway is how many seconds funds last against contracts that cost at most ceilingPerHour utft an
// hour; ok is false when nothing is charged (the runway is unbounded).
func Runway(funds, ceilingPerHour sdkmath.Int) (seconds int64, ok bool) {
	if !ceilingPerHour.IsPositive() {
		return 0, false
	}
	if !funds.IsPositive() {
		return 0, true
	}
	s := funds.MulRaw(secondsPerHour).Quo(ceilingPerHour)
	if !s.IsInt64() {
		return 0, false
	}
	return s.Int64(), true
}

// SettlementSpacing is the seconds until a contract's next scheduled settlement: half its owner's
// runway, so that a settlement always comes while the funds still cover the contracts (even if the
// price halves meanwhile), held between minInterval and maxInterval.
func SettlementSpacing(funds, ceilingPerHour sdkmath.Int, minInterval, maxInterval uint64) int64 {
	runway, ok := Runway(funds, ceilingPerHour)
	if !ok {
		return int64(maxInterval)
	}
	return min(max(runway/2, int64(minInterval)), int64(maxInterval))
}

// FundsShort reports whether funds may run out before horizon (a unix time) against contracts costing
// at most ceilingPerHour: the contracts' scheduled settlements must then be brought forward.
func FundsShort(funds, ceilingPerHour sdkmath.Int, now, horizon int64) bool {
	if !ceilingPerHour.IsPositive() || horizon <= now {
		return false
	}
	needed := ceilingPerHour.Mul(sdkmath.NewInt(horizon - now)).QuoRaw(secondsPerHour)
	return funds.LT(needed)
}

// OrZero is x, or zero when x was never set (a state written before the field existed).
func OrZero(x sdkmath.Int) sdkmath.Int {
	if x.IsNil() {
		return sdkmath.ZeroInt()
	}
	return x
}
