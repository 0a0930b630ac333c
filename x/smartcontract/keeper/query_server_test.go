package keeper_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

func ids(cs []types.Contract) []uint64 {
	out := make([]uint64, len(cs))
	for i, c := range cs {
		out[i] = c.Id
	}
	return out
}

func TestQueryContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	live := f.NodeContract(w.Alice, w.Node.ID, "live", 1)
	gone := f.NodeContract(w.Alice, w.Node.ID, "gone", 0)
	name := f.NameContract(w.Bob, "bobs")
	require.NoError(t, f.Cancel(w.Node.Twin, gone))
	require.NoError(t, f.Cancel(w.Bob, name))

	res, err := f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: live})
	require.NoError(t, err)
	require.Equal(t, f.Contract(live), res.Contract)
	require.Zero(t, res.DeletedAt)

	res, err = f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: gone})
	require.NoError(t, err)
	require.Equal(t, types.Contract{
		Id: gone, TwinId: w.Alice.Twin, State: types.ContractStateDeleted, DeleteCause: types.DeleteCauseCanceledByNode,
		CreatedAt: keepertest.BlockTime.Unix(), Deposit: res.Contract.Deposit, Kind: &types.Contract_NodeContract{NodeContract: &types.NodeContract{NodeId: w.Node.ID}},
	}, res.Contract)
	require.True(t, res.Contract.Deposit.IsZero())
	require.Equal(t, keepertest.BlockTime.Unix(), res.DeletedAt)

	res, err = f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: name})
	require.NoError(t, err)
	require.Equal(t, types.ContractKindName, res.Contract.ContractKind())
	require.Equal(t, types.DeleteCauseCanceledByUser, res.Contract.DeleteCause)

	_, err = f.q.Contract(f.Ctx, &types.QueryContractRequest{Id: 99})
	requireerr.Is(t, err, types.ErrContractNotFound, "99")
	require.Equal(t, codes.NotFound, grpcCode(err))
}

// grpcCode is the gRPC code a client sees for a registered error.
func grpcCode(err error) codes.Code {
	return status.Code(err)
}

func TestQueryContractsByTwinPaginates(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	var mine []uint64
	for _, d := range []string{"a", "b", "c"} {
		mine = append(mine, f.NodeContract(w.Alice, w.Node.ID, d, 0))
		f.NodeContract(w.Bob, w.Node.ID, "bob-"+d, 0)
	}
	mine = append(mine, f.NameContract(w.Alice, "alices"))
	gone := f.NodeContract(w.Alice, w.Node.ID, "gone", 0)
	require.NoError(t, f.Cancel(w.Alice, gone))

	page1, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: w.Alice.Twin, Pagination: &query.PageRequest{Limit: 3, CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, mine[:3], ids(page1.Contracts))
	require.Equal(t, uint64(4), page1.Pagination.Total)
	require.NotEmpty(t, page1.Pagination.NextKey)

	page2, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: w.Alice.Twin, Pagination: &query.PageRequest{Key: page1.Pagination.NextKey, Limit: 3}})
	require.NoError(t, err)
	require.Equal(t, mine[3:], ids(page2.Contracts))
	require.Empty(t, page2.Pagination.NextKey)

	all, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: w.Alice.Twin})
	require.NoError(t, err)
	require.Equal(t, mine, ids(all.Contracts))
	require.Equal(t, f.Contract(mine[0]), all.Contracts[0], "full contracts are served")

	none, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: 999})
	require.NoError(t, err)
	require.Empty(t, none.Contracts)
}

func TestQueryContractsByTwinIncludeDeleted(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	kept := f.NodeContract(w.Alice, w.Node.ID, "kept", 0)
	created := keepertest.BlockTime.Add(time.Hour)
	f.Ctx = f.Ctx.WithBlockTime(created)
	gone := f.NodeContract(w.Alice, w.Node.ID, "gone", 0)
	bobs := f.NodeContract(w.Bob, w.Node.ID, "bobs", 0)
	name := f.NameContract(w.Alice, "alices")
	f.Ctx = f.Ctx.WithBlockTime(created.Add(time.Hour))
	require.NoError(t, f.Cancel(w.Alice, gone))
	require.NoError(t, f.Cancel(w.Bob, bobs))
	require.NoError(t, f.Cancel(w.Alice, name))
	last := f.NodeContract(w.Alice, w.Node.ID, "last", 0)

	live, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: w.Alice.Twin})
	require.NoError(t, err)
	require.Equal(t, []uint64{kept, last}, ids(live.Contracts), "without include_deleted: live contracts only")

	all, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: w.Alice.Twin, IncludeDeleted: true})
	require.NoError(t, err)
	require.Equal(t, []uint64{kept, gone, name, last}, ids(all.Contracts), "live and deleted, in id order")
	require.Equal(t, f.Contract(kept), all.Contracts[0], "live contracts are served in full")
	require.Equal(t, types.Contract{
		Id: gone, TwinId: w.Alice.Twin, State: types.ContractStateDeleted, DeleteCause: types.DeleteCauseCanceledByUser,
		CreatedAt: created.Unix(), Deposit: all.Contracts[1].Deposit, Kind: &types.Contract_NodeContract{NodeContract: &types.NodeContract{NodeId: w.Node.ID}},
	}, all.Contracts[1], "a deleted contract keeps its real created_at")
	require.Equal(t, types.ContractKindName, all.Contracts[2].ContractKind())
	require.Equal(t, types.ContractStateDeleted, all.Contracts[2].State)

	page1, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{
		TwinId: w.Alice.Twin, IncludeDeleted: true, Pagination: &query.PageRequest{Limit: 3, CountTotal: true},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{kept, gone, name}, ids(page1.Contracts))
	require.Equal(t, uint64(4), page1.Pagination.Total)
	page2, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{
		TwinId: w.Alice.Twin, IncludeDeleted: true, Pagination: &query.PageRequest{Key: page1.Pagination.NextKey, Limit: 3},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{last}, ids(page2.Contracts))
	require.Empty(t, page2.Pagination.NextKey)
	byOffset, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{
		TwinId: w.Alice.Twin, IncludeDeleted: true, Pagination: &query.PageRequest{Offset: 1, Limit: 2},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{gone, name}, ids(byOffset.Contracts))

	bob, err := f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{TwinId: w.Bob.Twin, IncludeDeleted: true})
	require.NoError(t, err)
	require.Equal(t, []uint64{bobs}, ids(bob.Contracts), "another twin's history stays apart")

	_, err = f.q.ContractsByTwin(f.Ctx, &types.QueryContractsByTwinRequest{
		TwinId: w.Alice.Twin, IncludeDeleted: true, Pagination: &query.PageRequest{Key: page1.Pagination.NextKey, Offset: 1},
	})
	require.ErrorContains(t, err, "key and offset 1 both set")
	f.requireInvariants()
}

func TestQueryNodeContractsPaginates(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	other := f.NewNode(w.Farm)
	var onNode []uint64
	for _, d := range []string{"a", "b", "c", "d", "e"} {
		onNode = append(onNode, f.NodeContract(w.Alice, w.Node.ID, d, 0))
		f.NodeContract(w.Bob, other.ID, d, 0)
	}
	graced := onNode[1]
	require.NoError(t, f.SC.EnterGrace(f.Ctx, graced))
	require.NoError(t, f.Cancel(w.Alice, onNode[4]))
	onNode = onNode[:4]
	f.RentContract(w.Alice, f.NewNode(w.Farm).ID) // a rent contract is not a node contract
	// The list comes in deployment-hash order.
	slices.SortFunc(onNode, func(a, b uint64) int {
		ca, err := f.SC.GetContract(f.Ctx, a)
		require.NoError(t, err)
		cb, err := f.SC.GetContract(f.Ctx, b)
		require.NoError(t, err)
		return strings.Compare(ca.GetNodeContract().DeploymentHash, cb.GetNodeContract().DeploymentHash)
	})

	var got []uint64
	var key []byte
	for {
		res, err := f.q.NodeContracts(f.Ctx, &types.QueryNodeContractsRequest{NodeId: w.Node.ID, Pagination: &query.PageRequest{Key: key, Limit: 3}})
		require.NoError(t, err)
		got = append(got, ids(res.Contracts)...)
		if key = res.Pagination.NextKey; key == nil {
			break
		}
	}
	require.Equal(t, onNode, got, "live node contracts, grace included")

	res, err := f.q.NodeContracts(f.Ctx, &types.QueryNodeContractsRequest{NodeId: w.Node.ID, Pagination: &query.PageRequest{Offset: 2, Limit: 1, CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, onNode[2:3], ids(res.Contracts))
	require.Equal(t, uint64(4), res.Pagination.Total)

	res, err = f.q.NodeContracts(f.Ctx, &types.QueryNodeContractsRequest{NodeId: 999})
	require.NoError(t, err)
	require.Empty(t, res.Contracts)
}

func TestQueryLookups(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	nc := f.NodeContract(w.Alice, w.Node.ID, "web", 0)
	name := f.NameContract(w.Alice, "lookup")
	rentNode := f.NewNode(w.Farm)
	rent := f.RentContract(w.Bob, rentNode.ID)

	byName, err := f.q.ContractByName(f.Ctx, &types.QueryContractByNameRequest{Name: "lookup"})
	require.NoError(t, err)
	require.Equal(t, f.Contract(name), byName.Contract)

	byRent, err := f.q.NodeRentContract(f.Ctx, &types.QueryNodeRentContractRequest{NodeId: rentNode.ID})
	require.NoError(t, err)
	require.Equal(t, f.Contract(rent), byRent.Contract)

	byHash, err := f.q.NodeContractByHash(f.Ctx, &types.QueryNodeContractByHashRequest{NodeId: w.Node.ID, Hash: keepertest.Hash("web")})
	require.NoError(t, err)
	require.Equal(t, f.Contract(nc), byHash.Contract)

	params, err := f.q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), params.Params)

	notFound := []struct {
		name string
		run  func() error
		frag []string
	}{
		{"unknown name", func() error {
			_, err := f.q.ContractByName(f.Ctx, &types.QueryContractByNameRequest{Name: "nobody"})
			return err
		}, []string{"nobody"}},
		{"node without rent", func() error {
			_, err := f.q.NodeRentContract(f.Ctx, &types.QueryNodeRentContractRequest{NodeId: w.Node.ID})
			return err
		}, []string{"node " + id(w.Node.ID)}},
		{"unknown hash", func() error {
			_, err := f.q.NodeContractByHash(f.Ctx, &types.QueryNodeContractByHashRequest{NodeId: w.Node.ID, Hash: keepertest.Hash("nope")})
			return err
		}, []string{keepertest.Hash("nope")}},
		{"hash on another node", func() error {
			_, err := f.q.NodeContractByHash(f.Ctx, &types.QueryNodeContractByHashRequest{NodeId: rentNode.ID, Hash: keepertest.Hash("web")})
			return err
		}, []string{"node " + id(rentNode.ID)}},
	}
	for _, tc := range notFound {
		f.run(tc.name, func(t *testing.T) {
			err := tc.run()
			requireerr.Is(t, err, types.ErrContractNotFound, tc.frag...)
			require.Equal(t, codes.NotFound, grpcCode(err))
		})
	}

	// Deleted contracts leave the lookups.
	require.NoError(t, f.Cancel(w.Alice, name))
	require.NoError(t, f.Cancel(w.Alice, nc))
	require.NoError(t, f.Cancel(w.Bob, rent))
	_, err = f.q.ContractByName(f.Ctx, &types.QueryContractByNameRequest{Name: "lookup"})
	requireerr.Is(t, err, types.ErrContractNotFound)
	_, err = f.q.NodeContractByHash(f.Ctx, &types.QueryNodeContractByHashRequest{NodeId: w.Node.ID, Hash: keepertest.Hash("web")})
	requireerr.Is(t, err, types.ErrContractNotFound)
	_, err = f.q.NodeRentContract(f.Ctx, &types.QueryNodeRentContractRequest{NodeId: rentNode.ID})
	requireerr.Is(t, err, types.ErrContractNotFound)
}

func TestQueryNameContractsPaginates(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	// Created out of name order; the list comes in name order.
	zed := f.NameContract(w.Alice, "zed")
	abc := f.NameContract(w.Bob, "abc")
	mid := f.NameContract(w.Alice, "mid")
	gone := f.NameContract(w.Bob, "gone")
	require.NoError(t, f.Cancel(w.Bob, gone))
	f.NodeContract(w.Alice, w.Node.ID, "a", 0) // not a name contract
	f.RentContract(w.Bob, f.NewNode(w.Farm).ID)

	page1, err := f.q.NameContracts(f.Ctx, &types.QueryNameContractsRequest{Pagination: &query.PageRequest{Limit: 2, CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, []uint64{abc, mid}, ids(page1.Contracts))
	require.Equal(t, uint64(3), page1.Pagination.Total)
	require.NotEmpty(t, page1.Pagination.NextKey)

	page2, err := f.q.NameContracts(f.Ctx, &types.QueryNameContractsRequest{Pagination: &query.PageRequest{Key: page1.Pagination.NextKey, Limit: 2}})
	require.NoError(t, err)
	require.Equal(t, []uint64{zed}, ids(page2.Contracts))
	require.Empty(t, page2.Pagination.NextKey)

	all, err := f.q.NameContracts(f.Ctx, &types.QueryNameContractsRequest{})
	require.NoError(t, err)
	require.Equal(t, f.Contract(abc), all.Contracts[0], "full contracts are served")
	require.Equal(t, "abc", all.Contracts[0].GetNameContract().Name)

	_, err = f.q.NameContracts(f.Ctx, &types.QueryNameContractsRequest{Pagination: &query.PageRequest{Limit: 1001}})
	requireerr.Is(t, err, sdkerrors.ErrInvalidRequest, "limit 1001 above the maximum 1000")
}

func TestQueryRentContractsPaginates(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	n1, n2, n3 := f.NewNode(w.Farm), f.NewNode(w.Farm), f.NewNode(w.Farm)
	// Created out of node order; the list comes in node id order.
	r3 := f.RentContract(w.Alice, n3.ID)
	r1 := f.RentContract(w.Bob, n1.ID)
	gone := f.RentContract(w.Alice, n2.ID)
	require.NoError(t, f.Cancel(w.Alice, gone))
	f.NameContract(w.Alice, "notrent") // not a rent contract
	f.NodeContract(w.Bob, n1.ID, "a", 0)

	page1, err := f.q.RentContracts(f.Ctx, &types.QueryRentContractsRequest{Pagination: &query.PageRequest{Limit: 1, CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, []uint64{r1}, ids(page1.Contracts))
	require.Equal(t, uint64(2), page1.Pagination.Total)
	require.Equal(t, f.Contract(r1), page1.Contracts[0], "full contracts are served")

	page2, err := f.q.RentContracts(f.Ctx, &types.QueryRentContractsRequest{Pagination: &query.PageRequest{Key: page1.Pagination.NextKey, Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, []uint64{r3}, ids(page2.Contracts))
	require.Equal(t, n3.ID, page2.Contracts[0].GetRentContract().NodeId)

	_, err = f.q.RentContracts(f.Ctx, &types.QueryRentContractsRequest{Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1}})
	requireerr.Is(t, err, sdkerrors.ErrInvalidRequest, "key and offset 1 both set")
}

func TestQueryContractsInGrace(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	rentedNode := f.NewNode(w.Farm)
	nc := f.NodeContract(w.Alice, w.Node.ID, "a", 0)
	f.NodeContract(w.Alice, w.Node.ID, "b", 0) // stays out of grace
	rent := f.RentContract(w.Bob, rentedNode.ID)
	onRented := f.NodeContract(w.Bob, rentedNode.ID, "c", 0)
	name := f.NameContract(w.Alice, "graced")
	left := f.NameContract(w.Bob, "left")
	cancelled := f.NodeContract(w.Alice, w.Node.ID, "d", 0)
	for _, id := range []uint64{nc, rent, name, left, cancelled} {
		require.NoError(t, f.SC.EnterGrace(f.Ctx, id))
	}
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, left))
	require.NoError(t, f.Cancel(w.Alice, cancelled))

	inGrace := func(p *query.PageRequest) *types.QueryContractsInGraceResponse {
		res, err := f.q.ContractsInGrace(f.Ctx, &types.QueryContractsInGraceRequest{Pagination: p})
		require.NoError(t, err)
		return res
	}
	// The rent contract took the renter's node contract into grace with it.
	want := []uint64{nc, rent, onRented, name}
	all := inGrace(nil)
	require.Equal(t, want, ids(all.Contracts))
	require.Equal(t, f.Contract(rent), all.Contracts[1], "full contracts are served")
	for _, c := range all.Contracts {
		require.Equal(t, types.ContractStateGracePeriod, c.State)
	}

	page1 := inGrace(&query.PageRequest{Limit: 3, CountTotal: true})
	require.Equal(t, want[:3], ids(page1.Contracts))
	require.Equal(t, uint64(4), page1.Pagination.Total)
	require.Equal(t, want[3:], ids(inGrace(&query.PageRequest{Key: page1.Pagination.NextKey, Limit: 3}).Contracts))

	// Leaving grace takes the contract, and the rent contract's followers, off the list.
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, rent))
	require.Equal(t, []uint64{nc, name}, ids(inGrace(nil).Contracts))
	f.requireInvariants()

	_, err := f.q.ContractsInGrace(f.Ctx, &types.QueryContractsInGraceRequest{Pagination: &query.PageRequest{Limit: 5000}})
	requireerr.Is(t, err, sdkerrors.ErrInvalidRequest, "limit 5000 above the maximum 1000")
}
