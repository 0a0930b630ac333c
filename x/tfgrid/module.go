// Package tfgrid is the grid's registry: twins, farms and their public IPs, nodes, and the pricing and
// farming policies. See README.md for the spec.
package tfgrid

import (
	"context"
	"encoding/json"
	"fmt"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/runtime"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"cosmossdk.io/core/address"
	"cosmossdk.io/core/appmodule"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/tfgrid/tfgrid/x/tfgrid/client/cli"
	"github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

var (
	_ module.HasGenesis   = AppModule{}
	_ appmodule.AppModule = AppModule{}
)

// ConsensusVersion is the version of the module's state layout.
const ConsensusVersion = 1

// AppModule wires the registry into the application.
type AppModule struct {
	keeper       *keeper.Keeper
	addressCodec address.Codec
}

// NewAppModule returns the registry module backed by the keeper.
func NewAppModule(k *keeper.Keeper) AppModule {
	return AppModule{keeper: k, addressCodec: k.AddressCodec()}
}

// GetQueryCmd is `tfgridd query tfgrid` with the hand-written node finder; autocli adds the other queries.
func (AppModule) GetQueryCmd() *cobra.Command { return cli.QueryCmd() }

// IsAppModule implements appmodule.AppModule.
func (AppModule) IsAppModule() {}

// IsOnePerModuleType implements depinject.OnePerModuleType.
func (AppModule) IsOnePerModuleType() {}

// Name returns the module name.
func (AppModule) Name() string { return types.ModuleName }

// ConsensusVersion implements module.HasConsensusVersion.
func (AppModule) ConsensusVersion() uint64 { return ConsensusVersion }

// RegisterLegacyAminoCodec is a no-op: the module's messages sign with SIGN_MODE_DIRECT, and amino JSON
// signing reads the amino.name proto options.
func (AppModule) RegisterLegacyAminoCodec(*codec.LegacyAmino) {}

// RegisterInterfaces registers the module's messages.
func (AppModule) RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	types.RegisterInterfaces(registry)
}

// RegisterGRPCGatewayRoutes serves the Query service over REST under /tfgrid/tfgrid/v1/.
func (AppModule) RegisterGRPCGatewayRoutes(clientCtx client.Context, mux *gwruntime.ServeMux) {
	if err := types.RegisterQueryHandlerClient(context.Background(), mux, types.NewQueryClient(clientCtx)); err != nil {
		panic(err)
	}
}

// RegisterServices registers the Msg and Query services.
func (am AppModule) RegisterServices(registrar grpc.ServiceRegistrar) error {
	types.RegisterMsgServer(registrar, keeper.NewMsgServerImpl(am.keeper))
	types.RegisterQueryServer(registrar, keeper.NewQueryServerImpl(am.keeper))
	return nil
}

// DefaultGenesis returns the default registry: params and the default policies.
func (am AppModule) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs, err := types.DefaultGenesis(am.addressCodec)
	if err != nil {
		panic(err)
	}
	return cdc.MustMarshalJSON(gs)
}

// ValidateGenesis checks a genesis registry.
func (am AppModule) ValidateGenesis(cdc codec.JSONCodec, _ client.TxEncodingConfig, bz json.RawMessage) error {
	var gs types.GenesisState
	if err := cdc.UnmarshalJSON(bz, &gs); err != nil {
		return fmt.Errorf("failed to unmarshal %s genesis state: %w", types.ModuleName, err)
	}
	return gs.Validate(am.addressCodec)
}

// InitGenesis loads the genesis registry; a chain cannot start from an invalid one.
func (am AppModule) InitGenesis(ctx sdk.Context, cdc codec.JSONCodec, bz json.RawMessage) {
	var gs types.GenesisState
	cdc.MustUnmarshalJSON(bz, &gs)
	if err := am.keeper.InitGenesis(ctx, gs); err != nil {
		panic(fmt.Errorf("%s genesis: %w", types.ModuleName, err))
	}
}

// ExportGenesis writes the registry out.
func (am AppModule) ExportGenesis(ctx sdk.Context, cdc codec.JSONCodec) json.RawMessage {
	gs, err := am.keeper.ExportGenesis(ctx)
	if err != nil {
		panic(fmt.Errorf("%s genesis export: %w", types.ModuleName, err))
	}
	return cdc.MustMarshalJSON(gs)
}
