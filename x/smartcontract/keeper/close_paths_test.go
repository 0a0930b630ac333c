package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
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
	keepertest.World
	other     keepertest.Node // a second node of the same farm
	bystander uint64          // bob's node contract with one IP on other
}

// closePath builds contracts in a scene and returns the action closing some of them.
type closePath struct {
	name  string
	setup func(f *fixture, s closeScene) (run func() error, want []closed)
}

func closePaths() []closePath {
	authorityCancel := func(f *fixture, cid uint64) func() error {
		return func() error {
			_, err := f.SCMsg.CancelContractByAuthority(f.Ctx, &types.MsgCancelContractByAuthority{Authority: f.Authority, ContractId: cid})
			return err
		}
	}
	outOfFunds := func(f *fixture, cid uint64) func() error {
		return func() error {
			c, err := f.SC.GetContract(f.Ctx, cid)
			if err != nil {
				return err
			}
			return f.SC.DeleteContract(f.Ctx, c, types.DeleteCauseOutOfFunds)
		}
	}
	deleteNode := func(f *fixture, signer string, nodeID uint64) func() error {
		return func() error {
			_, err := f.GridMsg.DeleteNode(f.Ctx, &tfgridtypes.MsgDeleteNode{Creator: signer, NodeId: nodeID})
			return err
		}
	}
	return []closePath{
		{"user cancels a node contract", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.NodeContract(s.Alice, s.Node.ID, "x", 2)
			return func() error { return f.Cancel(s.Alice, nc) }, []closed{{nc, types.DeleteCauseCanceledByUser, s.Alice.Acc}}
		}},
		{"user cancels a name contract", func(f *fixture, s closeScene) (func() error, []closed) {
			name := f.NameContract(s.Alice, "alice-gw")
			return func() error { return f.Cancel(s.Alice, name) }, []closed{{name, types.DeleteCauseCanceledByUser, s.Alice.Acc}}
		}},
		{"user cancels an idle rent contract", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.RentContract(s.Alice, s.Node.ID)
			return func() error { return f.Cancel(s.Alice, rent) }, []closed{{rent, types.DeleteCauseCanceledByUser, s.Alice.Acc}}
		}},
		{"node twin cancels a node contract", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.NodeContract(s.Alice, s.Node.ID, "x", 2)
			return func() error { return f.Cancel(s.Node.Twin, nc) }, []closed{{nc, types.DeleteCauseCanceledByNode, s.Alice.Acc}}
		}},
		{"authority cancels a node contract", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.NodeContract(s.Alice, s.Node.ID, "x", 2)
			return authorityCancel(f, nc), []closed{{nc, types.DeleteCauseCanceledByAuthority, s.Alice.Acc}}
		}},
		{"authority cancels a name contract", func(f *fixture, s closeScene) (func() error, []closed) {
			name := f.NameContract(s.Alice, "alice-gw")
			return authorityCancel(f, name), []closed{{name, types.DeleteCauseCanceledByAuthority, s.Alice.Acc}}
		}},
		{"authority cancels a rent contract with its node contracts", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.RentContract(s.Alice, s.Node.ID)
			nc1 := f.NodeContract(s.Alice, s.Node.ID, "a", 1)
			nc2 := f.NodeContract(s.Alice, s.Node.ID, "b", 2)
			return authorityCancel(f, rent), []closed{
				{nc1, types.DeleteCauseCanceledByAuthority, s.Alice.Acc},
				{nc2, types.DeleteCauseCanceledByAuthority, s.Alice.Acc},
				{rent, types.DeleteCauseCanceledByAuthority, s.Alice.Acc},
			}
		}},
		{"node twin deletes its node: node contracts of two twins", func(f *fixture, s closeScene) (func() error, []closed) {
			nc1 := f.NodeContract(s.Alice, s.Node.ID, "a", 1)
			nc2 := f.NodeContract(s.Bob, s.Node.ID, "b", 1)
			return deleteNode(f, s.Node.Twin.Acc, s.Node.ID), []closed{
				{nc1, types.DeleteCauseNodeDeleted, s.Alice.Acc},
				{nc2, types.DeleteCauseNodeDeleted, s.Bob.Acc},
			}
		}},
		{"farmer deletes a rented node: rent and node contracts", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.RentContract(s.Alice, s.Node.ID)
			nc := f.NodeContract(s.Alice, s.Node.ID, "a", 2)
			return deleteNode(f, s.Farm.Farmer.Acc, s.Node.ID), []closed{
				{nc, types.DeleteCauseNodeDeleted, s.Alice.Acc},
				{rent, types.DeleteCauseNodeDeleted, s.Alice.Acc},
			}
		}},
		{"billing deletes a node contract out of funds", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.NodeContract(s.Alice, s.Node.ID, "x", 2)
			return outOfFunds(f, nc), []closed{{nc, types.DeleteCauseOutOfFunds, f.foundation()}}
		}},
		{"billing deletes a node contract in grace out of funds", func(f *fixture, s closeScene) (func() error, []closed) {
			nc := f.NodeContract(s.Alice, s.Node.ID, "x", 1)
			require.NoError(f.T, f.SC.EnterGrace(f.Ctx, nc))
			return outOfFunds(f, nc), []closed{{nc, types.DeleteCauseOutOfFunds, f.foundation()}}
		}},
		{"billing deletes a name contract out of funds", func(f *fixture, s closeScene) (func() error, []closed) {
			name := f.NameContract(s.Alice, "alice-gw")
			return outOfFunds(f, name), []closed{{name, types.DeleteCauseOutOfFunds, f.foundation()}}
		}},
		{"billing deletes a rent contract out of funds with its node contracts", func(f *fixture, s closeScene) (func() error, []closed) {
			rent := f.RentContract(s.Alice, s.Node.ID)
			nc := f.NodeContract(s.Alice, s.Node.ID, "a", 2)
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
			w := f.NewWorld(5)
			s := closeScene{World: w, other: f.NewNode(w.Farm)}
			s.bystander = f.NodeContract(s.Bob, s.other.ID, "bystander", 1)
			run, want := path.setup(f, s)

			contracts := map[uint64]types.Contract{}
			recipients := map[string]sdkmath.Int{}
			for _, c := range want {
				contracts[c.id] = f.Contract(c.id)
				recipients[c.recipient] = f.Balance(c.recipient)
			}
			moduleBefore := f.moduleBalance()
			bystanderBefore := f.Contract(s.bystander)
			bystanderIPs := f.heldBy(w.Farm.ID, s.bystander)
			require.Len(t, bystanderIPs, 1)

			deletedAt := keepertest.BlockTime.Add(time.Hour)
			f.Ctx = f.Ctx.WithBlockTime(deletedAt)
			f.ResetEvents()
			require.NoError(t, run())

			canceled := map[uint64]*types.EventContractCanceled{}
			for _, ev := range typedEvents[*types.EventContractCanceled](f) {
				canceled[ev.ContractId] = ev
			}
			freed := map[uint64][]string{}
			for _, ev := range typedEvents[*types.EventPublicIpsFreed](f) {
				require.Equal(t, w.Farm.ID, ev.FarmId)
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
					require.Zero(t, f.farmIPs(w.Farm.ID)[ip], "IP %s of contract %d still held", ip, cl.id)
				}
				if ips := contractIPs(c); len(ips) > 0 {
					require.Equal(t, ips, freed[cl.id])
				} else {
					require.NotContains(t, freed, cl.id)
				}

				// Tombstone and query.
				tomb, err := f.SC.Tombstones.Get(f.Ctx, cl.id)
				require.NoError(t, err)
				require.Equal(t, types.Tombstone{
					Id: cl.id, TwinId: c.TwinId, NodeId: c.NodeID(), Kind: c.ContractKind(), DeleteCause: cl.cause, DeletedAt: deletedAt.Unix(),
					CreatedAt: c.CreatedAt,
				}, tomb)
				res, err := f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: cl.id})
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
				require.Equal(t, recipients[acc].Add(amt), f.Balance(acc), "balance of %s", acc)
				total = total.Add(amt)
			}
			require.Equal(t, moduleBefore.Sub(total), f.moduleBalance())

			// The bystander is untouched.
			require.Equal(t, bystanderBefore, f.Contract(s.bystander))
			require.Equal(t, bystanderIPs, f.heldBy(w.Farm.ID, s.bystander))
			f.requireInvariants()
		})
	}
}

// requireGone checks that a contract is in neither the store nor any index.
func (f *fixture) requireGone(c types.Contract) {
	t := f.T
	t.Helper()
	_, err := f.SC.GetContract(f.Ctx, c.Id)
	requireerr.Is(t, err, types.ErrContractNotFound, id(c.Id))

	has, err := f.SC.ContractsByTwin.Has(f.Ctx, collections.Join(c.TwinId, c.Id))
	require.NoError(t, err)
	require.False(t, has, "contract %d still in contracts_by_twin", c.Id)
	switch kind := c.Kind.(type) {
	case *types.Contract_NodeContract:
		has, err = f.SC.ContractByNodeHash.Has(f.Ctx, collections.Join(kind.NodeContract.NodeId, kind.NodeContract.DeploymentHash))
		require.NoError(t, err)
		require.False(t, has, "contract %d still in contract_by_node_hash", c.Id)
	case *types.Contract_NameContract:
		has, err = f.SC.NameContractByName.Has(f.Ctx, kind.NameContract.Name)
		require.NoError(t, err)
		require.False(t, has, "contract %d still in name_contract_by_name", c.Id)
	case *types.Contract_RentContract:
		has, err = f.SC.RentContractByNode.Has(f.Ctx, kind.RentContract.NodeId)
		require.NoError(t, err)
		require.False(t, has, "contract %d still in rent_contract_by_node", c.Id)
	}

	// No index entry anywhere names the id.
	walkPairs := func(name string, set collections.KeySet[collections.Pair[uint64, uint64]]) {
		require.NoError(t, set.Walk(f.Ctx, nil, func(k collections.Pair[uint64, uint64]) (bool, error) {
			require.NotEqual(t, c.Id, k.K2(), "%s still names contract %d", name, c.Id)
			return false, nil
		}))
	}
	walkPairs("contracts_by_twin", f.SC.ContractsByTwin)
	require.NoError(t, f.SC.ContractByNodeHash.Walk(f.Ctx, nil, func(_ collections.Pair[uint64, string], v uint64) (bool, error) {
		require.NotEqual(t, c.Id, v)
		return false, nil
	}))
	require.NoError(t, f.SC.RentContractByNode.Walk(f.Ctx, nil, func(_, v uint64) (bool, error) {
		require.NotEqual(t, c.Id, v)
		return false, nil
	}))
	require.NoError(t, f.SC.NameContractByName.Walk(f.Ctx, nil, func(_ string, v uint64) (bool, error) {
		require.NotEqual(t, c.Id, v)
		return false, nil
	}))
	require.NoError(t, f.Grid.WalkPublicIPs(f.Ctx, func(ip tfgridtypes.PublicIP) error {
		require.NotEqual(t, c.Id, ip.ContractId, "farm IP %s still held by contract %d", ip.Ip, c.Id)
		return nil
	}))
}

func TestCloseNeverExistingContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	requireerr.Is(t, f.Cancel(w.Alice, 42), types.ErrContractNotFound, "42")
	_, err := f.SCMsg.CancelContractByAuthority(f.Ctx, &types.MsgCancelContractByAuthority{Authority: f.Authority, ContractId: 42})
	requireerr.Is(t, err, types.ErrContractNotFound, "42")
	requireerr.Is(t, f.SC.CancelContractByAuthority(f.Ctx, 0), types.ErrContractNotFound, "0")
	_, err = f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: 42})
	requireerr.Is(t, err, types.ErrContractNotFound, "42", "never existed")
}

func TestNodeDeletionDropsExtraFee(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	f.setExtraFee(w.Node, 1000)
	rent := f.RentContract(w.Alice, w.Node.ID)
	f.NodeContract(w.Alice, w.Node.ID, "x", 1)

	_, err := f.GridMsg.DeleteNode(f.Ctx, &tfgridtypes.MsgDeleteNode{Creator: w.Node.Twin.Acc, NodeId: w.Node.ID})
	require.NoError(t, err)
	has, err := f.SC.NodeExtraFees.Has(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.False(t, has)
	tomb, err := f.SC.Tombstones.Get(f.Ctx, rent)
	require.NoError(t, err)
	require.Equal(t, types.DeleteCauseNodeDeleted, tomb.DeleteCause)
	f.requireInvariants()

	// Deleting a node without contracts or fee is fine too.
	bare := f.NewNode(w.Farm)
	_, err = f.GridMsg.DeleteNode(f.Ctx, &tfgridtypes.MsgDeleteNode{Creator: bare.Twin.Acc, NodeId: bare.ID})
	require.NoError(t, err)
	f.requireInvariants()
}

// TestNodeDeletionRefusedByThirdParty: only the node twin or the farmer deletes a node; its contracts stay.
func TestNodeDeletionRefusedByThirdParty(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	_, err := f.GridMsg.DeleteNode(f.Ctx, &tfgridtypes.MsgDeleteNode{Creator: w.Alice.Acc, NodeId: w.Node.ID})
	requireerr.Is(t, err, tfgridtypes.ErrNotNodeTwin)
	require.Equal(t, types.ContractStateCreated, f.Contract(nc).State)
	f.requireInvariants()
}

// contractIPs lists the IPs of a node contract, none for other kinds.
func contractIPs(c types.Contract) []string {
	if nc := c.GetNodeContract(); nc != nil {
		return nc.IPs()
	}
	return nil
}
