package loadgen

import (
	"fmt"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Kind is the kind of transaction a phase sends.
type Kind string

// The phase kinds.
const (
	KindBank Kind = "bank" // bank MsgSend of 1 utft
	KindTwin Kind = "twin" // tfgrid MsgCreateTwin, one per account
	KindFarm Kind = "farm" // tfgrid MsgCreateFarm, needs the account's twin
)

// MsgOptions shape the messages of the phases.
type MsgOptions struct {
	Denom string
	// BankTo is where bank sends go: "sink" (all to one account, like the
	// toolchain baseline) or "next" (account i pays account i+1).
	BankTo string
	Sink   sdk.AccAddress
	// TwinRelays is the number of relay URLs of each twin (0..4).
	TwinRelays int
	// TwinE2EKey gives each twin an e2e key (a second secp256k1 key).
	TwinE2EKey bool
	// FarmIPs is the number of public IPs each farm is created with.
	FarmIPs int
}

// BuildMsg returns message j of account acc (0-based) for a phase of kind k
// over accs.
func BuildMsg(k Kind, accs []*Account, acc *Account, j int, opts MsgOptions) (sdk.Msg, error) {
	switch k {
	case KindBank:
		to := opts.Sink
		if opts.BankTo == "next" {
			to = accs[(acc.Index+1)%len(accs)].Address
		}
		if to == nil {
			return nil, fmt.Errorf("bank phase: no recipient (bank-to %q)", opts.BankTo)
		}
		return &banktypes.MsgSend{
			FromAddress: acc.Bech32,
			ToAddress:   to.String(),
			Amount:      sdk.NewCoins(sdk.NewCoin(opts.Denom, sdkmath.OneInt())),
		}, nil
	case KindTwin:
		if j > 0 {
			return nil, fmt.Errorf("twin phase: an account has one twin, not %d", j+1)
		}
		msg := &types.MsgCreateTwin{Creator: acc.Bech32, Relays: TwinRelays(acc.Index, opts.TwinRelays)}
		if opts.TwinE2EKey {
			msg.E2EKey = E2EKey(acc.Index)
		}
		return msg, nil
	case KindFarm:
		return &types.MsgCreateFarm{
			Creator:   acc.Bech32,
			Name:      FarmName(acc.Index, j),
			PublicIps: FarmIPs(acc.Index*MaxFarmsPerAccount+j, opts.FarmIPs),
		}, nil
	default:
		return nil, fmt.Errorf("unknown phase kind %q", k)
	}
}

// TwinRelays returns n relay URLs for account i.
func TwinRelays(i, n int) []string {
	relays := make([]string, 0, n)
	for r := range n {
		relays = append(relays, fmt.Sprintf("wss://relay%d.grid%d.example.org:443", r, i%16))
	}
	return relays
}

// E2EKey is the 33-byte compressed e2e public key of account i's twin.
func E2EKey(i int) []byte {
	return secp256k1.GenPrivKeyFromSecret([]byte(fmt.Sprintf("loadgen-e2e-%d", i))).PubKey().Bytes()
}

// MaxFarmsPerAccount bounds farms per account, so that farm IPs stay unique.
const MaxFarmsPerAccount = 4

// FarmName is the unique name of farm j of account i (3..40 of [A-Za-z0-9_-]).
func FarmName(i, j int) string { return fmt.Sprintf("loadgen-farm-%d-%d", i, j) }

// MaxFarmIPs is the most public IPs FarmIPs hands one farm.
const MaxFarmIPs = 200

// FarmIPs returns n public IPs for farm number f: farm f owns the /24
// 45.a.b.0/24 with a.b = f (up to 65,536 farms); its gateway is .1 and
// the IPs are .10, .11, ...
func FarmIPs(f, n int) []types.PublicIPInput {
	if n <= 0 {
		return nil
	}
	a, b := (f/256)%256, f%256
	ips := make([]types.PublicIPInput, 0, n)
	for k := range min(n, MaxFarmIPs) {
		ips = append(ips, types.PublicIPInput{
			Ip:      fmt.Sprintf("45.%d.%d.%d/24", a, b, 10+k),
			Gateway: fmt.Sprintf("45.%d.%d.1", a, b),
		})
	}
	return ips
}
