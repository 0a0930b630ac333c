package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

type queryServer struct {
	k *Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the registry's Query service backed by the keeper.
func NewQueryServerImpl(k *Keeper) types.QueryServer {
	return queryServer{k: k}
}

// ident returns a map value unchanged, for pagination.
func ident[K, V any](_ K, v V) (V, error) { return v, nil }

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) Twin(ctx context.Context, req *types.QueryTwinRequest) (*types.QueryTwinResponse, error) {
	t, err := q.k.GetTwin(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryTwinResponse{Twin: t}, nil
}

func (q queryServer) TwinByAccount(ctx context.Context, req *types.QueryTwinByAccountRequest) (*types.QueryTwinByAccountResponse, error) {
	t, err := q.k.TwinOfAccount(ctx, req.Address)
	if err != nil {
		return nil, err
	}
	return &types.QueryTwinByAccountResponse{Twin: t}, nil
}

func (q queryServer) Twins(ctx context.Context, req *types.QueryTwinsRequest) (*types.QueryTwinsResponse, error) {
	twins, page, err := keeperutil.Paginate(ctx, q.k.Twins, req.Pagination, ident[uint64, types.Twin])
	if err != nil {
		return nil, err
	}
	return &types.QueryTwinsResponse{Twins: twins, Pagination: page}, nil
}

func (q queryServer) Farm(ctx context.Context, req *types.QueryFarmRequest) (*types.QueryFarmResponse, error) {
	f, err := q.k.GetFarm(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmResponse{Farm: f}, nil
}

func (q queryServer) FarmByName(ctx context.Context, req *types.QueryFarmByNameRequest) (*types.QueryFarmByNameResponse, error) {
	id, err := q.k.Farms.Indexes.Name.MatchExact(ctx, req.Name)
	if err != nil {
		return nil, keeperutil.NotFound(err, types.ErrFarmNotFound, "no farm named %q", req.Name)
	}
	f, err := q.k.GetFarm(ctx, id)
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmByNameResponse{Farm: f}, nil
}

func (q queryServer) Farms(ctx context.Context, req *types.QueryFarmsRequest) (*types.QueryFarmsResponse, error) {
	farms, page, err := keeperutil.Paginate(ctx, q.k.Farms, req.Pagination, ident[uint64, types.Farm])
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmsResponse{Farms: farms, Pagination: page}, nil
}

// FarmsByTwin lists a twin's farms in id order, over the twin index.
func (q queryServer) FarmsByTwin(ctx context.Context, req *types.QueryFarmsByTwinRequest) (*types.QueryFarmsByTwinResponse, error) {
	farms, page, err := keeperutil.Paginate(ctx, q.k.Farms.Indexes.Twin, req.Pagination,
		func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Farm, error) {
			return q.k.GetFarm(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, uint64](req.TwinId))
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmsByTwinResponse{Farms: farms, Pagination: page}, nil
}

func (q queryServer) FarmPublicIps(ctx context.Context, req *types.QueryFarmPublicIpsRequest) (*types.QueryFarmPublicIpsResponse, error) {
	if _, err := q.k.GetFarm(ctx, req.Id); err != nil {
		return nil, err
	}
	if req.FreeOnly {
		return q.freeFarmPublicIPs(ctx, req)
	}
	ips, page, err := keeperutil.Paginate(ctx, q.k.PublicIPs.Indexes.Farm, req.Pagination,
		func(key collections.Pair[uint64, string], _ collections.NoValue) (types.PublicIP, error) {
			return q.k.PublicIPs.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, string](req.Id))
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmPublicIpsResponse{PublicIps: ips, Pagination: page}, nil
}

// freeFarmPublicIPs is a page of a farm's free IPs, read from its free list.
func (q queryServer) freeFarmPublicIPs(ctx context.Context, req *types.QueryFarmPublicIpsRequest) (*types.QueryFarmPublicIpsResponse, error) {
	addrs, page, err := q.k.PublicIPs.Indexes.Free.Page(ctx, req.Id, req.Pagination)
	if err != nil {
		return nil, err
	}
	ips, err := q.k.publicIPsAt(ctx, addrs)
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmPublicIpsResponse{PublicIps: ips, Pagination: page}, nil
}

func (q queryServer) FarmAllowedNodeTwins(ctx context.Context, req *types.QueryFarmAllowedNodeTwinsRequest) (*types.QueryFarmAllowedNodeTwinsResponse, error) {
	if _, err := q.k.GetFarm(ctx, req.Id); err != nil {
		return nil, err
	}
	ids, page, err := keeperutil.Paginate(ctx, q.k.AllowedNodeTwins, req.Pagination,
		func(key collections.Pair[uint64, uint64], _ collections.NoValue) (uint64, error) {
			return key.K2(), nil
		},
		query.WithCollectionPaginationPairPrefix[uint64, uint64](req.Id))
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmAllowedNodeTwinsResponse{TwinIds: ids, Pagination: page}, nil
}

func (q queryServer) Node(ctx context.Context, req *types.QueryNodeRequest) (*types.QueryNodeResponse, error) {
	n, err := q.k.GetNode(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryNodeResponse{Node: n}, nil
}

func (q queryServer) NodeByTwin(ctx context.Context, req *types.QueryNodeByTwinRequest) (*types.QueryNodeByTwinResponse, error) {
	id, err := q.k.Nodes.Indexes.Twin.MatchExact(ctx, req.TwinId)
	if err != nil {
		return nil, keeperutil.NotFound(err, types.ErrNodeNotFound, "twin %d has no node", req.TwinId)
	}
	n, err := q.k.GetNode(ctx, id)
	if err != nil {
		return nil, err
	}
	return &types.QueryNodeByTwinResponse{Node: n}, nil
}

func (q queryServer) Nodes(ctx context.Context, req *types.QueryNodesRequest) (*types.QueryNodesResponse, error) {
	if req.HasFilters() {
		page, err := q.k.FindNodes(ctx, req)
		if err != nil {
			return nil, err
		}
		return &types.QueryNodesResponse{Nodes: page.Nodes, Availability: page.Availability,
			Pagination: &query.PageResponse{NextKey: page.NextKey}}, nil
	}
	nodes, page, err := q.listNodes(ctx, req)
	if err != nil {
		return nil, err
	}
	availability, err := q.k.NodesAvailability(ctx, nodes)
	if err != nil {
		return nil, err
	}
	return &types.QueryNodesResponse{Nodes: nodes, Pagination: page, Availability: availability}, nil
}

// listNodes is an unfiltered page of nodes, of one farm when req.FarmId is set; pages are bounded
// like the finder's, as each node costs the contract reads of its availability.
func (q queryServer) listNodes(ctx context.Context, req *types.QueryNodesRequest) ([]types.Node, *query.PageResponse, error) {
	if req.Pagination != nil && req.Pagination.Limit > types.MaxNodesPageSize {
		return nil, nil, types.ErrInvalidQuery.Wrapf("pagination limit %d: at most %d nodes a page", req.Pagination.Limit, types.MaxNodesPageSize)
	}
	if req.FarmId == 0 {
		return keeperutil.Paginate(ctx, q.k.Nodes, req.Pagination, ident[uint64, types.Node])
	}
	return keeperutil.Paginate(ctx, q.k.Nodes.Indexes.Farm, req.Pagination,
		func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Node, error) {
			return q.k.Nodes.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, uint64](req.FarmId))
}

func (q queryServer) PricingPolicy(ctx context.Context, req *types.QueryPricingPolicyRequest) (*types.QueryPricingPolicyResponse, error) {
	p, err := q.k.GetPricingPolicy(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryPricingPolicyResponse{PricingPolicy: p}, nil
}

func (q queryServer) PricingPolicies(ctx context.Context, req *types.QueryPricingPoliciesRequest) (*types.QueryPricingPoliciesResponse, error) {
	ps, page, err := keeperutil.Paginate(ctx, q.k.PricingPolicies, req.Pagination, ident[uint64, types.PricingPolicy])
	if err != nil {
		return nil, err
	}
	return &types.QueryPricingPoliciesResponse{PricingPolicies: ps, Pagination: page}, nil
}

func (q queryServer) FarmingPolicy(ctx context.Context, req *types.QueryFarmingPolicyRequest) (*types.QueryFarmingPolicyResponse, error) {
	p, err := q.k.GetFarmingPolicy(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmingPolicyResponse{FarmingPolicy: p}, nil
}

func (q queryServer) FarmingPolicies(ctx context.Context, req *types.QueryFarmingPoliciesRequest) (*types.QueryFarmingPoliciesResponse, error) {
	ps, page, err := keeperutil.Paginate(ctx, q.k.FarmingPolicies, req.Pagination, ident[uint64, types.FarmingPolicy])
	if err != nil {
		return nil, err
	}
	return &types.QueryFarmingPoliciesResponse{FarmingPolicies: ps, Pagination: page}, nil
}
