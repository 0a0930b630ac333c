package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestCreateNodeContractReservesIPsAndLocksDeposit(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(3)
	f.ResetEvents()

	id := f.NodeContract(w.Alice, w.Node.ID, "web", 2)
	require.Equal(t, uint64(1), id, "contract ids start at 1")

	c := f.Contract(id)
	require.Equal(t, w.Alice.Twin, c.TwinId)
	require.Equal(t, types.ContractStateCreated, c.State)
	require.Equal(t, keepertest.BlockTime.Unix(), c.CreatedAt)
	require.Zero(t, c.GraceSince)
	require.Equal(t, deposit, c.Deposit)
	nc := c.GetNodeContract()
	require.NotNil(t, nc)
	require.Equal(t, w.Node.ID, nc.NodeId)
	require.Equal(t, keepertest.Hash("web"), nc.DeploymentHash)
	require.Equal(t, []byte("data of web"), nc.DeploymentData)
	require.Equal(t, uint32(2), nc.PublicIpsCount)
	gw := "185.206.101.1"
	require.Equal(t, []types.ContractPublicIP{{Ip: w.Farm.IPs[0], Gateway: gw}, {Ip: w.Farm.IPs[1], Gateway: gw}}, nc.PublicIps,
		"first fit in address order")

	require.Equal(t, map[string]uint64{w.Farm.IPs[0]: id, w.Farm.IPs[1]: id, w.Farm.IPs[2]: 0}, f.farmIPs(w.Farm.ID))

	reserved := typedEvents[*types.EventPublicIpsReserved](f)
	require.Equal(t, []*types.EventPublicIpsReserved{{ContractId: id, FarmId: w.Farm.ID, Ips: w.Farm.IPs[:2]}}, reserved)
	created := typedEvents[*types.EventContractCreated](f)
	require.Equal(t, []*types.EventContractCreated{{
		ContractId: id, TwinId: w.Alice.Twin, Kind: types.ContractKindNode, NodeId: w.Node.ID,
		DeploymentHash: keepertest.Hash("web"), Deposit: deposit.String(), Resources: &tfgridtypes.Resources{},
	}}, created)

	require.Equal(t, sdkmath.NewInt(keepertest.StartBalance).Sub(deposit), f.Balance(w.Alice.Acc))
	require.Equal(t, deposit, f.moduleBalance())

	// Every index knows the contract.
	got, err := f.SC.ContractByNodeHash.Get(f.Ctx, collections.Join(w.Node.ID, keepertest.Hash("web")))
	require.NoError(t, err)
	require.Equal(t, id, got)
	has, err := f.SC.ContractsByTwin.Has(f.Ctx, collections.Join(w.Alice.Twin, id))
	require.NoError(t, err)
	require.True(t, has)
	f.requireInvariants()
}

func TestCreateNodeContractFirstFitReusesFreedIPs(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(3)
	first := f.NodeContract(w.Alice, w.Node.ID, "a", 2)
	second := f.NodeContract(w.Bob, w.Node.ID, "b", 1)
	require.Equal(t, []string{w.Farm.IPs[2]}, f.heldBy(w.Farm.ID, second))

	require.NoError(t, f.Cancel(w.Alice, first))
	require.Empty(t, f.heldBy(w.Farm.ID, first))

	third := f.NodeContract(w.Alice, w.Node.ID, "c", 1)
	require.Equal(t, []string{w.Farm.IPs[0]}, f.heldBy(w.Farm.ID, third), "the lowest free address is taken first")
	require.Equal(t, uint64(3), third, "ids are never reused")
	f.requireInvariants()
}

func TestCreateNodeContractWithoutIPs(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	f.ResetEvents()
	id := f.NodeContract(w.Alice, w.Node.ID, "empty", 0)
	c := f.Contract(id)
	require.Empty(t, c.GetNodeContract().PublicIps)
	require.Empty(t, typedEvents[*types.EventPublicIpsReserved](f), "no IPs, no reservation event")
	f.requireInvariants()
}

func TestCreateNodeContractPreconditions(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(2)
	noTwin := f.NewAccount()

	// A node whose farmer set its power target down, and one that reports itself down.
	downTarget := f.NewNode(w.Farm)
	_, err := f.GridMsg.ChangePowerTarget(f.Ctx, &tfgridtypes.MsgChangePowerTarget{Creator: w.Farm.Farmer.Acc, NodeId: downTarget.ID, Target: tfgridtypes.PowerStateDown})
	require.NoError(t, err)
	downState := f.NewNode(w.Farm)
	_, err = f.GridMsg.ChangePowerState(f.Ctx, &tfgridtypes.MsgChangePowerState{Creator: downState.Twin.Acc, State: tfgridtypes.PowerStateDown})
	require.NoError(t, err)

	// A node bob rents, a node of a dedicated farm, a node with an extra fee.
	rented := f.NewNode(w.Farm)
	rentID := f.RentContract(w.Bob, rented.ID)
	dedicatedFarm := f.NewFarm(1)
	dedicated := f.NewNode(dedicatedFarm)
	f.setFarmDedicated(dedicatedFarm.ID, true)
	withFee := f.NewNode(w.Farm)
	f.setExtraFee(withFee, 5000)

	// A deployment that already has a contract on the node.
	existing := f.NodeContract(w.Alice, w.Node.ID, "taken", 0)

	// A twin that cannot pay the deposit.
	poor := f.NewUser()
	f.Bank.SetAmount(f.Ctx, f.Bytes(poor.Acc), keepertest.Denom, deposit.SubRaw(1))

	create := func(u string, nodeID uint64, h string, data []byte, ips uint32) func() error {
		return func() error {
			_, err := f.SCMsg.CreateNodeContract(f.Ctx, &types.MsgCreateNodeContract{
				Creator: u, NodeId: nodeID, DeploymentHash: h, DeploymentData: data, PublicIpsCount: ips,
			})
			return err
		}
	}
	good := keepertest.Hash("new")
	f.runErrCases([]errCase{
		{"no twin", create(noTwin, w.Node.ID, good, nil, 0), tfgridtypes.ErrTwinNotFound, []string{noTwin}},
		{"hash too short", create(w.Alice.Acc, w.Node.ID, good[:63], nil, 0), types.ErrInvalidDeploymentHash, []string{"63"}},
		{"hash too long", create(w.Alice.Acc, w.Node.ID, good+"0", nil, 0), types.ErrInvalidDeploymentHash, []string{"65"}},
		{"empty hash", create(w.Alice.Acc, w.Node.ID, "", nil, 0), types.ErrInvalidDeploymentHash, nil},
		{"uppercase hash", create(w.Alice.Acc, w.Node.ID, strings.ToUpper(good), nil, 0), types.ErrInvalidDeploymentHash, []string{"lowercase hex"}},
		{"non-hex hash", create(w.Alice.Acc, w.Node.ID, "g"+good[1:], nil, 0), types.ErrInvalidDeploymentHash, []string{"g" + good[1:]}},
		{"data too large", create(w.Alice.Acc, w.Node.ID, good, make([]byte, types.DefaultMaxDeploymentDataBytes+1), 0),
			types.ErrDeploymentDataTooLarge, []string{"8193", "8192"}},
		{"unknown node", create(w.Alice.Acc, 999, good, nil, 0), tfgridtypes.ErrNodeNotFound, []string{"999"}},
		{"power target down", create(w.Alice.Acc, downTarget.ID, good, nil, 0), types.ErrNodeNotAvailable, []string{id(downTarget.ID), "powered down"}},
		{"power state down", create(w.Alice.Acc, downState.ID, good, nil, 0), types.ErrNodeNotAvailable, []string{id(downState.ID), "powered down"}},
		{"rented by someone else", create(w.Alice.Acc, rented.ID, good, nil, 0), types.ErrNodeNotAvailable,
			[]string{id(rented.ID), "rented by twin " + id(w.Bob.Twin), id(rentID)}},
		{"dedicated farm without rent", create(w.Alice.Acc, dedicated.ID, good, nil, 0), types.ErrNodeNotAvailable, []string{id(dedicated.ID), "dedicated"}},
		{"extra fee without rent", create(w.Alice.Acc, withFee.ID, good, nil, 0), types.ErrNodeNotAvailable, []string{id(withFee.ID), "dedicated"}},
		{"duplicate node and hash", create(w.Bob.Acc, w.Node.ID, keepertest.Hash("taken"), nil, 0), types.ErrContractNotUnique,
			[]string{id(w.Node.ID), id(existing), keepertest.Hash("taken")}},
		{"not enough free IPs", create(w.Alice.Acc, w.Node.ID, good, nil, 3), tfgridtypes.ErrNotEnoughPublicIPs,
			[]string{"farm " + id(w.Farm.ID), "2 free", "asks 3"}},
		{"insufficient funds", create(poor.Acc, w.Node.ID, good, nil, 0), sdkerrors.ErrInsufficientFunds, nil},
	})

	f.run("renter deploys on its rented node", func(t *testing.T) {
		f.NodeContract(w.Bob, rented.ID, "bob on his node", 0)
	})
	f.run("same hash on another node", func(t *testing.T) {
		f.NodeContract(w.Bob, rented.ID, "taken", 0)
	})
	f.run("node back up accepts contracts", func(t *testing.T) {
		_, err := f.GridMsg.ChangePowerState(f.Ctx, &tfgridtypes.MsgChangePowerState{Creator: downState.Twin.Acc, State: tfgridtypes.PowerStateUp})
		require.NoError(t, err)
		f.NodeContract(w.Alice, downState.ID, "woken", 0)
	})
	f.run("data limit follows the param", func(t *testing.T) {
		p := types.DefaultParams()
		p.MaxDeploymentDataBytes = 10
		_, err := f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
		require.NoError(t, err)
		requireerr.Is(t, create(w.Alice.Acc, w.Node.ID, good, make([]byte, 11), 0)(), types.ErrDeploymentDataTooLarge, "11", "10")
		require.NoError(t, create(w.Alice.Acc, w.Node.ID, good, make([]byte, 10), 0)())
		_, err = f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: types.DefaultParams()})
		require.NoError(t, err)
	})
	f.requireInvariants()
}

// TestNotEnoughIPsReservesNothing: the failing call leaves no trace even in its own context.
func TestNotEnoughIPsReservesNothing(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(3)
	holder := f.NodeContract(w.Alice, w.Node.ID, "holder", 2)
	before := f.state()
	f.ResetEvents()

	_, err := f.CreateNodeContract(keepertest.NodeContractMsg(w.Bob, w.Node.ID, "greedy", 2))
	requireerr.Is(t, err, tfgridtypes.ErrNotEnoughPublicIPs, "1 free", "asks 2")

	require.Equal(t, before, f.state(), "IP table, contracts, sequence and balances are unchanged")
	require.Equal(t, map[string]uint64{w.Farm.IPs[0]: holder, w.Farm.IPs[1]: holder, w.Farm.IPs[2]: 0}, f.farmIPs(w.Farm.ID))
	require.Empty(t, typedEvents[*types.EventPublicIpsReserved](f))
	require.Empty(t, typedEvents[*types.EventContractCreated](f))

	// The next contract gets the next id: the failed one used none up.
	require.Equal(t, holder+1, f.NodeContract(w.Bob, w.Node.ID, "modest", 1))
	f.requireInvariants()
}

func TestInsufficientFundsWithIPsFailsTheTransaction(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(2)
	poor := f.NewUser()
	f.Bank.SetAmount(f.Ctx, f.Bytes(poor.Acc), keepertest.Denom, deposit.SubRaw(1))
	before := f.state()

	err := f.InCache(func() error {
		_, err := f.CreateNodeContract(keepertest.NodeContractMsg(poor, w.Node.ID, "x", 1))
		return err
	})
	requireerr.Is(t, err, sdkerrors.ErrInsufficientFunds)
	require.Equal(t, before, f.state(), "the failed transaction is rolled back")

	// Exactly the deposit is enough.
	f.Bank.SetAmount(f.Ctx, f.Bytes(poor.Acc), keepertest.Denom, deposit)
	f.NodeContract(poor, w.Node.ID, "x", 1)
	require.True(t, f.Balance(poor.Acc).IsZero())
	f.requireInvariants()
}

func TestZeroDepositParam(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	p := types.DefaultParams()
	p.ContractDeposit = sdkmath.ZeroInt()
	_, err := f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)

	broke := f.NewUser()
	f.Bank.SetAmount(f.Ctx, f.Bytes(broke.Acc), keepertest.Denom, sdkmath.ZeroInt())
	cid := f.NodeContract(broke, w.Node.ID, "free", 0)
	require.True(t, f.Contract(cid).Deposit.IsZero())
	require.True(t, f.moduleBalance().IsZero())
	require.NoError(t, f.Cancel(broke, cid))
	f.requireInvariants()
}

func TestNameContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	noTwin := f.NewAccount()
	f.ResetEvents()
	first := f.NameContract(w.Alice, "my-gw_01")
	c := f.Contract(first)
	require.Equal(t, "my-gw_01", c.GetNameContract().Name)
	require.Equal(t, []*types.EventContractCreated{{
		ContractId: first, TwinId: w.Alice.Twin, Kind: types.ContractKindName, Name: "my-gw_01", Deposit: deposit.String(),
	}}, typedEvents[*types.EventContractCreated](f))
	require.Equal(t, deposit, f.moduleBalance())

	create := func(u, name string) func() error {
		return func() error {
			_, err := f.SCMsg.CreateNameContract(f.Ctx, &types.MsgCreateNameContract{Creator: u, Name: name})
			return err
		}
	}
	cases := []errCase{
		{"no twin", create(noTwin, "free-name"), tfgridtypes.ErrTwinNotFound, nil},
		{"taken", create(w.Bob.Acc, "my-gw_01"), types.ErrNameTaken, []string{"my-gw_01", id(first)}},
	}
	for _, bad := range []string{"", "ab", strings.Repeat("a", 65), "Upper", "with space", "dot.ted", "ünï", "slash/x"} {
		cases = append(cases, errCase{"invalid " + bad, create(w.Alice.Acc, bad), types.ErrInvalidName, []string{bad}})
	}
	f.runErrCases(cases)

	// Boundaries are valid.
	f.NameContract(w.Alice, "abc")
	f.NameContract(w.Alice, strings.Repeat("z", 64))

	// Cancelling frees the name for anyone.
	require.NoError(t, f.Cancel(w.Alice, first))
	again := f.NameContract(w.Bob, "my-gw_01")
	require.NotEqual(t, first, again)
	require.Equal(t, w.Bob.Twin, f.Contract(again).TwinId)
	f.requireInvariants()
}

func TestRentContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	noTwin := f.NewAccount()

	rentID := f.RentContract(w.Alice, w.Node.ID)
	c := f.Contract(rentID)
	require.Equal(t, w.Node.ID, c.GetRentContract().NodeId)
	require.Equal(t, types.ContractKindRent, c.ContractKind())

	busy := f.NewNode(w.Farm) // runs bob's node contract
	bobsContract := f.NodeContract(w.Bob, busy.ID, "bob", 0)
	own := f.NewNode(w.Farm) // runs alice's own node contract
	f.NodeContract(w.Alice, own.ID, "alice", 0)

	create := func(u string, nodeID uint64) func() error {
		return func() error {
			_, err := f.SCMsg.CreateRentContract(f.Ctx, &types.MsgCreateRentContract{Creator: u, NodeId: nodeID})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"no twin", create(noTwin, busy.ID), tfgridtypes.ErrTwinNotFound, nil},
		{"unknown node", create(w.Bob.Acc, 999), tfgridtypes.ErrNodeNotFound, []string{"999"}},
		{"second rent", create(w.Bob.Acc, w.Node.ID), types.ErrNodeRented, []string{id(w.Node.ID), id(rentID)}},
		{"second rent by the renter", create(w.Alice.Acc, w.Node.ID), types.ErrNodeRented, nil},
		{"someone else's node contracts", create(w.Alice.Acc, busy.ID), types.ErrNodeHasActiveContracts, []string{id(busy.ID), id(bobsContract)}},
		{"any node contract blocks a shared node", create(w.Alice.Acc, own.ID), types.ErrNodeHasActiveContracts, nil},
	})

	f.run("dedicated farm may be rented over running node contracts", func(t *testing.T) {
		f.setFarmDedicated(w.Farm.ID, true)
		rent := f.RentContract(w.Alice, busy.ID)
		require.Equal(t, w.Alice.Twin, f.Contract(rent).TwinId)
		f.setFarmDedicated(w.Farm.ID, false)
	})
	f.run("powered-down node may be rented", func(t *testing.T) {
		down := f.NewNode(w.Farm)
		_, err := f.GridMsg.ChangePowerTarget(f.Ctx, &tfgridtypes.MsgChangePowerTarget{Creator: w.Farm.Farmer.Acc, NodeId: down.ID, Target: tfgridtypes.PowerStateDown})
		require.NoError(t, err)
		_, err = f.GridMsg.ChangePowerState(f.Ctx, &tfgridtypes.MsgChangePowerState{Creator: down.Twin.Acc, State: tfgridtypes.PowerStateDown})
		require.NoError(t, err)
		f.RentContract(w.Bob, down.ID)
	})
	f.run("renter deploys with IPs on a dedicated node", func(t *testing.T) {
		dedicatedFarm := f.NewFarm(1)
		node := f.NewNode(dedicatedFarm)
		f.setFarmDedicated(dedicatedFarm.ID, true)
		f.RentContract(w.Bob, node.ID)
		nc := f.NodeContract(w.Bob, node.ID, "on rented", 1)
		require.Equal(t, dedicatedFarm.IPs, f.heldBy(dedicatedFarm.ID, nc))
	})
	f.requireInvariants()
}

func TestSetDedicatedNodeExtraFee(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	noTwin := f.NewAccount()
	other := f.NewFarm(0)
	busy := f.NewNode(w.Farm)
	f.NodeContract(w.Alice, busy.ID, "x", 0)
	rented := f.NewNode(w.Farm)
	f.RentContract(w.Bob, rented.ID)

	set := func(u string, nodeID, fee uint64) func() error {
		return func() error {
			_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &types.MsgSetDedicatedNodeExtraFee{Creator: u, NodeId: nodeID, ExtraFee: fee})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"unknown node", set(w.Farm.Farmer.Acc, 999, 1), tfgridtypes.ErrNodeNotFound, []string{"999"}},
		{"no twin", set(noTwin, w.Node.ID, 1), tfgridtypes.ErrTwinNotFound, nil},
		{"a user", set(w.Alice.Acc, w.Node.ID, 1), types.ErrNotFarmer, []string{w.Alice.Acc, id(w.Farm.ID), id(w.Node.ID)}},
		{"the node's own twin", set(w.Node.Twin.Acc, w.Node.ID, 1), types.ErrNotFarmer, nil},
		{"another farmer", set(other.Farmer.Acc, w.Node.ID, 1), types.ErrNotFarmer, nil},
		{"node contract running", set(w.Farm.Farmer.Acc, busy.ID, 1), types.ErrNodeHasActiveContracts, []string{id(busy.ID)}},
		{"node rented", set(w.Farm.Farmer.Acc, rented.ID, 1), types.ErrNodeHasActiveContracts, []string{id(rented.ID)}},
	})

	f.ResetEvents()
	require.NoError(t, set(w.Farm.Farmer.Acc, w.Node.ID, 2500)())
	fee, err := f.SC.NodeExtraFees.Get(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, uint64(2500), fee)
	require.Equal(t, []*types.EventNodeExtraFeeSet{{NodeId: w.Node.ID, ExtraFee: 2500}}, typedEvents[*types.EventNodeExtraFeeSet](f))
	_, err = f.CreateNodeContract(keepertest.NodeContractMsg(w.Alice, w.Node.ID, "y", 0))
	requireerr.Is(t, err, types.ErrNodeNotAvailable, "dedicated")

	// 0 clears the fee: the node is shared again.
	require.NoError(t, set(w.Farm.Farmer.Acc, w.Node.ID, 0)())
	has, err := f.SC.NodeExtraFees.Has(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.False(t, has)
	f.NodeContract(w.Alice, w.Node.ID, "y", 0)
	// Clearing a fee that was never set is harmless.
	require.NoError(t, set(w.Farm.Farmer.Acc, f.NewNode(w.Farm).ID, 0)())
	f.requireInvariants()
}

// TestFirstFitIsAddressOrder: first fit takes the lowest free addresses, .2 before .10 (not the
// lexicographic order of the stored keys).
func TestFirstFitIsAddressOrder(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(12) // .2 … .13
	first := f.NodeContract(w.Alice, w.Node.ID, "a", 3)
	c := f.Contract(first)
	require.Equal(t, w.Farm.IPs[:3], c.GetNodeContract().IPs())
	second := f.NodeContract(w.Alice, w.Node.ID, "b", 8)
	c = f.Contract(second)
	require.Equal(t, w.Farm.IPs[3:11], c.GetNodeContract().IPs(), "…, .9, .10, …")
	f.requireInvariants()
}
