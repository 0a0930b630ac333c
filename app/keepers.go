package app

import (
	"github.com/spf13/cast"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/server"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	authzkeeper "github.com/cosmos/cosmos-sdk/x/authz/keeper"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	consensuskeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distrkeeper "github.com/cosmos/cosmos-sdk/x/distribution/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	evidencekeeper "github.com/cosmos/cosmos-sdk/x/evidence/keeper"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	feegrantkeeper "github.com/cosmos/cosmos-sdk/x/feegrant/keeper"
	govkeeper "github.com/cosmos/cosmos-sdk/x/gov/keeper"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"
	slashingkeeper "github.com/cosmos/cosmos-sdk/x/slashing/keeper"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	upgradekeeper "github.com/cosmos/cosmos-sdk/x/upgrade/keeper"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	billingkeeper "github.com/tfgrid/tfgrid/x/billing/keeper"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	smartcontractkeeper "github.com/tfgrid/tfgrid/x/smartcontract/keeper"
	smartcontracttypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridkeeper "github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Keepers holds every module keeper of the app. It is embedded in App, so
// app.BankKeeper etc. work.
type Keepers struct {
	AccountKeeper         authkeeper.AccountKeeper
	BankKeeper            bankkeeper.BaseKeeper
	StakingKeeper         *stakingkeeper.Keeper
	SlashingKeeper        slashingkeeper.Keeper
	DistrKeeper           distrkeeper.Keeper
	GovKeeper             *govkeeper.Keeper
	UpgradeKeeper         *upgradekeeper.Keeper
	AuthzKeeper           authzkeeper.Keeper
	EvidenceKeeper        evidencekeeper.Keeper
	FeeGrantKeeper        feegrantkeeper.Keeper
	ConsensusParamsKeeper consensuskeeper.Keeper

	TfgridKeeper        *tfgridkeeper.Keeper
	SmartcontractKeeper *smartcontractkeeper.Keeper
	BillingKeeper       *billingkeeper.Keeper
}

// storeKeyNames lists the KV stores of every module. Adding a module = one
// more entry here.
var storeKeyNames = []string{
	authtypes.StoreKey,
	banktypes.StoreKey,
	stakingtypes.StoreKey,
	distrtypes.StoreKey,
	slashingtypes.StoreKey,
	govtypes.StoreKey,
	upgradetypes.StoreKey,
	authzkeeper.StoreKey,
	evidencetypes.StoreKey,
	feegrant.StoreKey,
	consensustypes.StoreKey,
	tfgridtypes.StoreKey,
	smartcontracttypes.StoreKey,
	billingtypes.StoreKey,
}

// maccPerms are the module accounts and their permissions. TFT has a fixed
// supply: no module may mint.
var maccPerms = map[string][]string{
	authtypes.FeeCollectorName:     nil,
	distrtypes.ModuleName:          nil,
	stakingtypes.BondedPoolName:    {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName: {authtypes.Burner, authtypes.Staking},
	govtypes.ModuleName:            {authtypes.Burner},
	smartcontracttypes.ModuleName:  nil, // holds contract deposits
	billingtypes.ModuleName:        nil, // holds settlement payments until shares and farm payouts leave it
}

// BlockedModuleAccountAddrs returns the module accounts that may not receive
// funds through bank sends (every module account except gov).
func (app *App) BlockedModuleAccountAddrs() map[string]bool {
	blocked := make(map[string]bool, len(maccPerms))
	for name := range maccPerms {
		if name == govtypes.ModuleName {
			continue
		}
		addr, err := app.addressCodec.BytesToString(authtypes.NewModuleAddress(name))
		if err != nil {
			panic(err)
		}
		blocked[addr] = true
	}
	return blocked
}

// initKeepers builds every keeper. This is the single place where modules
// are wired to each other.
func (app *App) initKeepers(appOpts servertypes.AppOptions) {
	cdc := app.appCodec
	keys := app.keys
	authority := app.authority

	app.ConsensusParamsKeeper = consensuskeeper.NewKeeper(
		cdc, runtime.NewKVStoreService(keys[consensustypes.StoreKey]), authority, runtime.EventService{},
	)
	app.SetParamStore(app.ConsensusParamsKeeper.ParamsStore)

	app.AccountKeeper = authkeeper.NewAccountKeeper(
		cdc, runtime.NewKVStoreService(keys[authtypes.StoreKey]), authtypes.ProtoBaseAccount,
		maccPerms, app.addressCodec, AccountAddressPrefix, authority,
	)

	app.BankKeeper = bankkeeper.NewBaseKeeper(
		cdc, runtime.NewKVStoreService(keys[banktypes.StoreKey]), app.AccountKeeper,
		app.BlockedModuleAccountAddrs(), authority, app.Logger(),
	)

	app.StakingKeeper = stakingkeeper.NewKeeper(
		cdc, runtime.NewKVStoreService(keys[stakingtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		authority, app.validatorAddressCodec, app.consensusAddressCodec,
	)

	app.DistrKeeper = distrkeeper.NewKeeper(
		cdc, runtime.NewKVStoreService(keys[distrtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.StakingKeeper, authtypes.FeeCollectorName, authority,
	)

	app.SlashingKeeper = slashingkeeper.NewKeeper(
		cdc, app.legacyAmino, runtime.NewKVStoreService(keys[slashingtypes.StoreKey]), app.StakingKeeper, authority,
	)

	app.FeeGrantKeeper = feegrantkeeper.NewKeeper(
		cdc, runtime.NewKVStoreService(keys[feegrant.StoreKey]), app.AccountKeeper,
	)

	app.AuthzKeeper = authzkeeper.NewKeeper(
		runtime.NewKVStoreService(keys[authzkeeper.StoreKey]), cdc, app.MsgServiceRouter(), app.AccountKeeper,
	)

	skipUpgradeHeights := map[int64]bool{}
	for _, h := range cast.ToIntSlice(appOpts.Get(server.FlagUnsafeSkipUpgrades)) {
		skipUpgradeHeights[int64(h)] = true
	}
	homePath := cast.ToString(appOpts.Get(flags.FlagHome))
	app.UpgradeKeeper = upgradekeeper.NewKeeper(
		skipUpgradeHeights, runtime.NewKVStoreService(keys[upgradetypes.StoreKey]), cdc, homePath,
		app.BaseApp, authority,
	)

	// Legacy (v1beta1) proposals: text proposals only. Everything else goes
	// through gov v1 proposals carrying messages signed by the gov account.
	legacyRouter := govv1beta1.NewRouter()
	legacyRouter.AddRoute(govtypes.RouterKey, govv1beta1.ProposalHandler)
	app.GovKeeper = govkeeper.NewKeeper(
		cdc, runtime.NewKVStoreService(keys[govtypes.StoreKey]), app.AccountKeeper, app.BankKeeper,
		app.DistrKeeper, app.MsgServiceRouter(), govtypes.DefaultConfig(), authority,
		govkeeper.NewDefaultCalculateVoteResultsAndVotingPower(app.StakingKeeper),
	)
	app.GovKeeper.SetLegacyRouter(legacyRouter)

	evidenceKeeper := evidencekeeper.NewKeeper(
		cdc, runtime.NewKVStoreService(keys[evidencetypes.StoreKey]), app.StakingKeeper, app.SlashingKeeper,
		app.addressCodec, runtime.ProvideCometInfoService(),
	)
	app.EvidenceKeeper = *evidenceKeeper

	app.TfgridKeeper = tfgridkeeper.NewKeeper(
		runtime.NewKVStoreService(keys[tfgridtypes.StoreKey]), cdc, app.addressCodec, authority, app.AccountKeeper,
	)
	app.SmartcontractKeeper = smartcontractkeeper.NewKeeper(
		runtime.NewKVStoreService(keys[smartcontracttypes.StoreKey]), cdc, app.addressCodec, authority, BondDenom,
		app.TfgridKeeper, app.BankKeeper,
	)
	app.BillingKeeper = billingkeeper.NewKeeper(
		runtime.NewKVStoreService(keys[billingtypes.StoreKey]), cdc, app.addressCodec, authority, BondDenom,
		authtypes.FeeCollectorName, app.TfgridKeeper, app.SmartcontractKeeper, app.BankKeeper,
	)
	app.TfgridKeeper.SetHooks(app.SmartcontractKeeper)
	app.TfgridKeeper.SetAvailabilityHooks(app.BillingKeeper)
	app.SmartcontractKeeper.SetHooks(app.BillingKeeper)

	// Staking notifies distribution and slashing of validator/delegation changes, and billing of
	// delegations, which take utft out of an owner's spendable balance without a bank send.
	app.StakingKeeper.SetHooks(
		stakingtypes.NewMultiStakingHooks(app.DistrKeeper.Hooks(), app.SlashingKeeper.Hooks(), app.BillingKeeper.StakingHooks()),
	)
	// Every send out of a twin's account checks the twin's runway (it never refuses one).
	app.BankKeeper.AppendSendRestriction(app.BillingKeeper.SendRestriction)
}
