package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// closed is a contract a close path must delete, and who must get its deposit back.
type closed struct {
	id        uint64
	cause     types.DeleteCause
	recipient string
}

// closeScene is a world plus a bystander contract no close path may touch.
type closeScene struct {
	world
	other     nodeFixture // a second node of the same farm
	bystander uint64      // bob's node contract with one IP on other
}

// closePath builds contracts in a scene and returns the action closing some of them.
type closePath struct {
	name  string
	setup func(f *fixture, s closeScene) (run func() error, want []closed)
}

func closePaths() []closePath {
	authorityCancel := func(f *fixture, cid uint64) func() error {
		return func() error {
			_, err := f.msg.CancelContractByAuthority(f.ctx, &types.MsgCancelContractByAuthority{Authority: f.authority, ContractId: cid})
			return err
		}
	}
	outOfFunds := func(f *fixture, cid uint64) func() error {
		return func() error {
			c, err := f.k.GetContract(f.ctx, cid)
			if err != nil {
				return err
			}
			return f.k.DeleteContract(f.ctx, c, types.DeleteCauseOutOfFunds)
		}
	}
	deleteNode := func(f *fixture, signer string, nodeID uint64) func() error {
		return func() error {
			_, err := f.gridMsg.DeleteNode(f.ctx, &tfgridtypes.MsgDeleteNode{Creator: signer, NodeId: nodeID})
			return err
		}
	}
	return []closePath{
		{"user cancels a node contract", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.nodeContract(s.alice, s.node.id, "x", 2)
			return func() error { return f.cancel(s.alice, nc) }, []closed{{nc, types.DeleteCauseCanceledByUser, s.alice.acc}}
		}},
		{"user cancels a name contract", func(f *fixture, s closeScene) (func() error, []closed) {
			name := f.nameContract(s.alice, "alice-gw")
			return func() error { return f.cancel(s.alice, name) }, []closed{{name, types.DeleteCauseCanceledByUser, s.alice.acc}}
		}},
		{"user cancels an idle rent contract", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.rentContract(s.alice, s.node.id)
			return func() error { return f.cancel(s.alice, rent) }, []closed{{rent, types.DeleteCauseCanceledByUser, s.alice.acc}}
		}},
		{"node twin cancels a node contract", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.nodeContract(s.alice, s.node.id, "x", 2)
			return func() error { return f.cancel(s.node.twin, nc) }, []closed{{nc, types.DeleteCauseCanceledByNode, s.alice.acc}}
		}},
		{"authority cancels a node contract", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.nodeContract(s.alice, s.node.id, "x", 2)
			return authorityCancel(f, nc), []closed{{nc, types.DeleteCauseCanceledByAuthority, s.alice.acc}}
		}},
		{"authority cancels a name contract", func(f *fixture, s closeScene) (func() error, []closed) {
			name := f.nameContract(s.alice, "alice-gw")
			return authorityCancel(f, name), []closed{{name, types.DeleteCauseCanceledByAuthority, s.alice.acc}}
		}},
		{"authority cancels a rent contract with its node contracts", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.rentContract(s.alice, s.node.id)
			nc1 := f.nodeContract(s.alice, s.node.id, "a", 1)
			nc2 := f.nodeContract(s.alice, s.node.id, "b", 2)
			return authorityCancel(f, rent), []closed{
				{nc1, types.DeleteCauseCanceledByAuthority, s.alice.acc},
				{nc2, types.DeleteCauseCanceledByAuthority, s.alice.acc},
				{rent, types.DeleteCauseCanceledByAuthority, s.alice.acc},
			}
		}},
		{"node twin deletes its node: node contracts of two twins", func(f *fixture, s closeScene) (func() error, []closed) {
			nc1 := f.nodeContract(s.alice, s.node.id, "a", 1)
			nc2 := f.nodeContract(s.bob, s.node.id, "b", 1)
			return deleteNode(f, s.node.twin.acc, s.node.id), []closed{
				{nc1, types.DeleteCauseNodeDeleted, s.alice.acc},
				{nc2, types.DeleteCauseNodeDeleted, s.bob.acc},
			}
		}},
		{"farmer deletes a rented node: rent and node contracts", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.rentContract(s.alice, s.node.id)
			nc := f.nodeContract(s.alice, s.node.id, "a", 2)
			return deleteNode(f, s.farm.farmer.acc, s.node.id), []closed{
				{nc, types.DeleteCauseNodeDeleted, s.alice.acc},
				{rent, types.DeleteCauseNodeDeleted, s.alice.acc},
			}
		}},
		{"billing deletes a node contract out of funds", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.nodeContract(s.alice, s.node.id, "x", 2)
			return outOfFunds(f, nc), []closed{{nc, types.DeleteCauseOutOfFunds, f.foundation()}}
		}},
		{"billing deletes a node contract in grace out of funds", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.nodeContract(s.alice, s.node.id, "x", 1)
			require.NoError(f.t, f.k.EnterGrace(f.ctx, nc))
			return outOfFunds(f, nc), []closed{{nc, types.DeleteCauseOutOfFunds, f.foundation()}}
		}},
		{"billing deletes a name contract out of funds", func(f *fixture, s closeScene) (func() error, []closed) {
			name := f.nameContract(s.alice, "alice-gw")
			return outOfFunds(f, name), []closed{{name, types.DeleteCauseOutOfFunds, f.foundation()}}
		}},
		{"billing deletes a rent contract out of funds with its node contracts", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.rentContract(s.alice, s.node.id)
			nc := f.nodeContract(s.alice, s.node.id, "a", 2)
			return outOfFunds(f, rent), []closed{
				{nc, types.DeleteCauseOutOfFunds, f.foundation()},
				{rent, types.DeleteCauseOutOfFunds, f.foundation()},
			}
		}},
	}
}

// TestEveryClosePathFreesEverything runs each close path and checks that every contract it closes is
// gone from the store and every index, has freed its IPs, left a tombstone the query serves, paid its
// deposit to the right account and been announced — and that nothing else was touched.
func TestEveryClosePathFreesEverything(t *testing.T) {
	for _, path := range closePaths() {
		t.Run(path.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.newWorld(5)
			s := closeScene{world: w, other: f.newNode(w.farm)}
			s.bystander = f.nodeContract(s.bob, s.other.id, "bystander", 1)
			run, want := path.setup(f, s)

			contracts := map[uint64]types.Contract{}
			recipients := map[string]sdkmath.Int{}
			for _, c := range want {
				contracts[c.id] = f.contract(c.id)
				recipients[c.recipient] = f.balance(c.recipient)
			}
			moduleBefore := f.moduleBalance()
			bystanderBefore := f.contract(s.bystander)
			bystanderIPs := f.heldBy(w.farm.id, s.bystander)
			require.Len(t, bystanderIPs, 1)

			deletedAt := blockTime.Add(time.Hour)
			f.ctx = f.ctx.WithBlockTime(deletedAt)
			f.resetEvents()
			require.NoError(t, run())

			canceled := map[uint64]*types.EventContractCanceled{}
			for _, ev := range typedEvents[*types.EventContractCanceled](f) {
				canceled[ev.ContractId] = ev
			}
			freed := map[uint64][]string{}
			for _, ev := range typedEvents[*types.EventPublicIpsFreed](f) {
				require.Equal(t, w.farm.id, ev.FarmId)
				freed[ev.ContractId] = ev.Ips
			}
			released := map[uint64]*types.EventContractDepositReleased{}
			for _, ev := range typedEvents[*types.EventContractDepositReleased](f) {
				released[ev.ContractId] = ev
			}
			require.Len(t, canceled, len(want), "one EventContractCanceled per closed contract")

			paid := map[string]sdkmath.Int{}
			for _, cl := range want {
				c := contracts[cl.id]
				f.requireGone(c)

				// IPs are free in the farm table and announced.
				for _, ip := range contractIPs(c) {
					require.Zero(t, f.farmIPs(w.farm.id)[ip], "IP %s of contract %d still held", ip, cl.id)
				}
				if ips := contractIPs(c); len(ips) > 0 {
					require.Equal(t, ips, freed[cl.id])
				} else {
					require.NotContains(t, freed, cl.id)
				}

				// Tombstone and query.
				tomb, err := f.k.Tombstones.Get(f.ctx, cl.id)
				require.NoError(t, err)
				require.Equal(t, types.Tombstone{
					Id: cl.id, TwinId: c.TwinId, NodeId: c.NodeID(), Kind: c.ContractKind(), DeleteCause: cl.cause, DeletedAt: deletedAt.Unix(),
					CreatedAt: c.CreatedAt,
				}, tomb)
				res, err := f.q.Contract(f.ctx, &types.QueryContractRequest{Id: cl.id})
				require.NoError(t, err)
				require.Equal(t, types.ContractStateDeleted, res.Contract.State)
				require.Equal(t, cl.cause, res.Contract.DeleteCause)
				require.Equal(t, deletedAt.Unix(), res.DeletedAt)
				require.Equal(t, c.TwinId, res.Contract.TwinId)
				require.Equal(t, c.ContractKind(), res.Contract.ContractKind())
				require.Equal(t, c.NodeID(), res.Contract.NodeID())

				// Event.
				require.Equal(t, &types.EventContractCanceled{
					ContractId: cl.id, NodeId: c.NodeID(), TwinId: c.TwinId, Cause: cl.cause, Kind: c.ContractKind(),
				}, canceled[cl.id])
				require.Equal(t, &types.EventContractDepositReleased{
					ContractId: cl.id, Amount: deposit.String(), Recipient: cl.recipient, Forfeited: cl.cause == types.DeleteCauseOutOfFunds,
				}, released[cl.id])

				if paid[cl.recipient].IsNil() {
					paid[cl.recipient] = sdkmath.ZeroInt()
				}
				paid[cl.recipient] = paid[cl.recipient].Add(c.Deposit)
			}

			// Deposits went to their recipients, out of the module account.
			total := sdkmath.ZeroInt()
			for acc, amt := range paid {
				require.Equal(t, recipients[acc].Add(amt), f.balance(acc), "balance of %s", acc)
				total = total.Add(amt)
			}
			require.Equal(t, moduleBefore.Sub(total), f.moduleBalance())

			// The bystander is untouched.
			require.Equal(t, bystanderBefore, f.contract(s.bystander))
			require.Equal(t, bystanderIPs, f.heldBy(w.farm.id, s.bystander))
			f.requireInvariants()
		})
	}
}

// requireGone checks that a contract is in neither the store nor any index.
func (f *fixture) requireGone(c types.Contract) {
	t := f.t
	t.Helper()
	_, err := f.k.GetContract(f.ctx, c.Id)
	requireErr(t, err, types.ErrContractNotFound, id(c.Id))

	has, err := f.k.ContractsByTwin.Has(f.ctx, collections.Join(c.TwinId, c.Id))
	require.NoError(t, err)
	require.False(t, has, "contract %d still in contracts_by_twin", c.Id)
	switch kind := c.Kind.(type) {
	case *types.Contract_NodeContract:
		has, err = f.k.ContractByNodeHash.Has(f.ctx, collections.Join(kind.NodeContract.NodeId, kind.NodeContract.DeploymentHash))
		require.NoError(t, err)
		require.False(t, has, "contract %d still in contract_by_node_hash", c.Id)
	case *types.Contract_NameContract:
		has, err = f.k.NameContractByName.Has(f.ctx, kind.NameContract.Name)
		require.NoError(t, err)
		require.False(t, has, "contract %d still in name_contract_by_name", c.Id)
	case *types.Contract_RentContract:
		has, err = f.k.RentContractByNode.Has(f.ctx, kind.RentContract.NodeId)
		require.NoError(t, err)
		require.False(t, has, "contract %d still in rent_contract_by_node", c.Id)
	}

	// No index entry anywhere names the id.
	walkPairs := func(name string, set collections.KeySet[collections.Pair[uint64, uint64]]) {
		require.NoError(t, set.Walk(f.ctx, nil, func(k collections.Pair[uint64, uint64]) (bool, error) {
			require.NotEqual(t, c.Id, k.K2(), "%s still names contract %d", name, c.Id)
			return false, nil
		}))
	}
	walkPairs("contracts_by_twin", f.k.ContractsByTwin)
	require.NoError(t, f.k.ContractByNodeHash.Walk(f.ctx, nil, func(_ collections.Pair[uint64, string], v uint64) (bool, error) {
		require.NotEqual(t, c.Id, v)
		return false, nil
	}))
	require.NoError(t, f.k.RentContractByNode.Walk(f.ctx, nil, func(_, v uint64) (bool, error) {
		require.NotEqual(t, c.Id, v)
		return false, nil
	}))
	require.NoError(t, f.k.NameContractByName.Walk(f.ctx, nil, func(_ string, v uint64) (bool, error) {
		require.NotEqual(t, c.Id, v)
		return false, nil
	}))
	require.NoError(t, f.grid.WalkPublicIPs(f.ctx, func(ip tfgridtypes.PublicIP) error {
		require.NotEqual(t, c.Id, ip.ContractId, "farm IP %s still held by contract %d", ip.Ip, c.Id)
		return nil
	}))
}

func TestCloseNeverExistingContract(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	requireErr(t, f.cancel(w.alice, 42), types.ErrContractNotFound, "42")
	_, err := f.msg.CancelContractByAuthority(f.ctx, &types.MsgCancelContractByAuthority{Authority: f.authority, ContractId: 42})
	requireErr(t, err, types.ErrContractNotFound, "42")
	requireErr(t, f.k.CancelContractByAuthority(f.ctx, 0), types.ErrContractNotFound, "0")
	_, err = f.q.Contract(f.ctx, &types.QueryContractRequest{Id: 42})
	requireErr(t, err, types.ErrContractNotFound, "42", "never existed")
}

func TestNodeDeletionDropsExtraFee(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	f.setExtraFee(w.node, 1000)
	rent := f.rentContract(w.alice, w.node.id)
	f.nodeContract(w.alice, w.node.id, "x", 1)

	_, err := f.gridMsg.DeleteNode(f.ctx, &tfgridtypes.MsgDeleteNode{Creator: w.node.twin.acc, NodeId: w.node.id})
	require.NoError(t, err)
	has, err := f.k.NodeExtraFees.Has(f.ctx, w.node.id)
	require.NoError(t, err)
	require.False(t, has)
	tomb, err := f.k.Tombstones.Get(f.ctx, rent)
	require.NoError(t, err)
	require.Equal(t, types.DeleteCauseNodeDeleted, tomb.DeleteCause)
	f.requireInvariants()

	// Deleting a node without contracts or fee is fine too.
	bare := f.newNode(w.farm)
	_, err = f.gridMsg.DeleteNode(f.ctx, &tfgridtypes.MsgDeleteNode{Creator: bare.twin.acc, NodeId: bare.id})
	require.NoError(t, err)
	f.requireInvariants()
}

// TestNodeDeletionRefusedByThirdParty: only the node twin or the farmer deletes a node; its contracts stay.
func TestNodeDeletionRefusedByThirdParty(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	_, err := f.gridMsg.DeleteNode(f.ctx, &tfgridtypes.MsgDeleteNode{Creator: w.alice.acc, NodeId: w.node.id})
	requireErr(t, err, tfgridtypes.ErrNotNodeTwin)
	require.Equal(t, types.ContractStateCreated, f.contract(nc).State)
	f.requireInvariants()
}

// contractIPs lists the IPs of a node contract, none for other kinds.
func contractIPs(c types.Contract) []string {
	if nc := c.GetNodeContract(); nc != nil {
		return nc.IPs()
	}
	return nil
}
