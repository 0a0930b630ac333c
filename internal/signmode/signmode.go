// Package signmode holds the options of the transaction sign mode handlers, which the app (that
// verifies signatures) and chainclient (that signs) must share.
package signmode

import (
	"fmt"

	"cosmossdk.io/core/address"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"
	"github.com/cosmos/gogoproto/proto"
)

// Options are the sign mode handlers' options (authtx.ConfigOptions.SigningOptions).
//
// The SIGN_MODE_LEGACY_AMINO_JSON handler resolves Msgs that have no protobuf v2 Go type, such as
// tfgrid's gogoproto-only ones, from FileResolver. Left unset it is proto.HybridResolver, whose
// descriptors of messages nested from other files are placeholders without fields: the sign bytes
// of a Msg with a nested message (a farm's public IPs, a node's resources, params) then hold `{}`
// for it, and no amino JSON signer (a Ledger through CosmJS) produces those. The merged registry
// has the complete descriptors.
func Options(addrs, valAddrs address.Codec) (*signing.Options, error) {
	files, err := proto.MergedRegistry()
	if err != nil {
		return nil, fmt.Errorf("merged proto registry: %w", err)
	}
	return &signing.Options{FileResolver: files, AddressCodec: addrs, ValidatorAddressCodec: valAddrs}, nil
}
