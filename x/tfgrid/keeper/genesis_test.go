package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// buildRegistry fills the fixture through messages with a bit of everything: twins with relays and
// e2e keys, farms with free and reserved IPs, allow-lists, nodes with public configs, uptime, power
// changes, certification, attached limits, new policies, params with a certifier and a deleted node.
func buildRegistry(t *testing.T) *fixture {
	f := newFixture(t)
	certifier := f.NewAccount()
	f.setParams(func(p *types.Params) { p.NodeCertifiers = []string{certifier}; p.MaxFarmPublicIps = 10 })

	farmer := f.NewAccount()
	_, err := f.GridMsg.CreateTwin(f.Ctx, &types.MsgCreateTwin{Creator: farmer, Relays: []string{"wss://relay.grid.tf"}, E2EKey: e2eKey()})
	require.NoError(t, err)
	farmer2, _ := f.newTwin()
	var nodeAccs []string
	for range 4 {
		acc, _ := f.newTwin()
		nodeAccs = append(nodeAccs, acc)
	}
	f.CreateFarm(farmer, "alpha", ip(10), ip(11), ip(12))
	f.CreateFarm(farmer2, "beta", types.PublicIPInput{Ip: "185.206.123.5/24", Gateway: "185.206.123.1"})
	f.OpenFarm(farmer2, 2)
	f.allow(farmer, 1, 3)
	f.allow(farmer, 1, 4)
	f.allow(farmer, 1, 2)

	reserved, err := f.Grid.PublicIPs.Get(f.Ctx, "185.206.122.11")
	require.NoError(t, err)
	reserved.ContractId = 9
	require.NoError(t, f.Grid.PublicIPs.Set(f.Ctx, "185.206.122.11", reserved))

	_, err = f.GridMsg.CreatePricingPolicy(f.Ctx, &types.MsgCreatePricingPolicy{Authority: f.Authority, Policy: f.pricingPolicy("premium")})
	require.NoError(t, err)
	special := f.createFarmingPolicy(farmingPolicy("special"))
	f.attach(2, &types.FarmingPolicyLimits{FarmingPolicyId: special, Cu: 5, Su: 5, NodeCount: 1, End: keepertest.BlockTime.Unix() + 86400})

	f.createNode(nodeAccs[0], 1)
	f.createNode(nodeAccs[1], 1)
	f.createNode(nodeAccs[2], 2)
	f.createNode(nodeAccs[3], 2)
	_, err = f.GridMsg.SetNodePublicConfig(f.Ctx, &types.MsgSetNodePublicConfig{Creator: farmer, NodeId: 1,
		PublicConfig: &types.PublicConfig{Ipv4: "185.206.122.50/24", Gw4: "185.206.122.1", Domain: "gw.alpha.tf"}})
	require.NoError(t, err)
	f.Ctx = f.Ctx.WithBlockTime(keepertest.BlockTime.Add(time.Hour))
	_, err = f.GridMsg.ReportUptime(f.Ctx, &types.MsgReportUptime{Creator: nodeAccs[0], Uptime: 3600, TimestampHint: f.Ctx.BlockTime().Unix()})
	require.NoError(t, err)
	_, err = f.GridMsg.ChangePowerState(f.Ctx, &types.MsgChangePowerState{Creator: nodeAccs[2], State: types.PowerStateDown})
	require.NoError(t, err)
	_, err = f.GridMsg.ChangePowerTarget(f.Ctx, &types.MsgChangePowerTarget{Creator: farmer2, NodeId: 3, Target: types.PowerStateDown})
	require.NoError(t, err)
	_, err = f.GridMsg.SetNodeCertification(f.Ctx, &types.MsgSetNodeCertification{Signer: certifier, NodeId: 2, Certification: types.NodeCertificationCertified})
	require.NoError(t, err)
	_, err = f.GridMsg.DeleteNode(f.Ctx, &types.MsgDeleteNode{Creator: farmer2, NodeId: 4})
	require.NoError(t, err)
	return f
}

// freshKeeper is a registry on an empty store, sharing the fixture's accounts and hooks.
func freshKeeper(t *testing.T, f *fixture) *fixture {
	g := bareKeeper(t, f)
	g.hooks = f.hooks
	g.Grid.SetHooks(f.hooks)
	return g
}

// bareKeeper is a registry on an empty store without hooks, sharing the fixture's accounts, at the
// fixture's block time.
func bareKeeper(t *testing.T, f *fixture) *fixture {
	g := newBareFixture(t, keepertest.ShareAccounts(f.Accounts))
	g.Ctx = g.Ctx.WithBlockTime(f.Ctx.BlockTime())
	return g
}

func TestGenesisRoundTrip(t *testing.T) {
	f := buildRegistry(t)
	gs := f.export()
	require.NoError(t, gs.Validate(f.AC))
	require.Len(t, gs.Twins, 6)
	require.Len(t, gs.Farms, 2)
	require.Len(t, gs.PublicIps, 4)
	require.Len(t, gs.AllowedNodeTwins, 3)
	require.Len(t, gs.Nodes, 3)
	require.Len(t, gs.PricingPolicies, 2)
	require.Len(t, gs.FarmingPolicies, 3)
	require.Equal(t, uint64(5), gs.NextNodeId, "the deleted node's id stays used")

	// Through JSON, as the module does.
	bz, err := f.Cdc.MarshalJSON(gs)
	require.NoError(t, err)
	var decoded types.GenesisState
	require.NoError(t, f.Cdc.UnmarshalJSON(bz, &decoded))

	g := freshKeeper(t, f)
	require.NoError(t, g.Grid.InitGenesis(g.Ctx, decoded))
	require.Equal(t, gs, g.export())

	// Indexes were rebuilt: lookups work and uniqueness still holds.
	farm, err := g.q.FarmByName(g.Ctx, &types.QueryFarmByNameRequest{Name: "beta"})
	require.NoError(t, err)
	require.Equal(t, uint64(2), farm.Farm.Id)
	byTwin, err := g.q.NodeByTwin(g.Ctx, &types.QueryNodeByTwinRequest{TwinId: 5})
	require.NoError(t, err)
	require.Equal(t, uint64(3), byTwin.Node.Id)
	require.Len(t, g.farmIPs(1), 3)
	require.NoError(t, g.Grid.CheckInvariants(g.Ctx), "the per-farm IP counts are rebuilt")
	count, err := g.Grid.PublicIPCountByFarm.Get(g.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, uint64(3), count)
	_, err = g.GridMsg.AddFarmIp(g.Ctx, &types.MsgAddFarmIp{Creator: gs.Twins[1].Account, FarmId: 2, Ip: "185.206.122.12/26", Gateway: "185.206.122.1"})
	requireerr.Is(t, err, types.ErrPublicIPExists, "185.206.122.12")

	// Sequences continue where they were: ids are never reused.
	_, twinID := g.newTwin()
	require.Equal(t, uint64(7), twinID)
	acc := gs.Twins[5].Account // twin 6 lost its node 4
	res, err := g.GridMsg.CreateNode(g.Ctx, nodeMsg(acc, 2))
	require.NoError(t, err)
	require.Equal(t, uint64(5), res.NodeId)
	require.Equal(t, uint64(3), g.CreateFarm(gs.Twins[0].Account, "gamma"))
}

func TestInitGenesisRejectsInvalid(t *testing.T) {
	f := newFixture(t)
	g := freshKeeper(t, f)
	gs := f.export()
	gs.Farms = []types.Farm{{Id: 1, Name: "x", TwinId: 1, PricingPolicyId: 1, Certification: types.FarmCertificationNotCertified}}
	requireerr.Is(t, g.Grid.InitGenesis(g.Ctx, *gs), types.ErrInvalidGenesis)
}

func TestGenesisValidate(t *testing.T) {
	f := buildRegistry(t)
	valid := f.export()
	require.NoError(t, valid.Validate(f.AC))

	tests := []struct {
		name     string
		corrupt  func(gs *types.GenesisState)
		err      error
		contains []string
	}{
		{"params", func(gs *types.GenesisState) { gs.Params.TimestampDrift = 0 }, types.ErrInvalidParams, []string{"timestamp_drift 0"}},
		{"next twin id 0", func(gs *types.GenesisState) {
			gs.Twins, gs.Farms, gs.Nodes, gs.AllowedNodeTwins, gs.PublicIps, gs.NextTwinId = nil, nil, nil, nil, nil, 0
		},
			types.ErrInvalidGenesis, []string{"next_twin_id 0"}},
		{"next farming policy id 0", func(gs *types.GenesisState) { gs.NextFarmingPolicyId = 0 }, types.ErrInvalidGenesis, []string{"next_farming_policy_id 0"}},

		{"twin id 0", func(gs *types.GenesisState) { gs.Twins[0].Id = 0 }, types.ErrInvalidGenesis, []string{"twin id 0"}},
		{"twin id at next id", func(gs *types.GenesisState) { gs.NextTwinId = 6 }, types.ErrInvalidGenesis, []string{"twin id 6", "next id 6"}},
		{"duplicate twin id", func(gs *types.GenesisState) { gs.Twins[1].Id = 1 }, types.ErrInvalidGenesis, []string{"twin id 1", "duplicate"}},
		{"duplicate account", func(gs *types.GenesisState) { gs.Twins[1].Account = gs.Twins[0].Account }, types.ErrInvalidGenesis,
			[]string{"twin 2", "another twin"}},
		{"duplicate account in upper case", func(gs *types.GenesisState) { gs.Twins[1].Account = upper(gs.Twins[0].Account) }, types.ErrInvalidGenesis,
			[]string{"twin 2", "another twin"}},
		{"bad account", func(gs *types.GenesisState) { gs.Twins[1].Account = "cosmos1abc" }, types.ErrInvalidGenesis, []string{"twin 2", "cosmos1abc"}},
		{"short pubkey", func(gs *types.GenesisState) { gs.Twins[1].Pubkey = gs.Twins[1].Pubkey[:32] }, types.ErrInvalidGenesis,
			[]string{"twin 2", "got 32"}},
		{"bad relay", func(gs *types.GenesisState) { gs.Twins[0].Relays = []string{"https://x.tf"} }, types.ErrInvalidGenesis,
			[]string{"twin 1", "https://x.tf"}},
		{"bad e2e key", func(gs *types.GenesisState) { gs.Twins[0].E2EKey = []byte{1} }, types.ErrInvalidGenesis, []string{"twin 1", "e2e key 01"}},

		{"pricing policy id at next id", func(gs *types.GenesisState) { gs.NextPricingPolicyId = 2 }, types.ErrInvalidGenesis,
			[]string{"pricing policy id 2"}},
		{"duplicate pricing policy id", func(gs *types.GenesisState) { gs.PricingPolicies[1].Id = 1 }, types.ErrInvalidGenesis,
			[]string{"pricing policy id 1", "duplicate"}},
		{"duplicate pricing policy name", func(gs *types.GenesisState) { gs.PricingPolicies[1].Name = "default" }, types.ErrInvalidGenesis,
			[]string{"pricing policy 2", `"default"`}},
		{"invalid pricing policy", func(gs *types.GenesisState) { gs.PricingPolicies[1].DedicatedNodeDiscountPercent = 101 }, types.ErrInvalidGenesis,
			[]string{"pricing policy 2", "101"}},

		{"farming policy id at next id", func(gs *types.GenesisState) { gs.NextFarmingPolicyId = 3 }, types.ErrInvalidGenesis,
			[]string{"farming policy id 3"}},
		{"duplicate farming policy id", func(gs *types.GenesisState) { gs.FarmingPolicies[2].Id = 2 }, types.ErrInvalidGenesis,
			[]string{"farming policy id 2", "duplicate"}},
		{"invalid farming policy", func(gs *types.GenesisState) { gs.FarmingPolicies[2].MinimalUptime = 101 }, types.ErrInvalidGenesis,
			[]string{"farming policy 3", "101"}},

		{"farm id at next id", func(gs *types.GenesisState) { gs.NextFarmId = 2 }, types.ErrInvalidGenesis, []string{"farm id 2"}},
		{"duplicate farm id", func(gs *types.GenesisState) { gs.Farms[1].Id = 1 }, types.ErrInvalidGenesis, []string{"farm id 1", "duplicate"}},
		{"invalid farm name", func(gs *types.GenesisState) { gs.Farms[1].Name = "b" }, types.ErrInvalidGenesis, []string{"farm 2", `"b"`}},
		{"duplicate farm name", func(gs *types.GenesisState) { gs.Farms[1].Name = "alpha" }, types.ErrInvalidGenesis, []string{"farm 2", `"alpha"`}},
		{"farm of unknown twin", func(gs *types.GenesisState) { gs.Farms[1].TwinId = 60 }, types.ErrInvalidGenesis, []string{"farm 2", "twin 60"}},
		{"farm with unknown pricing policy", func(gs *types.GenesisState) { gs.Farms[1].PricingPolicyId = 3 }, types.ErrInvalidGenesis,
			[]string{"farm 2", "pricing policy 3"}},
		{"farm certification unspecified", func(gs *types.GenesisState) { gs.Farms[1].Certification = 0 }, types.ErrInvalidGenesis,
			[]string{"farm 2", "farm certification 0"}},
		{"farm limits with unknown policy", func(gs *types.GenesisState) { gs.Farms[1].FarmingPolicyLimits.FarmingPolicyId = 30 }, types.ErrInvalidGenesis,
			[]string{"farm 2", "farming policy 30"}},

		{"invalid public ip", func(gs *types.GenesisState) { gs.PublicIps[0].Ip = "10.1.1.1/24" }, types.ErrInvalidGenesis, []string{"10.1.1.1/24"}},
		{"duplicate public ip", func(gs *types.GenesisState) { gs.PublicIps[1].Ip = "185.206.122.10/25" }, types.ErrInvalidGenesis,
			[]string{"185.206.122.10", "duplicate"}},
		{"public ip of unknown farm", func(gs *types.GenesisState) { gs.PublicIps[0].FarmId = 8 }, types.ErrInvalidGenesis, []string{"farm 8"}},
		{"more ips than the cap", func(gs *types.GenesisState) { gs.Params.MaxFarmPublicIps = 2 }, types.ErrInvalidGenesis,
			[]string{"farm 1", "max_farm_public_ips (2)"}},

		{"allowed twin of unknown farm", func(gs *types.GenesisState) { gs.AllowedNodeTwins[0].FarmId = 5 }, types.ErrInvalidGenesis,
			[]string{"farm 5"}},
		{"allowed unknown twin", func(gs *types.GenesisState) { gs.AllowedNodeTwins[0].TwinId = 50 }, types.ErrInvalidGenesis,
			[]string{"twin 50"}},

		{"node id at next id", func(gs *types.GenesisState) { gs.NextNodeId = 3 }, types.ErrInvalidGenesis, []string{"node id 3"}},
		{"duplicate node id", func(gs *types.GenesisState) { gs.Nodes[1].Id = 1 }, types.ErrInvalidGenesis, []string{"node id 1", "duplicate"}},
		{"node of unknown farm", func(gs *types.GenesisState) { gs.Nodes[0].FarmId = 3 }, types.ErrInvalidGenesis, []string{"node 1", "farm 3"}},
		{"node of unknown twin", func(gs *types.GenesisState) { gs.Nodes[0].TwinId = 30 }, types.ErrInvalidGenesis, []string{"node 1", "twin 30"}},
		{"two nodes of one twin", func(gs *types.GenesisState) { gs.Nodes[1].TwinId = gs.Nodes[0].TwinId }, types.ErrInvalidGenesis,
			[]string{"node 2", "another node"}},
		{"node with unknown farming policy", func(gs *types.GenesisState) { gs.Nodes[0].FarmingPolicyId = 9 }, types.ErrInvalidGenesis,
			[]string{"node 1", "farming policy 9"}},
		{"node with invalid resources", func(gs *types.GenesisState) { gs.Nodes[0].Resources.Mru = 1 }, types.ErrInvalidGenesis,
			[]string{"node 1", "mru 1"}},
		{"node with invalid public config", func(gs *types.GenesisState) { gs.Nodes[0].PublicConfig.Domain = "-bad.tf" }, types.ErrInvalidGenesis,
			[]string{"node 1", "-bad.tf"}},
		{"node certification unspecified", func(gs *types.GenesisState) { gs.Nodes[0].Certification = 0 }, types.ErrInvalidGenesis,
			[]string{"node 1", "node certification 0"}},
		{"node power state unspecified", func(gs *types.GenesisState) { gs.Nodes[0].Power.State = 0 }, types.ErrInvalidGenesis,
			[]string{"node 1", "power.state 0"}},
		{"node power target unknown", func(gs *types.GenesisState) { gs.Nodes[0].Power.Target = 4 }, types.ErrInvalidGenesis,
			[]string{"node 1", "power.target 4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := f.export() // a fresh deep copy
			tc.corrupt(gs)
			requireerr.Is(t, gs.Validate(f.AC), tc.err, tc.contains...)
		})
	}
}

// upper spells a bech32 address in upper case, which decodes to the same bytes.
func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
