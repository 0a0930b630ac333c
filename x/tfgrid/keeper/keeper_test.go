package keeper_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	corestore "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/crypto/keys/ed25519"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const gib = types.GiB

// ---------------------------------------------------------------------------
// mocks
// ---------------------------------------------------------------------------

// mockHooks records AfterNodeDeleted calls and answers NodeHasLiveContracts from a set.
type mockHooks struct {
	live        map[uint64]bool
	liveErr     error
	deleted     []types.Node
	deleteErr   error
	liveQueries []uint64
	moved       []types.Node
	reserved    map[uint64]types.Resources
	// usage answers NodeUsage, for the node finder.
	usage map[uint64]types.NodeUsage
}

func (m *mockHooks) NodeHasLiveContracts(_ context.Context, nodeID uint64) (bool, error) {
	m.liveQueries = append(m.liveQueries, nodeID)
	return m.live[nodeID], m.liveErr
}

func (m *mockHooks) AfterNodeDeleted(_ context.Context, node types.Node) error {
	if m.deleteErr != nil {
		return m.deleteErr
	}
	m.deleted = append(m.deleted, node)
	return nil
}

func (m *mockHooks) AfterNodeFarmChanged(_ context.Context, node types.Node) error {
	m.moved = append(m.moved, node)
	return nil
}

func (m *mockHooks) NodeReservedCapacity(_ context.Context, nodeID uint64) (types.Resources, error) {
	return m.reserved[nodeID], nil
}

func (m *mockHooks) NodeUsage(_ context.Context, nodeID uint64) (types.NodeUsage, error) {
	return m.usage[nodeID], nil
}

// errInjected is the store failure the fault-injection test provokes.
var errInjected = errors.New("injected store failure")

// faultyStoreService hands out stores that fail every operation once budget operations have run;
// a negative budget never fails.
type faultyStoreService struct {
	inner  corestore.KVStoreService
	budget int
}

func (s *faultyStoreService) OpenKVStore(ctx context.Context) corestore.KVStore {
	return faultyStore{KVStore: s.inner.OpenKVStore(ctx), s: s}
}

type faultyStore struct {
	corestore.KVStore
	s *faultyStoreService
}

func (st faultyStore) spend() error {
	switch {
	case st.s.budget == 0:
		return errInjected
	case st.s.budget > 0:
		st.s.budget--
	}
	return nil
}

func (st faultyStore) Get(key []byte) ([]byte, error) {
	if err := st.spend(); err != nil {
		return nil, err
	}
	return st.KVStore.Get(key)
}

func (st faultyStore) Has(key []byte) (bool, error) {
	if err := st.spend(); err != nil {
		return false, err
	}
	return st.KVStore.Has(key)
}

func (st faultyStore) Set(key, value []byte) error {
	if err := st.spend(); err != nil {
		return err
	}
	return st.KVStore.Set(key, value)
}

func (st faultyStore) Delete(key []byte) error {
	if err := st.spend(); err != nil {
		return err
	}
	return st.KVStore.Delete(key)
}

func (st faultyStore) Iterator(start, end []byte) (corestore.Iterator, error) {
	if err := st.spend(); err != nil {
		return nil, err
	}
	return st.KVStore.Iterator(start, end)
}

func (st faultyStore) ReverseIterator(start, end []byte) (corestore.Iterator, error) {
	if err := st.spend(); err != nil {
		return nil, err
	}
	return st.KVStore.ReverseIterator(start, end)
}

// ---------------------------------------------------------------------------
// fixture
// ---------------------------------------------------------------------------

// fixture is the registry scene of internal/keepertest with mock hooks, the query server and a store
// that fails on demand.
type fixture struct {
	*keepertest.Scene
	q      types.QueryServer
	hooks  *mockHooks
	faults *faultyStoreService
}

// newFixture builds the registry on a fresh store, sets mock hooks and loads the default genesis.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newBareFixture(t)
	f.Grid.SetHooks(f.hooks)
	f.LoadDefaultGenesis()
	return f
}

// newBareFixture builds the registry on a fresh store reached through faults (which never fail until a
// test gives them a budget), without hooks or genesis; opts go to the scene.
func newBareFixture(t *testing.T, opts ...keepertest.Option) *fixture {
	t.Helper()
	faults := &faultyStoreService{budget: -1}
	wrap := keepertest.WrapGridStore(func(inner corestore.KVStoreService) corestore.KVStoreService {
		faults.inner = inner
		return faults
	})
	s := keepertest.NewScene(t, append(opts, wrap)...)
	return &fixture{Scene: s, q: keeper.NewQueryServerImpl(s.Grid), hooks: &mockHooks{live: map[uint64]bool{}}, faults: faults}
}

// addAccount registers an account holding pk (nil: no key on chain yet) and returns its address.
func (f *fixture) addAccount(pk cryptotypes.PubKey) string {
	raw := sdk.AccAddress(fmt.Appendf(nil, "tfgrid-test-acc-%04d", f.Accounts.Len()+1))
	if pk != nil {
		raw = sdk.AccAddress(pk.Address())
	}
	f.Accounts.Add(raw, pk)
	return f.Addr(raw)
}

// newEd25519Account registers an account that signs with an ed25519 key.
func (f *fixture) newEd25519Account() string {
	return f.addAccount(ed25519.GenPrivKey().PubKey())
}

// pubkeyOf returns the compressed secp256k1 key of a registered account.
func (f *fixture) pubkeyOf(acc string) []byte {
	return f.Accounts.GetAccount(f.Ctx, f.Bytes(acc)).GetPubKey().Bytes()
}

// e2eKey returns a fresh valid compressed secp256k1 key.
func e2eKey() []byte { return secp256k1.GenPrivKey().PubKey().Bytes() }

// createTwin creates the twin of acc with the relays and returns its id.
func (f *fixture) createTwin(acc string, relays ...string) uint64 {
	f.T.Helper()
	res, err := f.GridMsg.CreateTwin(f.Ctx, &types.MsgCreateTwin{Creator: acc, Relays: relays})
	require.NoError(f.T, err)
	return res.TwinId
}

// newTwin registers a fresh account with a twin.
func (f *fixture) newTwin() (string, uint64) {
	u := f.NewUser()
	return u.Acc, u.Twin
}

// ip is a public IP input of the 185.206.122.0/24 test subnet (gateway .1).
func ip(host int) types.PublicIPInput {
	return types.PublicIPInput{Ip: fmt.Sprintf("185.206.122.%d/24", host), Gateway: "185.206.122.1"}
}

// allow lets twinID register a node into the farm.
func (f *fixture) allow(farmer string, farmID, twinID uint64) {
	f.T.Helper()
	_, err := f.GridMsg.AllowNodeTwin(f.Ctx, &types.MsgAllowNodeTwin{Creator: farmer, FarmId: farmID, TwinId: twinID})
	require.NoError(f.T, err)
}

// interfaces are the network interfaces of x/tfgrid's test nodes: IPv4 and IPv6.
func interfaces() []types.Interface {
	return []types.Interface{{Name: "zos", Mac: "aa:bb:cc:dd:ee:ff", Ips: []string{"10.0.0.2/24", "2a02:1802:5e::2/64"}}}
}

// nodeMsg is a valid MsgCreateNode: the scene's resources and location, with secure boot, an IPv6
// interface and no link rate, which x/tfgrid's tests check field by field.
func nodeMsg(acc string, farmID uint64) *types.MsgCreateNode {
	return &types.MsgCreateNode{
		Creator: acc, FarmId: farmID, Resources: keepertest.NodeResources, Location: keepertest.NodeLocation, Interfaces: interfaces(),
		SecureBoot: true, SerialNumber: "SN-0001",
	}
}

// updateMsg is a MsgUpdateNode that keeps the description of nodeMsg.
func updateMsg(acc string, nodeID, farmID uint64) *types.MsgUpdateNode {
	return &types.MsgUpdateNode{
		Creator: acc, NodeId: nodeID, FarmId: farmID, Resources: keepertest.NodeResources, Location: keepertest.NodeLocation,
		Interfaces: interfaces(), SecureBoot: true, SerialNumber: "SN-0001",
	}
}

// createNode registers acc's twin as a node of farmID, described by nodeMsg.
func (f *fixture) createNode(acc string, farmID uint64) uint64 {
	return f.CreateNode(nodeMsg(acc, farmID))
}

func (f *fixture) twin(id uint64) types.Twin {
	f.T.Helper()
	t, err := f.Grid.Twins.Get(f.Ctx, id)
	require.NoError(f.T, err)
	return t
}

func (f *fixture) farm(id uint64) types.Farm {
	f.T.Helper()
	farm, err := f.Grid.Farms.Get(f.Ctx, id)
	require.NoError(f.T, err)
	return farm
}

func (f *fixture) node(id uint64) types.Node {
	f.T.Helper()
	n, err := f.Grid.Nodes.Get(f.Ctx, id)
	require.NoError(f.T, err)
	return n
}

func (f *fixture) params() types.Params {
	f.T.Helper()
	p, err := f.Grid.Params.Get(f.Ctx)
	require.NoError(f.T, err)
	return p
}

// setParams changes the params through governance.
func (f *fixture) setParams(mutate func(*types.Params)) {
	f.T.Helper()
	p := f.params()
	mutate(&p)
	_, err := f.GridMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(f.T, err)
}

// export writes the whole registry out.
func (f *fixture) export() *types.GenesisState {
	f.T.Helper()
	gs, err := f.Grid.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	return gs
}

// eventTypes lists the types of the events emitted since the last ResetEvents.
func (f *fixture) eventTypes() []string {
	var out []string
	for _, ev := range f.Ctx.EventManager().Events() {
		out = append(out, ev.Type)
	}
	return out
}

// eventAttrs returns the attributes of the only event of type typ.
func (f *fixture) eventAttrs(typ string) map[string]string {
	f.T.Helper()
	var found []map[string]string
	for _, ev := range f.Ctx.EventManager().Events() {
		if ev.Type != typ {
			continue
		}
		attrs := map[string]string{}
		for _, a := range ev.Attributes {
			attrs[a.Key] = a.Value
		}
		found = append(found, attrs)
	}
	require.Len(f.T, found, 1, "events of type %s in %v", typ, f.eventTypes())
	return found[0]
}

// ---------------------------------------------------------------------------
// error tables
// ---------------------------------------------------------------------------

// errCase is a message that must fail with err, naming every fragment, and change nothing.
type errCase struct {
	name     string
	run      func() error
	err      error
	contains []string
}

// runErrCases runs every case against the fixture's current state, checking the error and that the
// exported registry is identical before and after.
func (f *fixture) runErrCases(cases []errCase) {
	f.T.Helper()
	for _, tc := range cases {
		f.T.Run(tc.name, func(t *testing.T) {
			before := f.export()
			err := tc.run()
			requireerr.Is(t, err, tc.err, tc.contains...)
			require.Equal(t, before, f.export(), "a failed message changed the state")
		})
	}
}

// ---------------------------------------------------------------------------
// smoke test of the fixture itself
// ---------------------------------------------------------------------------

func TestDefaultGenesisLoaded(t *testing.T) {
	f := newFixture(t)
	gs := f.export()
	def, err := types.DefaultGenesis(f.AC)
	require.NoError(t, err)
	require.Equal(t, def, gs)
	require.Equal(t, "tf1", f.Authority[:3])
	require.Equal(t, f.Authority, f.Grid.Authority())
	require.NotNil(t, f.Grid.AddressCodec())
	require.Panics(t, func() { f.Grid.SetHooks(&mockHooks{}) }, "hooks may be set once")
	require.Panics(t, func() {
		keeper.NewKeeper(runtime.NewKVStoreService(storetypes.NewKVStoreKey("x")), nil, f.AC, "cosmos1bad", f.Accounts)
	})
}
