package app_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/baseapp"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/app/apptesting"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestRegistryLifecycle runs the registry's whole story on the real app, through signed transactions in
// committed blocks: twin → farm → IPs → node → uptime → power → update → delete.
func TestRegistryLifecycle(t *testing.T) {
	chain := apptesting.NewChain(t, 3)
	farmer, nodeAcc, stranger := chain.Accounts[0], chain.Accounts[1], chain.Accounts[2]
	query := func() types.QueryClient {
		return types.NewQueryClient(&baseapp.QueryServiceTestHelper{GRPCQueryRouter: chain.App.GRPCQueryRouter(), Ctx: chain.App.NewContext(true)})
	}
	nodeByID := func(id uint64) types.Node {
		res, err := query().Node(chain.Ctx, &types.QueryNodeRequest{Id: id})
		require.NoError(t, err)
		return res.Node
	}

	// Twins: the stored pubkey is the key the account signed with.
	for _, acc := range []apptesting.Account{farmer, nodeAcc, stranger} {
		requireOK(t, chain.DeliverTx(acc, &types.MsgCreateTwin{Creator: acc.String(), Relays: []string{"ws://127.0.0.1:8080"}}))
	}
	twin, err := query().TwinByAccount(chain.Ctx, &types.QueryTwinByAccountRequest{Address: nodeAcc.String()})
	require.NoError(t, err)
	require.Equal(t, nodeAcc.PrivKey.PubKey().Bytes(), twin.Twin.Pubkey)
	nodeTwinID := twin.Twin.Id
	requireErr(t, chain.DeliverTx(nodeAcc, &types.MsgCreateTwin{Creator: nodeAcc.String()}), types.ErrTwinExists)

	// Farm with IPs.
	res := chain.DeliverTx(farmer, &types.MsgCreateFarm{Creator: farmer.String(), Name: "freefarm", PublicIps: []types.PublicIPInput{
		{Ip: "185.206.122.33/24", Gateway: "185.206.122.1"},
		{Ip: "185.206.122.34/24", Gateway: "185.206.122.1"},
	}})
	requireOK(t, res)
	requireEvent(t, res, "tfgrid.tfgrid.v1.EventFarmCreated")
	requireOK(t, chain.DeliverTx(farmer, &types.MsgAddFarmIp{Creator: farmer.String(), FarmId: 1, Ip: "185.206.122.35/24", Gateway: "185.206.122.1"}))
	requireOK(t, chain.DeliverTx(farmer, &types.MsgRemoveFarmIp{Creator: farmer.String(), FarmId: 1, Ip: "185.206.122.34"}))
	requireErr(t, chain.DeliverTx(stranger, &types.MsgAddFarmIp{Creator: stranger.String(), FarmId: 1, Ip: "185.206.122.36/24", Gateway: "185.206.122.1"}), types.ErrNotFarmer)
	ips, err := query().FarmPublicIps(chain.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"185.206.122.33/24", "185.206.122.35/24"}, []string{ips.PublicIps[0].Ip, ips.PublicIps[1].Ip})

	// Node: refused until the farmer allows its twin; a failed tx leaves no node behind.
	createNode := &types.MsgCreateNode{
		Creator:    nodeAcc.String(),
		FarmId:     1,
		Resources:  types.Resources{Cru: 8, Sru: 512 * types.GiB, Mru: 16 * types.GiB},
		Location:   types.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
		Interfaces: []types.Interface{{Name: "eth0", Mac: "52:54:00:12:34:56", Ips: []string{"185.206.122.40"}}},
	}
	requireErr(t, chain.DeliverTx(nodeAcc, createNode), types.ErrNodeTwinNotAllowed)
	_, err = query().NodeByTwin(chain.Ctx, &types.QueryNodeByTwinRequest{TwinId: nodeTwinID})
	require.ErrorIs(t, err, types.ErrNodeNotFound)
	requireOK(t, chain.DeliverTx(farmer, &types.MsgAllowNodeTwin{Creator: farmer.String(), FarmId: 1, TwinId: nodeTwinID}))
	res = chain.DeliverTx(nodeAcc, createNode)
	requireOK(t, res)
	requireEvent(t, res, "tfgrid.tfgrid.v1.EventNodeCreated")
	node, err := query().NodeByTwin(chain.Ctx, &types.QueryNodeByTwinRequest{TwinId: nodeTwinID})
	require.NoError(t, err)
	require.Equal(t, uint64(1), node.Node.FarmingPolicyId, "a DIY node in an uncertified farm gets the default DIY policy")
	require.Equal(t, types.PowerStateUp, node.Node.Power.State)

	// Uptime: the hint must be close to block time.
	hint := chain.Ctx.BlockTime().Unix()
	requireOK(t, chain.DeliverTx(nodeAcc, &types.MsgReportUptime{Creator: nodeAcc.String(), Uptime: 30, TimestampHint: hint}))
	requireErr(t, chain.DeliverTx(nodeAcc, &types.MsgReportUptime{Creator: nodeAcc.String(), Uptime: 31, TimestampHint: hint - 3600}), types.ErrInvalidTimestampHint)
	requireErr(t, chain.DeliverTx(nodeAcc, &types.MsgReportUptime{Creator: nodeAcc.String(), Uptime: 3600, TimestampHint: hint}), types.ErrInvalidUptime)
	node.Node = nodeByID(1)
	require.Equal(t, types.Uptime{ReportedAt: hint, Uptime: 30}, node.Node.LastUptime)

	// Power: the farmer sets the target, the node reports its state.
	requireErr(t, chain.DeliverTx(nodeAcc, &types.MsgChangePowerTarget{Creator: nodeAcc.String(), NodeId: 1, Target: types.PowerStateDown}), types.ErrNotFarmer)
	requireOK(t, chain.DeliverTx(farmer, &types.MsgChangePowerTarget{Creator: farmer.String(), NodeId: 1, Target: types.PowerStateDown}))
	requireOK(t, chain.DeliverTx(nodeAcc, &types.MsgChangePowerState{Creator: nodeAcc.String(), State: types.PowerStateDown}))
	node.Node = nodeByID(1)
	require.Equal(t, types.PowerStateDown, node.Node.Power.Target)
	require.Equal(t, types.PowerStateDown, node.Node.Power.State)

	// Update: the node twin changes its description.
	update := &types.MsgUpdateNode{Creator: nodeAcc.String(), NodeId: 1, FarmId: 1, Resources: createNode.Resources,
		Location: createNode.Location, Interfaces: createNode.Interfaces, SerialNumber: "SN-42"}
	update.Resources.Mru = 32 * types.GiB
	requireErr(t, chain.DeliverTx(stranger, &types.MsgUpdateNode{Creator: stranger.String(), NodeId: 1, FarmId: 1, Resources: update.Resources, Location: update.Location}), types.ErrNotNodeTwin)
	requireOK(t, chain.DeliverTx(nodeAcc, update))
	node.Node = nodeByID(1)
	require.Equal(t, 32*types.GiB, node.Node.Resources.Mru)
	require.Equal(t, "SN-42", node.Node.SerialNumber)

	// Delete: only the node twin or the farmer; afterwards the twin may register again under a new id.
	requireErr(t, chain.DeliverTx(stranger, &types.MsgDeleteNode{Creator: stranger.String(), NodeId: 1}), types.ErrNotNodeTwin)
	res = chain.DeliverTx(farmer, &types.MsgDeleteNode{Creator: farmer.String(), NodeId: 1})
	requireOK(t, res)
	requireEvent(t, res, "tfgrid.tfgrid.v1.EventNodeDeleted")
	_, err = query().Node(chain.Ctx, &types.QueryNodeRequest{Id: 1})
	require.ErrorIs(t, err, types.ErrNodeNotFound)
	nodes, err := query().Nodes(chain.Ctx, &types.QueryNodesRequest{FarmId: 1})
	require.NoError(t, err)
	require.Empty(t, nodes.Nodes)
	requireOK(t, chain.DeliverTx(nodeAcc, createNode))
	node, err = query().NodeByTwin(chain.Ctx, &types.QueryNodeByTwinRequest{TwinId: nodeTwinID})
	require.NoError(t, err)
	require.Equal(t, uint64(2), node.Node.Id, "ids are never reused")
}

func requireOK(t *testing.T, res *abci.ExecTxResult) {
	t.Helper()
	require.Equal(t, uint32(0), res.Code, "tx failed: %s", res.Log)
}

// requireErr checks that a tx failed with the registered error.
func requireErr(t *testing.T, res *abci.ExecTxResult, want interface {
	Codespace() string
	ABCICode() uint32
},
) {
	t.Helper()
	require.Equal(t, want.Codespace(), res.Codespace, res.Log)
	require.Equal(t, want.ABCICode(), res.Code, res.Log)
}

func requireEvent(t *testing.T, res *abci.ExecTxResult, eventType string) {
	t.Helper()
	for _, ev := range res.Events {
		if ev.Type == eventType {
			return
		}
	}
	require.Failf(t, "missing event", "%s not in %v", eventType, sdk.StringifyEvents(res.Events))
}

// TestABCIQueryErrorText: over abci_query (the CLI's path) the SDK keeps only a code class, so the
// log carries the module error's codespace, code and reason in the stable form of internal/grpcerr.
func TestABCIQueryErrorText(t *testing.T) {
	chain := apptesting.NewChain(t, 1)
	data, err := (&types.QueryTwinRequest{Id: 999}).Marshal()
	require.NoError(t, err)
	res, err := chain.App.Query(chain.Ctx, &abci.RequestQuery{Path: "/tfgrid.tfgrid.v1.Query/Twin", Data: data})
	require.NoError(t, err)
	require.Equal(t, "sdk", res.Codespace)
	require.Equal(t, sdkerrors.ErrKeyNotFound.ABCICode(), res.Code, "NotFound's class: %s", res.Log)
	require.Contains(t, res.Log, "codespace tfgrid code 7 reason TWIN_NOT_FOUND: twin not found")
}
