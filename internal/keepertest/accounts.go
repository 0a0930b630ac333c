// Package keepertest holds the fixture pieces the keeper tests of x/tfgrid, x/smartcontract and
// x/billing share, next to internal/storebank (their bank), in layers: the account keeper the registry
// reads signers' keys from, the registry scene (scene.go) and the contracts layer on it (contracts.go).
package keepertest

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Accounts is an account keeper for keeper tests: it serves the accounts a test registers, keyed by
// raw address.
type Accounts struct {
	byAddr map[string]sdk.AccountI
}

// NewAccounts is an account keeper without accounts.
func NewAccounts() *Accounts {
	return &Accounts{byAddr: map[string]sdk.AccountI{}}
}

// Add registers an account (replacing one at the same address).
func (a *Accounts) Add(acc sdk.AccountI) {
	a.byAddr[string(acc.GetAddress())] = acc
}

// GetAccount implements the account keeper x/tfgrid declares; nil for an unknown address.
func (a *Accounts) GetAccount(_ context.Context, addr sdk.AccAddress) sdk.AccountI {
	return a.byAddr[string(addr)]
}
