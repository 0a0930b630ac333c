package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func (f *fixture) update(u keepertest.User, contractID uint64, deployment string) error {
	_, err := f.SCMsg.UpdateNodeContract(f.Ctx, &types.MsgUpdateNodeContract{
		Creator: u.Acc, ContractId: contractID, DeploymentHash: keepertest.Hash(deployment), DeploymentData: []byte("v2 of " + deployment),
	})
	return err
}

func TestUpdateNodeContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	noTwin := f.NewAccount()
	cid := f.NodeContract(w.Alice, w.Node.ID, "v1", 1)
	other := f.NodeContract(w.Bob, w.Node.ID, "bob", 0)
	name := f.NameContract(w.Alice, "gateway")
	graced := f.NodeContract(w.Alice, w.Node.ID, "graced", 0)
	require.NoError(t, f.SC.EnterGrace(f.Ctx, graced))

	raw := func(acc string, contractID uint64, h string, data []byte) func() error {
		return func() error {
			_, err := f.SCMsg.UpdateNodeContract(f.Ctx, &types.MsgUpdateNodeContract{Creator: acc, ContractId: contractID, DeploymentHash: h, DeploymentData: data})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"unknown contract", raw(w.Alice.Acc, 999, keepertest.Hash("x"), nil), types.ErrContractNotFound, []string{"999"}},
		{"no twin", raw(noTwin, cid, keepertest.Hash("x"), nil), tfgridtypes.ErrTwinNotFound, nil},
		{"not the owner", raw(w.Bob.Acc, cid, keepertest.Hash("x"), nil), types.ErrNotContractOwner, []string{w.Bob.Acc, id(cid)}},
		{"not even the node twin", raw(w.Node.Twin.Acc, cid, keepertest.Hash("x"), nil), types.ErrNotContractOwner, nil},
		{"name contract", raw(w.Alice.Acc, name, keepertest.Hash("x"), nil), types.ErrNotNodeContract, []string{id(name), "CONTRACT_KIND_NAME"}},
		{"in grace", raw(w.Alice.Acc, graced, keepertest.Hash("x"), nil), types.ErrContractInGrace, []string{id(graced)}},
		{"bad hash", raw(w.Alice.Acc, cid, "ABC", nil), types.ErrInvalidDeploymentHash, nil},
		{"data too large", raw(w.Alice.Acc, cid, keepertest.Hash("x"), make([]byte, types.DefaultMaxDeploymentDataBytes+1)), types.ErrDeploymentDataTooLarge, nil},
		{"hash of another contract", raw(w.Alice.Acc, cid, keepertest.Hash("bob"), nil), types.ErrContractNotUnique, []string{id(other), keepertest.Hash("bob")}},
	})

	// Same hash as itself: only the data changes.
	f.ResetEvents()
	require.NoError(t, f.update(w.Alice, cid, "v1"))
	c := f.Contract(cid)
	require.Equal(t, []byte("v2 of v1"), c.GetNodeContract().DeploymentData)
	require.Equal(t, []*types.EventContractUpdated{{ContractId: cid, NodeId: w.Node.ID, DeploymentHash: keepertest.Hash("v1"), Resources: &tfgridtypes.Resources{}}},
		typedEvents[*types.EventContractUpdated](f))

	// A new hash re-keys the index; everything else is kept.
	require.NoError(t, f.update(w.Alice, cid, "v2"))
	c = f.Contract(cid)
	nc := c.GetNodeContract()
	require.Equal(t, keepertest.Hash("v2"), nc.DeploymentHash)
	require.Equal(t, []string{w.Farm.IPs[0]}, nc.IPs(), "IPs stay with the contract")
	require.Equal(t, []string{w.Farm.IPs[0]}, f.heldBy(w.Farm.ID, cid))
	has, err := f.SC.ContractByNodeHash.Has(f.Ctx, collections.Join(w.Node.ID, keepertest.Hash("v1")))
	require.NoError(t, err)
	require.False(t, has, "old hash lookup is gone")
	got, err := f.SC.ContractByNodeHash.Get(f.Ctx, collections.Join(w.Node.ID, keepertest.Hash("v2")))
	require.NoError(t, err)
	require.Equal(t, cid, got)

	// The old hash is free for a new contract.
	f.NodeContract(w.Bob, w.Node.ID, "v1", 0)
	// Out of grace, the graced contract can be updated again.
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, graced))
	require.NoError(t, f.update(w.Alice, graced, "graced-v2"))
	f.requireInvariants()
}

func TestCancelContractAuthorization(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	noTwin := f.NewAccount()
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 0)
	name := f.NameContract(w.Alice, "alice-gw")
	rentNode := f.NewNode(w.Farm)
	rent := f.RentContract(w.Alice, rentNode.ID)

	cancel := func(acc string, contractID uint64) func() error {
		return func() error {
			_, err := f.SCMsg.CancelContract(f.Ctx, &types.MsgCancelContract{Creator: acc, ContractId: contractID})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"unknown contract", cancel(w.Alice.Acc, 999), types.ErrContractNotFound, []string{"999"}},
		{"no twin", cancel(noTwin, nc), tfgridtypes.ErrTwinNotFound, nil},
		{"third party", cancel(w.Bob.Acc, nc), types.ErrNotContractOwner, []string{w.Bob.Acc, id(nc)}},
		{"farmer of the node", cancel(w.Farm.Farmer.Acc, nc), types.ErrNotContractOwner, nil},
		{"another node's twin", cancel(rentNode.Twin.Acc, nc), types.ErrNotContractOwner, nil},
		{"node twin on a name contract", cancel(w.Node.Twin.Acc, name), types.ErrNotContractOwner, nil},
		{"node twin on its rent contract", cancel(rentNode.Twin.Acc, rent), types.ErrNotContractOwner, nil},
	})

	f.ResetEvents()
	require.NoError(t, f.Cancel(w.Node.Twin, nc))
	require.Equal(t, []*types.EventContractCanceled{{
		ContractId: nc, NodeId: w.Node.ID, TwinId: w.Alice.Twin, Cause: types.DeleteCauseCanceledByNode, Kind: types.ContractKindNode,
	}}, typedEvents[*types.EventContractCanceled](f))
	requireerr.Is(t, f.Cancel(w.Alice, nc), types.ErrContractNotFound, id(nc))

	require.NoError(t, f.Cancel(w.Alice, name))
	require.NoError(t, f.Cancel(w.Alice, rent))
	f.requireInvariants()
}

func TestCancelRentContractWithNodeContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	rent := f.RentContract(w.Alice, w.Node.ID)
	nc := f.NodeContract(w.Alice, w.Node.ID, "on rented", 1)

	f.runErrCases([]errCase{{
		"node contracts still run", func() error { return f.Cancel(w.Alice, rent) },
		types.ErrNodeHasActiveContracts, []string{id(w.Node.ID), id(nc)},
	}})

	require.NoError(t, f.Cancel(w.Alice, nc))
	require.NoError(t, f.Cancel(w.Alice, rent))
	has, err := f.SC.RentContractByNode.Has(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.False(t, has)
	// The node is free to rent again, by anyone.
	f.RentContract(w.Bob, w.Node.ID)
	f.requireInvariants()
}

func TestCancelInGrace(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	require.NoError(t, f.SC.EnterGrace(f.Ctx, nc))
	require.NoError(t, f.Cancel(w.Alice, nc), "a contract in grace can still be cancelled")
	require.Empty(t, f.heldBy(w.Farm.ID, nc))
	require.Equal(t, sdkInt(keepertest.StartBalance), f.Balance(w.Alice.Acc), "deposit back")
	f.requireInvariants()
}
