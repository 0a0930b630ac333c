// Package apptesting runs a tfgrid chain in memory for tests: one bonded
// validator, funded accounts, blocks and signed transactions, no network.
//
//	chain := apptesting.NewChain(t, 3)
//	res := chain.DeliverTx(chain.Accounts[0], msg) // signed, in a block, committed
//	require.Zero(t, res.Code, res.Log)
//	k := chain.App.BankKeeper // read state with chain.Ctx (next block, writable)
package apptesting

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keys/ed25519"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsign "github.com/cosmos/cosmos-sdk/x/auth/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/tfgrid/tfgrid/app"
)

// ChainID is the chain id of the in-memory chain.
const ChainID = app.DefaultChainID

var (
	// DefaultBalance is what every test account starts with: 1,000,000 TFT.
	DefaultBalance = sdkmath.NewInt(1_000_000_000_000)
	// ValidatorBond is the validator's self-delegation: 100 TFT (power 100).
	ValidatorBond = sdkmath.NewInt(100_000_000)
	// DefaultGas is the gas limit of transactions sent by DeliverTx.
	DefaultGas uint64 = 10_000_000
	// BlockTime is the time between two blocks.
	BlockTime = 5 * time.Second
)

// Account is a funded test account.
type Account struct {
	PrivKey *secp256k1.PrivKey
	Address sdk.AccAddress
}

// String returns the tf1... address.
func (a Account) String() string { return a.Address.String() }

// NewAccount derives a deterministic account from a seed string.
func NewAccount(seed string) Account {
	pk := secp256k1.GenPrivKeyFromSecret([]byte(seed))
	return Account{PrivKey: pk, Address: sdk.AccAddress(pk.PubKey().Address())}
}

// Chain is an in-memory tfgrid chain.
type Chain struct {
	T   testing.TB
	App *app.App
	// Ctx is a writable context of the block being built (height LastBlockHeight()+1).
	// Writes through it are committed by the next NextBlock/DeliverTx. It is
	// replaced after every block.
	Ctx sdk.Context
	// Accounts are funded with DefaultBalance utft each.
	Accounts []Account
	// Validator is the operator account of the single bonded validator.
	Validator Account

	valSet *cmttypes.ValidatorSet
	time   time.Time
}

type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

// NewChain starts a chain with one validator and numAccounts funded
// accounts, and commits block 1. chain.Ctx is then at height 2.
func NewChain(t testing.TB, numAccounts int) *Chain {
	t.Helper()
	app.SetupSDKConfig()

	tfApp := app.NewApp(
		log.NewNopLogger(), dbm.NewMemDB(), true,
		appOptions{flags.FlagHome: t.TempDir()},
		baseapp.SetChainID(ChainID),
	)

	c := &Chain{
		T:         t,
		App:       tfApp,
		Validator: NewAccount("tfgrid-validator"),
		time:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := range numAccounts {
		c.Accounts = append(c.Accounts, NewAccount(fmt.Sprintf("tfgrid-account-%d", i)))
	}

	consKey := ed25519.GenPrivKeyFromSecret([]byte("tfgrid-validator-consensus"))
	genesis := c.genesisState(consKey.PubKey())
	stateBytes, err := json.Marshal(genesis)
	require.NoError(t, err)

	consParams := cmttypes.DefaultConsensusParams().ToProto()
	_, err = tfApp.InitChain(&abci.RequestInitChain{
		ChainId:         ChainID,
		Time:            c.time,
		InitialHeight:   1,
		ConsensusParams: &consParams,
		AppStateBytes:   stateBytes,
	})
	require.NoError(t, err)

	cmtPub, err := cryptocodec.ToCmtPubKeyInterface(consKey.PubKey())
	require.NoError(t, err)
	power := ValidatorBond.Quo(sdk.DefaultPowerReduction).Int64()
	c.valSet = cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(cmtPub, power)})

	c.NextBlock()
	return c
}

// genesisState is the default genesis plus accounts, balances and a bonded validator.
func (c *Chain) genesisState(consPub cryptotypes.PubKey) app.GenesisState {
	t, a := c.T, c.App
	cdc := a.AppCodec()
	genesis := a.DefaultGenesis()

	all := append([]Account{c.Validator}, c.Accounts...)
	var (
		accounts []authtypes.GenesisAccount
		balances []banktypes.Balance
		supply   = sdk.NewCoins()
	)
	for _, acc := range all {
		accounts = append(accounts, authtypes.NewBaseAccount(acc.Address, nil, 0, 0))
		coins := sdk.NewCoins(sdk.NewCoin(app.BondDenom, DefaultBalance))
		balances = append(balances, banktypes.Balance{Address: acc.String(), Coins: coins})
		supply = supply.Add(coins...)
	}

	// The validator's bond sits in the bonded pool.
	bond := sdk.NewCoins(sdk.NewCoin(app.BondDenom, ValidatorBond))
	balances = append(balances, banktypes.Balance{
		Address: authtypes.NewModuleAddress(stakingtypes.BondedPoolName).String(),
		Coins:   bond,
	})
	supply = supply.Add(bond...)

	var authGen authtypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[authtypes.ModuleName], &authGen)
	packed, err := authtypes.PackAccounts(accounts)
	require.NoError(t, err)
	authGen.Accounts = packed
	genesis[authtypes.ModuleName] = cdc.MustMarshalJSON(&authGen)

	var bankGen banktypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[banktypes.ModuleName], &bankGen)
	bankGen.Balances = balances
	bankGen.Supply = supply
	genesis[banktypes.ModuleName] = cdc.MustMarshalJSON(&bankGen)

	pkAny, err := codectypes.NewAnyWithValue(consPub)
	require.NoError(t, err)
	valAddr := sdk.ValAddress(c.Validator.Address)
	shares := sdkmath.LegacyNewDecFromInt(ValidatorBond)
	var stakingGen stakingtypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[stakingtypes.ModuleName], &stakingGen)
	stakingGen.Validators = []stakingtypes.Validator{{
		OperatorAddress:   valAddr.String(),
		ConsensusPubkey:   pkAny,
		Status:            stakingtypes.Bonded,
		Tokens:            ValidatorBond,
		DelegatorShares:   shares,
		Description:       stakingtypes.Description{Moniker: "validator"},
		UnbondingTime:     time.Unix(0, 0).UTC(),
		Commission:        stakingtypes.NewCommission(sdkmath.LegacyZeroDec(), sdkmath.LegacyOneDec(), sdkmath.LegacyZeroDec()),
		MinSelfDelegation: sdkmath.OneInt(),
	}}
	stakingGen.Delegations = []stakingtypes.Delegation{
		stakingtypes.NewDelegation(c.Validator.String(), valAddr.String(), shares),
	}
	genesis[stakingtypes.ModuleName] = cdc.MustMarshalJSON(&stakingGen)

	return genesis
}

// NextBlock finalizes and commits a block with the given raw txs and moves
// Ctx to the following height. It returns the txs' results.
func (c *Chain) NextBlock(txs ...[]byte) []*abci.ExecTxResult {
	c.T.Helper()
	return c.FinalizeBlock(txs...).TxResults
}

// DeliverTx signs msgs with signer (SIGN_MODE_DIRECT, no fee), puts the tx
// in a new block and commits it. It returns the tx result: check Code/Log.
func (c *Chain) DeliverTx(signer Account, msgs ...sdk.Msg) *abci.ExecTxResult {
	c.T.Helper()
	txBytes := c.SignTx(signer, msgs...)
	return c.NextBlock(txBytes)[0]
}

// SignTx returns the encoded tx of msgs signed by signer with its current
// account number and sequence (read from the last committed state).
func (c *Chain) SignTx(signer Account, msgs ...sdk.Msg) []byte {
	c.T.Helper()
	t := c.T
	txConfig := c.App.TxConfig()

	acc := c.App.AccountKeeper.GetAccount(c.App.NewContext(true), signer.Address)
	require.NotNil(t, acc, "account %s does not exist", signer)
	accNum, seq := acc.GetAccountNumber(), acc.GetSequence()

	builder := txConfig.NewTxBuilder()
	require.NoError(t, builder.SetMsgs(msgs...))
	builder.SetGasLimit(DefaultGas)

	pub := signer.PrivKey.PubKey()
	sig := signing.SignatureV2{
		PubKey:   pub,
		Data:     &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT},
		Sequence: seq,
	}
	require.NoError(t, builder.SetSignatures(sig))

	signBytes, err := authsign.GetSignBytesAdapter(context.Background(), txConfig.SignModeHandler(),
		signing.SignMode_SIGN_MODE_DIRECT, authsign.SignerData{
			Address:       signer.String(),
			ChainID:       ChainID,
			AccountNumber: accNum,
			Sequence:      seq,
			PubKey:        pub,
		}, builder.GetTx())
	require.NoError(t, err)
	sigBytes, err := signer.PrivKey.Sign(signBytes)
	require.NoError(t, err)
	sig.Data.(*signing.SingleSignatureData).Signature = sigBytes
	require.NoError(t, builder.SetSignatures(sig))

	txBytes, err := txConfig.TxEncoder()(builder.GetTx())
	require.NoError(t, err)
	return txBytes
}
