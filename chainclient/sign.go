package chainclient

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/client"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsign "github.com/cosmos/cosmos-sdk/x/auth/signing"
)

// Signer is the account that signs a tx: its address, key, account number and the sequence the
// tx takes.
type Signer struct {
	Address       string
	PubKey        cryptotypes.PubKey
	AccountNumber uint64
	Sequence      uint64
}

// Fee is what a tx may spend: its gas limit and fee.
type Fee struct {
	Gas    uint64
	Amount sdk.Coins
}

// BuildTx encodes msgs as a tx of one signer whose signature data is data (a single key's or a
// multisig's, laid out before signing: SIGN_MODE_DIRECT signs the signer infos too). It gets the
// sign bytes in mode, lets sign fill the signatures into data, and encodes the tx.
func BuildTx(cfg client.TxConfig, chainID string, s Signer, fee Fee, mode signing.SignMode,
	data signing.SignatureData, sign func(signBytes []byte) error, msgs ...sdk.Msg,
) ([]byte, error) {
	builder := cfg.NewTxBuilder()
	if err := builder.SetMsgs(msgs...); err != nil {
		return nil, err
	}
	builder.SetGasLimit(fee.Gas)
	builder.SetFeeAmount(fee.Amount)
	sig := signing.SignatureV2{PubKey: s.PubKey, Data: data, Sequence: s.Sequence}
	if err := builder.SetSignatures(sig); err != nil {
		return nil, err
	}
	signBytes, err := authsign.GetSignBytesAdapter(context.Background(), cfg.SignModeHandler(), mode,
		authsign.SignerData{Address: s.Address, ChainID: chainID, AccountNumber: s.AccountNumber, Sequence: s.Sequence, PubKey: s.PubKey},
		builder.GetTx())
	if err != nil {
		return nil, fmt.Errorf("sign bytes: %w", err)
	}
	if err := sign(signBytes); err != nil {
		return nil, err
	}
	if err := builder.SetSignatures(sig); err != nil {
		return nil, err
	}
	return cfg.TxEncoder()(builder.GetTx())
}

// SignDirect encodes msgs as a tx signed by one key in SIGN_MODE_DIRECT.
func SignDirect(cfg client.TxConfig, chainID string, key cryptotypes.PrivKey, s Signer, fee Fee, msgs ...sdk.Msg) ([]byte, error) {
	data := &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT}
	return BuildTx(cfg, chainID, s, fee, signing.SignMode_SIGN_MODE_DIRECT, data, func(signBytes []byte) error {
		var err error
		data.Signature, err = key.Sign(signBytes)
		return err
	}, msgs...)
}
