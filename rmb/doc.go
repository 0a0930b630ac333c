// Package rmb holds the wire format and the cryptography of the Reliable Message Bus: envelopes and
// their signatures, relay connect tokens, end-to-end encryption, error codes and the twin lookup
// interface. The relay server lives in rmb/relay, the Go peer SDK in rmb/peer, the chain-backed twin
// lookup in rmb/twins. rmb/README.md is the specification.
package rmb
