package loadgen

import (
	"crypto/sha256"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/chainclient"
)

// Signer pre-signs transactions offline: SIGN_MODE_DIRECT, no fee, a fixed
// gas limit, the account number and sequence given by the caller.
type Signer struct {
	TxConfig client.TxConfig
	ChainID  string
	Gas      uint64
}

// Sign returns the encoded tx of msgs signed by acc with sequence seq.
func (s *Signer) Sign(acc *Account, seq uint64, msgs ...sdk.Msg) ([]byte, error) {
	return chainclient.SignDirect(s.TxConfig, s.ChainID, acc.Key,
		chainclient.Signer{Address: acc.Bech32, PubKey: acc.Key.PubKey(), AccountNumber: acc.AccountNumber, Sequence: seq},
		chainclient.Fee{Gas: s.Gas}, msgs...)
}

// TxHash is the CometBFT hash of an encoded tx.
func TxHash(tx []byte) [32]byte { return sha256.Sum256(tx) }
