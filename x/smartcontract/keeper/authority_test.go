package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestAuthorityMessagesRefuseOthers(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	for _, signer := range []struct{ name, acc string }{
		{"contract owner", w.Alice.Acc}, {"farmer", w.Farm.Farmer.Acc}, {"empty", ""},
	} {
		f.runErrCases([]errCase{
			{"cancel-contract-by-authority by " + signer.name, func() error {
				_, err := f.SCMsg.CancelContractByAuthority(f.Ctx, &types.MsgCancelContractByAuthority{Authority: signer.acc, ContractId: nc})
				return err
			}, sdkerrors.ErrUnauthorized, []string{f.Authority}},
			{"force-reset-farm-ip by " + signer.name, func() error {
				_, err := f.SCMsg.ForceResetFarmIp(f.Ctx, &types.MsgForceResetFarmIp{Authority: signer.acc, FarmId: w.Farm.ID, Ip: w.Farm.IPs[0]})
				return err
			}, sdkerrors.ErrUnauthorized, []string{f.Authority}},
			{"update-params by " + signer.name, func() error {
				_, err := f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: signer.acc, Params: types.DefaultParams()})
				return err
			}, sdkerrors.ErrUnauthorized, []string{f.Authority}},
		})
	}
}

func TestUpdateParams(t *testing.T) {
	f := newFixture(t)
	update := func(p types.Params) func() error {
		return func() error {
			_, err := f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
			return err
		}
	}
	f.runErrCases([]errCase{
		{"zero data limit", update(types.Params{MaxDeploymentDataBytes: 0, ContractDeposit: deposit}), types.ErrInvalidParams, []string{"max_deployment_data_bytes 0"}},
		{"data limit above the cap", update(types.Params{MaxDeploymentDataBytes: 64*1024 + 1, ContractDeposit: deposit}), types.ErrInvalidParams, []string{"65537"}},
		{"negative deposit", update(types.Params{MaxDeploymentDataBytes: 1, ContractDeposit: sdkmath.NewInt(-1)}), types.ErrInvalidParams, []string{"contract_deposit -1"}},
		{"nil deposit", update(types.Params{MaxDeploymentDataBytes: 1}), types.ErrInvalidParams, []string{"contract_deposit"}},
	})

	p := types.Params{MaxDeploymentDataBytes: 64 * 1024, ContractDeposit: sdkmath.NewInt(5)}
	f.ResetEvents()
	require.NoError(t, update(p)())
	res, err := f.q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, p, res.Params)
	require.Equal(t, []*types.EventParamsUpdated{{Params: &p}}, typedEvents[*types.EventParamsUpdated](f))

	// The new deposit applies to new contracts only; old ones give back what they locked.
	w := f.NewWorld(0)
	cheap := f.NodeContract(w.Alice, w.Node.ID, "cheap", 0)
	require.Equal(t, sdkmath.NewInt(5), f.Contract(cheap).Deposit)
	require.NoError(t, update(types.DefaultParams())())
	dear := f.NodeContract(w.Alice, w.Node.ID, "dear", 0)
	require.Equal(t, deposit, f.Contract(dear).Deposit)
	require.Equal(t, deposit.AddRaw(5), f.moduleBalance())
	require.NoError(t, f.Cancel(w.Alice, cheap))
	require.Equal(t, deposit, f.moduleBalance())
	f.requireInvariants()
}

func TestForceResetFarmIP(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(3)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	otherFarm := f.NewFarm(1)
	reset := func(farmID uint64, ip string) func() error {
		return func() error {
			_, err := f.SCMsg.ForceResetFarmIp(f.Ctx, &types.MsgForceResetFarmIp{Authority: f.Authority, FarmId: farmID, Ip: ip})
			return err
		}
	}

	// A leaked IP: marked for a contract id that is not live.
	leaked, err := f.Grid.GetPublicIP(f.Ctx, w.Farm.IPs[2])
	require.NoError(t, err)
	require.NoError(t, f.Grid.SetPublicIPContract(f.Ctx, leaked, 77))

	f.runErrCases([]errCase{
		{"held by a live contract", reset(w.Farm.ID, w.Farm.IPs[0]), types.ErrPublicIPInUse, []string{w.Farm.IPs[0], id(nc)}},
		{"unknown IP", reset(w.Farm.ID, "185.206.250.9/24"), tfgridtypes.ErrPublicIPNotFound, []string{"185.206.250.9"}},
		{"not an IP", reset(w.Farm.ID, "nope"), tfgridtypes.ErrInvalidPublicIP, nil},
		{"IP of another farm", reset(otherFarm.ID, w.Farm.IPs[2]), types.ErrInvalidContractState, []string{id(w.Farm.ID), id(otherFarm.ID)}},
	})

	f.ResetEvents()
	require.NoError(t, reset(w.Farm.ID, w.Farm.IPs[2])())
	require.Zero(t, f.farmIPs(w.Farm.ID)[w.Farm.IPs[2]])
	require.Equal(t, []*types.EventFarmIpForceReset{{FarmId: w.Farm.ID, Ip: w.Farm.IPs[2], PreviousContractId: 77}},
		typedEvents[*types.EventFarmIpForceReset](f))

	// A free IP: nothing to do, nothing announced. The bare address works as well as the CIDR.
	f.ResetEvents()
	require.NoError(t, reset(w.Farm.ID, "185.206.101.3")())
	require.Empty(t, typedEvents[*types.EventFarmIpForceReset](f))

	// The freed IP is reserved again.
	again := f.NodeContract(w.Bob, w.Node.ID, "y", 2)
	require.Equal(t, w.Farm.IPs[1:], f.heldBy(w.Farm.ID, again))
	f.requireInvariants()
}

// TestForceResetAfterHolderDeleted: an IP whose holder was deleted (but was left marked, e.g. by an
// older bug) can be reset; the deleted contract has a tombstone, not a live entry.
func TestForceResetAfterHolderDeleted(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	require.NoError(t, f.Cancel(w.Alice, nc))
	ip, err := f.Grid.GetPublicIP(f.Ctx, w.Farm.IPs[0])
	require.NoError(t, err)
	require.NoError(t, f.Grid.SetPublicIPContract(f.Ctx, ip, nc))
	requireerr.Is(t, f.SC.CheckInvariants(f.Ctx), types.ErrInvariantBroken, w.Farm.IPs[0], id(nc))

	_, err = f.SCMsg.ForceResetFarmIp(f.Ctx, &types.MsgForceResetFarmIp{Authority: f.Authority, FarmId: w.Farm.ID, Ip: w.Farm.IPs[0]})
	require.NoError(t, err)
	f.requireInvariants()
	f.NodeContract(w.Bob, w.Node.ID, "y", 1)
}

func TestCancelByAuthorityRentCascades(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(2)
	f.setFarmDedicated(w.Farm.ID, false)
	rent := f.RentContract(w.Alice, w.Node.ID)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 2)
	elsewhere := f.NodeContract(w.Bob, f.NewNode(w.Farm).ID, "y", 0)

	_, err := f.SCMsg.CancelContractByAuthority(f.Ctx, &types.MsgCancelContractByAuthority{Authority: f.Authority, ContractId: rent})
	require.NoError(t, err)
	for _, cid := range []uint64{rent, nc} {
		res, err := f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: cid})
		require.NoError(t, err)
		require.Equal(t, types.DeleteCauseCanceledByAuthority, res.Contract.DeleteCause)
	}
	require.Equal(t, types.ContractStateCreated, f.Contract(elsewhere).State, "contracts on other nodes stay")
	require.Empty(t, f.heldBy(w.Farm.ID, nc))
	f.requireInvariants()
}
