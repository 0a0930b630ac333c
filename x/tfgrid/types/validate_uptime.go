package types

// Uptime reports: stateless validation (see validate.go).

import (
	"math/bits"
)

// CheckTimestampHint checks that the timestamp hint of an uptime report (unix
// seconds) is within drift seconds of the block time: |hint - blockTime| <=
// drift. The difference is computed without overflow for any int64 inputs.
func CheckTimestampHint(hint, blockTime int64, drift uint64) error {
	var diff uint64
	// For a >= b, the true difference a-b lies in [0, 2^64-1], so the
	// wrapping uint64 subtraction yields it exactly.
	if hint >= blockTime {
		diff = uint64(hint) - uint64(blockTime)
	} else {
		diff = uint64(blockTime) - uint64(hint)
	}
	if diff > drift {
		return ErrInvalidTimestampHint.Wrapf("timestamp hint %d differs from block time %d by %d s, at most %d s allowed",
			hint, blockTime, diff, drift)
	}
	return nil
}

// CheckUptime bounds a node's uptime report by its age on the chain plus drift: an agent counts its
// uptime from when it started, which is before it registered by at most the drift.
func CheckUptime(uptime uint64, node Node, blockTime int64, drift uint64) error {
	age := uint64(max(blockTime-node.Created, 0))
	if limit, carry := bits.Add64(age, drift, 0); carry == 0 && uptime > limit {
		return ErrInvalidUptime.Wrapf("node %d: uptime %d s exceeds its age %d s + drift %d s", node.Id, uptime, age, drift)
	}
	return nil
}
