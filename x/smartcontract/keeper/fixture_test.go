package keeper_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/storebank"
	"github.com/tfgrid/tfgrid/x/smartcontract"
	"github.com/tfgrid/tfgrid/x/smartcontract/keeper"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid"
	tfgridkeeper "github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// blockTime is the block time of every test context.
var blockTime = time.Unix(1_750_000_000, 0).UTC()

const (
	denom = "utft"
	// startBalance is what every test account is funded with: 10 TFT, ten default deposits.
	startBalance = 10_000_000
	gib          = tfgridtypes.GiB
)

// deposit is the default contract deposit.
var deposit = types.DefaultContractDeposit

// ---------------------------------------------------------------------------
// mocks and fakes
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// fixture
// ---------------------------------------------------------------------------

// fixture wires the real registry keeper and the real contract keeper on one multi-store, like
// app/keepers.go, with a mock account keeper and a store-backed fake bank.
type fixture struct {
	T         *testing.T
	Ctx       sdk.Context
	Cdc       codec.Codec
	AC        address.Codec
	Authority string

	Grid    *tfgridkeeper.Keeper
	GridMsg tfgridtypes.MsgServer
	SC       *keeper.Keeper
	SCMsg     types.MsgServer
	q       types.QueryServer

	Accounts *keepertest.Accounts
	Bank     *storebank.Bank

	nAccounts int
	nFarms    int
}

// newFixture builds both keepers on fresh stores and loads both default geneses.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newBareFixture(t)
	gridGen, err := tfgridtypes.DefaultGenesis(f.AC)
	require.NoError(t, err)
	require.NoError(t, f.Grid.InitGenesis(f.Ctx, *gridGen))
	require.NoError(t, f.SC.InitGenesis(f.Ctx, *types.DefaultGenesis()))
	return f
}

// newBareFixture builds both keepers on fresh stores without loading any genesis.
func newBareFixture(t *testing.T) *fixture {
	t.Helper()
	keys := storetypes.NewKVStoreKeys(tfgridtypes.StoreKey, types.StoreKey, "fakebank")
	ctx := testutil.DefaultContextWithKeys(keys, nil, nil).
		WithBlockTime(blockTime).WithBlockHeight(10).WithEventManager(sdk.NewEventManager())
	encCfg := moduletestutil.MakeTestEncodingConfig(tfgrid.AppModule{}, smartcontract.AppModule{})

	ac := addresscodec.NewBech32Codec("tf")
	authority, err := ac.BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	require.NoError(t, err)

	accounts := keepertest.NewAccounts()
	bank := storebank.New(keys["fakebank"])
	grid := tfgridkeeper.NewKeeper(runtime.NewKVStoreService(keys[tfgridtypes.StoreKey]), encCfg.Codec, ac, authority, accounts)
	k := keeper.NewKeeper(runtime.NewKVStoreService(keys[types.StoreKey]), encCfg.Codec, ac, authority, denom, grid, bank)
	grid.SetHooks(k)

	return &fixture{
		T: t, Ctx: ctx, Cdc: encCfg.Codec, AC: ac, Authority: authority,
		Grid: grid, GridMsg: tfgridkeeper.NewMsgServerImpl(grid),
		SC: k, SCMsg: keeper.NewMsgServerImpl(k), q: keeper.NewQueryServerImpl(k),
		Accounts: accounts, Bank: bank,
	}
}

// ---------------------------------------------------------------------------
// accounts, twins, farms, nodes
// ---------------------------------------------------------------------------

func (f *fixture) Addr(bz []byte) string {
	s, err := f.AC.BytesToString(bz)
	require.NoError(f.T, err)
	return s
}

func (f *fixture) Bytes(acc string) sdk.AccAddress {
	bz, err := f.AC.StringToBytes(acc)
	require.NoError(f.T, err)
	return bz
}

// newAccount registers an account with a fresh secp256k1 key, funded with startBalance utft.
func (f *fixture) NewAccount() string {
	f.nAccounts++
	pk := secp256k1.GenPrivKey().PubKey()
	raw := sdk.AccAddress(pk.Address())
	f.Accounts.Add(authtypes.NewBaseAccount(raw, pk, uint64(f.nAccounts), 0))
	f.Bank.SetAmount(f.Ctx, raw, denom, sdkmath.NewInt(startBalance))
	return f.Addr(raw)
}

// user is an account with a twin.
type user struct {
	Acc  string
	Twin uint64
}

// newUser registers a funded account and creates its twin.
func (f *fixture) NewUser() user {
	f.T.Helper()
	acc := f.NewAccount()
	res, err := f.GridMsg.CreateTwin(f.Ctx, &tfgridtypes.MsgCreateTwin{Creator: acc})
	require.NoError(f.T, err)
	return user{Acc: acc, Twin: res.TwinId}
}

// farmIP is host of the farm's own /24 test subnet (each farm gets its own subnet).
func farmIP(farmIdx, host int) string {
	return fmt.Sprintf("185.206.%d.%d/24", 100+farmIdx, host)
}

// farmFixture is a farm with its farmer.
type farmFixture struct {
	ID     uint64
	Farmer user
	IPs    []string // in address order
}

// newFarm creates an open farm with nIPs public IPs (.2, .3, …) owned by a new farmer.
func (f *fixture) NewFarm(nIPs int) farmFixture {
	f.T.Helper()
	f.nFarms++
	farmer := f.NewUser()
	var inputs []tfgridtypes.PublicIPInput
	var ips []string
	for h := 2; h < 2+nIPs; h++ {
		inputs = append(inputs, tfgridtypes.PublicIPInput{Ip: farmIP(f.nFarms, h), Gateway: fmt.Sprintf("185.206.%d.1", 100+f.nFarms)})
		ips = append(ips, farmIP(f.nFarms, h))
	}
	res, err := f.GridMsg.CreateFarm(f.Ctx, &tfgridtypes.MsgCreateFarm{Creator: farmer.Acc, Name: fmt.Sprintf("farm-%d", f.nFarms), PublicIps: inputs})
	require.NoError(f.T, err)
	_, err = f.GridMsg.SetFarmOpenRegistration(f.Ctx, &tfgridtypes.MsgSetFarmOpenRegistration{Creator: farmer.Acc, FarmId: res.FarmId, Open: true})
	require.NoError(f.T, err)
	return farmFixture{ID: res.FarmId, Farmer: farmer, IPs: ips}
}

// nodeFixture is a node with its own twin and its farm.
type nodeFixture struct {
	ID   uint64
	Twin user
	Farm farmFixture
}

func nodeMsg(acc string, farmID uint64) *tfgridtypes.MsgCreateNode {
	return &tfgridtypes.MsgCreateNode{
		Creator: acc, FarmId: farmID,
		Resources: tfgridtypes.Resources{Cru: 4, Mru: 8 * gib, Sru: 500 * gib},
		Location:  tfgridtypes.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
		Interfaces: []tfgridtypes.Interface{
			{Name: "zos", Mac: "aa:bb:cc:dd:ee:ff", Ips: []string{"10.0.0.2/24"}},
		},
		SerialNumber: "SN-0001",
	}
}

// newNode registers a node (with its own new twin) in the farm.
func (f *fixture) NewNode(farm farmFixture) nodeFixture {
	f.T.Helper()
	tw := f.NewUser()
	res, err := f.GridMsg.CreateNode(f.Ctx, nodeMsg(tw.Acc, farm.ID))
	require.NoError(f.T, err)
	return nodeFixture{ID: res.NodeId, Twin: tw, Farm: farm}
}

// world is the usual scene: one farm with nIPs IPs and one node, a user and another user.
type world struct {
	Farm  farmFixture
	Node  nodeFixture
	Alice user
	Bob   user
}

func (f *fixture) NewWorld(nIPs int) world {
	farm := f.NewFarm(nIPs)
	return world{Farm: farm, Node: f.NewNode(farm), Alice: f.NewUser(), Bob: f.NewUser()}
}

// setFarmDedicated marks a farm dedicated through governance.
func (f *fixture) setFarmDedicated(farmID uint64, dedicated bool) {
	f.T.Helper()
	_, err := f.GridMsg.SetFarmDedicated(f.Ctx, &tfgridtypes.MsgSetFarmDedicated{Authority: f.Authority, FarmId: farmID, Dedicated: dedicated})
	require.NoError(f.T, err)
}

// setExtraFee sets a node's extra fee as its farmer.
func (f *fixture) setExtraFee(n nodeFixture, fee uint64) {
	f.T.Helper()
	_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &types.MsgSetDedicatedNodeExtraFee{Creator: n.Farm.Farmer.Acc, NodeId: n.ID, ExtraFee: fee})
	require.NoError(f.T, err)
}

// ---------------------------------------------------------------------------
// contracts
// ---------------------------------------------------------------------------

// hash is the deployment hash of a test deployment: the lowercase hex SHA-256 of s.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *fixture) CreateNodeContract(u user, nodeID uint64, deployment string, ips uint32) (uint64, error) {
	res, err := f.SCMsg.CreateNodeContract(f.Ctx, &types.MsgCreateNodeContract{
		Creator: u.Acc, NodeId: nodeID, DeploymentHash: hash(deployment), DeploymentData: []byte("data of " + deployment), PublicIpsCount: ips,
	})
	if err != nil {
		return 0, err
	}
	return res.ContractId, nil
}

// nodeContract creates a node contract that must succeed.
func (f *fixture) NodeContract(u user, nodeID uint64, deployment string, ips uint32) uint64 {
	f.T.Helper()
	id, err := f.CreateNodeContract(u, nodeID, deployment, ips)
	require.NoError(f.T, err)
	return id
}

func (f *fixture) NameContract(u user, name string) uint64 {
	f.T.Helper()
	res, err := f.SCMsg.CreateNameContract(f.Ctx, &types.MsgCreateNameContract{Creator: u.Acc, Name: name})
	require.NoError(f.T, err)
	return res.ContractId
}

func (f *fixture) RentContract(u user, nodeID uint64) uint64 {
	f.T.Helper()
	res, err := f.SCMsg.CreateRentContract(f.Ctx, &types.MsgCreateRentContract{Creator: u.Acc, NodeId: nodeID})
	require.NoError(f.T, err)
	return res.ContractId
}

func (f *fixture) Cancel(u user, id uint64) error {
	_, err := f.SCMsg.CancelContract(f.Ctx, &types.MsgCancelContract{Creator: u.Acc, ContractId: id})
	return err
}

func (f *fixture) Contract(id uint64) types.Contract {
	f.T.Helper()
	c, err := f.SC.GetContract(f.Ctx, id)
	require.NoError(f.T, err)
	return c
}

// ---------------------------------------------------------------------------
// observations
// ---------------------------------------------------------------------------

// farmIPs maps each IP of the farm to the contract holding it (0 = free).
func (f *fixture) farmIPs(farmID uint64) map[string]uint64 {
	f.T.Helper()
	ips, err := f.Grid.FarmPublicIPs(f.Ctx, farmID)
	require.NoError(f.T, err)
	out := map[string]uint64{}
	for _, ip := range ips {
		out[ip.Ip] = ip.ContractId
	}
	return out
}

// heldBy lists the farm IPs held by a contract.
func (f *fixture) heldBy(farmID, contractID uint64) []string {
	f.T.Helper()
	ips, err := f.Grid.FarmPublicIPs(f.Ctx, farmID)
	require.NoError(f.T, err)
	var out []string
	for _, ip := range ips {
		if ip.ContractId == contractID {
			out = append(out, ip.Ip)
		}
	}
	return out
}

func (f *fixture) Balance(acc string) sdkmath.Int {
	return f.Bank.Amount(f.Ctx, f.Bytes(acc), denom)
}

func (f *fixture) moduleBalance() sdkmath.Int {
	return f.Bank.Amount(f.Ctx, authtypes.NewModuleAddress(types.ModuleName), denom)
}

// foundation is the default pricing policy's foundation account.
func (f *fixture) foundation() string {
	f.T.Helper()
	p, err := f.Grid.GetPricingPolicy(f.Ctx, 1)
	require.NoError(f.T, err)
	return p.FoundationAccount
}

func (f *fixture) requireInvariants() {
	f.T.Helper()
	require.NoError(f.T, f.SC.CheckInvariants(f.Ctx))
}

// state is everything both modules and the bank hold, for before/after comparisons.
type state struct {
	grid *tfgridtypes.GenesisState
	sc   *types.GenesisState
	bank []storebank.Entry
}

func (f *fixture) state() state {
	f.T.Helper()
	grid, err := f.Grid.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	sc, err := f.SC.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	return state{grid: grid, sc: sc, bank: f.Bank.Export(f.Ctx)}
}

// resetEvents gives the context a fresh event manager.
func (f *fixture) ResetEvents() {
	f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager())
}

// typedEvents returns the typed events of T's type emitted since the last resetEvents.
func typedEvents[T proto.Message](f *fixture) []T {
	f.T.Helper()
	var out []T
	var zero T
	name := proto.MessageName(zero)
	for _, ev := range f.Ctx.EventManager().Events() {
		if ev.Type != name {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		require.NoError(f.T, err)
		out = append(out, msg.(T))
	}
	return out
}

// inCache runs fn in a cache context of the fixture's context (like a transaction) and returns its
// error; the cache is discarded, and fn sees the fixture's context replaced by the cached one.
func (f *fixture) InCache(fn func() error) error {
	parent := f.Ctx
	cc, _ := parent.CacheContext()
	f.Ctx = cc
	defer func() { f.Ctx = parent }()
	return fn()
}

// ---------------------------------------------------------------------------
// error checks
// ---------------------------------------------------------------------------

// requireErr asserts errors.Is(err, want) and that the message mentions every fragment.
func requireErr(t *testing.T, err, want error, fragments ...string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, errors.Is(err, want), "error %q is not %q", err, want)
	for _, frag := range fragments {
		require.Contains(t, err.Error(), frag)
	}
}

// errCase is an action that must fail with err, mentioning every fragment, and change nothing.
type errCase struct {
	name     string
	run      func() error
	err      error
	contains []string
}

// runErrCases runs each case in a cache context and checks the error and that the state the failing
// call saw (both modules and the bank) is unchanged.
func (f *fixture) runErrCases(cases []errCase) {
	f.T.Helper()
	for _, tc := range cases {
		f.run(tc.name, func(t *testing.T) {
			err := f.InCache(func() error {
				before := f.state()
				err := tc.run()
				require.Equal(t, before, f.state(), "a failed message changed the state")
				return err
			})
			requireErr(t, err, tc.err, tc.contains...)
		})
	}
}

// run runs a subtest in which the fixture's helpers report to the subtest.
func (f *fixture) run(name string, fn func(t *testing.T)) {
	f.T.Helper()
	parent := f.T
	parent.Run(name, func(t *testing.T) {
		f.T = t
		defer func() { f.T = parent }()
		fn(t)
	})
}

// id formats an id for error-message checks.
func id(n uint64) string { return fmt.Sprint(n) }

func sdkInt(n int64) sdkmath.Int { return sdkmath.NewInt(n) }
