package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/storebank"
	"github.com/tfgrid/tfgrid/x/smartcontract"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// richScene builds a state with every kind of contract, grace, tombstones of several causes, extra
// fees, a dedicated farm and two deposit amounts.
type richScene struct {
	world
	rented, feeNode  nodeFixture
	dedicated        nodeFixture
	graced, plain    uint64
	name, rent       uint64
	onRented, onDedi uint64
	gone, oof        uint64 // tombstones
}

func (f *fixture) newRichScene() richScene {
	f.t.Helper()
	s := richScene{world: f.newWorld(4)}
	s.rented = f.newNode(s.farm)
	s.feeNode = f.newNode(s.farm)
	f.setExtraFee(s.feeNode, 3000)
	dediFarm := f.newFarm(2)
	s.dedicated = f.newNode(dediFarm)
	f.setFarmDedicated(dediFarm.id, true)

	s.graced = f.nodeContract(s.alice, s.node.id, "graced", 2)
	require.NoError(f.t, f.k.EnterGrace(f.ctx, s.graced))
	s.plain = f.nodeContract(s.bob, s.node.id, "plain", 1)
	s.name = f.nameContract(s.alice, "rich-gw")
	s.rent = f.rentContract(s.bob, s.rented.id)
	s.onRented = f.nodeContract(s.bob, s.rented.id, "on rented", 0)

	// Tombstones of several causes.
	s.gone = f.nodeContract(s.alice, s.node.id, "gone", 1)
	require.NoError(f.t, f.cancel(s.node.twin, s.gone))
	s.oof = f.nameContract(s.bob, "broke")
	c := f.contract(s.oof)
	require.NoError(f.t, f.k.DeleteContract(f.ctx, c, types.DeleteCauseOutOfFunds))

	// A bigger deposit for later contracts.
	p := types.DefaultParams()
	p.ContractDeposit = sdkmath.NewInt(2_000_000)
	_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(f.t, err)
	f.rentContract(s.alice, s.dedicated.id)
	s.onDedi = f.nodeContract(s.alice, s.dedicated.id, "dedicated", 2)
	f.requireInvariants()
	return s
}

// exported is a whole-chain export of both modules and the bank.
type exported struct {
	grid *tfgridtypes.GenesisState
	sc   *types.GenesisState
	bank []storebank.Entry
}

func (f *fixture) exportAll() exported {
	st := f.state()
	return exported{grid: st.grid, sc: st.sc, bank: st.bank}
}

// copySC deep-copies a contract genesis through its JSON form, like a genesis file.
func (f *fixture) copySC(gs *types.GenesisState) *types.GenesisState {
	f.t.Helper()
	bz, err := f.cdc.MarshalJSON(gs)
	require.NoError(f.t, err)
	var out types.GenesisState
	require.NoError(f.t, f.cdc.UnmarshalJSON(bz, &out))
	return &out
}

func (f *fixture) copyGrid(gs *tfgridtypes.GenesisState) *tfgridtypes.GenesisState {
	f.t.Helper()
	bz, err := f.cdc.MarshalJSON(gs)
	require.NoError(f.t, err)
	var out tfgridtypes.GenesisState
	require.NoError(f.t, f.cdc.UnmarshalJSON(bz, &out))
	return &out
}

// importInto loads an export into a fresh store pair: the registry first, then the bank, then the
// contracts (which check themselves against both).
func importInto(t *testing.T, ex exported) (*fixture, error) {
	t.Helper()
	g := newBareFixture(t)
	require.NoError(t, g.grid.InitGenesis(g.ctx, *ex.grid))
	for _, b := range ex.bank {
		g.bank.SetAmount(g.ctx, b.Addr, b.Denom, b.Amount)
	}
	return g, g.k.InitGenesis(g.ctx, *ex.sc)
}

func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	s := f.newRichScene()
	ex := f.exportAll()
	require.Len(t, ex.sc.Contracts, 7)
	require.Len(t, ex.sc.Tombstones, 2)
	require.Equal(t, []types.NodeExtraFee{{NodeId: s.feeNode.id, ExtraFee: 3000}}, ex.sc.NodeExtraFees)
	require.Equal(t, uint64(10), ex.sc.NextContractId)

	ex.sc = f.copySC(ex.sc)
	ex.grid = f.copyGrid(ex.grid)
	g, err := importInto(t, ex)
	require.NoError(t, err)
	require.Equal(t, f.exportAll(), g.exportAll(), "export → import → export is the identity")
	g.requireInvariants()

	// The imported chain behaves like the original: ids continue, indexes answer, rules hold.
	next := g.nodeContract(user{acc: s.alice.acc, twin: s.alice.twin}, s.node.id, "after import", 1)
	require.Equal(t, ex.sc.NextContractId, next)
	_, err = g.createNodeContract(s.bob, s.node.id, "plain", 0)
	requireErr(t, err, types.ErrContractNotUnique)
	_, err = g.msg.CreateNameContract(g.ctx, &types.MsgCreateNameContract{Creator: s.bob.acc, Name: "rich-gw"})
	requireErr(t, err, types.ErrNameTaken)
	_, err = g.msg.CreateRentContract(g.ctx, &types.MsgCreateRentContract{Creator: s.alice.acc, NodeId: s.rented.id})
	requireErr(t, err, types.ErrNodeRented)
	_, err = g.createNodeContract(s.alice, s.feeNode.id, "fee", 0)
	requireErr(t, err, types.ErrNodeNotAvailable)
	res, err := g.q.Contract(g.ctx, &types.QueryContractRequest{Id: s.oof})
	require.NoError(t, err)
	require.Equal(t, types.DeleteCauseOutOfFunds, res.Contract.DeleteCause)
	require.Equal(t, types.ContractStateGracePeriod, g.contract(s.graced).State)
	inGrace, err := g.q.ContractsInGrace(g.ctx, &types.QueryContractsInGraceRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{s.graced}, ids(inGrace.Contracts), "the grace index is rebuilt on import")
	history, err := g.q.ContractsByTwin(g.ctx, &types.QueryContractsByTwinRequest{TwinId: s.bob.twin, IncludeDeleted: true})
	require.NoError(t, err)
	original, err := f.q.ContractsByTwin(f.ctx, &types.QueryContractsByTwinRequest{TwinId: s.bob.twin, IncludeDeleted: true})
	require.NoError(t, err)
	require.Contains(t, ids(history.Contracts), s.oof, "the twin history is rebuilt from the tombstones on import")
	require.Equal(t, original.Contracts, history.Contracts)

	// Closing an imported contract refunds the deposit it locked before the import.
	before := g.balance(s.alice.acc)
	require.NoError(t, g.cancel(s.alice, s.graced))
	require.Equal(t, before.Add(deposit), g.balance(s.alice.acc))
	g.requireInvariants()
}

func TestDefaultGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesis(), gs)
}

// TestGenesisSurvivesLoweredDataLimit: governance may lower max_deployment_data_bytes while contracts
// carry more data; the chain's export must still import.
func TestGenesisSurvivesLoweredDataLimit(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	_, err := f.msg.CreateNodeContract(f.ctx, &types.MsgCreateNodeContract{
		Creator: w.alice.acc, NodeId: w.node.id, DeploymentHash: hash("big"), DeploymentData: make([]byte, 4000),
	})
	require.NoError(t, err)
	p := types.DefaultParams()
	p.MaxDeploymentDataBytes = 100
	_, err = f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(t, err)

	ex := f.exportAll()
	bz, err := f.cdc.MarshalJSON(ex.sc)
	require.NoError(t, err)
	require.NoError(t, smartcontract.AppModule{}.ValidateGenesis(f.cdc, nil, bz), "the module's ValidateGenesis check")
	g, err := importInto(t, ex)
	require.NoError(t, err)
	require.Equal(t, ex, g.exportAll())
}

func TestInitGenesisRejects(t *testing.T) {
	f := newFixture(t)
	s := f.newRichScene()
	base := f.exportAll()
	contractIdx := func(gs *types.GenesisState, cid uint64) int {
		for i, c := range gs.Contracts {
			if c.Id == cid {
				return i
			}
		}
		t.Fatalf("contract %d not in genesis", cid)
		return -1
	}
	freeIP := func(ex exported) string {
		for _, ip := range ex.grid.PublicIps {
			if ip.ContractId == 0 && ip.FarmId == s.farm.id {
				return ip.Ip
			}
		}
		t.Fatal("no free IP")
		return ""
	}
	moduleAddr := authtypes.NewModuleAddress(types.ModuleName)

	cases := []struct {
		name     string
		mutate   func(ex *exported)
		contains []string
	}{
		{"contract lists an IP the farm table does not mark", func(ex *exported) {
			nc := ex.sc.Contracts[contractIdx(ex.sc, s.plain)].GetNodeContract()
			nc.PublicIps = append(nc.PublicIps, types.ContractPublicIP{Ip: freeIP(*ex)})
			nc.PublicIpsCount++
		}, []string{id(s.plain)}},
		{"farm table frees an IP a contract lists", func(ex *exported) {
			ip := ex.sc.Contracts[contractIdx(ex.sc, s.plain)].GetNodeContract().PublicIps[0].Ip
			for i := range ex.grid.PublicIps {
				if ex.grid.PublicIps[i].Ip == ip {
					ex.grid.PublicIps[i].ContractId = 0
				}
			}
		}, []string{id(s.plain)}},
		{"farm IP held by a contract not in the genesis", func(ex *exported) {
			for i := range ex.grid.PublicIps {
				if ex.grid.PublicIps[i].ContractId == 0 {
					ex.grid.PublicIps[i].ContractId = s.gone // a tombstone
					return
				}
			}
		}, []string{"not a live node contract"}},
		{"contract on a missing node", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.onRented)].GetNodeContract().NodeId = 999
		}, []string{id(s.onRented), "999"}},
		{"rent contract on a missing node", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.rent)].GetRentContract().NodeId = 999
		}, []string{id(s.rent), "999"}},
		{"contract of a missing twin", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.name)].TwinId = 999
		}, []string{id(s.name), "999"}},
		{"duplicate node and hash", func(ex *exported) {
			dup := ex.sc.Contracts[contractIdx(ex.sc, s.onRented)]
			dup.Id = ex.sc.NextContractId
			ex.sc.NextContractId++
			ex.sc.Contracts = append(ex.sc.Contracts, dup)
		}, []string{"already has a contract for hash", hash("on rented")}},
		{"duplicate name", func(ex *exported) {
			dup := ex.sc.Contracts[contractIdx(ex.sc, s.name)]
			dup.Id = ex.sc.NextContractId
			ex.sc.NextContractId++
			ex.sc.Contracts = append(ex.sc.Contracts, dup)
		}, []string{"rich-gw", "already taken"}},
		{"duplicate rent", func(ex *exported) {
			dup := ex.sc.Contracts[contractIdx(ex.sc, s.rent)]
			dup.Id = ex.sc.NextContractId
			ex.sc.NextContractId++
			ex.sc.Contracts = append(ex.sc.Contracts, dup)
		}, []string{"already rented"}},
		{"duplicate id", func(ex *exported) {
			ex.sc.Contracts = append(ex.sc.Contracts, ex.sc.Contracts[0])
		}, []string{"duplicate"}},
		{"id at next_contract_id", func(ex *exported) { ex.sc.NextContractId-- }, []string{"next_contract_id 9"}},
		{"id zero", func(ex *exported) { ex.sc.Contracts[0].Id = 0 }, []string{"id 0"}},
		{"next_contract_id zero", func(ex *exported) {
			grid, err := tfgridtypes.DefaultGenesis(f.ac)
			require.NoError(t, err)
			*ex = exported{grid: grid, sc: &types.GenesisState{Params: types.DefaultParams()}}
		}, []string{"next_contract_id"}},
		{"tombstone over a live id", func(ex *exported) {
			ex.sc.Tombstones = append(ex.sc.Tombstones, types.Tombstone{Id: s.plain, TwinId: s.bob.twin, Kind: types.ContractKindNode, DeleteCause: types.DeleteCauseCanceledByUser})
		}, []string{"tombstone id " + id(s.plain), "duplicate"}},
		{"tombstone without a cause", func(ex *exported) { ex.sc.Tombstones[0].DeleteCause = types.DeleteCauseUnspecified }, []string{"tombstone"}},
		{"deposit larger than the module holds", func(ex *exported) {
			i := contractIdx(ex.sc, s.plain)
			ex.sc.Contracts[i].Deposit = ex.sc.Contracts[i].Deposit.AddRaw(1)
		}, []string{"module account holds"}},
		{"module account holds more than the deposits", func(ex *exported) {
			for i := range ex.bank {
				if ex.bank[i].Addr.Equals(moduleAddr) {
					ex.bank[i].Amount = ex.bank[i].Amount.AddRaw(1)
				}
			}
		}, []string{"module account holds"}},
		{"negative deposit", func(ex *exported) { ex.sc.Contracts[0].Deposit = sdkmath.NewInt(-1) }, []string{"deposit -1"}},
		{"grace without grace_since", func(ex *exported) { ex.sc.Contracts[contractIdx(ex.sc, s.graced)].GraceSince = 0 }, []string{"grace_since"}},
		{"created with grace_since", func(ex *exported) { ex.sc.Contracts[contractIdx(ex.sc, s.plain)].GraceSince = 5 }, []string{"grace_since"}},
		{"deleted contract among the live ones", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.name)].State = types.ContractStateDeleted
		}, []string{"want a live contract"}},
		{"contract without kind", func(ex *exported) { ex.sc.Contracts[contractIdx(ex.sc, s.name)].Kind = nil }, []string{"no kind"}},
		{"invalid name", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.name)].GetNameContract().Name = "NO"
		}, []string{"NO"}},
		{"invalid hash", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.plain)].GetNodeContract().DeploymentHash = "xyz"
		}, []string{"xyz"}},
		{"IP count mismatch", func(ex *exported) {
			ex.sc.Contracts[contractIdx(ex.sc, s.plain)].GetNodeContract().PublicIpsCount = 3
		}, []string{"public_ips_count is 3"}},
		{"extra fee of a missing node", func(ex *exported) {
			ex.sc.NodeExtraFees = append(ex.sc.NodeExtraFees, types.NodeExtraFee{NodeId: 999, ExtraFee: 1})
		}, []string{"999"}},
		{"zero extra fee", func(ex *exported) { ex.sc.NodeExtraFees[0].ExtraFee = 0 }, []string{"duplicate or zero"}},
		{"invalid params", func(ex *exported) { ex.sc.Params.MaxDeploymentDataBytes = 0 }, []string{"max_deployment_data_bytes"}},
	}
	for _, tc := range cases {
		f.run(tc.name, func(t *testing.T) {
			ex := exported{grid: f.copyGrid(base.grid), sc: f.copySC(base.sc), bank: append([]storebank.Entry(nil), base.bank...)}
			tc.mutate(&ex)
			_, err := importInto(t, ex)
			want := types.ErrInvalidGenesis
			if tc.name == "invalid params" {
				want = types.ErrInvalidParams
			}
			requireErr(t, err, want, tc.contains...)
		})
	}
}
