package chainclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// TxError is a transaction the chain refused (in its simulation or CheckTx) or that failed in its
// block: the chain's answer, not a failure to reach it.
type TxError struct {
	TxHash    string
	Height    int64 // 0: refused before a block
	Codespace string
	Code      uint32
	Log       string
	// Simulated: refused by the simulation (no hash; codespace and code are only in Log).
	Simulated bool
}

func (e *TxError) Error() string {
	if e.Simulated {
		return "tx refused in simulation: " + e.Log
	}
	if e.Height == 0 {
		return fmt.Sprintf("tx %s refused: codespace %s code %d: %s", e.TxHash, e.Codespace, e.Code, e.Log)
	}
	return fmt.Sprintf("tx %s failed in block %d: codespace %s code %d: %s", e.TxHash, e.Height, e.Codespace, e.Code, e.Log)
}

// Is lets errors.Is match a registered error by codespace and code.
func (e *TxError) Is(target error) bool {
	var coded interface {
		Codespace() string
		ABCICode() uint32
	}
	if errors.As(target, &coded) {
		return coded.Codespace() == e.Codespace && coded.ABCICode() == e.Code
	}
	return false
}

// Broadcaster sends the transactions of one key, one at a time: it simulates each for its gas,
// signs it with the next sequence, broadcasts it and waits for its block. An account-sequence
// mismatch (another program used the key, or a tx was dropped) resyncs the sequence from the chain
// and tries again, so callers never see one; a tx that ran out of gas in its block (its state cost
// more than the simulation's) is sent again with twice the gas margin.
type Broadcaster struct {
	c       *Client
	key     *secp256k1.PrivKey
	address string
	chainID string

	// GasAdjustment multiplies the simulated gas (a tx that settles a contract can pay more in its
	// block than in its simulation).
	GasAdjustment float64
	// Fees paid per tx (none by default: node reports are fee-free within their allowance).
	Fees sdk.Coins
	// InclusionTimeout bounds the wait for a broadcast tx to be in a block.
	InclusionTimeout time.Duration

	mu       sync.Mutex
	synced   bool
	accNum   uint64
	sequence uint64
}

// maxRetries bounds the retries of one Send (after a stale sequence or running out of gas).
const maxRetries = 3

// NewBroadcaster returns a broadcaster for key on the chain chainID.
func (c *Client) NewBroadcaster(key *secp256k1.PrivKey, chainID string) (*Broadcaster, error) {
	if key == nil {
		return nil, errors.New("broadcaster: no key")
	}
	if chainID == "" {
		return nil, errors.New("broadcaster: no chain id")
	}
	addr, err := c.Codec.AddressCodec.BytesToString(key.PubKey().Address())
	if err != nil {
		return nil, err
	}
	return &Broadcaster{c: c, key: key, address: addr, chainID: chainID,
		GasAdjustment: 2, InclusionTimeout: time.Minute}, nil
}

// Address is the bech32 address of the broadcaster's key.
func (b *Broadcaster) Address() string { return b.address }

// Send broadcasts msgs in one tx and waits until it is in a block. It returns the committed result,
// or a *TxError when the chain refused the tx or it failed in its block.
func (b *Broadcaster) Send(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	adjustment := b.GasAdjustment
	for attempt := 0; ; attempt++ {
		res, err := b.sendOnce(ctx, msgs, adjustment)
		switch {
		case err == nil || attempt >= maxRetries:
			return res, err
		case isSequenceMismatch(err):
			b.synced = false
		case isOutOfGas(err):
			// The tx changed nothing (its fee aside): the block's state cost more than the
			// simulation's, so try again with twice the margin.
			adjustment *= 2
		default:
			return res, err
		}
	}
}

func (b *Broadcaster) sendOnce(ctx context.Context, msgs []sdk.Msg, adjustment float64) (*sdk.TxResponse, error) {
	if err := b.sync(ctx); err != nil {
		return nil, err
	}
	gas, err := b.simulate(ctx, msgs, adjustment)
	if err != nil {
		return nil, err
	}
	txBytes, err := b.sign(msgs, gas, b.sequence)
	if err != nil {
		return nil, err
	}
	out, err := b.c.Tx.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: txBytes, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
	if err != nil {
		b.synced = false // unknown whether the node took it
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	res := out.TxResponse
	if res.Code != 0 {
		if res.Code == sdkerrors.ErrWrongSequence.ABCICode() && res.Codespace == sdkerrors.RootCodespace {
			b.synced = false
		}
		return res, &TxError{TxHash: res.TxHash, Codespace: res.Codespace, Code: res.Code, Log: res.RawLog}
	}
	b.sequence++ // in the mempool: the next tx takes the next sequence
	committed, err := b.c.WaitTx(ctx, res.TxHash, b.InclusionTimeout)
	if err != nil {
		b.synced = false // dropped from the mempool, or not yet: re-read the sequence next time
		return res, err
	}
	if committed.Code != 0 {
		return committed, &TxError{TxHash: committed.TxHash, Height: committed.Height, Codespace: committed.Codespace, Code: committed.Code, Log: committed.RawLog}
	}
	return committed, nil
}

// sync reads the account number and sequence from the chain when they are not known.
func (b *Broadcaster) sync(ctx context.Context) error {
	if b.synced {
		return nil
	}
	res, err := b.c.Auth.Account(ctx, &authtypes.QueryAccountRequest{Address: b.address})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return fmt.Errorf("account %s does not exist on chain (fund it first)", b.address)
		}
		return fmt.Errorf("account %s: %w", b.address, err)
	}
	var acc sdk.AccountI
	if err := b.c.Codec.Registry.UnpackAny(res.Account, &acc); err != nil {
		return fmt.Errorf("account %s: %w", b.address, err)
	}
	b.accNum, b.sequence, b.synced = acc.GetAccountNumber(), acc.GetSequence(), true
	return nil
}

// simulate returns the gas limit for msgs: the simulated gas times adjustment.
func (b *Broadcaster) simulate(ctx context.Context, msgs []sdk.Msg, adjustment float64) (uint64, error) {
	txBytes, err := b.sign(msgs, 0, b.sequence)
	if err != nil {
		return 0, err
	}
	res, err := b.c.Tx.Simulate(ctx, &txtypes.SimulateRequest{TxBytes: txBytes})
	if err != nil {
		if refusedBySimulation(err) {
			return 0, &TxError{Simulated: true, Log: status.Convert(err).Message()}
		}
		return 0, fmt.Errorf("simulate: %w", err)
	}
	gas := float64(res.GasInfo.GasUsed) * adjustment
	if gas > math.MaxInt64 {
		return 0, fmt.Errorf("simulate: gas %d overflows", res.GasInfo.GasUsed)
	}
	return uint64(gas), nil
}

// sign encodes msgs as a tx signed with sequence seq (SIGN_MODE_DIRECT).
func (b *Broadcaster) sign(msgs []sdk.Msg, gas, seq uint64) ([]byte, error) {
	return SignDirect(b.c.Codec.TxConfig, b.chainID, b.key,
		Signer{Address: b.address, PubKey: b.key.PubKey(), AccountNumber: b.accNum, Sequence: seq},
		Fee{Gas: gas, Amount: b.Fees}, msgs...)
}

// isSequenceMismatch tells a refusal for a stale sequence, from CheckTx or from a simulation.
func isSequenceMismatch(err error) bool {
	var txErr *TxError
	if !errors.As(err, &txErr) {
		return false
	}
	if txErr.Simulated {
		return strings.Contains(txErr.Log, "account sequence mismatch")
	}
	return txErr.Codespace == sdkerrors.RootCodespace && txErr.Code == sdkerrors.ErrWrongSequence.ABCICode()
}

// refusedBySimulation tells the chain's refusal of a tx (its simulation failed: the node answered)
// from a failure to ask (unreachable node, deadline).
func refusedBySimulation(err error) bool {
	switch status.Code(err) {
	case codes.Unknown, codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists, codes.OutOfRange:
		return true
	}
	return false
}

func isOutOfGas(err error) bool {
	var txErr *TxError
	return errors.As(err, &txErr) && txErr.Height > 0 && errors.Is(txErr, sdkerrors.ErrOutOfGas)
}

// WaitTx polls the node until the tx is in a block and returns its result.
func (c *Client) WaitTx(ctx context.Context, hash string, timeout time.Duration) (*sdk.TxResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := c.Tx.GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		if err == nil {
			return res.TxResponse, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("tx %s is not in a block after %s: %w", hash, timeout, err)
		case <-tick.C:
		}
	}
}
