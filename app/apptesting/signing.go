package apptesting

import (
	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	kmultisig "github.com/cosmos/cosmos-sdk/crypto/keys/multisig"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/crypto/types/multisig"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/tfgrid/tfgrid/chainclient"
)

// AccountState returns the account number and the committed sequence of an
// existing account (read from the last committed state).
func (c *Chain) AccountState(addr sdk.AccAddress) (accNum, seq uint64) {
	c.T.Helper()
	acc := c.App.AccountKeeper.GetAccount(c.App.NewContext(true), addr)
	require.NotNil(c.T, acc, "account %s does not exist", addr)
	return acc.GetAccountNumber(), acc.GetSequence()
}

// SignTxSeq is SignTx with an explicit sequence, so that one signer can put
// several transactions into the same block: sign them with seq, seq+1, … and
// pass them all to NextBlock.
func (c *Chain) SignTxSeq(signer Account, seq uint64, msgs ...sdk.Msg) []byte {
	c.T.Helper()
	return c.SignTxSeqMode(signer, seq, signing.SignMode_SIGN_MODE_DIRECT, msgs...)
}

// SignTxMode is SignTx signing in mode (e.g. SIGN_MODE_LEGACY_AMINO_JSON, as a Ledger does).
func (c *Chain) SignTxMode(signer Account, mode signing.SignMode, msgs ...sdk.Msg) []byte {
	c.T.Helper()
	_, seq := c.AccountState(signer.Address)
	return c.SignTxSeqMode(signer, seq, mode, msgs...)
}

// SignTxSeqMode is SignTxSeq signing in mode.
func (c *Chain) SignTxSeqMode(signer Account, seq uint64, mode signing.SignMode, msgs ...sdk.Msg) []byte {
	c.T.Helper()
	accNum, _ := c.AccountState(signer.Address)
	pub := signer.PrivKey.PubKey()
	sig := &signing.SingleSignatureData{SignMode: mode}
	return c.signWith(signer.Address, pub, accNum, seq, sig, func(signBytes []byte) {
		var err error
		sig.Signature, err = signer.PrivKey.Sign(signBytes)
		require.NoError(c.T, err)
	}, mode, msgs)
}

// Multisig is a k-of-n Cosmos multisig account (LegacyAminoPubKey) whose keys
// are test accounts. Its address is derived from the multisig key; fund it
// before it signs anything.
type Multisig struct {
	PubKey  *kmultisig.LegacyAminoPubKey
	Keys    []Account
	Address sdk.AccAddress
}

// NewMultisig builds a threshold-of-len(keys) multisig account; the order of
// keys is the order of the multisig's public keys.
func NewMultisig(threshold int, keys ...Account) Multisig {
	pubs := make([]cryptotypes.PubKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.PrivKey.PubKey()
	}
	pk := kmultisig.NewLegacyAminoPubKey(threshold, pubs)
	return Multisig{PubKey: pk, Keys: keys, Address: sdk.AccAddress(pk.Address())}
}

// String returns the tf1... address.
func (m Multisig) String() string { return m.Address.String() }

// SignMultisigTx returns msgs in a tx signed by the multisig account with the
// keys at the indexes signers (any number of them, so a test can also build an
// under-signed tx), each signing in mode. The account must exist on chain.
//
// In SIGN_MODE_DIRECT every key signs the same SignDoc, whose AuthInfo already
// holds the multisig's final mode info (which keys sign, in which mode), so the
// signature data is laid out before the first key signs. LEGACY_AMINO_JSON sign
// bytes do not depend on it.
func (c *Chain) SignMultisigTx(ms Multisig, mode signing.SignMode, signers []int, msgs ...sdk.Msg) []byte {
	c.T.Helper()
	accNum, seq := c.AccountState(ms.Address)
	multi := multisig.NewMultisig(len(ms.PubKey.GetPubKeys()))
	parts := make(map[int]*signing.SingleSignatureData, len(signers))
	for _, i := range signers {
		part := &signing.SingleSignatureData{SignMode: mode}
		parts[i] = part
		multisig.AddSignature(multi, part, i)
	}
	return c.signWith(ms.Address, ms.PubKey, accNum, seq, multi, func(signBytes []byte) {
		for _, i := range signers {
			sig, err := ms.Keys[i].PrivKey.Sign(signBytes)
			require.NoError(c.T, err)
			parts[i].Signature = sig
		}
	}, mode, msgs)
}

// signWith builds a tx of msgs with one signer whose signature data is data,
// gets the sign bytes in mode, lets sign fill data in, and encodes the tx.
func (c *Chain) signWith(addr sdk.AccAddress, pub cryptotypes.PubKey, accNum, seq uint64,
	data signing.SignatureData, sign func(signBytes []byte), mode signing.SignMode, msgs []sdk.Msg,
) []byte {
	c.T.Helper()
	txBytes, err := chainclient.BuildTx(c.App.TxConfig(), ChainID,
		chainclient.Signer{Address: addr.String(), PubKey: pub, AccountNumber: accNum, Sequence: seq},
		chainclient.Fee{Gas: DefaultGas}, mode, data,
		func(signBytes []byte) error { sign(signBytes); return nil }, msgs...)
	require.NoError(c.T, err)
	return txBytes
}

// FinalizeBlock is NextBlock returning the whole FinalizeBlock response: the txs' results and the
// events of the block itself (begin and end blockers).
func (c *Chain) FinalizeBlock(txs ...[]byte) *abci.ResponseFinalizeBlock {
	c.T.Helper()
	height := c.App.LastBlockHeight() + 1
	res, err := c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height:             height,
		Time:               c.time,
		Txs:                txs,
		NextValidatorsHash: c.valSet.Hash(),
		ProposerAddress:    c.valSet.Proposer.Address,
	})
	require.NoError(c.T, err)
	_, err = c.App.Commit()
	require.NoError(c.T, err)

	c.time = c.time.Add(BlockTime)
	c.Ctx = c.App.NewNextBlockContext(cmtproto.Header{
		ChainID: ChainID,
		Height:  height + 1,
		Time:    c.time,
	})
	return res
}
