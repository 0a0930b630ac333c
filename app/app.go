// Package app wires the tfgrid chain application by hand (no depinject).
//
// Layout:
//   - config.go   chain constants (bech32 prefixes, utft, chain id) and SetupSDKConfig
//   - keepers.go  store keys, module accounts and every keeper (all cross-module wiring)
//   - modules.go  module list, block/genesis order, basic manager, autocli
//   - genesis.go  default genesis in utft
//   - ante.go     ante handler
//   - upgrades.go upgrade handlers
//   - export.go   state export (`tfgridd export`)
package app

import (
	"encoding/json"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	gogogrpc "github.com/cosmos/gogoproto/grpc"
	"github.com/cosmos/gogoproto/proto"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"
	"cosmossdk.io/core/address"
	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/std"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/version"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"

	"github.com/tfgrid/tfgrid/docs"
	"github.com/tfgrid/tfgrid/internal/grpcerr"
	"github.com/tfgrid/tfgrid/internal/signmode"
)

var (
	_ servertypes.Application = (*App)(nil)
)

// App is the tfgrid chain application.
type App struct {
	*baseapp.BaseApp
	Keepers

	legacyAmino           *codec.LegacyAmino
	appCodec              codec.Codec
	txConfig              client.TxConfig
	interfaceRegistry     codectypes.InterfaceRegistry
	addressCodec          address.Codec
	validatorAddressCodec address.Codec
	consensusAddressCodec address.Codec

	// authority is the gov module account: the signer of every
	// governance-only message.
	authority string

	keys map[string]*storetypes.KVStoreKey

	ModuleManager      *module.Manager
	BasicModuleManager module.BasicManager
	configurator       module.Configurator
}

// NewApp returns a fully wired tfgrid application.
func NewApp(
	logger log.Logger,
	db dbm.DB,
	loadLatest bool,
	appOpts servertypes.AppOptions,
	baseAppOptions ...func(*baseapp.BaseApp),
) *App {
	// Address strings must come out as tf1... everywhere (idempotent).
	SetupSDKConfig()

	app := &App{
		addressCodec:          addresscodec.NewBech32Codec(AccountAddressPrefix),
		validatorAddressCodec: addresscodec.NewBech32Codec(ValidatorAddressPrefix),
		consensusAddressCodec: addresscodec.NewBech32Codec(ConsNodeAddressPrefix),
		legacyAmino:           codec.NewLegacyAmino(),
	}

	interfaceRegistry, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          app.addressCodec,
			ValidatorAddressCodec: app.validatorAddressCodec,
		},
	})
	if err != nil {
		panic(err)
	}
	app.interfaceRegistry = interfaceRegistry
	app.appCodec = codec.NewProtoCodec(interfaceRegistry)
	std.RegisterLegacyAminoCodec(app.legacyAmino)
	std.RegisterInterfaces(interfaceRegistry)

	// SIGN_MODE_DIRECT (default), DIRECT_AUX and LEGACY_AMINO_JSON. No TEXTUAL.
	signingOptions, err := signmode.Options(app.addressCodec, app.validatorAddressCodec)
	if err != nil {
		panic(err)
	}
	app.txConfig, err = authtx.NewTxConfigWithOptions(app.appCodec, authtx.ConfigOptions{
		EnabledSignModes: authtx.DefaultSignModes,
		SigningContext:   interfaceRegistry.SigningContext(),
		SigningOptions:   signingOptions,
	})
	if err != nil {
		panic(err)
	}

	app.authority, err = app.addressCodec.BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	if err != nil {
		panic(err)
	}

	bApp := baseapp.NewBaseApp(AppName, logger, db, app.txConfig.TxDecoder(), baseAppOptions...)
	bApp.SetVersion(version.Version)
	bApp.SetInterfaceRegistry(interfaceRegistry)
	bApp.SetTxEncoder(app.txConfig.TxEncoder())
	app.BaseApp = bApp

	app.keys = storetypes.NewKVStoreKeys(storeKeyNames...)
	if err := bApp.RegisterStreamingServices(appOpts, app.keys); err != nil {
		panic(err)
	}

	app.initKeepers(appOpts)
	app.setupModuleManager()

	// Module queries answer errors through grpcerr.Status on every path: over gRPC and REST, and over
	// ABCI (`tfgridd query ...`), where the SDK keeps only a status code class and the text, so the
	// text's "codespace X code N reason R" prefix is what carries the error to the CLI.
	app.configurator = module.NewConfigurator(app.appCodec, app.MsgServiceRouter(), grpcerr.Server{Server: app.GRPCQueryRouter()})
	if err := app.ModuleManager.RegisterServices(app.configurator); err != nil {
		panic(err)
	}

	// autocli discovers modules' commands through this service.
	autocliv1.RegisterQueryServer(app.GRPCQueryRouter(), runtimeservices.NewAutoCLIQueryService(app.ModuleManager.Modules))
	reflectionSvc, err := runtimeservices.NewReflectionService()
	if err != nil {
		panic(err)
	}
	reflectionv1.RegisterReflectionServiceServer(app.GRPCQueryRouter(), reflectionSvc)

	app.MountKVStores(app.keys)

	app.SetInitChainer(app.InitChainer)
	app.SetPreBlocker(app.PreBlocker)
	app.SetBeginBlocker(app.BeginBlocker)
	app.SetEndBlocker(app.EndBlocker)
	app.setAnteHandler()
	app.setupUpgrades()

	if loadLatest {
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Errorf("load latest version: %w", err))
		}
	}

	return app
}

// Name returns the app name.
func (app *App) Name() string { return app.BaseApp.Name() }

// LegacyAmino returns the app's amino codec.
func (app *App) LegacyAmino() *codec.LegacyAmino { return app.legacyAmino }

// AppCodec returns the app's proto codec.
func (app *App) AppCodec() codec.Codec { return app.appCodec }

// InterfaceRegistry returns the app's interface registry.
func (app *App) InterfaceRegistry() codectypes.InterfaceRegistry { return app.interfaceRegistry }

// TxConfig returns the app's tx config.
func (app *App) TxConfig() client.TxConfig { return app.txConfig }

// AddressCodec returns the account address codec (tf1...).
func (app *App) AddressCodec() address.Codec { return app.addressCodec }

// ValidatorAddressCodec returns the validator address codec (tfvaloper1...).
func (app *App) ValidatorAddressCodec() address.Codec { return app.validatorAddressCodec }

// ConsensusAddressCodec returns the consensus address codec (tfvalcons1...).
func (app *App) ConsensusAddressCodec() address.Codec { return app.consensusAddressCodec }

// Authority returns the gov module account address, the authority of
// governance-only messages.
func (app *App) Authority() string { return app.authority }

// Configurator returns the module configurator (for upgrade migrations).
func (app *App) Configurator() module.Configurator { return app.configurator }

// InitChainer initializes every module from the genesis app state.
func (app *App) InitChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var genesisState GenesisState
	if err := json.Unmarshal(req.AppStateBytes, &genesisState); err != nil {
		return nil, fmt.Errorf("unmarshal genesis app state: %w", err)
	}
	if err := app.UpgradeKeeper.SetModuleVersionMap(ctx, app.ModuleManager.GetVersionMap()); err != nil {
		return nil, err
	}
	return app.ModuleManager.InitGenesis(ctx, app.appCodec, genesisState)
}

// PreBlocker runs the modules' pre-blockers (upgrade, auth).
func (app *App) PreBlocker(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
	return app.ModuleManager.PreBlock(ctx)
}

// BeginBlocker runs the modules' begin blockers.
func (app *App) BeginBlocker(ctx sdk.Context) (sdk.BeginBlock, error) {
	return app.ModuleManager.BeginBlock(ctx)
}

// EndBlocker runs the modules' end blockers.
func (app *App) EndBlocker(ctx sdk.Context) (sdk.EndBlock, error) {
	return app.ModuleManager.EndBlock(ctx)
}

// LoadHeight loads the state at a given height.
func (app *App) LoadHeight(height int64) error {
	return app.LoadVersion(height)
}

// RegisterAPIRoutes registers the REST (grpc-gateway) routes of the node,
// the tx service, CometBFT queries and every module, and the OpenAPI document.
func (app *App) RegisterAPIRoutes(apiSvr *api.Server, _ config.APIConfig) {
	clientCtx := apiSvr.ClientCtx
	apiSvr.Router.Use(grpcerr.DropBinaryTrailers) // error details travel in the body
	authtx.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	cmtservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	nodeservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicModuleManager.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	// The OpenAPI document of every REST route is served whatever apiConfig.Swagger says: it is small
	// and describes this chain's own modules, unlike the SDK's swagger bundle.
	docs.RegisterOpenAPIRoutes(apiSvr.Router)
}

// RegisterTxService registers the gRPC tx service (simulate, get tx, broadcast); a refused
// simulation answers with the error's kind and ErrorInfo (txService).
func (app *App) RegisterTxService(clientCtx client.Context) {
	txtypes.RegisterServiceServer(app.GRPCQueryRouter(), newTxService(clientCtx, app.simulate, app.interfaceRegistry))
}

// simulate is BaseApp.Simulate with an error that names the line that raised it, not the errors
// library (the tx service prints the error with %v).
func (app *App) simulate(txBytes []byte) (sdk.GasInfo, *sdk.Result, error) {
	gas, res, err := app.Simulate(txBytes)
	return gas, res, grpcerr.CallSite(err)
}

// RegisterGRPCServer registers the query services on the node's gRPC server; see
// RegisterGRPCServerWithSkipCheckHeader.
func (app *App) RegisterGRPCServer(server gogogrpc.Server) {
	app.RegisterGRPCServerWithSkipCheckHeader(server, false)
}

// RegisterGRPCServerWithSkipCheckHeader registers the query services on the node's gRPC server
// with errors a program can act on: a status code by the error's kind and an ErrorInfo detail with
// the codespace and code (internal/grpcerr). REST goes through the same server.
func (app *App) RegisterGRPCServerWithSkipCheckHeader(server gogogrpc.Server, skipCheckHeader bool) {
	app.BaseApp.RegisterGRPCServerWithSkipCheckHeader(grpcerr.Server{Server: server}, skipCheckHeader)
}

// RegisterTendermintService registers the gRPC CometBFT query service.
func (app *App) RegisterTendermintService(clientCtx client.Context) {
	cmtApp := server.NewCometABCIWrapper(app)
	cmtservice.RegisterTendermintService(clientCtx, app.GRPCQueryRouter(), app.interfaceRegistry, cmtApp.Query)
}

// RegisterNodeService registers the gRPC node service (config, status).
func (app *App) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	nodeservice.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg, func() int64 {
		return app.CommitMultiStore().EarliestVersion()
	})
}
