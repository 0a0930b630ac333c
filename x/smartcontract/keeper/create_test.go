package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestCreateNodeContractReservesIPsAndLocksDeposit(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(3)
	f.resetEvents()

	id := f.nodeContract(w.alice, w.node.id, "web", 2)
	require.Equal(t, uint64(1), id, "contract ids start at 1")

	c := f.contract(id)
	require.Equal(t, w.alice.twin, c.TwinId)
	require.Equal(t, types.ContractStateCreated, c.State)
	require.Equal(t, blockTime.Unix(), c.CreatedAt)
	require.Zero(t, c.GraceSince)
	require.Equal(t, deposit, c.Deposit)
	nc := c.GetNodeContract()
	require.NotNil(t, nc)
	require.Equal(t, w.node.id, nc.NodeId)
	require.Equal(t, hash("web"), nc.DeploymentHash)
	require.Equal(t, []byte("data of web"), nc.DeploymentData)
	require.Equal(t, uint32(2), nc.PublicIpsCount)
	gw := "185.206.101.1"
	require.Equal(t, []types.ContractPublicIP{{Ip: w.farm.ips[0], Gateway: gw}, {Ip: w.farm.ips[1], Gateway: gw}}, nc.PublicIps,
		"first fit in address order")

	require.Equal(t, map[string]uint64{w.farm.ips[0]: id, w.farm.ips[1]: id, w.farm.ips[2]: 0}, f.farmIPs(w.farm.id))

	reserved := typedEvents[*types.EventPublicIpsReserved](f)
	require.Equal(t, []*types.EventPublicIpsReserved{{ContractId: id, FarmId: w.farm.id, Ips: w.farm.ips[:2]}}, reserved)
	created := typedEvents[*types.EventContractCreated](f)
	require.Equal(t, []*types.EventContractCreated{{
		ContractId: id, TwinId: w.alice.twin, Kind: types.ContractKindNode, NodeId: w.node.id,
		DeploymentHash: hash("web"), Deposit: deposit.String(), Resources: &tfgridtypes.Resources{},
	}}, created)

	require.Equal(t, sdkmath.NewInt(startBalance).Sub(deposit), f.balance(w.alice.acc))
	require.Equal(t, deposit, f.moduleBalance())

	// Every index knows the contract.
	got, err := f.k.ContractByNodeHash.Get(f.ctx, collections.Join(w.node.id, hash("web")))
	require.NoError(t, err)
	require.Equal(t, id, got)
	has, err := f.k.ContractsByTwin.Has(f.ctx, collections.Join(w.alice.twin, id))
	require.NoError(t, err)
	require.True(t, has)
	f.requireInvariants()
}

func TestCreateNodeContractFirstFitReusesFreedIPs(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(3)
	first := f.nodeContract(w.alice, w.node.id, "a", 2)
	second := f.nodeContract(w.bob, w.node.id, "b", 1)
	require.Equal(t, []string{w.farm.ips[2]}, f.heldBy(w.farm.id, second))

	require.NoError(t, f.cancel(w.alice, first))
	require.Empty(t, f.heldBy(w.farm.id, first))

	third := f.nodeContract(w.alice, w.node.id, "c", 1)
	require.Equal(t, []string{w.farm.ips[0]}, f.heldBy(w.farm.id, third), "the lowest free address is taken first")
	require.Equal(t, uint64(3), third, "ids are never reused")
	f.requireInvariants()
}

func TestCreateNodeContractWithoutIPs(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	f.resetEvents()
	id := f.nodeContract(w.alice, w.node.id, "empty", 0)
	c := f.contract(id)
	require.Empty(t, c.GetNodeContract().PublicIps)
	require.Empty(t, typedEvents[*types.EventPublicIpsReserved](f), "no IPs, no reservation event")
	f.requireInvariants()
}

func TestCreateNodeContractPreconditions(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(2)
	noTwin := f.newAccount()

	// A node whose farmer set its power target down, and one that reports itself down.
	downTarget := f.newNode(w.farm)
	_, err := f.gridMsg.ChangePowerTarget(f.ctx, &tfgridtypes.MsgChangePowerTarget{Creator: w.farm.farmer.acc, NodeId: downTarget.id, Target: tfgridtypes.PowerStateDown})
	require.NoError(t, err)
	downState := f.newNode(w.farm)
	_, err = f.gridMsg.ChangePowerState(f.ctx, &tfgridtypes.MsgChangePowerState{Creator: downState.twin.acc, State: tfgridtypes.PowerStateDown})
	require.NoError(t, err)

	// A node bob rents, a node of a dedicated farm, a node with an extra fee.
	rented := f.newNode(w.farm)
	rentID := f.rentContract(w.bob, rented.id)
	dedicatedFarm := f.newFarm(1)
	dedicated := f.newNode(dedicatedFarm)
	f.setFarmDedicated(dedicatedFarm.id, true)
	withFee := f.newNode(w.farm)
	f.setExtraFee(withFee, 5000)

	// A deployment that already has a contract on the node.
	existing := f.nodeContract(w.alice, w.node.id, "taken", 0)

	// A twin that cannot pay the deposit.
	poor := f.newUser()
	f.bank.SetAmount(f.ctx, f.bytes(poor.acc), denom, deposit.SubRaw(1))

	create := func(u string, nodeID uint64, h string, data []byte, ips uint32) func() error {
		return func() error {
			_, err := f.msg.CreateNodeContract(f.ctx, &types.MsgCreateNodeContract{
				Creator: u, NodeId: nodeID, DeploymentHash: h, DeploymentData: data, PublicIpsCount: ips,
			})
			return err
		}
	}
	good := hash("new")
	f.runErrCases([]errCase{
		{"no twin", create(noTwin, w.node.id, good, nil, 0), tfgridtypes.ErrTwinNotFound, []string{noTwin}},
		{"hash too short", create(w.alice.acc, w.node.id, good[:63], nil, 0), types.ErrInvalidDeploymentHash, []string{"63"}},
		{"hash too long", create(w.alice.acc, w.node.id, good+"0", nil, 0), types.ErrInvalidDeploymentHash, []string{"65"}},
		{"empty hash", create(w.alice.acc, w.node.id, "", nil, 0), types.ErrInvalidDeploymentHash, nil},
		{"uppercase hash", create(w.alice.acc, w.node.id, strings.ToUpper(good), nil, 0), types.ErrInvalidDeploymentHash, []string{"lowercase hex"}},
		{"non-hex hash", create(w.alice.acc, w.node.id, "g"+good[1:], nil, 0), types.ErrInvalidDeploymentHash, []string{"g" + good[1:]}},
		{"data too large", create(w.alice.acc, w.node.id, good, make([]byte, types.DefaultMaxDeploymentDataBytes+1), 0),
			types.ErrDeploymentDataTooLarge, []string{"8193", "8192"}},
		{"unknown node", create(w.alice.acc, 999, good, nil, 0), tfgridtypes.ErrNodeNotFound, []string{"999"}},
		{"power target down", create(w.alice.acc, downTarget.id, good, nil, 0), types.ErrNodeNotAvailable, []string{id(downTarget.id), "powered down"}},
		{"power state down", create(w.alice.acc, downState.id, good, nil, 0), types.ErrNodeNotAvailable, []string{id(downState.id), "powered down"}},
		{"rented by someone else", create(w.alice.acc, rented.id, good, nil, 0), types.ErrNodeNotAvailable,
			[]string{id(rented.id), "rented by twin " + id(w.bob.twin), id(rentID)}},
		{"dedicated farm without rent", create(w.alice.acc, dedicated.id, good, nil, 0), types.ErrNodeNotAvailable, []string{id(dedicated.id), "dedicated"}},
		{"extra fee without rent", create(w.alice.acc, withFee.id, good, nil, 0), types.ErrNodeNotAvailable, []string{id(withFee.id), "dedicated"}},
		{"duplicate node and hash", create(w.bob.acc, w.node.id, hash("taken"), nil, 0), types.ErrContractNotUnique,
			[]string{id(w.node.id), id(existing), hash("taken")}},
		{"not enough free IPs", create(w.alice.acc, w.node.id, good, nil, 3), tfgridtypes.ErrNotEnoughPublicIPs,
			[]string{"farm " + id(w.farm.id), "2 free", "asks 3"}},
		{"insufficient funds", create(poor.acc, w.node.id, good, nil, 0), sdkerrors.ErrInsufficientFunds, nil},
	})

	f.run("renter deploys on its rented node", func(t *testing.T) {
		f.nodeContract(w.bob, rented.id, "bob on his node", 0)
	})
	f.run("same hash on another node", func(t *testing.T) {
		f.nodeContract(w.bob, rented.id, "taken", 0)
	})
	f.run("node back up accepts contracts", func(t *testing.T) {
		_, err := f.gridMsg.ChangePowerState(f.ctx, &tfgridtypes.MsgChangePowerState{Creator: downState.twin.acc, State: tfgridtypes.PowerStateUp})
		require.NoError(t, err)
		f.nodeContract(w.alice, downState.id, "woken", 0)
	})
	f.run("data limit follows the param", func(t *testing.T) {
		p := types.DefaultParams()
		p.MaxDeploymentDataBytes = 10
		_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
		require.NoError(t, err)
		requireErr(t, create(w.alice.acc, w.node.id, good, make([]byte, 11), 0)(), types.ErrDeploymentDataTooLarge, "11", "10")
		require.NoError(t, create(w.alice.acc, w.node.id, good, make([]byte, 10), 0)())
		_, err = f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: types.DefaultParams()})
		require.NoError(t, err)
	})
	f.requireInvariants()
}

// TestNotEnoughIPsReservesNothing: the failing call leaves no trace even in its own context.
func TestNotEnoughIPsReservesNothing(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(3)
	holder := f.nodeContract(w.alice, w.node.id, "holder", 2)
	before := f.state()
	f.resetEvents()

	_, err := f.createNodeContract(w.bob, w.node.id, "greedy", 2)
	requireErr(t, err, tfgridtypes.ErrNotEnoughPublicIPs, "1 free", "asks 2")

	require.Equal(t, before, f.state(), "IP table, contracts, sequence and balances are unchanged")
	require.Equal(t, map[string]uint64{w.farm.ips[0]: holder, w.farm.ips[1]: holder, w.farm.ips[2]: 0}, f.farmIPs(w.farm.id))
	require.Empty(t, typedEvents[*types.EventPublicIpsReserved](f))
	require.Empty(t, typedEvents[*types.EventContractCreated](f))

	// The next contract gets the next id: the failed one used none up.
	require.Equal(t, holder+1, f.nodeContract(w.bob, w.node.id, "modest", 1))
	f.requireInvariants()
}

func TestInsufficientFundsWithIPsFailsTheTransaction(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(2)
	poor := f.newUser()
	f.bank.SetAmount(f.ctx, f.bytes(poor.acc), denom, deposit.SubRaw(1))
	before := f.state()

	err := f.inCache(func() error {
		_, err := f.createNodeContract(poor, w.node.id, "x", 1)
		return err
	})
	requireErr(t, err, sdkerrors.ErrInsufficientFunds)
	require.Equal(t, before, f.state(), "the failed transaction is rolled back")

	// Exactly the deposit is enough.
	f.bank.SetAmount(f.ctx, f.bytes(poor.acc), denom, deposit)
	f.nodeContract(poor, w.node.id, "x", 1)
	require.True(t, f.balance(poor.acc).IsZero())
	f.requireInvariants()
}

func TestZeroDepositParam(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	p := types.DefaultParams()
	p.ContractDeposit = sdkmath.ZeroInt()
	_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(t, err)

	broke := f.newUser()
	f.bank.SetAmount(f.ctx, f.bytes(broke.acc), denom, sdkmath.ZeroInt())
	cid := f.nodeContract(broke, w.node.id, "free", 0)
	require.True(t, f.contract(cid).Deposit.IsZero())
	require.True(t, f.moduleBalance().IsZero())
	require.NoError(t, f.cancel(broke, cid))
	f.requireInvariants()
}

func TestNameContracts(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	noTwin := f.newAccount()
	f.resetEvents()
	first := f.nameContract(w.alice, "my-gw_01")
	c := f.contract(first)
	require.Equal(t, "my-gw_01", c.GetNameContract().Name)
	require.Equal(t, []*types.EventContractCreated{{
		ContractId: first, TwinId: w.alice.twin, Kind: types.ContractKindName, Name: "my-gw_01", Deposit: deposit.String(),
	}}, typedEvents[*types.EventContractCreated](f))
	require.Equal(t, deposit, f.moduleBalance())

	create := func(u, name string) func() error {
		return func() error {
			_, err := f.msg.CreateNameContract(f.ctx, &types.MsgCreateNameContract{Creator: u, Name: name})
			return err
		}
	}
	cases := []errCase{
		{"no twin", create(noTwin, "free-name"), tfgridtypes.ErrTwinNotFound, nil},
		{"taken", create(w.bob.acc, "my-gw_01"), types.ErrNameTaken, []string{"my-gw_01", id(first)}},
	}
	for _, bad := range []string{"", "ab", strings.Repeat("a", 65), "Upper", "with space", "dot.ted", "ünï", "slash/x"} {
		cases = append(cases, errCase{"invalid " + bad, create(w.alice.acc, bad), types.ErrInvalidName, []string{bad}})
	}
	f.runErrCases(cases)

	// Boundaries are valid.
	f.nameContract(w.alice, "abc")
	f.nameContract(w.alice, strings.Repeat("z", 64))

	// Cancelling frees the name for anyone.
	require.NoError(t, f.cancel(w.alice, first))
	again := f.nameContract(w.bob, "my-gw_01")
	require.NotEqual(t, first, again)
	require.Equal(t, w.bob.twin, f.contract(again).TwinId)
	f.requireInvariants()
}

func TestRentContracts(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	noTwin := f.newAccount()

	rentID := f.rentContract(w.alice, w.node.id)
	c := f.contract(rentID)
	require.Equal(t, w.node.id, c.GetRentContract().NodeId)
	require.Equal(t, types.ContractKindRent, c.ContractKind())

	busy := f.newNode(w.farm) // runs bob's node contract
	bobsContract := f.nodeContract(w.bob, busy.id, "bob", 0)
	own := f.newNode(w.farm) // runs alice's own node contract
	f.nodeContract(w.alice, own.id, "alice", 0)

	create := func(u string, nodeID uint64) func() error {
		return func() error {
			_, err := f.msg.CreateRentContract(f.ctx, &types.MsgCreateRentContract{Creator: u, NodeId: nodeID})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"no twin", create(noTwin, busy.id), tfgridtypes.ErrTwinNotFound, nil},
		{"unknown node", create(w.bob.acc, 999), tfgridtypes.ErrNodeNotFound, []string{"999"}},
		{"second rent", create(w.bob.acc, w.node.id), types.ErrNodeRented, []string{id(w.node.id), id(rentID)}},
		{"second rent by the renter", create(w.alice.acc, w.node.id), types.ErrNodeRented, nil},
		{"someone else's node contracts", create(w.alice.acc, busy.id), types.ErrNodeHasActiveContracts, []string{id(busy.id), id(bobsContract)}},
		{"any node contract blocks a shared node", create(w.alice.acc, own.id), types.ErrNodeHasActiveContracts, nil},
	})

	f.run("dedicated farm may be rented over running node contracts", func(t *testing.T) {
		f.setFarmDedicated(w.farm.id, true)
		rent := f.rentContract(w.alice, busy.id)
		require.Equal(t, w.alice.twin, f.contract(rent).TwinId)
		f.setFarmDedicated(w.farm.id, false)
	})
	f.run("powered-down node may be rented", func(t *testing.T) {
		down := f.newNode(w.farm)
		_, err := f.gridMsg.ChangePowerTarget(f.ctx, &tfgridtypes.MsgChangePowerTarget{Creator: w.farm.farmer.acc, NodeId: down.id, Target: tfgridtypes.PowerStateDown})
		require.NoError(t, err)
		_, err = f.gridMsg.ChangePowerState(f.ctx, &tfgridtypes.MsgChangePowerState{Creator: down.twin.acc, State: tfgridtypes.PowerStateDown})
		require.NoError(t, err)
		f.rentContract(w.bob, down.id)
	})
	f.run("renter deploys with IPs on a dedicated node", func(t *testing.T) {
		dedicatedFarm := f.newFarm(1)
		node := f.newNode(dedicatedFarm)
		f.setFarmDedicated(dedicatedFarm.id, true)
		f.rentContract(w.bob, node.id)
		nc := f.nodeContract(w.bob, node.id, "on rented", 1)
		require.Equal(t, dedicatedFarm.ips, f.heldBy(dedicatedFarm.id, nc))
	})
	f.requireInvariants()
}

func TestSetDedicatedNodeExtraFee(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	noTwin := f.newAccount()
	other := f.newFarm(0)
	busy := f.newNode(w.farm)
	f.nodeContract(w.alice, busy.id, "x", 0)
	rented := f.newNode(w.farm)
	f.rentContract(w.bob, rented.id)

	set := func(u string, nodeID, fee uint64) func() error {
		return func() error {
			_, err := f.msg.SetDedicatedNodeExtraFee(f.ctx, &types.MsgSetDedicatedNodeExtraFee{Creator: u, NodeId: nodeID, ExtraFee: fee})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"unknown node", set(w.farm.farmer.acc, 999, 1), tfgridtypes.ErrNodeNotFound, []string{"999"}},
		{"no twin", set(noTwin, w.node.id, 1), tfgridtypes.ErrTwinNotFound, nil},
		{"a user", set(w.alice.acc, w.node.id, 1), types.ErrNotFarmer, []string{w.alice.acc, id(w.farm.id), id(w.node.id)}},
		{"the node's own twin", set(w.node.twin.acc, w.node.id, 1), types.ErrNotFarmer, nil},
		{"another farmer", set(other.farmer.acc, w.node.id, 1), types.ErrNotFarmer, nil},
		{"node contract running", set(w.farm.farmer.acc, busy.id, 1), types.ErrNodeHasActiveContracts, []string{id(busy.id)}},
		{"node rented", set(w.farm.farmer.acc, rented.id, 1), types.ErrNodeHasActiveContracts, []string{id(rented.id)}},
	})

	f.resetEvents()
	require.NoError(t, set(w.farm.farmer.acc, w.node.id, 2500)())
	fee, err := f.k.NodeExtraFees.Get(f.ctx, w.node.id)
	require.NoError(t, err)
	require.Equal(t, uint64(2500), fee)
	require.Equal(t, []*types.EventNodeExtraFeeSet{{NodeId: w.node.id, ExtraFee: 2500}}, typedEvents[*types.EventNodeExtraFeeSet](f))
	_, err = f.createNodeContract(w.alice, w.node.id, "y", 0)
	requireErr(t, err, types.ErrNodeNotAvailable, "dedicated")

	// 0 clears the fee: the node is shared again.
	require.NoError(t, set(w.farm.farmer.acc, w.node.id, 0)())
	has, err := f.k.NodeExtraFees.Has(f.ctx, w.node.id)
	require.NoError(t, err)
	require.False(t, has)
	f.nodeContract(w.alice, w.node.id, "y", 0)
	// Clearing a fee that was never set is harmless.
	require.NoError(t, set(w.farm.farmer.acc, f.newNode(w.farm).id, 0)())
	f.requireInvariants()
}

// TestFirstFitIsAddressOrder: first fit takes the lowest free addresses, .2 before .10 (not the
// lexicographic order of the stored keys).
func TestFirstFitIsAddressOrder(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(12) // .2 … .13
	first := f.nodeContract(w.alice, w.node.id, "a", 3)
	c := f.contract(first)
	require.Equal(t, w.farm.ips[:3], c.GetNodeContract().IPs())
	second := f.nodeContract(w.alice, w.node.id, "b", 8)
	c = f.contract(second)
	require.Equal(t, w.farm.ips[3:11], c.GetNodeContract().IPs(), "…, .9, .10, …")
	f.requireInvariants()
}
