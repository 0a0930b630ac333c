package keepertest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/tfgrid/tfgrid/internal/storebank"
	"github.com/tfgrid/tfgrid/x/tfgrid"
	tfgridkeeper "github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// BlockTime is the block time every scene starts at.
var BlockTime = time.Unix(1_750_000_000, 0).UTC()

const (
	// Denom is the token accounts are funded in and contracts are paid in.
	Denom = "utft"
	// StartBalance is what every account of a scene is funded with: 10 TFT.
	StartBalance = 10_000_000
	// NodeLinkRate is the public network rate every scene node declares: 5 GB/s.
	NodeLinkRate = 5_000_000_000

	// startHeight is the block height every scene starts at.
	startHeight = 10
	// bankStoreKey names the store the scene's bank keeps its balances in.
	bankStoreKey = "fakebank"
)

// Option shapes a scene: a Layer above it, WrapGridStore or ShareAccounts. Every layer's constructor
// passes the options it is given down to the scene.
type Option interface {
	apply(*options)
}

// options is what the options of a scene add up to.
type options struct {
	layers   []Layer
	wrapGrid func(corestore.KVStoreService) corestore.KVStoreService
	accounts *Accounts
}

// optionFunc is an Option that is not a Layer.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Layer is a module an upper layer puts onto the scene's multi-store: the name of its store and the
// module whose interfaces the codec registers.
type Layer struct {
	StoreKey string
	Module   module.AppModuleBasic
}

func (l Layer) apply(o *options) { o.layers = append(o.layers, l) }

// WrapGridStore has the registry keeper reach its store through what wrap makes of the real store
// service: x/tfgrid injects store failures with it.
func WrapGridStore(wrap func(corestore.KVStoreService) corestore.KVStoreService) Option {
	return optionFunc(func(o *options) { o.wrapGrid = wrap })
}

// ShareAccounts builds the scene on another scene's accounts: a registry imported from that scene's
// export keeps its signers' keys, and new accounts continue its numbering instead of deriving its keys
// again.
func ShareAccounts(accounts *Accounts) Option {
	return optionFunc(func(o *options) { o.accounts = accounts })
}

// Scene is the registry layer of the keeper tests: the real x/tfgrid keeper on a multi-store with a
// store-backed bank, like app/keepers.go, and the accounts, twins, farms and nodes a test builds.
// The upper layers (contracts, billing) put their keepers on the same multi-store and set the
// registry's hooks. T and Ctx are the test and context every helper reports to and runs in: a test
// may swap them (a subtest, a cache context).
type Scene struct {
	T         *testing.T
	Ctx       sdk.Context
	Cdc       codec.Codec
	AC        address.Codec
	Authority string
	// Keys are the multi-store's keys by store name: the registry's, the bank's and the layers'.
	Keys map[string]*storetypes.KVStoreKey

	Grid    *tfgridkeeper.Keeper
	GridMsg tfgridtypes.MsgServer

	Accounts *Accounts
	Bank     *storebank.Bank

	// OnNewNode, when set, runs for every node NewNode registers: billing has the node report its
	// uptime, so it is online.
	OnNewNode func(Node)

	nFarms int
}

// NewScene builds the registry keeper and the bank on fresh stores, with stores and codec entries for
// the layers among opts, without loading any genesis. It sets no registry hooks: they are the upper
// layers'.
func NewScene(t *testing.T, opts ...Option) *Scene {
	t.Helper()
	o := options{accounts: NewAccounts()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	names := []string{tfgridtypes.StoreKey, bankStoreKey}
	modules := []module.AppModuleBasic{tfgrid.AppModule{}}
	for _, l := range o.layers {
		names = append(names, l.StoreKey)
		modules = append(modules, l.Module)
	}
	keys := storetypes.NewKVStoreKeys(names...)
	ctx := testutil.DefaultContextWithKeys(keys, nil, nil).
		WithBlockTime(BlockTime).WithBlockHeight(startHeight).WithEventManager(sdk.NewEventManager())
	cdc := moduletestutil.MakeTestEncodingConfig(modules...).Codec

	ac := addresscodec.NewBech32Codec("tf")
	authority, err := ac.BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	require.NoError(t, err)

	var gridStore corestore.KVStoreService = runtime.NewKVStoreService(keys[tfgridtypes.StoreKey])
	if o.wrapGrid != nil {
		gridStore = o.wrapGrid(gridStore)
	}
	grid := tfgridkeeper.NewKeeper(gridStore, cdc, ac, authority, o.accounts)
	return &Scene{
		T: t, Ctx: ctx, Cdc: cdc, AC: ac, Authority: authority, Keys: keys,
		Grid: grid, GridMsg: tfgridkeeper.NewMsgServerImpl(grid),
		Accounts: o.accounts, Bank: storebank.New(keys[bankStoreKey]),
	}
}

// LoadDefaultGenesis loads the registry's default genesis.
func (s *Scene) LoadDefaultGenesis() {
	s.T.Helper()
	gen, err := tfgridtypes.DefaultGenesis(s.AC)
	require.NoError(s.T, err)
	require.NoError(s.T, s.Grid.InitGenesis(s.Ctx, *gen))
}

// ---------------------------------------------------------------------------
// addresses and balances
// ---------------------------------------------------------------------------

// Addr encodes raw address bytes with the chain's codec.
func (s *Scene) Addr(bz []byte) string {
	str, err := s.AC.BytesToString(bz)
	require.NoError(s.T, err)
	return str
}

// Bytes decodes an address.
func (s *Scene) Bytes(acc string) sdk.AccAddress {
	bz, err := s.AC.StringToBytes(acc)
	require.NoError(s.T, err)
	return bz
}

// Balance is acc's balance of Denom.
func (s *Scene) Balance(acc string) sdkmath.Int {
	return s.Bank.Amount(s.Ctx, s.Bytes(acc), Denom)
}

// ---------------------------------------------------------------------------
// accounts, twins, farms, nodes
// ---------------------------------------------------------------------------

// NewAccount registers an account with a new secp256k1 key (derived from the number of accounts, so
// runs are reproducible), funded with StartBalance.
func (s *Scene) NewAccount() string {
	pk := secp256k1.GenPrivKeyFromSecret(fmt.Appendf(nil, "keepertest-account-%d", s.Accounts.Len()+1)).PubKey()
	raw := sdk.AccAddress(pk.Address())
	s.Accounts.Add(raw, pk)
	s.Bank.SetAmount(s.Ctx, raw, Denom, sdkmath.NewInt(StartBalance))
	return s.Addr(raw)
}

// User is an account with a twin.
type User struct {
	Acc  string
	Twin uint64
}

// NewUser registers a funded account and creates its twin.
func (s *Scene) NewUser() User {
	s.T.Helper()
	acc := s.NewAccount()
	res, err := s.GridMsg.CreateTwin(s.Ctx, &tfgridtypes.MsgCreateTwin{Creator: acc})
	require.NoError(s.T, err)
	return User{Acc: acc, Twin: res.TwinId}
}

// FarmIP is host of the farm's own /24 test subnet (the farm-th farm a scene creates gets its own).
func FarmIP(farm, host int) string {
	return fmt.Sprintf("%s.%d/24", farmSubnet(farm), host)
}

// farmSubnet is the first three octets of the farm-th farm's subnet.
func farmSubnet(farm int) string {
	return fmt.Sprintf("185.206.%d", 100+farm)
}

// Farm is a farm with its farmer.
type Farm struct {
	ID     uint64
	Farmer User
	IPs    []string // in address order
}

// NewFarm creates an open farm with nIPs public IPs (.2, .3, …) owned by a new farmer.
func (s *Scene) NewFarm(nIPs int) Farm {
	s.T.Helper()
	s.nFarms++
	farmer := s.NewUser()
	var inputs []tfgridtypes.PublicIPInput
	var ips []string
	for h := 2; h < 2+nIPs; h++ {
		inputs = append(inputs, tfgridtypes.PublicIPInput{Ip: FarmIP(s.nFarms, h), Gateway: farmSubnet(s.nFarms) + ".1"})
		ips = append(ips, FarmIP(s.nFarms, h))
	}
	id := s.CreateFarm(farmer.Acc, fmt.Sprintf("farm-%d", s.nFarms), inputs...)
	s.OpenFarm(farmer.Acc, id)
	return Farm{ID: id, Farmer: farmer, IPs: ips}
}

// CreateFarm has acc's twin create a farm with the public IPs, which must succeed, and returns its id.
func (s *Scene) CreateFarm(acc, name string, ips ...tfgridtypes.PublicIPInput) uint64 {
	s.T.Helper()
	res, err := s.GridMsg.CreateFarm(s.Ctx, &tfgridtypes.MsgCreateFarm{Creator: acc, Name: name, PublicIps: ips})
	require.NoError(s.T, err)
	return res.FarmId
}

// OpenFarm has the farmer open the farm to any node twin.
func (s *Scene) OpenFarm(farmer string, farmID uint64) {
	s.T.Helper()
	_, err := s.GridMsg.SetFarmOpenRegistration(s.Ctx, &tfgridtypes.MsgSetFarmOpenRegistration{Creator: farmer, FarmId: farmID, Open: true})
	require.NoError(s.T, err)
}

// NodeResources is the capacity of every scene node: CU 2, SU 2.5.
var NodeResources = tfgridtypes.Resources{Cru: 4, Mru: 8 * tfgridtypes.GiB, Sru: 500 * tfgridtypes.GiB}

// NodeLocation is where every scene node stands.
var NodeLocation = tfgridtypes.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"}

// NodeMsg registers acc's twin as a node of the farm, with the description every scene node has.
func NodeMsg(acc string, farmID uint64) *tfgridtypes.MsgCreateNode {
	return &tfgridtypes.MsgCreateNode{
		Creator: acc, FarmId: farmID, Resources: NodeResources, Location: NodeLocation,
		Interfaces: []tfgridtypes.Interface{
			{Name: "zos", Mac: "aa:bb:cc:dd:ee:ff", Ips: []string{"10.0.0.2/24"}},
		},
		SerialNumber: "SN-0001", LinkRate: NodeLinkRate,
	}
}

// Node is a node with its own twin and its farm.
type Node struct {
	ID   uint64
	Twin User
	Farm Farm
}

// NewNode registers a node (with its own new twin) in the farm, then runs OnNewNode.
func (s *Scene) NewNode(farm Farm) Node {
	s.T.Helper()
	tw := s.NewUser()
	n := Node{ID: s.CreateNode(NodeMsg(tw.Acc, farm.ID)), Twin: tw, Farm: farm}
	if s.OnNewNode != nil {
		s.OnNewNode(n)
	}
	return n
}

// CreateNode sends msg, which must succeed, and returns the new node's id.
func (s *Scene) CreateNode(msg *tfgridtypes.MsgCreateNode) uint64 {
	s.T.Helper()
	res, err := s.GridMsg.CreateNode(s.Ctx, msg)
	require.NoError(s.T, err)
	return res.NodeId
}

// World is the usual scene: one farm with its IPs and one node, and two users.
type World struct {
	Farm  Farm
	Node  Node
	Alice User
	Bob   User
}

// NewWorld builds a World whose farm has nIPs IPs.
func (s *Scene) NewWorld(nIPs int) World {
	farm := s.NewFarm(nIPs)
	return World{Farm: farm, Node: s.NewNode(farm), Alice: s.NewUser(), Bob: s.NewUser()}
}

// Hash is the deployment hash of a test deployment: the lowercase hex SHA-256 of deployment.
func Hash(deployment string) string {
	sum := sha256.Sum256([]byte(deployment))
	return hex.EncodeToString(sum[:])
}

// ---------------------------------------------------------------------------
// events and transactions
// ---------------------------------------------------------------------------

// ResetEvents gives the context a fresh event manager.
func (s *Scene) ResetEvents() {
	s.Ctx = s.Ctx.WithEventManager(sdk.NewEventManager())
}

// TypedEvents returns the typed events of T's type emitted since the last ResetEvents.
func TypedEvents[T proto.Message](s *Scene) []T {
	s.T.Helper()
	var out []T
	var zero T
	name := proto.MessageName(zero)
	for _, ev := range s.Ctx.EventManager().Events() {
		if ev.Type != name {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		require.NoError(s.T, err)
		out = append(out, msg.(T))
	}
	return out
}

// InCache runs fn in a cache context of the scene's context (like a transaction) and returns its
// error; the cache is discarded, and fn sees the scene's context replaced by the cached one.
func (s *Scene) InCache(fn func() error) error {
	parent := s.Ctx
	cc, _ := parent.CacheContext()
	s.Ctx = cc
	defer func() { s.Ctx = parent }()
	return fn()
}
