// Package storebank is a bank for keeper tests: it keeps balances in a KV store of the test's
// multi-store, so a cache context (a failed tx, a settlement that errs) rolls them back with
// everything else, and it really moves coins between accounts and module accounts. It implements
// the bank interfaces x/smartcontract and x/billing declare.
package storebank

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// Bank holds (address, denom) → amount.
type Bank struct {
	balances collections.Map[collections.Pair[sdk.AccAddress, string], sdkmath.Int]
}

// Entry is one balance, as Export lists it.
type Entry struct {
	Addr   sdk.AccAddress
	Denom  string
	Amount sdkmath.Int
}

// New keeps the balances in the store of key.
func New(key *storetypes.KVStoreKey) *Bank {
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(key))
	b := &Bank{balances: collections.NewMap(sb, collections.NewPrefix(0), "balances",
		collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey), sdk.IntValue)}
	if _, err := sb.Build(); err != nil {
		panic(err)
	}
	return b
}

// SpendableCoins is every balance of addr.
func (b *Bank) SpendableCoins(ctx context.Context, addr sdk.AccAddress) sdk.Coins {
	coins := sdk.NewCoins()
	b.walk(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, string](addr), func(e Entry) {
		coins = coins.Add(sdk.NewCoin(e.Denom, e.Amount))
	})
	return coins
}

// LockedCoins is nothing: the fake bank has no vesting accounts.
func (b *Bank) LockedCoins(context.Context, sdk.AccAddress) sdk.Coins { return sdk.NewCoins() }

// SendCoins moves amt from one account to another.
func (b *Bank) SendCoins(ctx context.Context, from, to sdk.AccAddress, amt sdk.Coins) error {
	return b.send(ctx, from, to, amt)
}

// SendCoinsFromAccountToModule moves amt to a module account.
func (b *Bank) SendCoinsFromAccountToModule(ctx context.Context, sender sdk.AccAddress, module string, amt sdk.Coins) error {
	return b.send(ctx, sender, authtypes.NewModuleAddress(module), amt)
}

// SendCoinsFromModuleToAccount moves amt out of a module account.
func (b *Bank) SendCoinsFromModuleToAccount(ctx context.Context, module string, recipient sdk.AccAddress, amt sdk.Coins) error {
	return b.send(ctx, authtypes.NewModuleAddress(module), recipient, amt)
}

// SendCoinsFromModuleToModule moves amt between module accounts.
func (b *Bank) SendCoinsFromModuleToModule(ctx context.Context, sender, recipient string, amt sdk.Coins) error {
	return b.send(ctx, authtypes.NewModuleAddress(sender), authtypes.NewModuleAddress(recipient), amt)
}

// GetBalance is addr's balance of denom d.
func (b *Bank) GetBalance(ctx context.Context, addr sdk.AccAddress, d string) sdk.Coin {
	return sdk.NewCoin(d, b.Amount(ctx, addr, d))
}

// Amount is addr's balance of denom d (0 if none).
func (b *Bank) Amount(ctx context.Context, addr sdk.AccAddress, d string) sdkmath.Int {
	amt, err := b.balances.Get(ctx, collections.Join(addr, d))
	if errors.Is(err, collections.ErrNotFound) {
		return sdkmath.ZeroInt()
	}
	if err != nil {
		panic(err)
	}
	return amt
}

// SetAmount sets addr's balance of denom d, minting or burning the difference.
func (b *Bank) SetAmount(ctx context.Context, addr sdk.AccAddress, d string, amt sdkmath.Int) {
	if err := b.balances.Set(ctx, collections.Join(addr, d), amt); err != nil {
		panic(err)
	}
}

// Supply is the sum of every balance of denom d.
func (b *Bank) Supply(ctx context.Context, d string) sdkmath.Int {
	sum := sdkmath.ZeroInt()
	b.walk(ctx, nil, func(e Entry) {
		if e.Denom == d {
			sum = sum.Add(e.Amount)
		}
	})
	return sum
}

// Export lists every balance.
func (b *Bank) Export(ctx context.Context) []Entry {
	var out []Entry
	b.walk(ctx, nil, func(e Entry) { out = append(out, e) })
	return out
}

// send checks every coin before moving any, like x/bank.
func (b *Bank) send(ctx context.Context, from, to sdk.AccAddress, amt sdk.Coins) error {
	for _, c := range amt {
		if have := b.Amount(ctx, from, c.Denom); have.LT(c.Amount) {
			return sdkerrors.ErrInsufficientFunds.Wrapf("%s has %s%s, needs %s", from, have, c.Denom, c)
		}
	}
	for _, c := range amt {
		b.SetAmount(ctx, from, c.Denom, b.Amount(ctx, from, c.Denom).Sub(c.Amount))
		b.SetAmount(ctx, to, c.Denom, b.Amount(ctx, to, c.Denom).Add(c.Amount))
	}
	return nil
}

func (b *Bank) walk(ctx context.Context, rng collections.Ranger[collections.Pair[sdk.AccAddress, string]], fn func(Entry)) {
	err := b.balances.Walk(ctx, rng, func(k collections.Pair[sdk.AccAddress, string], v sdkmath.Int) (bool, error) {
		fn(Entry{Addr: k.K1(), Denom: k.K2(), Amount: v})
		return false, nil
	})
	if err != nil {
		panic(err)
	}
}
