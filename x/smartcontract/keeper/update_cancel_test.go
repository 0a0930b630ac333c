package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func (f *fixture) update(u user, contractID uint64, deployment string) error {
	_, err := f.msg.UpdateNodeContract(f.ctx, &types.MsgUpdateNodeContract{
		Creator: u.acc, ContractId: contractID, DeploymentHash: hash(deployment), DeploymentData: []byte("v2 of " + deployment),
	})
	return err
}

func TestUpdateNodeContract(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	noTwin := f.newAccount()
	cid := f.nodeContract(w.alice, w.node.id, "v1", 1)
	other := f.nodeContract(w.bob, w.node.id, "bob", 0)
	name := f.nameContract(w.alice, "gateway")
	graced := f.nodeContract(w.alice, w.node.id, "graced", 0)
	require.NoError(t, f.k.EnterGrace(f.ctx, graced))

	raw := func(acc string, contractID uint64, h string, data []byte) func() error {
		return func() error {
			_, err := f.msg.UpdateNodeContract(f.ctx, &types.MsgUpdateNodeContract{Creator: acc, ContractId: contractID, DeploymentHash: h, DeploymentData: data})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"unknown contract", raw(w.alice.acc, 999, hash("x"), nil), types.ErrContractNotFound, []string{"999"}},
		{"no twin", raw(noTwin, cid, hash("x"), nil), tfgridtypes.ErrTwinNotFound, nil},
		{"not the owner", raw(w.bob.acc, cid, hash("x"), nil), types.ErrNotContractOwner, []string{w.bob.acc, id(cid)}},
		{"not even the node twin", raw(w.node.twin.acc, cid, hash("x"), nil), types.ErrNotContractOwner, nil},
		{"name contract", raw(w.alice.acc, name, hash("x"), nil), types.ErrNotNodeContract, []string{id(name), "CONTRACT_KIND_NAME"}},
		{"in grace", raw(w.alice.acc, graced, hash("x"), nil), types.ErrContractInGrace, []string{id(graced)}},
		{"bad hash", raw(w.alice.acc, cid, "ABC", nil), types.ErrInvalidDeploymentHash, nil},
		{"data too large", raw(w.alice.acc, cid, hash("x"), make([]byte, types.DefaultMaxDeploymentDataBytes+1)), types.ErrDeploymentDataTooLarge, nil},
		{"hash of another contract", raw(w.alice.acc, cid, hash("bob"), nil), types.ErrContractNotUnique, []string{id(other), hash("bob")}},
	})

	// Same hash as itself: only the data changes.
	f.resetEvents()
	require.NoError(t, f.update(w.alice, cid, "v1"))
	c := f.contract(cid)
	require.Equal(t, []byte("v2 of v1"), c.GetNodeContract().DeploymentData)
	require.Equal(t, []*types.EventContractUpdated{{ContractId: cid, NodeId: w.node.id, DeploymentHash: hash("v1"), Resources: &tfgridtypes.Resources{}}},
		typedEvents[*types.EventContractUpdated](f))

	// A new hash re-keys the index; everything else is kept.
	require.NoError(t, f.update(w.alice, cid, "v2"))
	c = f.contract(cid)
	nc := c.GetNodeContract()
	require.Equal(t, hash("v2"), nc.DeploymentHash)
	require.Equal(t, []string{w.farm.ips[0]}, nc.IPs(), "IPs stay with the contract")
	require.Equal(t, []string{w.farm.ips[0]}, f.heldBy(w.farm.id, cid))
	has, err := f.k.ContractByNodeHash.Has(f.ctx, collections.Join(w.node.id, hash("v1")))
	require.NoError(t, err)
	require.False(t, has, "old hash lookup is gone")
	got, err := f.k.ContractByNodeHash.Get(f.ctx, collections.Join(w.node.id, hash("v2")))
	require.NoError(t, err)
	require.Equal(t, cid, got)

	// The old hash is free for a new contract.
	f.nodeContract(w.bob, w.node.id, "v1", 0)
	// Out of grace, the graced contract can be updated again.
	require.NoError(t, f.k.LeaveGrace(f.ctx, graced))
	require.NoError(t, f.update(w.alice, graced, "graced-v2"))
	f.requireInvariants()
}

func TestCancelContractAuthorization(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	noTwin := f.newAccount()
	nc := f.nodeContract(w.alice, w.node.id, "x", 0)
	name := f.nameContract(w.alice, "alice-gw")
	rentNode := f.newNode(w.farm)
	rent := f.rentContract(w.alice, rentNode.id)

	cancel := func(acc string, contractID uint64) func() error {
		return func() error {
			_, err := f.msg.CancelContract(f.ctx, &types.MsgCancelContract{Creator: acc, ContractId: contractID})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"unknown contract", cancel(w.alice.acc, 999), types.ErrContractNotFound, []string{"999"}},
		{"no twin", cancel(noTwin, nc), tfgridtypes.ErrTwinNotFound, nil},
		{"third party", cancel(w.bob.acc, nc), types.ErrNotContractOwner, []string{w.bob.acc, id(nc)}},
		{"farmer of the node", cancel(w.farm.farmer.acc, nc), types.ErrNotContractOwner, nil},
		{"another node's twin", cancel(rentNode.twin.acc, nc), types.ErrNotContractOwner, nil},
		{"node twin on a name contract", cancel(w.node.twin.acc, name), types.ErrNotContractOwner, nil},
		{"node twin on its rent contract", cancel(rentNode.twin.acc, rent), types.ErrNotContractOwner, nil},
	})

	f.resetEvents()
	require.NoError(t, f.cancel(w.node.twin, nc))
	require.Equal(t, []*types.EventContractCanceled{{
		ContractId: nc, NodeId: w.node.id, TwinId: w.alice.twin, Cause: types.DeleteCauseCanceledByNode, Kind: types.ContractKindNode,
	}}, typedEvents[*types.EventContractCanceled](f))
	requireErr(t, f.cancel(w.alice, nc), types.ErrContractNotFound, id(nc))

	require.NoError(t, f.cancel(w.alice, name))
	require.NoError(t, f.cancel(w.alice, rent))
	f.requireInvariants()
}

func TestCancelRentContractWithNodeContracts(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	rent := f.rentContract(w.alice, w.node.id)
	nc := f.nodeContract(w.alice, w.node.id, "on rented", 1)

	f.runErrCases([]errCase{{
		"node contracts still run", func() error { return f.cancel(w.alice, rent) },
		types.ErrNodeHasActiveContracts, []string{id(w.node.id), id(nc)},
	}})

	require.NoError(t, f.cancel(w.alice, nc))
	require.NoError(t, f.cancel(w.alice, rent))
	has, err := f.k.RentContractByNode.Has(f.ctx, w.node.id)
	require.NoError(t, err)
	require.False(t, has)
	// The node is free to rent again, by anyone.
	f.rentContract(w.bob, w.node.id)
	f.requireInvariants()
}

func TestCancelInGrace(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	require.NoError(t, f.k.EnterGrace(f.ctx, nc))
	require.NoError(t, f.cancel(w.alice, nc), "a contract in grace can still be cancelled")
	require.Empty(t, f.heldBy(w.farm.id, nc))
	require.Equal(t, sdkInt(startBalance), f.balance(w.alice.acc), "deposit back")
	f.requireInvariants()
}
