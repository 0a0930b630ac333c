package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// invariantScene has a contract of every kind, a deleted one, and a second farm.
type invariantScene struct {
	keepertest.World
	farm2            keepertest.Farm
	renter           keepertest.Node
	nc1, nc2, name   uint64
	rent, deletedOne uint64
}

func (f *fixture) newInvariantScene() invariantScene {
	s := invariantScene{World: f.NewWorld(3)}
	s.farm2 = f.NewFarm(1)
	s.renter = f.NewNode(s.Farm)
	s.nc1 = f.NodeContract(s.Alice, s.Node.ID, "one", 1)
	s.nc2 = f.NodeContract(s.Bob, s.Node.ID, "two", 1)
	s.name = f.NameContract(s.Alice, "name")
	s.rent = f.RentContract(s.Bob, s.renter.ID)
	s.deletedOne = f.NodeContract(s.Alice, s.Node.ID, "gone", 0)
	require.NoError(f.T, f.Cancel(s.Alice, s.deletedOne))
	return s
}

// markIP records contractID as the holder of a farm IP, bypassing the contract module.
func (f *fixture) markIP(ip string, contractID uint64) {
	f.T.Helper()
	pip, err := f.Grid.GetPublicIP(f.Ctx, ip)
	require.NoError(f.T, err)
	require.NoError(f.T, f.Grid.SetPublicIPContract(f.Ctx, pip, contractID))
}

// editContract rewrites a stored contract, bypassing the indexes.
func (f *fixture) editContract(cid uint64, edit func(*types.Contract)) {
	f.T.Helper()
	c := f.Contract(cid)
	edit(&c)
	require.NoError(f.T, f.SC.Contracts.Set(f.Ctx, cid, c))
}

func TestInvariantsDetectCorruption(t *testing.T) {
	f := newFixture(t)
	s := f.newInvariantScene()
	f.requireInvariants()
	must := func(err error) { require.NoError(f.T, err) }
	moduleAddr := authtypes.NewModuleAddress(types.ModuleName)

	cases := []struct {
		name     string
		corrupt  func()
		contains []string
	}{
		{"by-twin entry removed", func() { must(f.SC.ContractsByTwin.Remove(f.Ctx, collections.Join(s.Alice.Twin, s.nc1))) }, []string{"contracts_by_twin"}},
		{"hash entry removed", func() {
			must(f.SC.ContractByNodeHash.Remove(f.Ctx, collections.Join(s.Node.ID, keepertest.Hash("one"))))
		}, []string{"contract_by_node_hash"}},
		{"node-twin entry removed", func() {
			must(f.SC.NodeContractsByNodeTwin.Remove(f.Ctx, collections.Join3(s.Node.ID, s.Alice.Twin, s.nc1)))
		}, []string{"node_contracts_by_node_twin"}},
		{"stray node-twin entry of a deleted contract", func() {
			must(f.SC.NodeContractsByNodeTwin.Set(f.Ctx, collections.Join3(s.Node.ID, s.Alice.Twin, s.deletedOne)))
		}, []string{"node_contracts_by_node_twin", id(s.deletedOne)}},
		{"stray grace entry of a contract out of grace", func() { must(f.SC.ContractsInGrace.Set(f.Ctx, s.nc1)) },
			[]string{"contracts_in_grace", id(s.nc1)}},
		{"grace entry missing", func() {
			f.editContract(s.nc2, func(c *types.Contract) { c.State, c.GraceSince = types.ContractStateGracePeriod, 1 })
		}, []string{"contracts_in_grace", id(s.nc2)}},
		{"name entry removed", func() { must(f.SC.NameContractByName.Remove(f.Ctx, "name")) }, []string{"name_contract_by_name"}},
		{"rent entry removed", func() { must(f.SC.RentContractByNode.Remove(f.Ctx, s.renter.ID)) }, []string{"rent_contract_by_node"}},
		{"stray by-twin entry of a deleted contract", func() { must(f.SC.ContractsByTwin.Set(f.Ctx, collections.Join(s.Alice.Twin, s.deletedOne))) },
			[]string{"contracts_by_twin", id(s.deletedOne)}},
		{"history entry of a deleted contract removed", func() {
			must(f.SC.TwinContractHistory.Remove(f.Ctx, collections.Join(s.Alice.Twin, s.deletedOne)))
		}, []string{"twin_contract_history", id(s.deletedOne)}},
		{"history entry of a live contract removed", func() { must(f.SC.TwinContractHistory.Remove(f.Ctx, collections.Join(s.Bob.Twin, s.rent))) },
			[]string{"twin_contract_history", id(s.rent)}},
		{"history entry under another twin", func() { must(f.SC.TwinContractHistory.Set(f.Ctx, collections.Join(s.Bob.Twin, s.deletedOne))) },
			[]string{"twin_contract_history", id(s.deletedOne)}},
		{"stray history entry of a never-existing contract", func() { must(f.SC.TwinContractHistory.Set(f.Ctx, collections.Join(s.Alice.Twin, uint64(999)))) },
			[]string{"twin_contract_history", "999"}},
		{"stray hash entry", func() {
			must(f.SC.ContractByNodeHash.Set(f.Ctx, collections.Join(s.Node.ID, keepertest.Hash("gone")), s.deletedOne))
		},
			[]string{"contract_by_node_hash", keepertest.Hash("gone")}},
		{"stray name entry", func() { must(f.SC.NameContractByName.Set(f.Ctx, "ghost", 999)) }, []string{"name_contract_by_name", "ghost"}},
		{"stray rent entry", func() { must(f.SC.RentContractByNode.Set(f.Ctx, s.Node.ID, s.nc1)) }, []string{"rent_contract_by_node"}},
		{"index names the wrong contract", func() { must(f.SC.NameContractByName.Set(f.Ctx, "name", s.nc1)) }, []string{"name_contract_by_name", id(s.nc1)}},
		{"farm IP held by a deleted contract", func() { f.markIP(s.Farm.IPs[2], s.deletedOne) }, []string{s.Farm.IPs[2], id(s.deletedOne), "not a live node contract"}},
		{"farm IP held by a never-existing contract", func() { f.markIP(s.Farm.IPs[2], 999) }, []string{"999"}},
		{"farm IP held by a name contract", func() { f.markIP(s.Farm.IPs[2], s.name) }, []string{id(s.name), "not a live node contract"}},
		{"contract lists an IP the farm marks for someone else", func() { f.markIP(s.Farm.IPs[0], s.nc2) },
			[]string{s.Farm.IPs[0], id(s.nc2)}},
		{"contract lists an IP the farm marks free", func() { f.markIP(s.Farm.IPs[0], 0) }, []string{id(s.nc1), s.Farm.IPs[0]}},
		{"farm IP marked for a contract that does not list it", func() { f.markIP(s.Farm.IPs[2], s.nc1) },
			[]string{s.Farm.IPs[2], id(s.nc1), "does not list it"}},
		{"farm IP of another farm's node", func() {
			f.markIP(s.farm2.IPs[0], s.nc1)
			f.editContract(s.nc1, func(c *types.Contract) {
				nc := c.GetNodeContract()
				nc.PublicIps = append(nc.PublicIps, types.ContractPublicIP{Ip: s.farm2.IPs[0]})
				nc.PublicIpsCount++
			})
		}, []string{s.farm2.IPs[0], "another farm"}},
		{"public_ips_count does not match the IPs", func() {
			f.editContract(s.nc1, func(c *types.Contract) { c.GetNodeContract().PublicIpsCount = 2 })
		}, []string{id(s.nc1), "public_ips_count is 2"}},
		{"contract stored as deleted", func() {
			f.editContract(s.name, func(c *types.Contract) { c.State = types.ContractStateDeleted })
		}, []string{id(s.name), "CONTRACT_STATE_DELETED"}},
		{"live contract with a tombstone", func() {
			must(f.SC.Tombstones.Set(f.Ctx, s.name, types.Tombstone{Id: s.name, Kind: types.ContractKindName, DeleteCause: types.DeleteCauseCanceledByUser}))
		}, []string{id(s.name), "tombstone"}},
		{"module balance too high", func() { f.Bank.SetAmount(f.Ctx, moduleAddr, keepertest.Denom, f.moduleBalance().AddRaw(1)) }, []string{"module account holds"}},
		{"module balance too low", func() { f.Bank.SetAmount(f.Ctx, moduleAddr, keepertest.Denom, f.moduleBalance().SubRaw(1)) }, []string{"module account holds"}},
		{"deposit recorded wrong", func() {
			f.editContract(s.nc2, func(c *types.Contract) { c.Deposit = c.Deposit.Add(sdkmath.OneInt()) })
		}, []string{"module account holds"}},
	}
	for _, tc := range cases {
		f.run(tc.name, func(t *testing.T) {
			err := f.InCache(func() error {
				tc.corrupt()
				return f.SC.CheckInvariants(f.Ctx)
			})
			requireerr.Is(t, err, types.ErrInvariantBroken, tc.contains...)
		})
	}
	// The corruptions were discarded with their cache contexts.
	f.requireInvariants()
}

func TestInvariantsHoldThroughALifecycle(t *testing.T) {
	f := newFixture(t)
	s := f.newInvariantScene()
	steps := []func(){
		func() { require.NoError(t, f.SC.EnterGrace(f.Ctx, s.rent)) },
		func() { f.NodeContract(s.Bob, s.renter.ID, "renter's", 1) },
		func() { require.NoError(t, f.update(s.Alice, s.nc1, "one-v2")) },
		func() { require.NoError(t, f.SC.LeaveGrace(f.Ctx, s.rent)) },
		func() { require.NoError(t, f.Cancel(s.Node.Twin, s.nc2)) },
		func() {
			c := f.Contract(s.rent)
			require.NoError(t, f.SC.DeleteContract(f.Ctx, c, types.DeleteCauseOutOfFunds))
		},
		func() { f.NodeContract(s.Alice, s.Node.ID, "more", 2) },
	}
	for _, step := range steps {
		step()
		f.requireInvariants()
	}
}
