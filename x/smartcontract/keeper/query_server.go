package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

type queryServer struct {
	k *Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the contract module's Query service backed by the keeper.
func NewQueryServerImpl(k *Keeper) types.QueryServer {
	return queryServer{k: k}
}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

// Contract serves a live contract, or a view of a deleted one's tombstone.
func (q queryServer) Contract(ctx context.Context, req *types.QueryContractRequest) (*types.QueryContractResponse, error) {
	c, deletedAt, err := q.k.liveOrDeletedContract(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryContractResponse{Contract: c, DeletedAt: deletedAt}, nil
}

// ContractsByTwin lists a twin's live contracts in id order; with include_deleted, its deleted ones too
// (as tombstone views), over twin_contract_history.
func (q queryServer) ContractsByTwin(ctx context.Context, req *types.QueryContractsByTwinRequest) (*types.QueryContractsByTwinResponse, error) {
	index, load := q.k.ContractsByTwin, q.k.GetContract
	if req.IncludeDeleted {
		index = q.k.TwinContractHistory
		load = func(ctx context.Context, id uint64) (types.Contract, error) {
			c, _, err := q.k.liveOrDeletedContract(ctx, id)
			return c, err
		}
	}
	cs, page, err := keeperutil.Paginate(ctx, index, req.Pagination,
		func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Contract, error) {
			return load(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[uint64, uint64](req.TwinId))
	if err != nil {
		return nil, err
	}
	return &types.QueryContractsByTwinResponse{Contracts: cs, Pagination: page}, nil
}

func (q queryServer) ContractByName(ctx context.Context, req *types.QueryContractByNameRequest) (*types.QueryContractByNameResponse, error) {
	id, err := q.k.NameContractByName.Get(ctx, req.Name)
	if err != nil {
		return nil, keeperutil.NotFound(err, types.ErrContractNotFound, "no live name contract for %q", req.Name)
	}
	c, err := q.k.GetContract(ctx, id)
	if err != nil {
		return nil, err
	}
	return &types.QueryContractByNameResponse{Contract: c}, nil
}

func (q queryServer) NodeContracts(ctx context.Context, req *types.QueryNodeContractsRequest) (*types.QueryNodeContractsResponse, error) {
	cs, page, err := keeperutil.Paginate(ctx, q.k.ContractByNodeHash, req.Pagination,
		func(_ collections.Pair[uint64, string], id uint64) (types.Contract, error) {
			return q.k.GetContract(ctx, id)
		},
		query.WithCollectionPaginationPairPrefix[uint64, string](req.NodeId))
	if err != nil {
		return nil, err
	}
	return &types.QueryNodeContractsResponse{Contracts: cs, Pagination: page}, nil
}

func (q queryServer) NodeRentContract(ctx context.Context, req *types.QueryNodeRentContractRequest) (*types.QueryNodeRentContractResponse, error) {
	id, err := q.k.RentContractByNode.Get(ctx, req.NodeId)
	if err != nil {
		return nil, keeperutil.NotFound(err, types.ErrContractNotFound, "node %d has no rent contract", req.NodeId)
	}
	c, err := q.k.GetContract(ctx, id)
	if err != nil {
		return nil, err
	}
	return &types.QueryNodeRentContractResponse{Contract: c}, nil
}

func (q queryServer) NodeContractByHash(ctx context.Context, req *types.QueryNodeContractByHashRequest) (*types.QueryNodeContractByHashResponse, error) {
	id, err := q.k.ContractByNodeHash.Get(ctx, collections.Join(req.NodeId, req.Hash))
	if err != nil {
		return nil, keeperutil.NotFound(err, types.ErrContractNotFound, "node %d has no live contract for deployment %s", req.NodeId, req.Hash)
	}
	c, err := q.k.GetContract(ctx, id)
	if err != nil {
		return nil, err
	}
	return &types.QueryNodeContractByHashResponse{Contract: c}, nil
}

// NameContracts lists the live name contracts in name order, over the name index.
func (q queryServer) NameContracts(ctx context.Context, req *types.QueryNameContractsRequest) (*types.QueryNameContractsResponse, error) {
	cs, page, err := keeperutil.Paginate(ctx, q.k.NameContractByName, req.Pagination,
		func(_ string, id uint64) (types.Contract, error) { return q.k.GetContract(ctx, id) })
	if err != nil {
		return nil, err
	}
	return &types.QueryNameContractsResponse{Contracts: cs, Pagination: page}, nil
}

// RentContracts lists the live rent contracts in node id order, over the node index.
func (q queryServer) RentContracts(ctx context.Context, req *types.QueryRentContractsRequest) (*types.QueryRentContractsResponse, error) {
	cs, page, err := keeperutil.Paginate(ctx, q.k.RentContractByNode, req.Pagination,
		func(_ uint64, id uint64) (types.Contract, error) { return q.k.GetContract(ctx, id) })
	if err != nil {
		return nil, err
	}
	return &types.QueryRentContractsResponse{Contracts: cs, Pagination: page}, nil
}

// ContractsInGrace lists the live contracts in their grace period in id order, over the grace index.
func (q queryServer) ContractsInGrace(ctx context.Context, req *types.QueryContractsInGraceRequest) (*types.QueryContractsInGraceResponse, error) {
	cs, page, err := keeperutil.Paginate(ctx, q.k.ContractsInGrace, req.Pagination,
		func(id uint64, _ collections.NoValue) (types.Contract, error) { return q.k.GetContract(ctx, id) })
	if err != nil {
		return nil, err
	}
	return &types.QueryContractsInGraceResponse{Contracts: cs, Pagination: page}, nil
}
