package loadgen

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsign "github.com/cosmos/cosmos-sdk/x/auth/signing"
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
	builder := s.TxConfig.NewTxBuilder()
	if err := builder.SetMsgs(msgs...); err != nil {
		return nil, err
	}
	builder.SetGasLimit(s.Gas)

	pub := acc.Key.PubKey()
	sig := signing.SignatureV2{
		PubKey:   pub,
		Data:     &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT},
		Sequence: seq,
	}
	// DIRECT signs the AuthInfo, so the signer info must be in place first.
	if err := builder.SetSignatures(sig); err != nil {
		return nil, err
	}
	signBytes, err := authsign.GetSignBytesAdapter(context.Background(), s.TxConfig.SignModeHandler(),
		signing.SignMode_SIGN_MODE_DIRECT, authsign.SignerData{
			Address:       acc.Bech32,
			ChainID:       s.ChainID,
			AccountNumber: acc.AccountNumber,
			Sequence:      seq,
			PubKey:        pub,
		}, builder.GetTx())
	if err != nil {
		return nil, fmt.Errorf("sign bytes: %w", err)
	}
	sigBytes, err := acc.Key.Sign(signBytes)
	if err != nil {
		return nil, err
	}
	sig.Data.(*signing.SingleSignatureData).Signature = sigBytes
	if err := builder.SetSignatures(sig); err != nil {
		return nil, err
	}
	return s.TxConfig.TxEncoder()(builder.GetTx())
}

// TxHash is the CometBFT hash of an encoded tx.
func TxHash(tx []byte) [32]byte { return sha256.Sum256(tx) }
