// Package keepertest holds the fixture pieces the keeper tests of x/tfgrid, x/smartcontract and
// x/billing share, next to internal/storebank (their bank), in layers: the account keeper the registry
// reads signers' keys from, the registry scene (scene.go) and the contracts layer on it (contracts.go).
package keepertest

import (
	"context"

	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
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

// Add registers an account at raw holding pk (nil: no key on chain yet), numbered in the order
// accounts are registered.
func (a *Accounts) Add(raw sdk.AccAddress, pk cryptotypes.PubKey) {
	a.byAddr[string(raw)] = authtypes.NewBaseAccount(raw, pk, uint64(a.Len()+1), 0)
}

// Len is how many accounts are registered: new accounts derive their keys from it, so that scenes
// sharing their accounts never derive the same key twice.
func (a *Accounts) Len() int {
	return len(a.byAddr)
}

// GetAccount implements the account keeper x/tfgrid declares; nil for an unknown address.
func (a *Accounts) GetAccount(_ context.Context, addr sdk.AccAddress) sdk.AccountI {
	return a.byAddr[string(addr)]
}
