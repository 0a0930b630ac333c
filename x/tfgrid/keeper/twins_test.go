package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestCreateTwin(t *testing.T) {
	f := newFixture(t)
	acc := f.NewAccount()
	key := e2eKey()
	relays := []string{"wss://relay.grid.tf", "ws://185.206.122.7:8080"}

	f.ResetEvents()
	res, err := f.GridMsg.CreateTwin(f.Ctx, &types.MsgCreateTwin{Creator: acc, Relays: relays, E2EKey: key})
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.TwinId)

	twin := f.twin(1)
	require.Equal(t, types.Twin{Id: 1, Account: acc, Pubkey: f.pubkeyOf(acc), Relays: relays, E2EKey: key}, twin)
	require.Len(t, twin.Pubkey, 33)

	require.Equal(t, []string{"tfgrid.tfgrid.v1.EventTwinCreated"}, f.eventTypes())
	attrs := f.eventAttrs("tfgrid.tfgrid.v1.EventTwinCreated")
	require.Equal(t, `"1"`, attrs["twin_id"])
	require.Equal(t, `"`+acc+`"`, attrs["account"])

	// Ids are sequential; a twin without relays or e2e key is fine.
	acc2 := f.NewAccount()
	res, err = f.GridMsg.CreateTwin(f.Ctx, &types.MsgCreateTwin{Creator: acc2})
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.TwinId)

	// The twin is found through the account index and the queries.
	q, err := f.q.TwinByAccount(f.Ctx, &types.QueryTwinByAccountRequest{Address: acc2})
	require.NoError(t, err)
	require.Equal(t, uint64(2), q.Twin.Id)
	qt, err := f.q.Twin(f.Ctx, &types.QueryTwinRequest{Id: 1})
	require.NoError(t, err)
	require.Equal(t, twin, qt.Twin)
}

func TestCreateTwinErrors(t *testing.T) {
	f := newFixture(t)
	owner, ownerTwin := f.newTwin()
	fresh := f.NewAccount()
	edAcc := f.newEd25519Account()
	noKey := f.addAccount(nil)
	unknown := f.Addr([]byte("not-registered-account"))

	create := func(m *types.MsgCreateTwin) func() error {
		return func() error { _, err := f.GridMsg.CreateTwin(f.Ctx, m); return err }
	}
	f.runErrCases([]errCase{
		{"one twin per account", create(&types.MsgCreateTwin{Creator: owner}), types.ErrTwinExists,
			[]string{owner, "twin 1"}},
		{"ed25519 signer", create(&types.MsgCreateTwin{Creator: edAcc}), types.ErrInvalidPubKey,
			[]string{edAcc, "ed25519"}},
		{"account without pubkey", create(&types.MsgCreateTwin{Creator: noKey}), types.ErrInvalidPubKey,
			[]string{noKey, "no public key"}},
		{"unknown account", create(&types.MsgCreateTwin{Creator: unknown}), types.ErrInvalidPubKey,
			[]string{unknown}},
		{"bad creator address", create(&types.MsgCreateTwin{Creator: "cosmos1xyz"}), sdkerrors.ErrInvalidAddress,
			[]string{"cosmos1xyz"}},
		{"invalid relay", create(&types.MsgCreateTwin{Creator: fresh, Relays: []string{"http://relay.grid.tf"}}),
			types.ErrInvalidRelay, []string{"http://relay.grid.tf", "relays[0]"}},
		{"relay with path", create(&types.MsgCreateTwin{Creator: fresh, Relays: []string{"wss://relay.grid.tf/x"}}),
			types.ErrInvalidRelay, []string{"wss://relay.grid.tf/x"}},
		{"duplicate relay", create(&types.MsgCreateTwin{Creator: fresh, Relays: []string{"wss://a.tf", "wss://A.tf"}}),
			types.ErrInvalidRelay, []string{"wss://A.tf", "duplicate"}},
		{"too many relays", create(&types.MsgCreateTwin{Creator: fresh,
			Relays: []string{"wss://a.tf", "wss://b.tf", "wss://c.tf", "wss://d.tf", "wss://e.tf"}}),
			types.ErrTooManyRelays, []string{"5 entries"}},
		{"e2e key too short", create(&types.MsgCreateTwin{Creator: fresh, E2EKey: []byte{2, 1, 2}}),
			types.ErrInvalidE2EKey, []string{"020102"}},
		{"e2e key not compressed", create(&types.MsgCreateTwin{Creator: fresh, E2EKey: append([]byte{4}, make([]byte, 32)...)}),
			types.ErrInvalidE2EKey, []string{"prefix 0x04"}},
		{"e2e key equal to account key", create(&types.MsgCreateTwin{Creator: fresh, E2EKey: f.pubkeyOf(fresh)}),
			types.ErrInvalidE2EKey, []string{"differ from the account key"}},
	})
	require.Equal(t, uint64(1), ownerTwin)
	// Nothing was issued by the failures: the next twin is 2.
	require.Equal(t, uint64(2), f.createTwin(fresh))
}

func TestUpdateTwin(t *testing.T) {
	f := newFixture(t)
	acc, id := f.newTwin()
	key := e2eKey()

	f.ResetEvents()
	_, err := f.GridMsg.UpdateTwin(f.Ctx, &types.MsgUpdateTwin{Creator: acc, Relays: []string{"wss://relay.grid.tf:443"}, E2EKey: key})
	require.NoError(t, err)
	twin := f.twin(id)
	require.Equal(t, []string{"wss://relay.grid.tf:443"}, twin.Relays)
	require.Equal(t, key, twin.E2EKey)
	require.Equal(t, f.pubkeyOf(acc), twin.Pubkey, "the account key never changes")
	attrs := f.eventAttrs("tfgrid.tfgrid.v1.EventTwinUpdated")
	require.Equal(t, `"1"`, attrs["twin_id"])
	require.Equal(t, `["wss://relay.grid.tf:443"]`, attrs["relays"])
	require.Contains(t, attrs, "e2e_key")

	// An update replaces both fields, also with nothing.
	_, err = f.GridMsg.UpdateTwin(f.Ctx, &types.MsgUpdateTwin{Creator: acc})
	require.NoError(t, err)
	twin = f.twin(id)
	require.Empty(t, twin.Relays)
	require.Empty(t, twin.E2EKey)
}

func TestUpdateTwinErrors(t *testing.T) {
	f := newFixture(t)
	acc, _ := f.newTwin()
	noTwin := f.NewAccount()

	update := func(m *types.MsgUpdateTwin) func() error {
		return func() error { _, err := f.GridMsg.UpdateTwin(f.Ctx, m); return err }
	}
	f.runErrCases([]errCase{
		{"signer without twin", update(&types.MsgUpdateTwin{Creator: noTwin}), types.ErrTwinNotFound, []string{noTwin}},
		{"bad signer address", update(&types.MsgUpdateTwin{Creator: "tf1bad"}), sdkerrors.ErrInvalidAddress, []string{"tf1bad"}},
		{"invalid relay", update(&types.MsgUpdateTwin{Creator: acc, Relays: []string{"wss://user@relay.tf"}}),
			types.ErrInvalidRelay, []string{"wss://user@relay.tf", "user info"}},
		{"too many relays", update(&types.MsgUpdateTwin{Creator: acc,
			Relays: []string{"ws://a.tf", "ws://b.tf", "ws://c.tf", "ws://d.tf", "ws://e.tf"}}),
			types.ErrTooManyRelays, []string{"relays"}},
		{"invalid e2e key", update(&types.MsgUpdateTwin{Creator: acc, E2EKey: []byte("short")}),
			types.ErrInvalidE2EKey, []string{"73686f7274"}},
		{"e2e key equal to account key", update(&types.MsgUpdateTwin{Creator: acc, E2EKey: f.pubkeyOf(acc)}),
			types.ErrInvalidE2EKey, []string{"account key"}},
	})
}
