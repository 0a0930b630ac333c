package app_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/tfgrid/tfgrid/app/apptesting"
	"github.com/tfgrid/tfgrid/chainclient"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestAminoJSONSigning delivers registry and contract messages signed in SIGN_MODE_LEGACY_AMINO_JSON
// (how a Ledger signs through CosmJS's amino converters), including messages with nested messages
// (a farm's public IPs, a contract's resources): the chain must build the same amino JSON from the
// gogoproto-only tfgrid types as the signer did, or the signature does not verify.
func TestAminoJSONSigning(t *testing.T) {
	w := newAuthzWorld(t)
	chain, user := w.chain, w.chain.Accounts[3]
	for _, msg := range []sdk.Msg{
		&types.MsgCreateTwin{Creator: user.String(), Relays: []string{"wss://relay.grid.tf"}},
		&types.MsgCreateFarm{Creator: user.String(), Name: "amino-farm", PublicIps: []types.PublicIPInput{
			{Ip: "185.206.122.40/24", Gateway: "185.206.122.1"},
		}},
		&sctypes.MsgCreateNodeContract{
			Creator: user.String(), NodeId: w.nodeID, DeploymentHash: strings.Repeat("ab", 32), PublicIpsCount: 1,
			Resources: types.Resources{Cru: 1, Mru: types.GiB, Sru: 2 * types.GiB},
		},
	} {
		requireOK(t, chain.NextBlock(chain.SignTxMode(user, signing.SignMode_SIGN_MODE_LEGACY_AMINO_JSON, msg))[0])
	}
	// The sign bytes hold the nested messages' fields, as a Ledger user's signer writes them.
	var signBytes []byte
	_, err := chainclient.BuildTx(chain.App.TxConfig(), apptesting.ChainID,
		chainclient.Signer{Address: user.String(), PubKey: user.PrivKey.PubKey()}, chainclient.Fee{Gas: apptesting.DefaultGas},
		signing.SignMode_SIGN_MODE_LEGACY_AMINO_JSON, &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_LEGACY_AMINO_JSON},
		func(b []byte) error { signBytes = b; return nil },
		&sctypes.MsgUpdateNodeContract{Creator: user.String(), ContractId: 1, Resources: types.Resources{Cru: 2}})
	require.NoError(t, err)
	require.Contains(t, string(signBytes), `"resources":{"cru":"2"}`)

	farm, err := chain.App.TfgridKeeper.Farms.Get(chain.Ctx, 2)
	require.NoError(t, err)
	require.Equal(t, "amino-farm", farm.Name)
}
