package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestInvariantsCatchBrokenRegistry corrupts the registry behind the keeper's back, one way at a time:
// each is reported naming the collection and the object.
func TestInvariantsCatchBrokenRegistry(t *testing.T) {
	rawFarms := func(w *farmWorld) collections.Map[uint64, types.Farm] {
		return collections.NewMap(collections.NewSchemaBuilder(w.faults), types.FarmsKey, "raw_farms",
			collections.Uint64Key, codec.CollValue[types.Farm](w.Cdc))
	}
	cases := []struct {
		name     string
		corrupt  func(w *farmWorld) error
		contains []string
	}{
		{"farm beyond its sequence", func(w *farmWorld) error {
			return rawFarms(w).Set(w.Ctx, 3, types.Farm{Id: 3, TwinId: w.farmerTwin, Name: "gamma"})
		}, []string{"farm 3 stored under id 3 (last issued 2)"}},
		{"farm of an unknown twin", func(w *farmWorld) error {
			farm := w.farm(2)
			farm.TwinId = 99
			return rawFarms(w).Set(w.Ctx, 2, farm)
		}, []string{"farm 2 belongs to unknown twin 99"}},
		{"farm renamed behind its index", func(w *farmWorld) error {
			farm := w.farm(2)
			farm.Name = "renamed"
			return rawFarms(w).Set(w.Ctx, 2, farm)
		}, []string{"farms_by_name has beta → 2, which nothing needs"}},
		{"stray farms_by_twin entry", func(w *farmWorld) error {
			return w.Grid.Farms.Indexes.Twin.Reference(w.Ctx, 2, types.Farm{Id: 2, TwinId: w.farmerTwin},
				func() (types.Farm, error) { return types.Farm{}, collections.ErrNotFound })
		}, []string{"farms_by_twin"}},
		{"stray nodes_by_farm entry", func(w *farmWorld) error {
			return w.Grid.Nodes.Indexes.Farm.Reference(w.Ctx, 42, types.Node{Id: 42, FarmId: 1},
				func() (types.Node, error) { return types.Node{}, collections.ErrNotFound })
		}, []string{"nodes_by_farm has {1 42}"}},
		{"twin missing from twins_by_account", func(w *farmWorld) error {
			twin := w.twin(w.otherTwin)
			return w.Grid.Twins.Indexes.Account.Unreference(w.Ctx, twin.Id, func() (types.Twin, error) { return twin, nil })
		}, []string{"twins_by_account lacks"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newFarmWorld(t)
			require.NoError(t, w.Grid.CheckInvariants(w.Ctx))
			require.NoError(t, tc.corrupt(w))
			requireerr.Is(t, w.Grid.CheckInvariants(w.Ctx), types.ErrInvariantBroken, tc.contains...)
		})
	}
}
