package keeper_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// recordingHooks stands in for x/billing. The embedded interface makes hooks this test does not know
// about panic if called, instead of breaking the build.
type recordingHooks struct {
	types.ContractHooks
	created    []uint64
	updated    []uint64
	deleted    map[uint64]types.DeleteCause
	failCreate error
	failDelete error
	// live records, at each deletion, whether the contract was still stored (billing settles it first).
	live map[uint64]bool
	k    interface {
		GetContract(context.Context, uint64) (types.Contract, error)
	}
}

func (h *recordingHooks) AfterContractCreated(_ context.Context, c types.Contract) error {
	h.created = append(h.created, c.Id)
	return h.failCreate
}

func (h *recordingHooks) BeforeContractUpdated(_ context.Context, c types.Contract) error {
	h.updated = append(h.updated, c.Id)
	return nil
}

func (h *recordingHooks) AfterContractUpdated(_ context.Context, c types.Contract) error {
	h.updated = append(h.updated, c.Id)
	return nil
}

func (h *recordingHooks) BeforeContractDeleted(ctx context.Context, c types.Contract, cause types.DeleteCause) error {
	if h.failDelete != nil {
		return h.failDelete
	}
	_, err := h.k.GetContract(ctx, c.Id)
	h.live[c.Id] = err == nil
	h.deleted[c.Id] = cause
	return nil
}

func TestContractHooks(t *testing.T) {
	f := newFixture(t)
	h := &recordingHooks{deleted: map[uint64]types.DeleteCause{}, live: map[uint64]bool{}, k: f.SC}
	f.SC.SetHooks(h)
	require.Panics(t, func() { f.SC.SetHooks(h) }, "hooks are set once")

	w := f.NewWorld(1)
	rent := f.RentContract(w.Alice, w.Node.ID)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	require.Equal(t, []uint64{rent, nc}, h.created)

	_, err := f.SCMsg.CancelContractByAuthority(f.Ctx, &types.MsgCancelContractByAuthority{Authority: f.Authority, ContractId: rent})
	require.NoError(t, err)
	require.Equal(t, map[uint64]types.DeleteCause{rent: types.DeleteCauseCanceledByAuthority, nc: types.DeleteCauseCanceledByAuthority}, h.deleted)
	require.Equal(t, map[uint64]bool{rent: true, nc: true}, h.live, "billing sees the contract before it leaves the store")

	// A failing hook fails the close path.
	boom := errors.New("billing failed")
	h.failDelete = boom
	name := f.NameContract(w.Bob, "hooked")
	err = f.InCache(func() error { return f.Cancel(w.Bob, name) })
	require.ErrorIs(t, err, boom)
	h.failDelete = nil

	// A failing creation hook fails the creation.
	h.failCreate = boom
	err = f.InCache(func() error {
		_, err := f.CreateNodeContract(keepertest.NodeContractMsg(w.Bob, w.Node.ID, "y", 0))
		return err
	})
	require.ErrorIs(t, err, boom)
	f.requireInvariants()
}
