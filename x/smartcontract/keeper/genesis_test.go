package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/internal/storebank"
	"github.com/tfgrid/tfgrid/x/smartcontract"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// richScene builds a state with every kind of contract, grace, tombstones of several causes, extra
// fees, a dedicated farm and two deposit amounts.
type richScene struct {
	keepertest.World
	rented, feeNode  keepertest.Node
	dedicated        keepertest.Node
	graced, plain    uint64
	name, rent       uint64
	onRented, onDedi uint64
	gone, oof        uint64 // tombstones
}

func (f *fixture) newRichScene() richScene {
	f.T.Helper()
	s := richScene{World: f.NewWorld(4)}
	s.rented = f.NewNode(s.Farm)
	s.feeNode = f.NewNode(s.Farm)
	f.setExtraFee(s.feeNode, 3000)
	dediFarm := f.NewFarm(2)
	s.dedicated = f.NewNode(dediFarm)
	f.setFarmDedicated(dediFarm.ID, true)

	s.graced = f.NodeContract(s.Alice, s.Node.ID, "graced", 2)
	require.NoError(f.T, f.SC.EnterGrace(f.Ctx, s.graced))
	s.plain = f.NodeContract(s.Bob, s.Node.ID, "plain", 1)
	s.name = f.NameContract(s.Alice, "rich-gw")
	s.rent = f.RentContract(s.Bob, s.rented.ID)
	s.onRented = f.NodeContract(s.Bob, s.rented.ID, "on rented", 0)

	// Tombstones of several causes.
	s.gone = f.NodeContract(s.Alice, s.Node.ID, "gone", 1)
	require.NoError(f.T, f.Cancel(s.Node.Twin, s.gone))
	s.oof = f.NameContract(s.Bob, "broke")
	c := f.Contract(s.oof)
	require.NoError(f.T, f.SC.DeleteContract(f.Ctx, c, types.DeleteCauseOutOfFunds))

	// A bigger deposit for later contracts.
	p := types.DefaultParams()
	p.ContractDeposit = sdkmath.NewInt(2_000_000)
	_, err := f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(f.T, err)
	f.RentContract(s.Alice, s.dedicated.ID)
	s.onDedi = f.NodeContract(s.Alice, s.dedicated.ID, "dedicated", 2)
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
	f.T.Helper()
	bz, err := f.Cdc.MarshalJSON(gs)
	require.NoError(f.T, err)
	var out types.GenesisState
	require.NoError(f.T, f.Cdc.UnmarshalJSON(bz, &out))
	return &out
}

func (f *fixture) copyGrid(gs *tfgridtypes.GenesisState) *tfgridtypes.GenesisState {
	f.T.Helper()
	bz, err := f.Cdc.MarshalJSON(gs)
	require.NoError(f.T, err)
	var out tfgridtypes.GenesisState
	require.NoError(f.T, f.Cdc.UnmarshalJSON(bz, &out))
	return &out
}

// importInto loads an export into a fresh store pair: the registry first, then the bank, then the
// contracts (which check themselves against both).
func importInto(t *testing.T, ex exported) (*fixture, error) {
	t.Helper()
	g := newBareFixture(t)
	require.NoError(t, g.Grid.InitGenesis(g.Ctx, *ex.grid))
	for _, b := range ex.bank {
		g.Bank.SetAmount(g.Ctx, b.Addr, b.Denom, b.Amount)
	}
	return g, g.SC.InitGenesis(g.Ctx, *ex.sc)
}

func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	s := f.newRichScene()
	ex := f.exportAll()
	require.Len(t, ex.sc.Contracts, 7)
	require.Len(t, ex.sc.Tombstones, 2)
	require.Equal(t, []types.NodeExtraFee{{NodeId: s.feeNode.ID, ExtraFee: 3000}}, ex.sc.NodeExtraFees)
	require.Equal(t, uint64(10), ex.sc.NextContractId)

	ex.sc = f.copySC(ex.sc)
	ex.grid = f.copyGrid(ex.grid)
	g, err := importInto(t, ex)
	require.NoError(t, err)
	require.Equal(t, f.exportAll(), g.exportAll(), "export → import → export is the identity")
	g.requireInvariants()

	// The imported chain behaves like the original: ids continue, indexes answer, rules hold.
	next := g.NodeContract(keepertest.User{Acc: s.Alice.Acc, Twin: s.Alice.Twin}, s.Node.ID, "after import", 1)
	require.Equal(t, ex.sc.NextContractId, next)
	_, err = g.CreateNodeContract(keepertest.NodeContractMsg(s.Bob, s.Node.ID, "plain", 0))
	requireerr.Is(t, err, types.ErrContractNotUnique)
	_, err = g.SCMsg.CreateNameContract(g.Ctx, &types.MsgCreateNameContract{Creator: s.Bob.Acc, Name: "rich-gw"})
	requireerr.Is(t, err, types.ErrNameTaken)
	_, err = g.SCMsg.CreateRentContract(g.Ctx, &types.MsgCreateRentContract{Creator: s.Alice.Acc, NodeId: s.rented.ID})
	requireerr.Is(t, err, types.ErrNodeRented)
	_, err = g.CreateNodeContract(keepertest.NodeContractMsg(s.Alice, s.feeNode.ID, "fee", 0))
	requireerr.Is(t, err, types.ErrNodeNotAvailable)
	res, err := g.q.Contract(g.Ctx, &types.QueryContractRequest{Id: s.oof})
	require.NoError(t, err)
	require.Equal(t, types.DeleteCauseOutOfFunds, res.Contract.DeleteCause)
	require.Equal(t, types.ContractStateGracePeriod, g.Contract(s.graced).State)
	inGrace, err := g.q.ContractsInGrace(g.Ctx, &types.QueryContractsInGraceRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{s.graced}, ids(inGrace.Contracts), "the grace index is rebuilt on import")
	history, err := g.q.ContractsByTwin(g.Ctx, &types.QueryContractsByTwinRequest{TwinId: s.Bob.Twin, IncludeDeleted: true})
	require.NoError(t, err)
	original, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: s.Bob.Twin, IncludeDeleted: true})
	require.NoError(t, err)
	require.Contains(t, ids(history.Contracts), s.oof, "the twin history is rebuilt from the tombstones on import")
	require.Equal(t, original.Contracts, history.Contracts)

	// Closing an imported contract refunds the deposit it locked before the import.
	before := g.Balance(s.Alice.Acc)
	require.NoError(t, g.Cancel(s.Alice, s.graced))
	require.Equal(t, before.Add(deposit), g.Balance(s.Alice.Acc))
	g.requireInvariants()
}

func TestDefaultGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	gs, err := f.SC.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesis(), gs)
}

// TestGenesisSurvivesLoweredDataLimit: governance may lower max_deployment_data_bytes while contracts
// carry more data; the chain's export must still import.
func TestGenesisSurvivesLoweredDataLimit(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	_, err := f.SCMsg.CreateNodeContract(f.Ctx, &types.MsgCreateNodeContract{
		Creator: w.Alice.Acc, NodeId: w.Node.ID, DeploymentHash: keepertest.Hash("big"), DeploymentData: make([]byte, 4000),
	})
	require.NoError(t, err)
	p := types.DefaultParams()
	p.MaxDeploymentDataBytes = 100
	_, err = f.SCMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)

	ex := f.exportAll()
	bz, err := f.Cdc.MarshalJSON(ex.sc)
	require.NoError(t, err)
	require.NoError(t, smartcontract.AppModule{}.ValidateGenesis(f.Cdc, nil, bz), "the module's ValidateGenesis check")
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
			if ip.ContractId == 0 && ip.FarmId == s.Farm.ID {
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
		}, []string{"already has a contract for hash", keepertest.Hash("on rented")}},
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
			grid, err := tfgridtypes.DefaultGenesis(f.AC)
			require.NoError(t, err)
			*ex = exported{grid: grid, sc: &types.GenesisState{Params: types.DefaultParams()}}
		}, []string{"next_contract_id"}},
		{"tombstone over a live id", func(ex *exported) {
			ex.sc.Tombstones = append(ex.sc.Tombstones, types.Tombstone{Id: s.plain, TwinId: s.Bob.Twin, Kind: types.ContractKindNode, DeleteCause: types.DeleteCauseCanceledByUser})
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
			requireerr.Is(t, err, want, tc.contains...)
		})
	}
}
