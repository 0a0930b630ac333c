package app

import (
	"os"
	"path/filepath"
	"sync"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Chain-wide constants of tfgrid.
const (
	// AppName is the name of the application (baseapp name, binary name).
	AppName = "tfgrid"

	// DefaultChainID is the chain id used for local networks.
	DefaultChainID = "tfgrid-local-1"

	// AccountAddressPrefix is the Bech32 human readable part of account addresses (tf1...).
	AccountAddressPrefix = "tf"
	// AccountPubKeyPrefix is the Bech32 prefix of account public keys (tfpub1...).
	AccountPubKeyPrefix = AccountAddressPrefix + sdk.PrefixPublic
	// ValidatorAddressPrefix is the Bech32 prefix of validator operator addresses (tfvaloper1...).
	ValidatorAddressPrefix = AccountAddressPrefix + sdk.PrefixValidator + sdk.PrefixOperator
	// ValidatorPubKeyPrefix is the Bech32 prefix of validator operator public keys (tfvaloperpub1...).
	ValidatorPubKeyPrefix = ValidatorAddressPrefix + sdk.PrefixPublic
	// ConsNodeAddressPrefix is the Bech32 prefix of consensus node addresses (tfvalcons1...).
	ConsNodeAddressPrefix = AccountAddressPrefix + sdk.PrefixValidator + sdk.PrefixConsensus
	// ConsNodePubKeyPrefix is the Bech32 prefix of consensus node public keys (tfvalconspub1...).
	ConsNodePubKeyPrefix = ConsNodeAddressPrefix + sdk.PrefixPublic

	// CoinType is the BIP-44 coin type used for key derivation.
	CoinType = 118

	// BondDenom is the staking, fee and base denom: 1 TFT = 1,000,000 utft.
	BondDenom = "utft"
	// MilliDenom is the intermediate unit: 1 mtft = 1,000 utft.
	MilliDenom = "mtft"
	// DisplayDenom is the human readable denom.
	DisplayDenom = "tft"
	// BondDenomExponent is the exponent of DisplayDenom relative to BondDenom.
	BondDenomExponent = 6
	// MilliDenomExponent is the exponent of MilliDenom relative to BondDenom.
	MilliDenomExponent = 3
)

// DefaultNodeHome is the default home directory of tfgridd (~/.tfgridd).
var DefaultNodeHome = defaultNodeHome()

func defaultNodeHome() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".tfgridd")
}

var setupSDKConfigOnce sync.Once

// SetupSDKConfig sets the tfgrid Bech32 prefixes, coin type and denoms on the
// global sdk.Config and seals it. It is idempotent: main calls it first thing
// and tests may call it as often as they like.
func SetupSDKConfig() {
	setupSDKConfigOnce.Do(func() {
		scopeSDKConfig()
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountPubKeyPrefix)
		cfg.SetBech32PrefixForValidator(ValidatorAddressPrefix, ValidatorPubKeyPrefix)
		cfg.SetBech32PrefixForConsensusNode(ConsNodeAddressPrefix, ConsNodePubKeyPrefix)
		cfg.SetPurpose(44)
		cfg.SetCoinType(CoinType)
		cfg.Seal()

		// SDK defaults (staking, gov, CLI helpers) follow our denom.
		sdk.DefaultBondDenom = BondDenom
		registerDenoms()
	})
}

// scopeSDKConfig names the process's sdk.Config scope once, unless the environment already does.
// Without a name, cosmos-sdk v0.54 derives the scope on every sdk.GetConfig call — so on every
// bech32 encode and decode, every address in an event — from os.Executable and os.Hostname, two
// system calls that cost the node 7–9 % of its CPU in every kind of transaction (docs/benchmarks.md).
// The derived key is per process anyway, so one fixed name per process keeps the same semantics.
func scopeSDKConfig() {
	if os.Getenv(sdk.EnvConfigScope) != "" {
		return
	}
	if err := os.Setenv(sdk.EnvConfigScope, AppName); err != nil {
		panic(err)
	}
}

func registerDenoms() {
	units := []struct {
		denom string
		unit  sdkmath.LegacyDec
	}{
		{DisplayDenom, sdkmath.LegacyOneDec()},
		{MilliDenom, sdkmath.LegacyNewDecWithPrec(1, MilliDenomExponent)},
		{BondDenom, sdkmath.LegacyNewDecWithPrec(1, BondDenomExponent)},
	}
	for _, u := range units {
		if _, ok := sdk.GetDenomUnit(u.denom); ok {
			continue
		}
		if err := sdk.RegisterDenom(u.denom, u.unit); err != nil {
			panic(err)
		}
	}
	if err := sdk.SetBaseDenom(BondDenom); err != nil {
		panic(err)
	}
}
