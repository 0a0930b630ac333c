package keeper_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// editNode rewrites a stored node (fields the finder filters on that messages set elsewhere).
func (f *fixture) editNode(id uint64, edit func(*types.Node)) {
	f.T.Helper()
	n := f.node(id)
	edit(&n)
	require.NoError(f.T, f.Grid.Nodes.Set(f.Ctx, id, n))
}

// findNodes runs a filtered Query/Nodes and returns the node ids of the page.
func (f *fixture) findNodes(req *types.QueryNodesRequest) []uint64 {
	f.T.Helper()
	res, err := f.q.Nodes(f.Ctx, req)
	require.NoError(f.T, err)
	require.Len(f.T, res.Availability, len(res.Nodes))
	var ids []uint64
	for i, n := range res.Nodes {
		require.Equal(f.T, n.Id, res.Availability[i].NodeId)
		ids = append(ids, n.Id)
	}
	return ids
}

// finderWorld is the query world with a node per filter: node 1 runs node contracts reserving 4 GiB
// of memory and reported uptime recently, node 2 is rented and certified, node 3 is powered down and
// has an extra fee, node 4 (farm 2, no IPs) is in Cairo and stores its country as a code.
func newFinderWorld(t *testing.T) *fixture {
	f, _ := newQueryWorld(t)
	now := f.Ctx.BlockTime().Unix()
	f.editNode(1, func(n *types.Node) { n.LastUptime = types.Uptime{ReportedAt: now - 100, Uptime: 100} })
	f.editNode(2, func(n *types.Node) {
		n.Certification = types.NodeCertificationCertified
		n.LastUptime = types.Uptime{ReportedAt: now - 7200, Uptime: 100}
	})
	f.editNode(3, func(n *types.Node) { n.Power.State = types.PowerStateDown })
	f.editNode(4, func(n *types.Node) {
		n.Location = types.Location{City: "Cairo", Country: "eg", Latitude: "30", Longitude: "31"}
	})
	f.hooks.usage = map[uint64]types.NodeUsage{
		1: {Reserved: types.Resources{Cru: 1, Mru: 4 * gib}, HasNodeContracts: true},
		2: {RentContractID: 7},
		3: {HasExtraFee: true},
	}
	return f
}

func TestNodeFinderFilters(t *testing.T) {
	f := newFinderWorld(t)
	tests := []struct {
		name string
		req  types.QueryNodesRequest
		want []uint64
	}{
		{"country ignoring case", types.QueryNodesRequest{Country: "belgium"}, []uint64{1, 2, 3}},
		{"country code of nodes storing the name", types.QueryNodesRequest{Country: "BE"}, []uint64{1, 2, 3}},
		{"country code ignoring case", types.QueryNodesRequest{Country: "be"}, []uint64{1, 2, 3}},
		{"country name of a node storing the code", types.QueryNodesRequest{Country: "Egypt"}, []uint64{4}},
		{"country code of a node storing the code", types.QueryNodesRequest{Country: "EG"}, []uint64{4}},
		{"country without nodes", types.QueryNodesRequest{Country: "NL"}, nil},
		{"city", types.QueryNodesRequest{City: "Cairo"}, []uint64{4}},
		{"country and farm", types.QueryNodesRequest{Country: "Belgium", FarmId: 2}, nil},
		{"certification", types.QueryNodesRequest{Certification: types.NodeCertificationCertified}, []uint64{2}},
		{"power state down", types.QueryNodesRequest{PowerState: types.PowerStateDown}, []uint64{3}},
		{"power state up", types.QueryNodesRequest{PowerState: types.PowerStateUp}, []uint64{1, 2, 4}},
		{"online within an hour", types.QueryNodesRequest{OnlineWithin: 3600}, []uint64{1}},
		{"online within three hours", types.QueryNodesRequest{OnlineWithin: 3 * 3600}, []uint64{1, 2}},
		{"rented", types.QueryNodesRequest{Rent: types.NodeRentFilterRented}, []uint64{2}},
		{"not rented", types.QueryNodesRequest{Rent: types.NodeRentFilterNotRented}, []uint64{1, 3, 4}},
		{"rentable: not rented, no node contracts", types.QueryNodesRequest{Rent: types.NodeRentFilterRentable}, []uint64{3, 4}},
		{"dedicated by extra fee", types.QueryNodesRequest{Dedicated: true}, []uint64{3}},
		{"farm has 3 free IPs", types.QueryNodesRequest{MinFreeIps: 3}, []uint64{1, 2, 3}},
		{"farm has 4 free IPs", types.QueryNodesRequest{MinFreeIps: 4}, nil},
		// node 1 has 4 GiB free, node 2 is rented: free for nobody else.
		{"free mru 6 GiB", types.QueryNodesRequest{FreeMru: 6 * gib}, []uint64{3, 4}},
		{"free mru 4 GiB", types.QueryNodesRequest{FreeMru: 4 * gib}, []uint64{1, 3, 4}},
		{"free cru 4", types.QueryNodesRequest{FreeCru: 4}, []uint64{3, 4}},
		{"free sru more than any node", types.QueryNodesRequest{FreeSru: 501 * gib}, nil},
		{"free hru on SSD-only nodes", types.QueryNodesRequest{FreeHru: 1}, nil},
		{"free capacity in a farm", types.QueryNodesRequest{FarmId: 1, FreeMru: 6 * gib, FreeSru: 100 * gib}, []uint64{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, f.findNodes(&tc.req))
		})
	}
}

func TestNodeFinderAvailability(t *testing.T) {
	f := newFinderWorld(t)
	for _, req := range []*types.QueryNodesRequest{{}, {FarmId: 1}, {Country: "Belgium"}} {
		res, err := f.q.Nodes(f.Ctx, req)
		require.NoError(t, err)
		require.Equal(t, types.NodeAvailability{NodeId: 1, Free: types.Resources{Cru: 3, Mru: 4 * gib, Sru: 500 * gib}},
			res.Availability[0], "free = capacity - reserved, with or without filters")
		require.Equal(t, types.NodeAvailability{NodeId: 2, Free: keepertest.NodeResources, RentContractId: 7}, res.Availability[1])
	}
}

func TestNodeFinderPagination(t *testing.T) {
	f := newFinderWorld(t)
	find := func(req types.QueryNodesRequest) func(*query.PageRequest) ([]uint64, *query.PageResponse, error) {
		return func(page *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			req.Pagination = page
			res, err := f.q.Nodes(f.Ctx, &req)
			if err != nil {
				return nil, nil, err
			}
			var ids []uint64
			for _, n := range res.Nodes {
				ids = append(ids, n.Id)
			}
			return ids, res.Pagination, nil
		}
	}
	all, pages := pageThrough(t, 1, find(types.QueryNodesRequest{PowerState: types.PowerStateUp}))
	require.Equal(t, []uint64{1, 2, 4}, all)
	require.Equal(t, 3, pages, "the third page steps over node 3 (down) to node 4")
	all, _ = pageThrough(t, 2, find(types.QueryNodesRequest{FarmId: 1, Country: "Belgium"}))
	require.Equal(t, []uint64{1, 2, 3}, all)

	res, err := f.q.Nodes(f.Ctx, &types.QueryNodesRequest{Country: "Belgium", Pagination: &query.PageRequest{Limit: 2, Reverse: true}})
	require.NoError(t, err)
	require.Equal(t, []uint64{3, 2}, []uint64{res.Nodes[0].Id, res.Nodes[1].Id})
	res, err = f.q.Nodes(f.Ctx, &types.QueryNodesRequest{Country: "Belgium", Pagination: &query.PageRequest{Key: res.Pagination.NextKey, Reverse: true}})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 1)
	require.Equal(t, uint64(1), res.Nodes[0].Id)
}

func TestNodeFinderRefusesBadRequests(t *testing.T) {
	f := newFinderWorld(t)
	tests := []struct {
		name string
		req  types.QueryNodesRequest
		want error
		frag string
	}{
		{"limit above the page bound", types.QueryNodesRequest{Country: "BE", Pagination: &query.PageRequest{Limit: 101}}, types.ErrInvalidQuery, "limit 101: at most 100"},
		{"offset", types.QueryNodesRequest{Country: "BE", Pagination: &query.PageRequest{Offset: 2}}, types.ErrInvalidQuery, "offset 2"},
		{"count total", types.QueryNodesRequest{Country: "BE", Pagination: &query.PageRequest{CountTotal: true}}, types.ErrInvalidQuery, "count_total"},
		{"short key", types.QueryNodesRequest{Country: "BE", Pagination: &query.PageRequest{Key: []byte{1, 2, 3}}}, types.ErrInvalidQuery, "key 010203"},
		{"unknown country code", types.QueryNodesRequest{Country: "ZZ"}, types.ErrInvalidQuery, `country "ZZ": not an ISO 3166-1 alpha-2 country code`},
		{"unknown certification", types.QueryNodesRequest{Certification: 9}, types.ErrInvalidQuery, "certification 9"},
		{"unknown power state", types.QueryNodesRequest{PowerState: 7}, types.ErrInvalidQuery, "power_state 7"},
		{"unknown rent filter", types.QueryNodesRequest{Rent: 5}, types.ErrInvalidQuery, "rent 5"},
		{"unknown farm", types.QueryNodesRequest{FarmId: 99, FreeCru: 1}, types.ErrFarmNotFound, "99"},
		{"plain list above the page bound", types.QueryNodesRequest{Pagination: &query.PageRequest{Limit: 101}}, types.ErrInvalidQuery, "limit 101: at most 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.q.Nodes(f.Ctx, &tc.req)
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.frag)
		})
	}
}

// One query examines at most MaxNodesScanned nodes: past it, it returns what it found and where to go on.
func TestNodeFinderScanIsBounded(t *testing.T) {
	f := newFinderWorld(t)
	template := f.node(4)
	last := uint64(types.MaxNodesScanned + 10)
	for id := uint64(5); id <= last; id++ {
		n := template
		n.Id, n.TwinId = id, 1000+id
		require.NoError(t, f.Grid.Nodes.Set(f.Ctx, id, n))
	}
	f.editNode(last, func(n *types.Node) { n.Location.City = "Alexandria" })

	req := &types.QueryNodesRequest{City: "Alexandria"}
	res, err := f.q.Nodes(f.Ctx, req)
	require.NoError(t, err)
	require.Empty(t, res.Nodes, "the match lies past the scan bound")
	require.Equal(t, uint64(types.MaxNodesScanned+1), binary.BigEndian.Uint64(res.Pagination.NextKey))

	req.Pagination = &query.PageRequest{Key: res.Pagination.NextKey}
	res, err = f.q.Nodes(f.Ctx, req)
	require.NoError(t, err)
	require.Len(t, res.Nodes, 1)
	require.Equal(t, last, res.Nodes[0].Id)
	require.Empty(t, res.Pagination.NextKey)
}
