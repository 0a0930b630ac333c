package keeper_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestStoreErrorsPropagate runs the success path of every message, query and genesis function against
// a store that starts failing after n operations, for every n until the call succeeds: each store error
// must come back to the caller unchanged, never be swallowed, turned into another error, or panic.
func TestStoreErrorsPropagate(t *testing.T) {
	w := newNodeWorld(t)
	certifier := w.NewAccount()
	w.setParams(func(p *types.Params) { p.NodeCertifiers = []string{certifier} })
	w.certify(1, types.NodeCertificationCertified)
	specialID := w.createFarmingPolicy(farmingPolicy("special"))
	fresh := w.NewAccount()
	gs := w.export()
	premium, defaultPolicy := w.pricingPolicy("premium"), w.pricingPolicy("default")
	defaultPolicy.Id = 1

	type scenario struct {
		name string
		run  func(ctx context.Context) error
	}
	msg := func(name string, run func(ctx context.Context) error) scenario { return scenario{name, run} }
	scenarios := []scenario{
		msg("create twin", func(ctx context.Context) error {
			_, err := w.GridMsg.CreateTwin(ctx, &types.MsgCreateTwin{Creator: fresh})
			return err
		}),
		msg("update twin", func(ctx context.Context) error {
			_, err := w.GridMsg.UpdateTwin(ctx, &types.MsgUpdateTwin{Creator: w.node1, Relays: []string{"wss://r.tf"}})
			return err
		}),
		msg("create farm", func(ctx context.Context) error {
			_, err := w.GridMsg.CreateFarm(ctx, &types.MsgCreateFarm{Creator: w.stranger, Name: "gamma", PublicIps: []types.PublicIPInput{ip(60)}})
			return err
		}),
		msg("update farm", func(ctx context.Context) error {
			_, err := w.GridMsg.UpdateFarm(ctx, &types.MsgUpdateFarm{Creator: w.farmer, FarmId: 1, Name: "alpha2"})
			return err
		}),
		msg("add farm ip", func(ctx context.Context) error {
			_, err := w.GridMsg.AddFarmIp(ctx, &types.MsgAddFarmIp{Creator: w.farmer, FarmId: 1, Ip: ip(61).Ip, Gateway: ip(61).Gateway})
			return err
		}),
		msg("remove farm ip", func(ctx context.Context) error {
			_, err := w.GridMsg.RemoveFarmIp(ctx, &types.MsgRemoveFarmIp{Creator: w.farmer, FarmId: 1, Ip: "185.206.122.10"})
			return err
		}),
		msg("allow node twin", func(ctx context.Context) error {
			_, err := w.GridMsg.AllowNodeTwin(ctx, &types.MsgAllowNodeTwin{Creator: w.farmer, FarmId: 1, TwinId: w.strangerTwin})
			return err
		}),
		msg("disallow node twin", func(ctx context.Context) error {
			_, err := w.GridMsg.DisallowNodeTwin(ctx, &types.MsgDisallowNodeTwin{Creator: w.farmer, FarmId: 1, TwinId: 3})
			return err
		}),
		msg("set farm open registration", func(ctx context.Context) error {
			_, err := w.GridMsg.SetFarmOpenRegistration(ctx, &types.MsgSetFarmOpenRegistration{Creator: w.farmer, FarmId: 1, Open: true})
			return err
		}),
		msg("create node", func(ctx context.Context) error {
			_, err := w.GridMsg.CreateNode(ctx, nodeMsg(w.stranger, 2))
			return err
		}),
		msg("update node, moving", func(ctx context.Context) error {
			_, err := w.GridMsg.UpdateNode(ctx, updateMsg(w.node1, 1, 2))
			return err
		}),
		msg("update node, losing certification", func(ctx context.Context) error {
			m := updateMsg(w.node1, 1, 0)
			m.Resources.Cru = 32
			_, err := w.GridMsg.UpdateNode(ctx, m)
			return err
		}),
		msg("set node public config", func(ctx context.Context) error {
			_, err := w.GridMsg.SetNodePublicConfig(ctx, &types.MsgSetNodePublicConfig{Creator: w.farmer, NodeId: 1,
				PublicConfig: &types.PublicConfig{Ipv4: "185.206.122.50/24", Gw4: "185.206.122.1"}})
			return err
		}),
		msg("delete node by farmer", func(ctx context.Context) error {
			_, err := w.GridMsg.DeleteNode(ctx, &types.MsgDeleteNode{Creator: w.farmer, NodeId: 1})
			return err
		}),
		msg("report uptime", func(ctx context.Context) error {
			_, err := w.GridMsg.ReportUptime(ctx, &types.MsgReportUptime{Creator: w.node1, Uptime: 1, TimestampHint: keepertest.BlockTime.Unix()})
			return err
		}),
		msg("change power state", func(ctx context.Context) error {
			_, err := w.GridMsg.ChangePowerState(ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateDown})
			return err
		}),
		msg("change power target", func(ctx context.Context) error {
			_, err := w.GridMsg.ChangePowerTarget(ctx, &types.MsgChangePowerTarget{Creator: w.farmer, NodeId: 1, Target: types.PowerStateDown})
			return err
		}),
		msg("create pricing policy", func(ctx context.Context) error {
			_, err := w.GridMsg.CreatePricingPolicy(ctx, &types.MsgCreatePricingPolicy{Authority: w.Authority, Policy: premium})
			return err
		}),
		msg("update pricing policy", func(ctx context.Context) error {
			_, err := w.GridMsg.UpdatePricingPolicy(ctx, &types.MsgUpdatePricingPolicy{Authority: w.Authority, Policy: defaultPolicy})
			return err
		}),
		msg("create farming policy", func(ctx context.Context) error {
			_, err := w.GridMsg.CreateFarmingPolicy(ctx, &types.MsgCreateFarmingPolicy{Authority: w.Authority, Policy: farmingPolicy("other")})
			return err
		}),
		msg("update farming policy", func(ctx context.Context) error {
			p := farmingPolicy("special2")
			p.Id = specialID
			_, err := w.GridMsg.UpdateFarmingPolicy(ctx, &types.MsgUpdateFarmingPolicy{Authority: w.Authority, Policy: p})
			return err
		}),
		msg("attach policy to farm", func(ctx context.Context) error {
			_, err := w.GridMsg.AttachPolicyToFarm(ctx, &types.MsgAttachPolicyToFarm{Authority: w.Authority, FarmId: 2,
				Limits: &types.FarmingPolicyLimits{FarmingPolicyId: specialID, Cu: 5, Su: 5, NodeCount: 2}})
			return err
		}),
		msg("set farm certification", func(ctx context.Context) error {
			_, err := w.GridMsg.SetFarmCertification(ctx, &types.MsgSetFarmCertification{Authority: w.Authority, FarmId: 1, Certification: types.FarmCertificationGold})
			return err
		}),
		msg("set farm dedicated", func(ctx context.Context) error {
			_, err := w.GridMsg.SetFarmDedicated(ctx, &types.MsgSetFarmDedicated{Authority: w.Authority, FarmId: 1, Dedicated: true})
			return err
		}),
		msg("set node certification by certifier", func(ctx context.Context) error {
			_, err := w.GridMsg.SetNodeCertification(ctx, &types.MsgSetNodeCertification{Signer: certifier, NodeId: 2, Certification: types.NodeCertificationCertified})
			return err
		}),
		msg("update params", func(ctx context.Context) error {
			_, err := w.GridMsg.UpdateParams(ctx, &types.MsgUpdateParams{Authority: w.Authority, Params: types.DefaultParams()})
			return err
		}),
		msg("export genesis", func(ctx context.Context) error {
			_, err := w.Grid.ExportGenesis(ctx)
			return err
		}),
		msg("init genesis", func(ctx context.Context) error { return w.Grid.InitGenesis(ctx, *gs) }),
	}
	page := &query.PageRequest{Limit: 1}
	queries := []scenario{
		msg("params", func(ctx context.Context) error { _, err := w.q.Params(ctx, &types.QueryParamsRequest{}); return err }),
		msg("twin", func(ctx context.Context) error { _, err := w.q.Twin(ctx, &types.QueryTwinRequest{Id: 1}); return err }),
		msg("twin by account", func(ctx context.Context) error {
			_, err := w.q.TwinByAccount(ctx, &types.QueryTwinByAccountRequest{Address: w.farmer})
			return err
		}),
		msg("twins", func(ctx context.Context) error {
			_, err := w.q.Twins(ctx, &types.QueryTwinsRequest{Pagination: page})
			return err
		}),
		msg("farm", func(ctx context.Context) error { _, err := w.q.Farm(ctx, &types.QueryFarmRequest{Id: 1}); return err }),
		msg("farm by name", func(ctx context.Context) error {
			_, err := w.q.FarmByName(ctx, &types.QueryFarmByNameRequest{Name: "alpha"})
			return err
		}),
		msg("farms", func(ctx context.Context) error {
			_, err := w.q.Farms(ctx, &types.QueryFarmsRequest{Pagination: page})
			return err
		}),
		msg("farm public ips", func(ctx context.Context) error {
			_, err := w.q.FarmPublicIps(ctx, &types.QueryFarmPublicIpsRequest{Id: 1})
			return err
		}),
		msg("farm allowed node twins", func(ctx context.Context) error {
			_, err := w.q.FarmAllowedNodeTwins(ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: 1})
			return err
		}),
		msg("node", func(ctx context.Context) error { _, err := w.q.Node(ctx, &types.QueryNodeRequest{Id: 1}); return err }),
		msg("node by twin", func(ctx context.Context) error {
			_, err := w.q.NodeByTwin(ctx, &types.QueryNodeByTwinRequest{TwinId: 3})
			return err
		}),
		msg("nodes", func(ctx context.Context) error {
			_, err := w.q.Nodes(ctx, &types.QueryNodesRequest{Pagination: page})
			return err
		}),
		msg("nodes of farm", func(ctx context.Context) error {
			_, err := w.q.Nodes(ctx, &types.QueryNodesRequest{FarmId: 1})
			return err
		}),
		msg("pricing policy", func(ctx context.Context) error {
			_, err := w.q.PricingPolicy(ctx, &types.QueryPricingPolicyRequest{Id: 1})
			return err
		}),
		msg("pricing policies", func(ctx context.Context) error {
			_, err := w.q.PricingPolicies(ctx, &types.QueryPricingPoliciesRequest{Pagination: page})
			return err
		}),
		msg("farming policy", func(ctx context.Context) error {
			_, err := w.q.FarmingPolicy(ctx, &types.QueryFarmingPolicyRequest{Id: 1})
			return err
		}),
		msg("farming policies", func(ctx context.Context) error {
			_, err := w.q.FarmingPolicies(ctx, &types.QueryFarmingPoliciesRequest{Pagination: page})
			return err
		}),
		msg("farm public ips (keeper)", func(ctx context.Context) error { _, err := w.Grid.FarmPublicIPs(ctx, 1); return err }),
	}

	for _, sc := range append(scenarios, queries...) {
		t.Run(sc.name, func(t *testing.T) {
			for n := 0; ; n++ {
				require.Less(t, n, 1000, "never succeeded")
				ctx, _ := w.Ctx.CacheContext() // every attempt starts from the same state
				w.faults.budget = n
				err := sc.run(ctx)
				w.faults.budget = -1
				if err == nil {
					require.Positive(t, n, "the call touched no store")
					return
				}
				require.ErrorIs(t, err, errInjected, "with the store failing after %d operations", n)
			}
		})
	}
}

// TestQueryBadPagination checks that every paginated list refuses a request with both key and offset
// as an invalid request (gRPC InvalidArgument, REST 400), naming the fields.
func TestQueryBadPagination(t *testing.T) {
	f := newFixture(t)
	bad := &query.PageRequest{Key: []byte{1}, Offset: 1}
	calls := map[string]func() error{
		"twins": func() error { _, err := f.q.Twins(f.Ctx, &types.QueryTwinsRequest{Pagination: bad}); return err },
		"farms": func() error { _, err := f.q.Farms(f.Ctx, &types.QueryFarmsRequest{Pagination: bad}); return err },
		"nodes": func() error { _, err := f.q.Nodes(f.Ctx, &types.QueryNodesRequest{Pagination: bad}); return err },
		"nodes of farm": func() error {
			_, err := f.q.Nodes(f.Ctx, &types.QueryNodesRequest{FarmId: 1, Pagination: bad})
			return err
		},
		"pricing policies": func() error {
			_, err := f.q.PricingPolicies(f.Ctx, &types.QueryPricingPoliciesRequest{Pagination: bad})
			return err
		},
		"farming policies": func() error {
			_, err := f.q.FarmingPolicies(f.Ctx, &types.QueryFarmingPoliciesRequest{Pagination: bad})
			return err
		},
	}
	for name, call := range calls {
		requireBadPage(t, call(), name)
	}

	acc, _ := f.newTwin()
	f.CreateFarm(acc, "alpha")
	_, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1, Pagination: bad})
	requireBadPage(t, err, "farm public ips")
	_, err = f.q.FarmAllowedNodeTwins(f.Ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: 1, Pagination: bad})
	requireBadPage(t, err, "farm allowed node twins")
}

func requireBadPage(t *testing.T, err error, name string) {
	t.Helper()
	require.ErrorIs(t, err, sdkerrors.ErrInvalidRequest, name)
	require.ErrorContains(t, err, "key and offset 1 both set", name)
	require.Equal(t, codes.InvalidArgument, status.Code(grpcerr.Status(err)), name)
}

// TestNoDefaultPricingPolicy: a registry without pricing policy 1 cannot create farms.
func TestNoDefaultPricingPolicy(t *testing.T) {
	f := newFixture(t)
	g := freshKeeper(t, f)
	gs := f.export()
	gs.PricingPolicies = nil
	require.NoError(t, g.Grid.InitGenesis(g.Ctx, *gs))
	acc, _ := g.newTwin()
	g.runErrCases([]errCase{
		{"create farm", func() error {
			_, err := g.GridMsg.CreateFarm(g.Ctx, &types.MsgCreateFarm{Creator: acc, Name: "alpha"})
			return err
		}, types.ErrPricingPolicyNotFound, []string{"pricing policy 1"}},
	})
}

// TestWithoutHooks: before x/smartcontract installs its hooks, power targets and deletions need no answer.
func TestWithoutHooks(t *testing.T) {
	f := newFixture(t)
	h := bareKeeper(t, f)
	require.NoError(t, h.Grid.InitGenesis(h.Ctx, *f.export()))
	farmer, _ := h.newTwin()
	node, _ := h.newTwin()
	h.CreateFarm(farmer, "alpha")
	h.OpenFarm(farmer, 1)
	h.createNode(node, 1)
	_, err := h.GridMsg.ChangePowerTarget(h.Ctx, &types.MsgChangePowerTarget{Creator: farmer, NodeId: 1, Target: types.PowerStateDown})
	require.NoError(t, err)
	_, err = h.GridMsg.DeleteNode(h.Ctx, &types.MsgDeleteNode{Creator: node, NodeId: 1})
	require.NoError(t, err)
	require.Empty(t, f.hooks.deleted)
	require.Empty(t, f.hooks.liveQueries)
}
