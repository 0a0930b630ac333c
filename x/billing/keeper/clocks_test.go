package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestNodeTxGasIndependentOfContracts: a node's uptime report after an offline period and its power
// changes cost the same gas with 1 and with 40 contracts on the node, well within the fee-free limit
// (they used to settle every contract on the node, ~76k gas each).
func TestNodeTxGasIndependentOfContracts(t *testing.T) {
	ops := []struct {
		name string
		run  func(f *fixture, w keepertest.World)
	}{
		{"uptime report after an offline period", func(f *fixture, w keepertest.World) { f.uptime(w.Node) }},
		{"power down", func(f *fixture, w keepertest.World) { f.power(w.Node, tfgridtypes.PowerStateDown) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			gas := map[int]uint64{}
			for _, n := range []int{1, 40} {
				f := newFixture(t)
				w := f.NewWorld(0)
				f.setBalance(w.Alice.Acc, 1_000_000_000)
				for i := range n {
					f.nodeContractReserving(w.Alice, w.Node.ID, fmt.Sprintf("d%d", i), 0, tfgridtypes.Resources{}, 0)
				}
				f.advance(5 * hour)
				require.NoError(t, f.tx(func() error {
					f.Ctx = f.Ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
					op.run(f, w)
					gas[n] = f.Ctx.GasMeter().GasConsumed()
					return nil
				}))
				f.requireInvariants()
			}
			require.Equal(t, gas[1], gas[40], "gas with 1 and with 40 contracts on the node")
			require.Less(t, gas[40], uint64(200_000))
		})
	}
}
