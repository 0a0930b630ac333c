package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

var goodHash = strings.Repeat("ab", 32)

func TestValidateDeploymentHash(t *testing.T) {
	require.NoError(t, types.ValidateDeploymentHash(goodHash))
	require.NoError(t, types.ValidateDeploymentHash(strings.Repeat("0", 64)))
	for name, h := range map[string]string{
		"empty":     "",
		"63 chars":  goodHash[:63],
		"65 chars":  goodHash + "a",
		"uppercase": strings.ToUpper(goodHash),
		"non-hex":   "z" + goodHash[1:],
		"0x prefix": "0x" + goodHash[2:],
		"space":     " " + goodHash[1:],
		"md5 (32)":  goodHash[:32],
	} {
		t.Run(name, func(t *testing.T) {
			requireerr.Is(t, types.ValidateDeploymentHash(h), types.ErrInvalidDeploymentHash)
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"abc", "a-b_c", "0123456789", strings.Repeat("x", 64), "___"} {
		require.NoError(t, types.ValidateName(ok), ok)
	}
	for _, bad := range []string{"", "ab", strings.Repeat("x", 65), "Abc", "a.b", "a b", "a/b", "é-é-é", "abc\n"} {
		requireerr.Is(t, types.ValidateName(bad), types.ErrInvalidName)
	}
}

func TestValidateDeploymentData(t *testing.T) {
	require.NoError(t, types.ValidateDeploymentData(nil, 0))
	require.NoError(t, types.ValidateDeploymentData(make([]byte, 10), 10))
	requireerr.Is(t, types.ValidateDeploymentData(make([]byte, 11), 10), types.ErrDeploymentDataTooLarge, "11", "10")
}

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.Equal(t, uint64(8192), types.DefaultParams().MaxDeploymentDataBytes)
	require.Equal(t, sdkmath.NewInt(1_000_000), types.DefaultParams().ContractDeposit)
	require.NoError(t, types.Params{MaxDeploymentDataBytes: types.MaxDeploymentDataBytesCap, ContractDeposit: sdkmath.ZeroInt()}.Validate())
	for name, p := range map[string]types.Params{
		"zero data":        {MaxDeploymentDataBytes: 0, ContractDeposit: sdkmath.OneInt()},
		"data above cap":   {MaxDeploymentDataBytes: types.MaxDeploymentDataBytesCap + 1, ContractDeposit: sdkmath.OneInt()},
		"nil deposit":      {MaxDeploymentDataBytes: 1},
		"negative deposit": {MaxDeploymentDataBytes: 1, ContractDeposit: sdkmath.NewInt(-1)},
	} {
		t.Run(name, func(t *testing.T) { requireerr.Is(t, p.Validate(), types.ErrInvalidParams) })
	}
}

func nodeContract(id uint64, node uint64, hash string, ips ...string) types.Contract {
	nc := &types.NodeContract{NodeId: node, DeploymentHash: hash, PublicIpsCount: uint32(len(ips))}
	for _, ip := range ips {
		nc.PublicIps = append(nc.PublicIps, types.ContractPublicIP{Ip: ip, Gateway: "185.206.122.1"})
	}
	return types.Contract{Id: id, TwinId: 1, State: types.ContractStateCreated, Deposit: sdkmath.OneInt(), Kind: &types.Contract_NodeContract{NodeContract: nc}}
}

func nameContract(id uint64, name string) types.Contract {
	return types.Contract{Id: id, TwinId: 1, State: types.ContractStateCreated, Deposit: sdkmath.OneInt(),
		Kind: &types.Contract_NameContract{NameContract: &types.NameContract{Name: name}}}
}

func rentContract(id, node uint64) types.Contract {
	return types.Contract{Id: id, TwinId: 1, State: types.ContractStateCreated, Deposit: sdkmath.OneInt(),
		Kind: &types.Contract_RentContract{RentContract: &types.RentContract{NodeId: node}}}
}

func TestContractHelpers(t *testing.T) {
	nc := nodeContract(1, 7, goodHash, "185.206.122.2/24", "185.206.122.3/24")
	require.Equal(t, types.ContractKindNode, nc.ContractKind())
	require.Equal(t, uint64(7), nc.NodeID())
	require.Equal(t, []string{"185.206.122.2/24", "185.206.122.3/24"}, nc.GetNodeContract().IPs())
	require.Empty(t, (&types.NodeContract{}).IPs())

	name := nameContract(2, "abc")
	require.Equal(t, types.ContractKindName, name.ContractKind())
	require.Zero(t, name.NodeID())

	rent := rentContract(3, 9)
	require.Equal(t, types.ContractKindRent, rent.ContractKind())
	require.Equal(t, uint64(9), rent.NodeID())

	require.Equal(t, types.ContractKindUnspecified, types.Contract{}.ContractKind())
	require.Zero(t, types.Contract{}.NodeID())

	for state, live := range map[types.ContractState]bool{
		types.ContractStateUnspecified: false, types.ContractStateCreated: true,
		types.ContractStateGracePeriod: true, types.ContractStateDeleted: false,
	} {
		require.Equal(t, live, types.Contract{State: state}.IsLive(), state.String())
	}
}

func TestTombstoneContractView(t *testing.T) {
	for _, tc := range []struct {
		kind types.ContractKind
		node uint64
	}{{types.ContractKindNode, 4}, {types.ContractKindName, 0}, {types.ContractKindRent, 5}} {
		tomb := types.Tombstone{Id: 3, TwinId: 2, NodeId: tc.node, Kind: tc.kind, DeleteCause: types.DeleteCauseOutOfFunds, DeletedAt: 100, CreatedAt: 40}
		c := tomb.ContractView()
		require.Equal(t, int64(40), c.CreatedAt, "a deleted contract keeps its real created_at")
		require.Equal(t, uint64(3), c.Id)
		require.Equal(t, uint64(2), c.TwinId)
		require.Equal(t, types.ContractStateDeleted, c.State)
		require.Equal(t, types.DeleteCauseOutOfFunds, c.DeleteCause)
		require.Equal(t, tc.kind, c.ContractKind())
		require.Equal(t, tc.node, c.NodeID())
		require.True(t, c.Deposit.IsZero())
		require.False(t, c.IsLive())
	}
}

// validGenesis has a contract of each kind, a tombstone and an extra fee.
func validGenesis() types.GenesisState {
	return types.GenesisState{
		Params: types.DefaultParams(),
		Contracts: []types.Contract{
			nodeContract(1, 7, goodHash, "185.206.122.2/24"),
			nameContract(2, "gateway"),
			rentContract(3, 7),
		},
		Tombstones:     []types.Tombstone{{Id: 4, TwinId: 1, NodeId: 7, Kind: types.ContractKindNode, DeleteCause: types.DeleteCauseCanceledByUser, DeletedAt: 5}},
		NodeExtraFees:  []types.NodeExtraFee{{NodeId: 8, ExtraFee: 100}},
		NextContractId: 5,
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate(types.MaxDeploymentDataBytesCap))
	require.NoError(t, validGenesis().Validate(types.MaxDeploymentDataBytesCap))

	cases := []struct {
		name     string
		mutate   func(gs *types.GenesisState)
		contains string
	}{
		{"next_contract_id zero", func(gs *types.GenesisState) {
			*gs = types.GenesisState{Params: types.DefaultParams()}
		}, "next_contract_id 0"},
		{"id zero", func(gs *types.GenesisState) { gs.Contracts[1].Id = 0 }, "contract id 0"},
		{"id at next", func(gs *types.GenesisState) { gs.NextContractId = 4 }, "tombstone id 4"},
		{"duplicate contract id", func(gs *types.GenesisState) { gs.Contracts[1].Id = 1 }, "contract id 1: duplicate"},
		{"tombstone on a live id", func(gs *types.GenesisState) { gs.Tombstones[0].Id = 2 }, "tombstone id 2: duplicate"},
		{"duplicate tombstone", func(gs *types.GenesisState) {
			gs.Tombstones = append(gs.Tombstones, gs.Tombstones[0])
		}, "tombstone id 4: duplicate"},
		{"duplicate node and hash", func(gs *types.GenesisState) {
			gs.Contracts = append(gs.Contracts, nodeContract(5, 7, goodHash))
			gs.NextContractId = 6
		}, "node 7 already has a contract for hash " + goodHash},
		{"duplicate name", func(gs *types.GenesisState) {
			gs.Contracts = append(gs.Contracts, nameContract(5, "gateway"))
			gs.NextContractId = 6
		}, `name "gateway" already taken`},
		{"duplicate rent", func(gs *types.GenesisState) {
			gs.Contracts = append(gs.Contracts, rentContract(5, 7))
			gs.NextContractId = 6
		}, "node 7 already rented"},
		{"tombstone without kind", func(gs *types.GenesisState) { gs.Tombstones[0].Kind = types.ContractKindUnspecified }, "tombstone 4"},
		{"tombstone without cause", func(gs *types.GenesisState) { gs.Tombstones[0].DeleteCause = types.DeleteCauseUnspecified }, "tombstone 4"},
		{"tombstone created after its deletion", func(gs *types.GenesisState) { gs.Tombstones[0].CreatedAt = 6 }, "tombstone 4: created_at 6 after deleted_at 5"},
		{"zero extra fee", func(gs *types.GenesisState) { gs.NodeExtraFees[0].ExtraFee = 0 }, "node 8"},
		{"duplicate extra fee", func(gs *types.GenesisState) {
			gs.NodeExtraFees = append(gs.NodeExtraFees, gs.NodeExtraFees[0])
		}, "node 8"},
		{"deleted state", func(gs *types.GenesisState) { gs.Contracts[1].State = types.ContractStateDeleted }, "contract 2"},
		{"unspecified state", func(gs *types.GenesisState) { gs.Contracts[1].State = types.ContractStateUnspecified }, "contract 2"},
		{"live with a delete cause", func(gs *types.GenesisState) { gs.Contracts[1].DeleteCause = types.DeleteCauseCanceledByUser }, "contract 2"},
		{"grace without since", func(gs *types.GenesisState) { gs.Contracts[0].State = types.ContractStateGracePeriod }, "grace_since 0"},
		{"since without grace", func(gs *types.GenesisState) { gs.Contracts[0].GraceSince = 10 }, "grace_since 10"},
		{"nil deposit", func(gs *types.GenesisState) { gs.Contracts[0].Deposit = sdkmath.Int{} }, "contract 1: deposit"},
		{"negative deposit", func(gs *types.GenesisState) { gs.Contracts[0].Deposit = sdkmath.NewInt(-2) }, "deposit -2"},
		{"bad hash", func(gs *types.GenesisState) { gs.Contracts[0].GetNodeContract().DeploymentHash = "AB" }, "contract 1"},
		{"data above the limit", func(gs *types.GenesisState) {
			gs.Contracts[0].GetNodeContract().DeploymentData = make([]byte, types.MaxDeploymentDataBytesCap+1)
		}, "contract 1"},
		{"IP count mismatch", func(gs *types.GenesisState) { gs.Contracts[0].GetNodeContract().PublicIpsCount = 0 }, "public_ips_count is 0"},
		{"bad name", func(gs *types.GenesisState) { gs.Contracts[1].GetNameContract().Name = "x" }, "contract 2"},
		{"no kind", func(gs *types.GenesisState) { gs.Contracts[2].Kind = nil }, "contract 3: no kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.mutate(&gs)
			requireerr.Is(t, gs.Validate(types.MaxDeploymentDataBytesCap), types.ErrInvalidGenesis, tc.contains)
		})
	}

	t.Run("invalid params", func(t *testing.T) {
		gs := validGenesis()
		gs.Params.MaxDeploymentDataBytes = 0
		requireerr.Is(t, gs.Validate(types.MaxDeploymentDataBytesCap), types.ErrInvalidParams)
	})
	t.Run("data bounded by the given limit", func(t *testing.T) {
		gs := validGenesis()
		gs.Contracts[0].GetNodeContract().DeploymentData = make([]byte, 20)
		require.NoError(t, gs.Validate(20))
		requireerr.Is(t, gs.Validate(19), types.ErrInvalidGenesis, "20 bytes")
	})
}

func TestRegisterInterfaces(t *testing.T) {
	registry := codectypes.NewInterfaceRegistry()
	types.RegisterInterfaces(registry)
	for _, msg := range []sdk.Msg{
		&types.MsgCreateNodeContract{}, &types.MsgUpdateNodeContract{}, &types.MsgCancelContract{},
		&types.MsgCreateNameContract{}, &types.MsgCreateRentContract{}, &types.MsgSetDedicatedNodeExtraFee{},
		&types.MsgCancelContractByAuthority{}, &types.MsgForceResetFarmIp{}, &types.MsgUpdateParams{},
	} {
		url := sdk.MsgTypeURL(msg)
		resolved, err := registry.Resolve(url)
		require.NoError(t, err, url)
		require.IsType(t, msg, resolved)
	}
}
