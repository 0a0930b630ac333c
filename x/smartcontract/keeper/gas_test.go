package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// gasScene is a node of a dedicated farm that bob runs n node contracts on (from before the farm
// became dedicated) and alice rents; carol runs n node contracts on a node of an open farm. Contracts
// take no deposit: the module account's balance, whose digits cost gas, is then the same for every n.
type gasScene struct {
	keepertest.World
	rent       uint64
	open       keepertest.Node
	openFarmer keepertest.User
}

func (f *fixture) newGasScene(n int) gasScene {
	f.T.Helper()
	params, err := f.SC.Params.Get(f.Ctx)
	require.NoError(f.T, err)
	params.ContractDeposit = sdkmath.ZeroInt()
	require.NoError(f.T, f.SC.Params.Set(f.Ctx, params))
	s := gasScene{World: f.NewWorld(0)}
	openFarm := f.NewFarm(0)
	s.open, s.openFarmer = f.NewNode(openFarm), openFarm.Farmer
	for i := range n {
		f.NodeContract(s.Bob, s.Node.ID, "bob-"+id(uint64(i)), 0)
	}
	f.setFarmDedicated(s.Farm.ID, true)
	s.rent = f.RentContract(s.Alice, s.Node.ID)
	carol := f.NewUser()
	for i := range n {
		f.NodeContract(carol, s.open.ID, "carol-"+id(uint64(i)), 0)
	}
	return s
}

// gasOf runs fn in a cache context with a fresh gas meter and returns the gas its store reads and
// writes cost, and its error.
func (f *fixture) gasOf(fn func() error) (uint64, error) {
	var gas uint64
	err := f.InCache(func() error {
		f.Ctx = f.Ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		err := fn()
		gas = f.Ctx.GasMeter().GasConsumed()
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
		{"renter cancels its rent contract", func(f *fixture, s gasScene) error { return f.Cancel(s.Alice, s.rent) }, nil},
		{"rent contract enters grace", func(f *fixture, s gasScene) error { return f.SC.EnterGrace(f.Ctx, s.rent) }, nil},
		{"rent refused on a node with node contracts", func(f *fixture, s gasScene) error {
			_, err := f.SCMsg.CreateRentContract(f.Ctx, &types.MsgCreateRentContract{Creator: s.Alice.Acc, NodeId: s.open.ID})
			return err
		}, types.ErrNodeHasActiveContracts},
		{"power-down refused on a node with contracts", func(f *fixture, s gasScene) error {
			_, err := f.GridMsg.ChangePowerTarget(f.Ctx, &tfgridtypes.MsgChangePowerTarget{
				Creator: s.openFarmer.Acc, NodeId: s.open.ID, Target: tfgridtypes.PowerStateDown,
			})
			return err
		}, tfgridtypes.ErrNodeHasActiveContracts},
		{"extra fee refused on a node with contracts", func(f *fixture, s gasScene) error {
			_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &types.MsgSetDedicatedNodeExtraFee{
				Creator: s.openFarmer.Acc, NodeId: s.open.ID, ExtraFee: 10,
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
					requireerr.Is(t, err, op.wantErr)
				}
				require.Positive(t, used)
				gas = append(gas, used)
			}
			require.Equal(t, gas[0], gas[1], "gas with 1 and with 50 contracts on the node")
		})
	}
}
