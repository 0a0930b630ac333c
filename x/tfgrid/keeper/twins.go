package keeper

import (
	"bytes"
	"context"
	"errors"

	"cosmossdk.io/collections"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CreateTwin registers the twin of the signer's account; one twin per account.
func (k *Keeper) CreateTwin(ctx context.Context, msg *types.MsgCreateTwin) (uint64, error) {
	addr, err := k.addressCodec.StringToBytes(msg.Creator)
	if err != nil {
		return 0, sdkerrors.ErrInvalidAddress.Wrapf("creator %q: %s", msg.Creator, err)
	}
	if id, err := k.Twins.Indexes.Account.MatchExact(ctx, addr); err == nil {
		return 0, types.ErrTwinExists.Wrapf("account %s already has twin %d", msg.Creator, id)
	}
	pubkey, err := k.signerPubKey(ctx, addr, msg.Creator)
	if err != nil {
		return 0, err
	}
	if err := k.validateTwinKeys(msg.Relays, msg.E2EKey, pubkey); err != nil {
		return 0, err
	}
	id, err := keeperutil.NextID(ctx, k.TwinSeq)
	if err != nil {
		return 0, err
	}
	twin := types.Twin{Id: id, Account: msg.Creator, Pubkey: pubkey, Relays: msg.Relays, E2EKey: msg.E2EKey}
	if err := k.Twins.Set(ctx, id, twin); err != nil {
		return 0, err
	}
	return id, keeperutil.Emit(ctx, &types.EventTwinCreated{TwinId: id, Account: msg.Creator})
}

// UpdateTwin replaces the relays and e2e key of the signer's twin.
func (k *Keeper) UpdateTwin(ctx context.Context, msg *types.MsgUpdateTwin) error {
	twin, err := k.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return err
	}
	if err := k.validateTwinKeys(msg.Relays, msg.E2EKey, twin.Pubkey); err != nil {
		return err
	}
	twin.Relays, twin.E2EKey = msg.Relays, msg.E2EKey
	if err := k.Twins.Set(ctx, twin.Id, twin); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventTwinUpdated{TwinId: twin.Id, Relays: twin.Relays, E2EKey: twin.E2EKey})
}

// GetTwin loads a twin by id.
func (k *Keeper) GetTwin(ctx context.Context, id uint64) (types.Twin, error) {
	twin, err := k.Twins.Get(ctx, id)
	return twin, keeperutil.NotFound(err, types.ErrTwinNotFound, "twin %d", id)
}

// TwinOfAccount loads the twin registered by a bech32 account.
func (k *Keeper) TwinOfAccount(ctx context.Context, account string) (types.Twin, error) {
	addr, err := k.addressCodec.StringToBytes(account)
	if err != nil {
		return types.Twin{}, sdkerrors.ErrInvalidAddress.Wrapf("account %q: %s", account, err)
	}
	id, err := k.Twins.Indexes.Account.MatchExact(ctx, addr)
	if err != nil {
		return types.Twin{}, keeperutil.NotFound(err, types.ErrTwinNotFound, "account %s has no twin", account)
	}
	return k.GetTwin(ctx, id)
}

// TwinIDOfAddress is the id of the twin an account address registered, read from the index alone;
// found is false for an address without a twin (a module account, a validator).
func (k *Keeper) TwinIDOfAddress(ctx context.Context, addr sdk.AccAddress) (id uint64, found bool, err error) {
	id, err = k.Twins.Indexes.Account.MatchExact(ctx, addr)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// signerPubKey returns the compressed secp256k1 key the account signs with; any other key type is refused
// because RMB and deployment signatures are verified against it.
func (k *Keeper) signerPubKey(ctx context.Context, addr sdk.AccAddress, account string) ([]byte, error) {
	acc := k.accountKeeper.GetAccount(ctx, addr)
	if acc == nil || acc.GetPubKey() == nil {
		return nil, types.ErrInvalidPubKey.Wrapf("account %s has no public key on chain yet", account)
	}
	pk, ok := acc.GetPubKey().(*secp256k1.PubKey)
	if !ok {
		return nil, types.ErrInvalidPubKey.Wrapf("account %s signs with a %s key; a twin needs a secp256k1 key", account, acc.GetPubKey().Type())
	}
	return pk.Bytes(), nil
}

func (k *Keeper) validateTwinKeys(relays []string, e2eKey, pubkey []byte) error {
	if err := types.ValidateRelays(relays); err != nil {
		return err
	}
	if err := types.ValidateE2EKey(e2eKey); err != nil {
		return err
	}
	if len(e2eKey) > 0 && bytes.Equal(e2eKey, pubkey) {
		return types.ErrInvalidE2EKey.Wrap("e2e_key must differ from the account key (derive it with HKDF)")
	}
	return nil
}
