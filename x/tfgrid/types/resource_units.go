package types

// Resource units: how a node's raw capacity counts in compute and storage units (CU, SU).

import (
	"math"
	"math/bits"
)

// NodeCU returns the compute units of a node used for farming-policy limits:
//
//	floor(min(2·cru, (mru_GiB − 1)/4, sru_GiB/50))
//
// where mru_GiB = mru/GiB and sru_GiB = sru/GiB are real numbers (mru and sru in
// bytes). Because floor is monotonic, floor(min(a, b, c)) = min(floor(a),
// floor(b), floor(c)), and each term is computed exactly in integers:
//
//	floor(2·cru)             = 2·cru (saturating at MaxUint64)
//	floor((mru/GiB − 1)/4)   = (mru − GiB) / (4·GiB), and 0 when mru < GiB
//	floor(sru/GiB / 50)      = sru / (50·GiB)
//
// None of these overflows. Unlike the original chain, the memory term is the
// real (mru − 1 GiB)/4 and ties are not special-cased.
func NodeCU(cru, mru, sru uint64) uint64 {
	cpu := uint64(math.MaxUint64)
	if cru <= math.MaxUint64/2 {
		cpu = 2 * cru
	}
	var mem uint64
	if mru >= GiB {
		mem = (mru - GiB) / (4 * GiB)
	}
	ssd := sru / (50 * GiB)
	return min(cpu, mem, ssd)
}

// NodeSU returns the storage units of a node used for farming-policy limits:
//
//	floor(hru_GiB/1200 + sru_GiB/250)
//
// with hru and sru in bytes. Over the common denominator lcm(1200, 250) = 6000:
//
//	hru/(1200·GiB) + sru/(250·GiB) = (5·hru + 24·sru) / (6000·GiB)
//
// so the result is the integer quotient (5·hru + 24·sru) / (6000·GiB). The
// numerator is computed in 128 bits (math/bits); it is at most
// 29·(2^64 − 1), so its high word (< 29) is below the divisor (≈ 6.4·10^12)
// and the 64-bit quotient is exact and cannot overflow.
func NodeSU(hru, sru uint64) uint64 {
	const divisor = 6000 * GiB
	h1, l1 := bits.Mul64(hru, 5)
	h2, l2 := bits.Mul64(sru, 24)
	lo, carry := bits.Add64(l1, l2, 0)
	hi, _ := bits.Add64(h1, h2, carry)
	q, _ := bits.Div64(hi, lo, divisor)
	return q
}
