package app

import (
	"encoding/json"

	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/core/appmodule"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	authzmodule "github.com/cosmos/cosmos-sdk/x/authz/module"
	"github.com/cosmos/cosmos-sdk/x/bank"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distr "github.com/cosmos/cosmos-sdk/x/distribution"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	"github.com/cosmos/cosmos-sdk/x/evidence"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	feegrantmodule "github.com/cosmos/cosmos-sdk/x/feegrant/module"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/gov"
	govclient "github.com/cosmos/cosmos-sdk/x/gov/client"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	"github.com/cosmos/cosmos-sdk/x/slashing"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/cosmos-sdk/x/upgrade"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	"github.com/tfgrid/tfgrid/x/billing"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	"github.com/tfgrid/tfgrid/x/smartcontract"
	smartcontracttypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// appModules returns every module of the app, built from the keepers.
// The legacy x/params subspaces are nil: tfgrid never had x/params.
func (app *App) appModules() []module.AppModule {
	cdc := app.appCodec
	return []module.AppModule{
		genutil.NewAppModule(app.AccountKeeper, app.StakingKeeper, app.BaseApp, app.txConfig),
		auth.NewAppModule(cdc, app.AccountKeeper, nil, nil),
		bank.NewAppModule(cdc, app.BankKeeper, app.AccountKeeper, nil),
		staking.NewAppModule(cdc, app.StakingKeeper, app.AccountKeeper, app.BankKeeper, nil),
		distr.NewAppModule(cdc, app.DistrKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil),
		slashing.NewAppModule(cdc, app.SlashingKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil, app.interfaceRegistry),
		gov.NewAppModule(cdc, app.GovKeeper, app.AccountKeeper, app.BankKeeper, nil),
		upgrade.NewAppModule(app.UpgradeKeeper, app.addressCodec),
		authzmodule.NewAppModule(cdc, app.AuthzKeeper, app.AccountKeeper, app.BankKeeper, app.interfaceRegistry),
		evidence.NewAppModule(app.EvidenceKeeper),
		feegrantmodule.NewAppModule(cdc, app.AccountKeeper, app.BankKeeper, app.FeeGrantKeeper, app.interfaceRegistry),
		consensus.NewAppModule(cdc, app.ConsensusParamsKeeper),
		tfgrid.NewAppModule(app.TfgridKeeper),
		smartcontract.NewAppModule(app.SmartcontractKeeper),
		billing.NewAppModule(app.BillingKeeper, app.foundationAccount()),
	}
}

// Module execution order. A module with a begin/end blocker must appear in the
// matching order (the manager panics at startup otherwise).
var (
	orderPreBlockers = []string{
		upgradetypes.ModuleName, // upgrades must run before anything else
		authtypes.ModuleName,
	}

	orderBeginBlockers = []string{
		distrtypes.ModuleName, // distribute fees of the previous block before slashing
		slashingtypes.ModuleName,
		evidencetypes.ModuleName,
		stakingtypes.ModuleName,
		authz.ModuleName,
	}

	// Bank first: since v0.54 bank's EndBlock finalizes virtual (block-stm)
	// balances that later end blockers may read.
	orderEndBlockers = []string{
		banktypes.ModuleName,
		govtypes.ModuleName,
		stakingtypes.ModuleName,
		feegrant.ModuleName,
		billingtypes.ModuleName,
	}

	// genutil runs after staking (its gentxs create validators) and after
	// auth/bank (the gentx signers must exist and be funded).
	orderInitGenesis = []string{
		authtypes.ModuleName,
		banktypes.ModuleName,
		distrtypes.ModuleName,
		stakingtypes.ModuleName,
		slashingtypes.ModuleName,
		govtypes.ModuleName,
		genutiltypes.ModuleName,
		evidencetypes.ModuleName,
		authz.ModuleName,
		feegrant.ModuleName,
		upgradetypes.ModuleName,
		consensustypes.ModuleName,
		tfgridtypes.ModuleName,
		smartcontracttypes.ModuleName, // after tfgrid and bank: it checks contracts against both
		billingtypes.ModuleName,       // after smartcontract: it checks that exactly the live contracts are billed
	}
)

// setupModuleManager builds the module manager, the basic manager and the
// block execution order.
func (app *App) setupModuleManager() {
	app.ModuleManager = module.NewManager(app.appModules()...)

	// Basic managers drive codec registration, `init`'s default genesis,
	// genesis validation and REST routes. Overrides: gov and genutil need
	// their legacy basic types (the genesis CLI type-asserts genutil's), and
	// modules carrying denoms get tfgrid's default genesis (see genesis.go).
	app.BasicModuleManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		genutiltypes.ModuleName: genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
		govtypes.ModuleName:     withDefaultGenesis(gov.NewAppModuleBasic([]govclient.ProposalHandler{}), govDefaultGenesis),
		stakingtypes.ModuleName: withDefaultGenesis(app.basicOf(stakingtypes.ModuleName), stakingDefaultGenesis),
		banktypes.ModuleName:    withDefaultGenesis(app.basicOf(banktypes.ModuleName), bankDefaultGenesis),
	})
	app.BasicModuleManager.RegisterLegacyAminoCodec(app.legacyAmino)
	app.BasicModuleManager.RegisterInterfaces(app.interfaceRegistry)

	app.ModuleManager.SetOrderPreBlockers(orderPreBlockers...)
	app.ModuleManager.SetOrderBeginBlockers(orderBeginBlockers...)
	app.ModuleManager.SetOrderEndBlockers(orderEndBlockers...)
	app.ModuleManager.SetOrderInitGenesis(orderInitGenesis...)
	app.ModuleManager.SetOrderExportGenesis(orderInitGenesis...)
}

func (app *App) basicOf(name string) module.AppModuleBasic {
	return app.ModuleManager.Modules[name].(module.AppModuleBasic)
}

// genesisOverride is an AppModuleBasic whose DefaultGenesis is replaced;
// everything else is the wrapped module's.
type genesisOverride struct {
	module.AppModuleBasic
	defaultGenesis func(codec.JSONCodec) json.RawMessage
}

func withDefaultGenesis(basic module.AppModuleBasic, fn func(codec.JSONCodec) json.RawMessage) module.AppModuleBasic {
	if _, ok := basic.(module.HasGenesisBasics); !ok {
		panic("module " + basic.Name() + " has no genesis to override")
	}
	return genesisOverride{AppModuleBasic: basic, defaultGenesis: fn}
}

// DefaultGenesis implements module.HasGenesisBasics.
func (g genesisOverride) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	return g.defaultGenesis(cdc)
}

// ValidateGenesis implements module.HasGenesisBasics.
func (g genesisOverride) ValidateGenesis(cdc codec.JSONCodec, txCfg client.TxEncodingConfig, bz json.RawMessage) error {
	return g.AppModuleBasic.(module.HasGenesisBasics).ValidateGenesis(cdc, txCfg, bz)
}

// AutoCliOpts returns the autocli options of every module, for the
// `query` and `tx` commands of tfgridd.
func (app *App) AutoCliOpts() autocli.AppOptions {
	modules := make(map[string]appmodule.AppModule, len(app.ModuleManager.Modules))
	for name, m := range app.ModuleManager.Modules {
		if am, ok := m.(appmodule.AppModule); ok {
			modules[name] = am
		}
	}
	return autocli.AppOptions{
		Modules:               modules,
		ModuleOptions:         runtimeservices.ExtractAutoCLIOptions(app.ModuleManager.Modules),
		AddressCodec:          app.addressCodec,
		ValidatorAddressCodec: app.validatorAddressCodec,
		ConsensusAddressCodec: app.consensusAddressCodec,
	}
}

// foundationAccount is the account a new chain's registry and billing defaults pay the foundation's share to.
func (app *App) foundationAccount() string {
	addr, err := app.addressCodec.BytesToString(tfgridtypes.DefaultFoundationAccount)
	if err != nil {
		panic(err)
	}
	return addr
}
