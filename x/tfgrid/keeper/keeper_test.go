package keeper_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/crypto/keys/ed25519"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid"
	"github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// genesisTime is the block time of every test context.
var genesisTime = time.Unix(1_750_000_000, 0).UTC()

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

// fixture is a keeper on a real in-memory store, with its Msg and Query servers.
type fixture struct {
	t         *testing.T
	ctx       sdk.Context
	k         *keeper.Keeper
	msg       types.MsgServer
	q         types.QueryServer
	ac        address.Codec
	authority string
	accounts  *keepertest.Accounts
	hooks     *mockHooks
	faults    *faultyStoreService
	nAccounts int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tkey := storetypes.NewTransientStoreKey("transient_test")
	tctx := testutil.DefaultContextWithDB(t, key, tkey)
	encCfg := moduletestutil.MakeTestEncodingConfig(tfgrid.AppModule{})

	ac := addresscodec.NewBech32Codec("tf")
	authority, err := ac.BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	require.NoError(t, err)

	accounts := keepertest.NewAccounts()
	hooks := &mockHooks{live: map[uint64]bool{}}
	faults := &faultyStoreService{inner: runtime.NewKVStoreService(key), budget: -1}
	k := keeper.NewKeeper(faults, encCfg.Codec, ac, authority, accounts)
	k.SetHooks(hooks)

	f := &fixture{
		t:         t,
		ctx:       tctx.Ctx.WithBlockTime(genesisTime).WithEventManager(sdk.NewEventManager()),
		k:         k,
		msg:       keeper.NewMsgServerImpl(k),
		q:         keeper.NewQueryServerImpl(k),
		ac:        ac,
		authority: authority,
		accounts:  accounts,
		hooks:     hooks,
		faults:    faults,
	}
	gs, err := types.DefaultGenesis(ac)
	require.NoError(t, err)
	require.NoError(t, k.InitGenesis(f.ctx, *gs))
	return f
}

// addr encodes raw address bytes with the chain's codec.
func (f *fixture) addr(bz []byte) string {
	s, err := f.ac.BytesToString(bz)
	require.NoError(f.t, err)
	return s
}

// addAccount registers an account holding pk (nil: no key on chain yet) and returns its address.
func (f *fixture) addAccount(pk cryptotypes.PubKey) string {
	f.nAccounts++
	raw := sdk.AccAddress(fmt.Appendf(nil, "tfgrid-test-acc-%04d", f.nAccounts))
	if pk != nil {
		raw = sdk.AccAddress(pk.Address())
	}
	f.accounts.Add(authtypes.NewBaseAccount(raw, pk, uint64(f.nAccounts), 0))
	return f.addr(raw)
}

// newAccount registers an account with a fresh secp256k1 key.
func (f *fixture) newAccount() string {
	return f.addAccount(secp256k1.GenPrivKey().PubKey())
}

// newEd25519Account registers an account that signs with an ed25519 key.
func (f *fixture) newEd25519Account() string {
	return f.addAccount(ed25519.GenPrivKey().PubKey())
}

// pubkeyOf returns the compressed secp256k1 key of a registered account.
func (f *fixture) pubkeyOf(acc string) []byte {
	bz, err := f.ac.StringToBytes(acc)
	require.NoError(f.t, err)
	return f.accounts.GetAccount(f.ctx, bz).GetPubKey().Bytes()
}

// e2eKey returns a fresh valid compressed secp256k1 key.
func e2eKey() []byte { return secp256k1.GenPrivKey().PubKey().Bytes() }

// createTwin creates the twin of acc and returns its id.
func (f *fixture) createTwin(acc string, relays ...string) uint64 {
	f.t.Helper()
	res, err := f.msg.CreateTwin(f.ctx, &types.MsgCreateTwin{Creator: acc, Relays: relays})
	require.NoError(f.t, err)
	return res.TwinId
}

// newTwin registers a fresh account with a twin.
func (f *fixture) newTwin() (string, uint64) {
	acc := f.newAccount()
	return acc, f.createTwin(acc)
}

// ip is a public IP input of the 185.206.122.0/24 test subnet (gateway .1).
func ip(host int) types.PublicIPInput {
	return types.PublicIPInput{Ip: fmt.Sprintf("185.206.122.%d/24", host), Gateway: "185.206.122.1"}
}

// createFarm creates a farm owned by acc's twin.
func (f *fixture) createFarm(acc, name string, ips ...types.PublicIPInput) uint64 {
	f.t.Helper()
	res, err := f.msg.CreateFarm(f.ctx, &types.MsgCreateFarm{Creator: acc, Name: name, PublicIps: ips})
	require.NoError(f.t, err)
	return res.FarmId
}

// openFarm opens a farm to any node twin.
func (f *fixture) openFarm(farmer string, farmID uint64) {
	f.t.Helper()
	_, err := f.msg.SetFarmOpenRegistration(f.ctx, &types.MsgSetFarmOpenRegistration{Creator: farmer, FarmId: farmID, Open: true})
	require.NoError(f.t, err)
}

// allow lets twinID register a node into the farm.
func (f *fixture) allow(farmer string, farmID, twinID uint64) {
	f.t.Helper()
	_, err := f.msg.AllowNodeTwin(f.ctx, &types.MsgAllowNodeTwin{Creator: farmer, FarmId: farmID, TwinId: twinID})
	require.NoError(f.t, err)
}

// resources is a valid node capacity: 4 CPUs, 8 GiB memory, 500 GiB SSD (CU 1, SU 2).
func resources() types.Resources {
	return types.Resources{Cru: 4, Mru: 8 * gib, Sru: 500 * gib}
}

func location() types.Location {
	return types.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"}
}

func interfaces() []types.Interface {
	return []types.Interface{{Name: "zos", Mac: "aa:bb:cc:dd:ee:ff", Ips: []string{"10.0.0.2/24", "2a02:1802:5e::2/64"}}}
}

// nodeMsg is a valid MsgCreateNode.
func nodeMsg(acc string, farmID uint64) *types.MsgCreateNode {
	return &types.MsgCreateNode{
		Creator: acc, FarmId: farmID, Resources: resources(), Location: location(), Interfaces: interfaces(),
		SecureBoot: true, SerialNumber: "SN-0001",
	}
}

// updateMsg is a MsgUpdateNode that keeps the description of nodeMsg.
func updateMsg(acc string, nodeID, farmID uint64) *types.MsgUpdateNode {
	return &types.MsgUpdateNode{
		Creator: acc, NodeId: nodeID, FarmId: farmID, Resources: resources(), Location: location(),
		Interfaces: interfaces(), SecureBoot: true, SerialNumber: "SN-0001",
	}
}

// createNode registers acc's twin as a node of farmID.
func (f *fixture) createNode(acc string, farmID uint64) uint64 {
	f.t.Helper()
	res, err := f.msg.CreateNode(f.ctx, nodeMsg(acc, farmID))
	require.NoError(f.t, err)
	return res.NodeId
}

func (f *fixture) twin(id uint64) types.Twin {
	f.t.Helper()
	t, err := f.k.Twins.Get(f.ctx, id)
	require.NoError(f.t, err)
	return t
}

func (f *fixture) farm(id uint64) types.Farm {
	f.t.Helper()
	farm, err := f.k.Farms.Get(f.ctx, id)
	require.NoError(f.t, err)
	return farm
}

func (f *fixture) node(id uint64) types.Node {
	f.t.Helper()
	n, err := f.k.Nodes.Get(f.ctx, id)
	require.NoError(f.t, err)
	return n
}

func (f *fixture) params() types.Params {
	f.t.Helper()
	p, err := f.k.Params.Get(f.ctx)
	require.NoError(f.t, err)
	return p
}

// setParams changes the params through governance.
func (f *fixture) setParams(mutate func(*types.Params)) {
	f.t.Helper()
	p := f.params()
	mutate(&p)
	_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(f.t, err)
}

// export writes the whole registry out.
func (f *fixture) export() *types.GenesisState {
	f.t.Helper()
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(f.t, err)
	return gs
}

// resetEvents gives the context a fresh event manager.
func (f *fixture) resetEvents() {
	f.ctx = f.ctx.WithEventManager(sdk.NewEventManager())
}

// eventTypes lists the types of the events emitted since the last resetEvents.
func (f *fixture) eventTypes() []string {
	var out []string
	for _, ev := range f.ctx.EventManager().Events() {
		out = append(out, ev.Type)
	}
	return out
}

// eventAttrs returns the attributes of the only event of type typ.
func (f *fixture) eventAttrs(typ string) map[string]string {
	f.t.Helper()
	var found []map[string]string
	for _, ev := range f.ctx.EventManager().Events() {
		if ev.Type != typ {
			continue
		}
		attrs := map[string]string{}
		for _, a := range ev.Attributes {
			attrs[a.Key] = a.Value
		}
		found = append(found, attrs)
	}
	require.Len(f.t, found, 1, "events of type %s in %v", typ, f.eventTypes())
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
	f.t.Helper()
	for _, tc := range cases {
		f.t.Run(tc.name, func(t *testing.T) {
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
	def, err := types.DefaultGenesis(f.ac)
	require.NoError(t, err)
	require.Equal(t, def, gs)
	require.Equal(t, "tf1", f.authority[:3])
	require.Equal(t, f.authority, f.k.Authority())
	require.NotNil(t, f.k.AddressCodec())
	require.Panics(t, func() { f.k.SetHooks(&mockHooks{}) }, "hooks may be set once")
	require.Panics(t, func() {
		keeper.NewKeeper(runtime.NewKVStoreService(storetypes.NewKVStoreKey("x")), nil, f.ac, "cosmos1bad", f.accounts)
	})
}

func (m *mockHooks) NodeUsage(_ context.Context, nodeID uint64) (types.NodeUsage, error) {
	return m.usage[nodeID], nil
}
