package app_test

// Regression tests of module bugs the simulation found.

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/app/apptesting"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// --- module bugs found by the simulation, now fixed -------------------------------------------------

// newBugWorld is a chain where every account has a twin, account 0 owns farm 1 (open to any node) and
// account 1 runs node 1 in it.
func newBugWorld(t *testing.T, accounts int) *apptesting.Chain {
	t.Helper()
	chain := apptesting.NewChain(t, accounts)
	for _, acc := range chain.Accounts {
		requireOK(t, chain.DeliverTx(acc, &types.MsgCreateTwin{Creator: acc.String()}))
	}
	farmer, nodeAcc := chain.Accounts[0], chain.Accounts[1]
	requireOK(t, chain.DeliverTx(farmer, &types.MsgCreateFarm{Creator: farmer.String(), Name: "farm-one"}))
	requireOK(t, chain.DeliverTx(farmer, &types.MsgSetFarmOpenRegistration{Creator: farmer.String(), FarmId: 1, Open: true}))
	requireOK(t, chain.DeliverTx(nodeAcc, &types.MsgCreateNode{
		Creator: nodeAcc.String(), FarmId: 1,
		Resources: types.Resources{Cru: 8, Sru: 512 * types.GiB, Mru: 16 * types.GiB},
		Location:  types.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
	}))
	return chain
}

// govExec runs an authority message as an executed proposal would, in the block being built.
func govExec(t *testing.T, chain *apptesting.Chain, msg sdk.Msg) {
	t.Helper()
	_, err := chain.App.MsgServiceRouter().Handler(msg)(chain.Ctx, msg)
	require.NoError(t, err)
	chain.NextBlock()
}

// Bug: governance may lower max_deployment_data_bytes below the data of live node contracts (the
// message only validates the params themselves), and genesis validation checks every live contract
// against the current limit. The exported state then fails ValidateGenesis and InitGenesis: a chain
// cannot be restarted from its own export. Either MsgUpdateParams must refuse a limit below the largest
// live deployment_data (as x/tfgrid does for max_farm_public_ips), or genesis must not re-check live
// contracts' data against a limit lowered after they were created.
func TestLoweredMaxDeploymentDataKeepsGenesisValid(t *testing.T) {
	chain := newBugWorld(t, 3)
	user := chain.Accounts[2]
	requireOK(t, chain.DeliverTx(user, &sctypes.MsgCreateNodeContract{
		Creator: user.String(), NodeId: 1, DeploymentHash: deploymentHash("big"), DeploymentData: make([]byte, 4000),
	}))
	params := sctypes.DefaultParams()
	params.MaxDeploymentDataBytes = 1024
	_, err := chain.App.MsgServiceRouter().Handler(&sctypes.MsgUpdateParams{})(chain.Ctx,
		&sctypes.MsgUpdateParams{Authority: chain.App.Authority(), Params: params})
	if err != nil {
		return // refusing the lower limit is a fix
	}
	chain.NextBlock()
	gs, err := chain.App.SmartcontractKeeper.ExportGenesis(chain.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate(sctypes.MaxDeploymentDataBytesCap), "the exported contracts must be a valid genesis")
}

// Bug: a rent contract's out-of-funds deletion takes down node contracts of OTHER twins on the node, with
// cause OUT_OF_FUNDS, and forfeits their deposits to the foundation although their owners paid. It is
// reachable whenever someone else's node contracts run on a rented node: the farm became dedicated after
// they were created, and a dedicated farm's node may be rented over someone else's node contracts (spec
// §2). The same cascade puts those contracts in grace when the rent enters grace, and the renter can
// never cancel the rent while they run. Node contracts of other twins should at least keep their
// deposit (cancelled with a cause that is not OUT_OF_FUNDS), or the rent should not be allowed over them.
func TestRentOutOfFundsKeepsOtherTwinsDeposits(t *testing.T) {
	chain := newBugWorld(t, 4)
	renter, other := chain.Accounts[2], chain.Accounts[3]
	k := chain.App.SmartcontractKeeper

	requireOK(t, chain.DeliverTx(other, &sctypes.MsgCreateNodeContract{Creator: other.String(), NodeId: 1, DeploymentHash: deploymentHash("other")}))
	govExec(t, chain, &types.MsgSetFarmDedicated{Authority: chain.App.Authority(), FarmId: 1, Dedicated: true})
	requireOK(t, chain.DeliverTx(renter, &sctypes.MsgCreateRentContract{Creator: renter.String(), NodeId: 1}))
	rentID, err := k.RentContractByNode.Get(chain.Ctx, 1)
	require.NoError(t, err)

	// The renter does not pay: its rent goes into grace and is deleted for lack of funds. The other
	// twin's contract neither follows it into grace nor out of the grid.
	require.NoError(t, k.EnterGrace(chain.Ctx, rentID))
	other1, err := k.GetContract(chain.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, sctypes.ContractStateCreated, other1.State)
	rent, err := k.GetContract(chain.Ctx, rentID)
	require.NoError(t, err)
	require.NoError(t, k.DeleteContract(chain.Ctx, rent, sctypes.DeleteCauseOutOfFunds))
	chain.NextBlock()
	_, err = k.GetContract(chain.Ctx, 1)
	require.NoError(t, err, "the other twin's contract must survive the renter's out-of-funds deletion")

	// And the other twin's contract does not lock a renter in: a new rent can be cancelled.
	requireOK(t, chain.DeliverTx(renter, &sctypes.MsgCreateRentContract{Creator: renter.String(), NodeId: 1}))
	rentID, err = k.RentContractByNode.Get(chain.Ctx, 1)
	require.NoError(t, err)
	requireOK(t, chain.DeliverTx(renter, &sctypes.MsgCancelContract{Creator: renter.String(), ContractId: rentID}))
}

// Bug (minor): a node's extra fee is the farmer's decision (MsgSetDedicatedNodeExtraFee is the farmer's),
// but it stays with the node when the node moves to another farm (MsgUpdateNode with a new farm_id, only
// allowed without contracts): the node is dedicated in its new farm at a price its new farmer never set.
// Moving a node should drop its extra fee, as deleting it does.
func TestNodeMoveDropsExtraFee(t *testing.T) {
	chain := newBugWorld(t, 3)
	farmer, nodeAcc, farmer2 := chain.Accounts[0], chain.Accounts[1], chain.Accounts[2]
	requireOK(t, chain.DeliverTx(farmer, &sctypes.MsgSetDedicatedNodeExtraFee{Creator: farmer.String(), NodeId: 1, ExtraFee: 500}))
	requireOK(t, chain.DeliverTx(farmer2, &types.MsgCreateFarm{Creator: farmer2.String(), Name: "farm-two"}))
	requireOK(t, chain.DeliverTx(farmer2, &types.MsgSetFarmOpenRegistration{Creator: farmer2.String(), FarmId: 2, Open: true}))
	node, err := chain.App.TfgridKeeper.GetNode(chain.Ctx, 1)
	require.NoError(t, err)
	requireOK(t, chain.DeliverTx(nodeAcc, &types.MsgUpdateNode{Creator: nodeAcc.String(), NodeId: 1, FarmId: 2,
		Resources: node.Resources, Location: node.Location}))
	fee, err := chain.App.SmartcontractKeeper.NodeExtraFee(chain.Ctx, 1)
	require.NoError(t, err)
	require.Zero(t, fee, "farm 2's node carries the extra fee farm 1's farmer set")
}

// --- module bugs found by the simulation, open ------------------------------------------------------

// Bug (x/smartcontract): a node contract leaves grace only if no rent contract on its node is in grace,
// whoever owns that rent (setGrace checks rentInGrace(node)), while a rent contract takes only its
// renter's node contracts in and out of grace. So twin A's node contract on a node twin B rents (a
// dedicated farm's node may be rented over other twins' contracts) stays in grace after A paid its
// debt, for as long as B's rent is in grace: billing's LeaveGrace is a silent no-op, A cannot update
// its deployment ("contract is in grace period"), and when B's rent is deleted for lack of funds A's
// contract is left in grace with nothing holding it, past its deadline, until its next settlement.
// The simulation saw it (TFGRID_SIM_SEED=52 TFGRID_SIM_BLOCKS=1500, contract 497, with the schedule
// check strict). The rent check in LeaveGrace should consider only a rent contract of the same twin.
func TestLeaveGraceIgnoresOtherTwinsRent(t *testing.T) {
	chain := newBugWorld(t, 4)
	owner, renter := chain.Accounts[2], chain.Accounts[3]
	k := chain.App.SmartcontractKeeper

	requireOK(t, chain.DeliverTx(owner, &sctypes.MsgCreateNodeContract{Creator: owner.String(), NodeId: 1, DeploymentHash: deploymentHash("owner")}))
	govExec(t, chain, &types.MsgSetFarmDedicated{Authority: chain.App.Authority(), FarmId: 1, Dedicated: true})
	requireOK(t, chain.DeliverTx(renter, &sctypes.MsgCreateRentContract{Creator: renter.String(), NodeId: 1}))
	rentID, err := k.RentContractByNode.Get(chain.Ctx, 1)
	require.NoError(t, err)

	// Neither pays: billing puts both in grace. Then the owner pays its debt and billing ends its grace.
	require.NoError(t, k.EnterGrace(chain.Ctx, 1))
	require.NoError(t, k.EnterGrace(chain.Ctx, rentID))
	require.NoError(t, k.LeaveGrace(chain.Ctx, 1))
	chain.NextBlock()
	c, err := k.GetContract(chain.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, sctypes.ContractStateCreated, c.State, "the owner paid: another twin's rent in grace must not keep its contract in grace")
	requireOK(t, chain.DeliverTx(owner, &sctypes.MsgUpdateNodeContract{Creator: owner.String(), ContractId: 1, DeploymentHash: deploymentHash("owner-2")}))
}
