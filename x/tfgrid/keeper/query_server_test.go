package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// queryWorld has 5 twins; twin 1 owns farms 1..3, farm 1 (open) holds nodes 1..3 of twins 2..4,
// farm 2 holds node 4 of twin 5; farm 1 has 3 public IPs.
func newQueryWorld(t *testing.T) (*fixture, []string) {
	f := newFixture(t)
	var accs []string
	for range 5 {
		acc, _ := f.newTwin()
		accs = append(accs, acc)
	}
	for i, name := range []string{"farm-a", "farm-b", "farm-c"} {
		f.CreateFarm(accs[0], name)
		f.OpenFarm(accs[0], uint64(i+1))
	}
	for _, host := range []int{30, 20, 10} {
		_, err := f.GridMsg.AddFarmIp(f.Ctx, &types.MsgAddFarmIp{Creator: accs[0], FarmId: 1, Ip: ip(host).Ip, Gateway: ip(host).Gateway})
		require.NoError(t, err)
	}
	for _, acc := range accs[1:4] {
		f.createNode(acc, 1)
	}
	f.createNode(accs[4], 2)
	return f, accs
}

// pageThrough reads a list page by page with the given limit and returns the ids and the page count.
func pageThrough(t *testing.T, limit uint64, read func(*query.PageRequest) ([]uint64, *query.PageResponse, error)) ([]uint64, int) {
	t.Helper()
	var all []uint64
	req := &query.PageRequest{Limit: limit}
	for pages := 1; ; pages++ {
		ids, page, err := read(req)
		require.NoError(t, err)
		require.LessOrEqual(t, uint64(len(ids)), limit)
		all = append(all, ids...)
		if page == nil || len(page.NextKey) == 0 {
			return all, pages
		}
		req = &query.PageRequest{Key: page.NextKey, Limit: limit}
	}
}

func TestQueryPagination(t *testing.T) {
	f, _ := newQueryWorld(t)

	twins := func(req *query.PageRequest) ([]uint64, *query.PageResponse, error) {
		res, err := f.q.Twins(f.Ctx, &types.QueryTwinsRequest{Pagination: req})
		if err != nil {
			return nil, nil, err
		}
		var ids []uint64
		for _, x := range res.Twins {
			ids = append(ids, x.Id)
		}
		return ids, res.Pagination, nil
	}
	farms := func(req *query.PageRequest) ([]uint64, *query.PageResponse, error) {
		res, err := f.q.Farms(f.Ctx, &types.QueryFarmsRequest{Pagination: req})
		if err != nil {
			return nil, nil, err
		}
		var ids []uint64
		for _, x := range res.Farms {
			ids = append(ids, x.Id)
		}
		return ids, res.Pagination, nil
	}
	nodes := func(farmID uint64) func(req *query.PageRequest) ([]uint64, *query.PageResponse, error) {
		return func(req *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Nodes(f.Ctx, &types.QueryNodesRequest{FarmId: farmID, Pagination: req})
			if err != nil {
				return nil, nil, err
			}
			var ids []uint64
			for _, x := range res.Nodes {
				ids = append(ids, x.Id)
				if farmID != 0 {
					require.Equal(t, farmID, x.FarmId)
				}
			}
			return ids, res.Pagination, nil
		}
	}

	tests := []struct {
		name  string
		limit uint64
		read  func(*query.PageRequest) ([]uint64, *query.PageResponse, error)
		want  []uint64
		pages int
	}{
		{"twins by 2", 2, twins, []uint64{1, 2, 3, 4, 5}, 3},
		{"twins by 5", 5, twins, []uint64{1, 2, 3, 4, 5}, 1},
		{"farms by 1", 1, farms, []uint64{1, 2, 3}, 3},
		{"farms by 2", 2, farms, []uint64{1, 2, 3}, 2},
		{"nodes by 3", 3, nodes(0), []uint64{1, 2, 3, 4}, 2},
		{"nodes of farm 1 by 2", 2, nodes(1), []uint64{1, 2, 3}, 2},
		{"nodes of farm 2", 10, nodes(2), []uint64{4}, 1},
		{"nodes of farm 3", 10, nodes(3), nil, 1},
		{"nodes of unknown farm", 10, nodes(99), nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := pageThrough(t, tc.limit, tc.read)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.pages, pages)
		})
	}

	// count_total reports the size of the whole list.
	res, err := f.q.Nodes(f.Ctx, &types.QueryNodesRequest{FarmId: 1, Pagination: &query.PageRequest{Limit: 1, CountTotal: true}})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 1)
	require.Equal(t, uint64(3), res.Pagination.Total)
}

func TestQueryFarmPublicIps(t *testing.T) {
	f, _ := newQueryWorld(t)
	res, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1})
	require.NoError(t, err)
	var got []string
	for _, x := range res.PublicIps {
		require.Equal(t, uint64(1), x.FarmId)
		got = append(got, x.Ip)
	}
	require.Equal(t, []string{"185.206.122.10/24", "185.206.122.20/24", "185.206.122.30/24"}, got)

	page, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1, Pagination: &query.PageRequest{Limit: 2}})
	require.NoError(t, err)
	require.Len(t, page.PublicIps, 2)
	require.NotEmpty(t, page.Pagination.NextKey)
	rest, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1, Pagination: &query.PageRequest{Key: page.Pagination.NextKey}})
	require.NoError(t, err)
	require.Equal(t, "185.206.122.30/24", rest.PublicIps[0].Ip)

	empty, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 2})
	require.NoError(t, err)
	require.Empty(t, empty.PublicIps)
}

func TestQueryLookups(t *testing.T) {
	f, accs := newQueryWorld(t)

	twin, err := f.q.TwinByAccount(f.Ctx, &types.QueryTwinByAccountRequest{Address: accs[3]})
	require.NoError(t, err)
	require.Equal(t, uint64(4), twin.Twin.Id)

	farm, err := f.q.FarmByName(f.Ctx, &types.QueryFarmByNameRequest{Name: "farm-b"})
	require.NoError(t, err)
	require.Equal(t, uint64(2), farm.Farm.Id)
	byID, err := f.q.Farm(f.Ctx, &types.QueryFarmRequest{Id: 2})
	require.NoError(t, err)
	require.Equal(t, farm.Farm, byID.Farm)

	node, err := f.q.NodeByTwin(f.Ctx, &types.QueryNodeByTwinRequest{TwinId: 5})
	require.NoError(t, err)
	require.Equal(t, uint64(4), node.Node.Id)
	n, err := f.q.Node(f.Ctx, &types.QueryNodeRequest{Id: 4})
	require.NoError(t, err)
	require.Equal(t, node.Node, n.Node)

	params, err := f.q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), params.Params)
}

func TestQueryNotFound(t *testing.T) {
	f, _ := newQueryWorld(t)
	noTwin := f.NewAccount()
	tests := []struct {
		name     string
		run      func() error
		err      error
		contains []string
	}{
		{"twin", func() error { _, err := f.q.Twin(f.Ctx, &types.QueryTwinRequest{Id: 6}); return err }, types.ErrTwinNotFound, []string{"twin 6"}},
		{"twin by account", func() error {
			_, err := f.q.TwinByAccount(f.Ctx, &types.QueryTwinByAccountRequest{Address: noTwin})
			return err
		}, types.ErrTwinNotFound, []string{noTwin}},
		{"twin by bad address", func() error {
			_, err := f.q.TwinByAccount(f.Ctx, &types.QueryTwinByAccountRequest{Address: "cosmos1qqq"})
			return err
		}, sdkerrors.ErrInvalidAddress, []string{"cosmos1qqq"}},
		{"farm", func() error { _, err := f.q.Farm(f.Ctx, &types.QueryFarmRequest{Id: 4}); return err }, types.ErrFarmNotFound, []string{"farm 4"}},
		{"farm by name", func() error {
			_, err := f.q.FarmByName(f.Ctx, &types.QueryFarmByNameRequest{Name: "farm-z"})
			return err
		},
			types.ErrFarmNotFound, []string{`"farm-z"`}},
		{"farm public ips", func() error { _, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 4}); return err },
			types.ErrFarmNotFound, []string{"farm 4"}},
		{"farm allowed twins", func() error {
			_, err := f.q.FarmAllowedNodeTwins(f.Ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: 4})
			return err
		}, types.ErrFarmNotFound, []string{"farm 4"}},
		{"node", func() error { _, err := f.q.Node(f.Ctx, &types.QueryNodeRequest{Id: 5}); return err }, types.ErrNodeNotFound, []string{"node 5"}},
		{"node by twin", func() error { _, err := f.q.NodeByTwin(f.Ctx, &types.QueryNodeByTwinRequest{TwinId: 1}); return err },
			types.ErrNodeNotFound, []string{"twin 1"}},
		{"pricing policy", func() error { _, err := f.q.PricingPolicy(f.Ctx, &types.QueryPricingPolicyRequest{Id: 2}); return err },
			types.ErrPricingPolicyNotFound, []string{"pricing policy 2"}},
		{"farming policy", func() error { _, err := f.q.FarmingPolicy(f.Ctx, &types.QueryFarmingPolicyRequest{Id: 3}); return err },
			types.ErrFarmingPolicyNotFound, []string{"farming policy 3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireerr.Is(t, tc.run(), tc.err, tc.contains...)
		})
	}
}

func TestQueryFarmPublicIpsFreeOnly(t *testing.T) {
	f, _ := newQueryWorld(t)
	held, err := f.Grid.GetPublicIP(f.Ctx, "185.206.122.20")
	require.NoError(t, err)
	require.NoError(t, f.Grid.SetPublicIPContract(f.Ctx, held, 9))

	free := func(page *query.PageRequest) ([]string, *query.PageResponse) {
		t.Helper()
		res, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1, FreeOnly: true, Pagination: page})
		require.NoError(t, err)
		var got []string
		for _, ip := range res.PublicIps {
			require.Zero(t, ip.ContractId)
			got = append(got, ip.Ip)
		}
		return got, res.Pagination
	}
	got, _ := free(nil)
	require.Equal(t, []string{"185.206.122.10/24", "185.206.122.30/24"}, got, "the held .20 is left out")

	got, page := free(&query.PageRequest{Limit: 1, CountTotal: true})
	require.Equal(t, []string{"185.206.122.10/24"}, got)
	require.Equal(t, uint64(2), page.Total)
	got, page = free(&query.PageRequest{Key: page.NextKey})
	require.Equal(t, []string{"185.206.122.30/24"}, got)
	require.Empty(t, page.NextKey)

	got, page = free(&query.PageRequest{Limit: 1, Reverse: true})
	require.Equal(t, []string{"185.206.122.30/24"}, got)
	got, _ = free(&query.PageRequest{Key: page.NextKey, Reverse: true})
	require.Equal(t, []string{"185.206.122.10/24"}, got)
	got, _ = free(&query.PageRequest{Offset: 1})
	require.Equal(t, []string{"185.206.122.30/24"}, got)
	got, _ = free(&query.PageRequest{Offset: 5})
	require.Empty(t, got)

	_, err = f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 1, FreeOnly: true, Pagination: &query.PageRequest{Key: []byte{1}}})
	require.ErrorIs(t, err, types.ErrInvalidQuery)
	require.ErrorContains(t, err, "pagination key 01")
	_, err = f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 99, FreeOnly: true})
	require.ErrorIs(t, err, types.ErrFarmNotFound)
	none, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: 2, FreeOnly: true})
	require.NoError(t, err)
	require.Empty(t, none.PublicIps)
}
