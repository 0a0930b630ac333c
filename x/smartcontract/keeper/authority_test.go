package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestAuthorityMessagesRefuseOthers(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	for _, signer := range []struct{ name, acc string }{
		{"contract owner", w.alice.acc}, {"farmer", w.farm.farmer.acc}, {"empty", ""},
	} {
		f.runErrCases([]errCase{
			{"cancel-contract-by-authority by " + signer.name, func() error {
				_, err := f.msg.CancelContractByAuthority(f.ctx, &types.MsgCancelContractByAuthority{Authority: signer.acc, ContractId: nc})
				return err
			}, sdkerrors.ErrUnauthorized, []string{f.authority}},
			{"force-reset-farm-ip by " + signer.name, func() error {
				_, err := f.msg.ForceResetFarmIp(f.ctx, &types.MsgForceResetFarmIp{Authority: signer.acc, FarmId: w.farm.id, Ip: w.farm.ips[0]})
				return err
			}, sdkerrors.ErrUnauthorized, []string{f.authority}},
			{"update-params by " + signer.name, func() error {
				_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: signer.acc, Params: types.DefaultParams()})
				return err
			}, sdkerrors.ErrUnauthorized, []string{f.authority}},
		})
	}
}

func TestUpdateParams(t *testing.T) {
	f := newFixture(t)
	update := func(p types.Params) func() error {
		return func() error {
			_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
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
	f.resetEvents()
	require.NoError(t, update(p)())
	res, err := f.q.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, p, res.Params)
	require.Equal(t, []*types.EventParamsUpdated{{Params: &p}}, typedEvents[*types.EventParamsUpdated](f))

	// The new deposit applies to new contracts only; old ones give back what they locked.
	w := f.newWorld(0)
	cheap := f.nodeContract(w.alice, w.node.id, "cheap", 0)
	require.Equal(t, sdkmath.NewInt(5), f.contract(cheap).Deposit)
	require.NoError(t, update(types.DefaultParams())())
	dear := f.nodeContract(w.alice, w.node.id, "dear", 0)
	require.Equal(t, deposit, f.contract(dear).Deposit)
	require.Equal(t, deposit.AddRaw(5), f.moduleBalance())
	require.NoError(t, f.cancel(w.alice, cheap))
	require.Equal(t, deposit, f.moduleBalance())
	f.requireInvariants()
}

func TestForceResetFarmIP(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(3)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	otherFarm := f.newFarm(1)
	reset := func(farmID uint64, ip string) func() error {
		return func() error {
			_, err := f.msg.ForceResetFarmIp(f.ctx, &types.MsgForceResetFarmIp{Authority: f.authority, FarmId: farmID, Ip: ip})
			return err
		}
	}

	// A leaked IP: marked for a contract id that is not live.
	leaked, err := f.grid.GetPublicIP(f.ctx, w.farm.ips[2])
	require.NoError(t, err)
	require.NoError(t, f.grid.SetPublicIPContract(f.ctx, leaked, 77))

	f.runErrCases([]errCase{
		{"held by a live contract", reset(w.farm.id, w.farm.ips[0]), types.ErrPublicIPInUse, []string{w.farm.ips[0], id(nc)}},
		{"unknown IP", reset(w.farm.id, "185.206.250.9/24"), tfgridtypes.ErrPublicIPNotFound, []string{"185.206.250.9"}},
		{"not an IP", reset(w.farm.id, "nope"), tfgridtypes.ErrInvalidPublicIP, nil},
		{"IP of another farm", reset(otherFarm.id, w.farm.ips[2]), types.ErrInvalidContractState, []string{id(w.farm.id), id(otherFarm.id)}},
	})

	f.resetEvents()
	require.NoError(t, reset(w.farm.id, w.farm.ips[2])())
	require.Zero(t, f.farmIPs(w.farm.id)[w.farm.ips[2]])
	require.Equal(t, []*types.EventFarmIpForceReset{{FarmId: w.farm.id, Ip: w.farm.ips[2], PreviousContractId: 77}},
		typedEvents[*types.EventFarmIpForceReset](f))

	// A free IP: nothing to do, nothing announced. The bare address works as well as the CIDR.
	f.resetEvents()
	require.NoError(t, reset(w.farm.id, "185.206.101.3")())
	require.Empty(t, typedEvents[*types.EventFarmIpForceReset](f))

	// The freed IP is reserved again.
	again := f.nodeContract(w.bob, w.node.id, "y", 2)
	require.Equal(t, w.farm.ips[1:], f.heldBy(w.farm.id, again))
	f.requireInvariants()
}

// TestForceResetAfterHolderDeleted: an IP whose holder was deleted (but was left marked, e.g. by an
// older bug) can be reset; the deleted contract has a tombstone, not a live entry.
func TestForceResetAfterHolderDeleted(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	require.NoError(t, f.cancel(w.alice, nc))
	ip, err := f.grid.GetPublicIP(f.ctx, w.farm.ips[0])
	require.NoError(t, err)
	require.NoError(t, f.grid.SetPublicIPContract(f.ctx, ip, nc))
	requireErr(t, f.k.CheckInvariants(f.ctx), types.ErrInvariantBroken, w.farm.ips[0], id(nc))

	_, err = f.msg.ForceResetFarmIp(f.ctx, &types.MsgForceResetFarmIp{Authority: f.authority, FarmId: w.farm.id, Ip: w.farm.ips[0]})
	require.NoError(t, err)
	f.requireInvariants()
	f.nodeContract(w.bob, w.node.id, "y", 1)
}

func TestCancelByAuthorityRentCascades(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(2)
	f.setFarmDedicated(w.farm.id, false)
	rent := f.rentContract(w.alice, w.node.id)
	nc := f.nodeContract(w.alice, w.node.id, "x", 2)
	elsewhere := f.nodeContract(w.bob, f.newNode(w.farm).id, "y", 0)

	_, err := f.msg.CancelContractByAuthority(f.ctx, &types.MsgCancelContractByAuthority{Authority: f.authority, ContractId: rent})
	require.NoError(t, err)
	for _, cid := range []uint64{rent, nc} {
		res, err := f.q.Contract(f.ctx, &types.QueryContractRequest{Id: cid})
		require.NoError(t, err)
		require.Equal(t, types.DeleteCauseCanceledByAuthority, res.Contract.DeleteCause)
	}
	require.Equal(t, types.ContractStateCreated, f.contract(elsewhere).State, "contracts on other nodes stay")
	require.Empty(t, f.heldBy(w.farm.id, nc))
	f.requireInvariants()
}
