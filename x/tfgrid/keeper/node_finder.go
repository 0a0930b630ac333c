package keeper

// The node finder behind a filtered Query/Nodes. Free capacity comes from the per-node reserved
// totals x/smartcontract keeps up to date on every contract change (through RegistryHooks.NodeUsage),
// so the finder never reads contracts; it walks nodes, in id order, a bounded number per query.

import (
	"context"
	"encoding/binary"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// NodePage is one page of the node finder: the matching nodes, what each has free, and where the
// next page starts (nil: the walk reached the end).
type NodePage struct {
	Nodes        []types.Node
	Availability []types.NodeAvailability
	NextKey      []byte
}

// nodePageRequest is a validated page request of the finder.
type nodePageRequest struct {
	start   *uint64
	limit   int
	reverse bool
}

// FindNodes returns the nodes matching every filter of req, at most MaxNodesPageSize, after examining
// at most MaxNodesScanned nodes.
func (k *Keeper) FindNodes(ctx context.Context, req *types.QueryNodesRequest) (NodePage, error) {
	if err := req.ValidateFilters(); err != nil {
		return NodePage{}, err
	}
	page, err := parseNodePage(req.Pagination)
	if err != nil {
		return NodePage{}, err
	}
	if req.FarmId != 0 {
		if _, err := k.GetFarm(ctx, req.FarmId); err != nil {
			return NodePage{}, err
		}
	}
	var (
		out     NodePage
		scanned int
		now     = keeperutil.BlockTime(ctx)
		farms   = map[uint64]farmFacts{}
	)
	err = k.walkNodes(ctx, req.FarmId, page, func(node types.Node) (bool, error) {
		if len(out.Nodes) == page.limit || scanned == types.MaxNodesScanned {
			out.NextKey = nodeKey(node.Id)
			return true, nil
		}
		scanned++
		facts, err := k.nodeFacts(ctx, node, farms)
		if err != nil {
			return true, err
		}
		if req.Matches(node, facts, now) {
			out.Nodes = append(out.Nodes, node)
			out.Availability = append(out.Availability, facts.Availability(node))
		}
		return false, nil
	})
	return out, err
}

// parseNodePage checks a page request of the finder: a key is a node id (8 bytes, big endian), the
// limit at most MaxNodesPageSize; offsets and totals would need the whole walk, so they are refused.
func parseNodePage(p *query.PageRequest) (nodePageRequest, error) {
	page := nodePageRequest{limit: types.MaxNodesPageSize}
	if p == nil {
		return page, nil
	}
	switch {
	case p.Offset != 0:
		return page, types.ErrInvalidQuery.Wrapf("pagination offset %d: filtered node queries page by key only", p.Offset)
	case p.CountTotal:
		return page, types.ErrInvalidQuery.Wrap("pagination count_total: filtered node queries cannot count their matches")
	case p.Limit > types.MaxNodesPageSize:
		return page, types.ErrInvalidQuery.Wrapf("pagination limit %d: at most %d nodes a page", p.Limit, types.MaxNodesPageSize)
	case len(p.Key) != 0 && len(p.Key) != 8:
		return page, types.ErrInvalidQuery.Wrapf("pagination key %x: want the 8-byte next_key of a previous page", p.Key)
	}
	if p.Limit != 0 {
		page.limit = int(p.Limit)
	}
	if len(p.Key) == 8 {
		start := binary.BigEndian.Uint64(p.Key)
		page.start = &start
	}
	page.reverse = p.Reverse
	return page, nil
}

// nodeKey is the next_key of a page that stops before node id.
func nodeKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// walkNodes visits nodes in id order from the page's start: a farm's through the farm index, else all.
func (k *Keeper) walkNodes(ctx context.Context, farmID uint64, page nodePageRequest, visit func(types.Node) (bool, error)) error {
	if farmID == 0 {
		return k.Nodes.Walk(ctx, bound(page, new(collections.Range[uint64])),
			func(_ uint64, node types.Node) (bool, error) { return visit(node) })
	}
	return k.Nodes.Indexes.Farm.Walk(ctx, bound(page, collections.NewPrefixedPairRange[uint64, uint64](farmID)),
		func(_, nodeID uint64) (bool, error) {
			node, err := k.Nodes.Get(ctx, nodeID)
			if err != nil {
				return true, err
			}
			return visit(node)
		})
}

// nodeRange is a collections range over node ids (plain or under a farm prefix).
type nodeRange[R any] interface {
	StartInclusive(uint64) R
	EndInclusive(uint64) R
	Descending() R
}

// bound starts r at the page's key, in the page's direction.
func bound[R nodeRange[R]](page nodePageRequest, r R) R {
	switch {
	case page.start != nil && page.reverse:
		r = r.EndInclusive(*page.start)
	case page.start != nil:
		r = r.StartInclusive(*page.start)
	}
	if page.reverse {
		r = r.Descending()
	}
	return r
}

// farmFacts is what the finder reads of a farm, once per query.
type farmFacts struct {
	dedicated bool
	freeIPs   uint64
}

// nodeFacts gathers what the filters need beyond the node: its contracts' usage and its farm.
func (k *Keeper) nodeFacts(ctx context.Context, node types.Node, farms map[uint64]farmFacts) (types.NodeFacts, error) {
	usage, err := k.hooks.NodeUsage(ctx, node.Id)
	if err != nil {
		return types.NodeFacts{}, err
	}
	farm, ok := farms[node.FarmId]
	if !ok {
		f, err := k.GetFarm(ctx, node.FarmId)
		if err != nil {
			return types.NodeFacts{}, err
		}
		free, err := k.PublicIPs.Indexes.Free.Count(ctx, node.FarmId)
		if err != nil {
			return types.NodeFacts{}, err
		}
		farm = farmFacts{dedicated: f.Dedicated, freeIPs: free}
		farms[node.FarmId] = farm
	}
	return types.NodeFacts{Usage: usage, FarmDedicated: farm.dedicated, FarmFreeIPs: farm.freeIPs}, nil
}

// NodesAvailability is what each of the listed nodes has free, for an unfiltered Query/Nodes page.
func (k *Keeper) NodesAvailability(ctx context.Context, nodes []types.Node) ([]types.NodeAvailability, error) {
	farms := map[uint64]farmFacts{}
	out := make([]types.NodeAvailability, 0, len(nodes))
	for _, node := range nodes {
		facts, err := k.nodeFacts(ctx, node, farms)
		if err != nil {
			return nil, err
		}
		out = append(out, facts.Availability(node))
	}
	return out, nil
}
