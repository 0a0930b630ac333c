package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// invariantScene has a contract of every kind, a deleted one, and a second farm.
type invariantScene struct {
	world
	farm2            farmFixture
	renter           nodeFixture
	nc1, nc2, name   uint64
	rent, deletedOne uint64
}

func (f *fixture) newInvariantScene() invariantScene {
	s := invariantScene{world: f.newWorld(3)}
	s.farm2 = f.newFarm(1)
	s.renter = f.newNode(s.farm)
	s.nc1 = f.nodeContract(s.alice, s.node.id, "one", 1)
	s.nc2 = f.nodeContract(s.bob, s.node.id, "two", 1)
	s.name = f.nameContract(s.alice, "name")
	s.rent = f.rentContract(s.bob, s.renter.id)
	s.deletedOne = f.nodeContract(s.alice, s.node.id, "gone", 0)
	require.NoError(f.t, f.cancel(s.alice, s.deletedOne))
	return s
}

// markIP records contractID as the holder of a farm IP, bypassing the contract module.
func (f *fixture) markIP(ip string, contractID uint64) {
	f.t.Helper()
	pip, err := f.grid.GetPublicIP(f.ctx, ip)
	require.NoError(f.t, err)
	require.NoError(f.t, f.grid.SetPublicIPContract(f.ctx, pip, contractID))
}

// editContract rewrites a stored contract, bypassing the indexes.
func (f *fixture) editContract(cid uint64, edit func(*types.Contract)) {
	f.t.Helper()
	c := f.contract(cid)
	edit(&c)
	require.NoError(f.t, f.k.Contracts.Set(f.ctx, cid, c))
}

func TestInvariantsDetectCorruption(t *testing.T) {
	f := newFixture(t)
	s := f.newInvariantScene()
	f.requireInvariants()
	must := func(err error) { require.NoError(f.t, err) }
	moduleAddr := authtypes.NewModuleAddress(types.ModuleName)

	cases := []struct {
		name     string
		corrupt  func()
		contains []string
	}{
		{"by-twin entry removed", func() { must(f.k.ContractsByTwin.Remove(f.ctx, collections.Join(s.alice.twin, s.nc1))) }, []string{"contracts_by_twin"}},
		{"hash entry removed", func() { must(f.k.ContractByNodeHash.Remove(f.ctx, collections.Join(s.node.id, hash("one")))) }, []string{"contract_by_node_hash"}},
		{"node-twin entry removed", func() {
			must(f.k.NodeContractsByNodeTwin.Remove(f.ctx, collections.Join3(s.node.id, s.alice.twin, s.nc1)))
		}, []string{"node_contracts_by_node_twin"}},
		{"stray node-twin entry of a deleted contract", func() {
			must(f.k.NodeContractsByNodeTwin.Set(f.ctx, collections.Join3(s.node.id, s.alice.twin, s.deletedOne)))
		}, []string{"node_contracts_by_node_twin", id(s.deletedOne)}},
		{"stray grace entry of a contract out of grace", func() { must(f.k.ContractsInGrace.Set(f.ctx, s.nc1)) },
			[]string{"contracts_in_grace", id(s.nc1)}},
		{"grace entry missing", func() {
			f.editContract(s.nc2, func(c *types.Contract) { c.State, c.GraceSince = types.ContractStateGracePeriod, 1 })
		}, []string{"contracts_in_grace", id(s.nc2)}},
		{"name entry removed", func() { must(f.k.NameContractByName.Remove(f.ctx, "name")) }, []string{"name_contract_by_name"}},
		{"rent entry removed", func() { must(f.k.RentContractByNode.Remove(f.ctx, s.renter.id)) }, []string{"rent_contract_by_node"}},
		{"stray by-twin entry of a deleted contract", func() { must(f.k.ContractsByTwin.Set(f.ctx, collections.Join(s.alice.twin, s.deletedOne))) },
			[]string{"contracts_by_twin", id(s.deletedOne)}},
		{"history entry of a deleted contract removed", func() {
			must(f.k.TwinContractHistory.Remove(f.ctx, collections.Join(s.alice.twin, s.deletedOne)))
		}, []string{"twin_contract_history", id(s.deletedOne)}},
		{"history entry of a live contract removed", func() { must(f.k.TwinContractHistory.Remove(f.ctx, collections.Join(s.bob.twin, s.rent))) },
			[]string{"twin_contract_history", id(s.rent)}},
		{"history entry under another twin", func() { must(f.k.TwinContractHistory.Set(f.ctx, collections.Join(s.bob.twin, s.deletedOne))) },
			[]string{"twin_contract_history", id(s.deletedOne)}},
		{"stray history entry of a never-existing contract", func() { must(f.k.TwinContractHistory.Set(f.ctx, collections.Join(s.alice.twin, uint64(999)))) },
			[]string{"twin_contract_history", "999"}},
		{"stray hash entry", func() {
			must(f.k.ContractByNodeHash.Set(f.ctx, collections.Join(s.node.id, hash("gone")), s.deletedOne))
		},
			[]string{"contract_by_node_hash", hash("gone")}},
		{"stray name entry", func() { must(f.k.NameContractByName.Set(f.ctx, "ghost", 999)) }, []string{"name_contract_by_name", "ghost"}},
		{"stray rent entry", func() { must(f.k.RentContractByNode.Set(f.ctx, s.node.id, s.nc1)) }, []string{"rent_contract_by_node"}},
		{"index names the wrong contract", func() { must(f.k.NameContractByName.Set(f.ctx, "name", s.nc1)) }, []string{"name_contract_by_name", id(s.nc1)}},
		{"farm IP held by a deleted contract", func() { f.markIP(s.farm.ips[2], s.deletedOne) }, []string{s.farm.ips[2], id(s.deletedOne), "not a live node contract"}},
		{"farm IP held by a never-existing contract", func() { f.markIP(s.farm.ips[2], 999) }, []string{"999"}},
		{"farm IP held by a name contract", func() { f.markIP(s.farm.ips[2], s.name) }, []string{id(s.name), "not a live node contract"}},
		{"contract lists an IP the farm marks for someone else", func() { f.markIP(s.farm.ips[0], s.nc2) },
			[]string{s.farm.ips[0], id(s.nc2)}},
		{"contract lists an IP the farm marks free", func() { f.markIP(s.farm.ips[0], 0) }, []string{id(s.nc1), s.farm.ips[0]}},
		{"farm IP marked for a contract that does not list it", func() { f.markIP(s.farm.ips[2], s.nc1) },
			[]string{s.farm.ips[2], id(s.nc1), "does not list it"}},
		{"farm IP of another farm's node", func() {
			f.markIP(s.farm2.ips[0], s.nc1)
			f.editContract(s.nc1, func(c *types.Contract) {
				nc := c.GetNodeContract()
				nc.PublicIps = append(nc.PublicIps, types.ContractPublicIP{Ip: s.farm2.ips[0]})
				nc.PublicIpsCount++
			})
		}, []string{s.farm2.ips[0], "another farm"}},
		{"public_ips_count does not match the IPs", func() {
			f.editContract(s.nc1, func(c *types.Contract) { c.GetNodeContract().PublicIpsCount = 2 })
		}, []string{id(s.nc1), "public_ips_count is 2"}},
		{"contract stored as deleted", func() {
			f.editContract(s.name, func(c *types.Contract) { c.State = types.ContractStateDeleted })
		}, []string{id(s.name), "CONTRACT_STATE_DELETED"}},
		{"live contract with a tombstone", func() {
			must(f.k.Tombstones.Set(f.ctx, s.name, types.Tombstone{Id: s.name, Kind: types.ContractKindName, DeleteCause: types.DeleteCauseCanceledByUser}))
		}, []string{id(s.name), "tombstone"}},
		{"module balance too high", func() { f.bank.SetAmount(f.ctx, moduleAddr, denom, f.moduleBalance().AddRaw(1)) }, []string{"module account holds"}},
		{"module balance too low", func() { f.bank.SetAmount(f.ctx, moduleAddr, denom, f.moduleBalance().SubRaw(1)) }, []string{"module account holds"}},
		{"deposit recorded wrong", func() {
			f.editContract(s.nc2, func(c *types.Contract) { c.Deposit = c.Deposit.Add(sdkmath.OneInt()) })
		}, []string{"module account holds"}},
	}
	for _, tc := range cases {
		f.run(tc.name, func(t *testing.T) {
			err := f.inCache(func() error {
				tc.corrupt()
				return f.k.CheckInvariants(f.ctx)
			})
			requireErr(t, err, types.ErrInvariantBroken, tc.contains...)
		})
	}
	// The corruptions were discarded with their cache contexts.
	f.requireInvariants()
}

func TestInvariantsHoldThroughALifecycle(t *testing.T) {
	f := newFixture(t)
	s := f.newInvariantScene()
	steps := []func(){
		func() { require.NoError(t, f.k.EnterGrace(f.ctx, s.rent)) },
		func() { f.nodeContract(s.bob, s.renter.id, "renter's", 1) },
		func() { require.NoError(t, f.update(s.alice, s.nc1, "one-v2")) },
		func() { require.NoError(t, f.k.LeaveGrace(f.ctx, s.rent)) },
		func() { require.NoError(t, f.cancel(s.node.twin, s.nc2)) },
		func() {
			c := f.contract(s.rent)
			require.NoError(t, f.k.DeleteContract(f.ctx, c, types.DeleteCauseOutOfFunds))
		},
		func() { f.nodeContract(s.alice, s.node.id, "more", 2) },
	}
	for _, step := range steps {
		step()
		f.requireInvariants()
	}
}
