package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// gasScene is a node of a dedicated farm that bob runs n node contracts on (from before the farm
// became dedicated) and alice rents; carol runs n node contracts on a node of an open farm. Contracts
// take no deposit: the module account's balance, whose digits cost gas, is then the same for every n.
type gasScene struct {
	world
	rent       uint64
	open       nodeFixture
	openFarmer user
}

func (f *fixture) newGasScene(n int) gasScene {
	f.t.Helper()
	params, err := f.k.Params.Get(f.ctx)
	require.NoError(f.t, err)
	params.ContractDeposit = sdkmath.ZeroInt()
	require.NoError(f.t, f.k.Params.Set(f.ctx, params))
	s := gasScene{world: f.newWorld(0)}
	openFarm := f.newFarm(0)
	s.open, s.openFarmer = f.newNode(openFarm), openFarm.farmer
	for i := range n {
		f.nodeContract(s.bob, s.node.id, "bob-"+id(uint64(i)), 0)
	}
	f.setFarmDedicated(s.farm.id, true)
	s.rent = f.rentContract(s.alice, s.node.id)
	carol := f.newUser()
	for i := range n {
		f.nodeContract(carol, s.open.id, "carol-"+id(uint64(i)), 0)
	}
	return s
}

// gasOf runs fn in a cache context with a fresh gas meter and returns the gas its store reads and
// writes cost, and its error.
func (f *fixture) gasOf(fn func() error) (uint64, error) {
	var gas uint64
	err := f.inCache(func() error {
		f.ctx = f.ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		err := fn()
		gas = f.ctx.GasMeter().GasConsumed()
		return err
	})
	return gas, err
}

// TestTxGasIndependentOfContractsOnNode: the node txs that only need to know whether a node (or a
// twin on a node) has contracts cost the same gas with 1 and with 50 contracts on the node.
func TestTxGasIndependentOfContractsOnNode(t *testing.T) {
	ops := []struct {
		name    string
		run     func(f *fixture, s gasScene) error
		wantErr error
	}{
		{"renter cancels its rent contract", func(f *fixture, s gasScene) error { return f.cancel(s.alice, s.rent) }, nil},
		{"rent contract enters grace", func(f *fixture, s gasScene) error { return f.k.EnterGrace(f.ctx, s.rent) }, nil},
		{"rent refused on a node with node contracts", func(f *fixture, s gasScene) error {
			_, err := f.msg.CreateRentContract(f.ctx, &types.MsgCreateRentContract{Creator: s.alice.acc, NodeId: s.open.id})
			return err
		}, types.ErrNodeHasActiveContracts},
		{"power-down refused on a node with contracts", func(f *fixture, s gasScene) error {
			_, err := f.gridMsg.ChangePowerTarget(f.ctx, &tfgridtypes.MsgChangePowerTarget{
				Creator: s.openFarmer.acc, NodeId: s.open.id, Target: tfgridtypes.PowerStateDown,
			})
			return err
		}, tfgridtypes.ErrNodeHasActiveContracts},
		{"extra fee refused on a node with contracts", func(f *fixture, s gasScene) error {
			_, err := f.msg.SetDedicatedNodeExtraFee(f.ctx, &types.MsgSetDedicatedNodeExtraFee{
				Creator: s.openFarmer.acc, NodeId: s.open.id, ExtraFee: 10,
			})
			return err
		}, types.ErrNodeHasActiveContracts},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			var gas []uint64
			for _, n := range []int{1, 50} {
				f := newFixture(t)
				s := f.newGasScene(n)
				used, err := f.gasOf(func() error { return op.run(f, s) })
				if op.wantErr == nil {
					require.NoError(t, err)
				} else {
					requireErr(t, err, op.wantErr)
				}
				require.Positive(t, used)
				gas = append(gas, used)
			}
			require.Equal(t, gas[0], gas[1], "gas with 1 and with 50 contracts on the node")
		})
	}
}
