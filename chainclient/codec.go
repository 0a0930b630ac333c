// Package chainclient is the one way off-chain programs talk to a tfgrid chain: the node agent, the
// user CLI's deployment commands, the relay's twin lookup and the load generator. It dials a node's
// gRPC and CometBFT RPC, gives the modules' query clients, broadcasts transactions one at a time
// from one key (resyncing the account sequence), and follows committed blocks in order with their
// events, backfilling whatever a dropped connection missed.
//
// It imports the modules' types packages only, never the app or a keeper.
package chainclient

import (
	"fmt"

	"cosmossdk.io/core/address"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/internal/signmode"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Bech32 prefixes of the chain's addresses (the app's AccountAddressPrefix and
// ValidatorAddressPrefix; a test keeps them equal).
const (
	AccountPrefix   = "tf"
	ValidatorPrefix = "tfvaloper"
)

// Codec encodes transactions and decodes accounts and events: the SDK's standard types, auth, bank,
// authz and tfgrid's three modules, signing in SIGN_MODE_DIRECT.
type Codec struct {
	Registry     codectypes.InterfaceRegistry
	Codec        codec.Codec
	TxConfig     client.TxConfig
	AddressCodec address.Codec
}

// NewCodec builds the codec.
func NewCodec() (*Codec, error) {
	addrs := addresscodec.NewBech32Codec(AccountPrefix)
	reg, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          addrs,
			ValidatorAddressCodec: addresscodec.NewBech32Codec(ValidatorPrefix),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("interface registry: %w", err)
	}
	std.RegisterInterfaces(reg)
	authtypes.RegisterInterfaces(reg)
	banktypes.RegisterInterfaces(reg)
	authz.RegisterInterfaces(reg)
	tftypes.RegisterInterfaces(reg)
	sctypes.RegisterInterfaces(reg)
	billingtypes.RegisterInterfaces(reg)
	cdc := codec.NewProtoCodec(reg)
	signingOptions, err := signmode.Options(addrs, addresscodec.NewBech32Codec(ValidatorPrefix))
	if err != nil {
		return nil, err
	}
	txCfg, err := authtx.NewTxConfigWithOptions(cdc, authtx.ConfigOptions{
		EnabledSignModes: authtx.DefaultSignModes,
		SigningContext:   reg.SigningContext(),
		SigningOptions:   signingOptions,
	})
	if err != nil {
		return nil, fmt.Errorf("tx config: %w", err)
	}
	return &Codec{Registry: reg, Codec: cdc, TxConfig: txCfg, AddressCodec: addrs}, nil
}
