package loadgen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Kind is the kind of transaction a phase sends.
type Kind string

// The phase kinds.
const (
	KindBank Kind = "bank" // bank MsgSend of 1 utft
	KindTwin Kind = "twin" // tfgrid MsgCreateTwin, one per account
	KindFarm Kind = "farm" // tfgrid MsgCreateFarm, needs the account's twin
	// KindContract is smartcontract MsgCreateNodeContract without public
	// IPs on one of the contract nodes; it needs the account's twin.
	KindContract Kind = "nc"
	// KindContractIP is MsgCreateNodeContract with one public IP, drawn from
	// the contract farms (IPsPerContractFarm IPs each).
	KindContractIP Kind = "nc-ip"
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
	// ContractNodes holds the node id of each contract farm, in farm order
	// (set up by SetupContractNodes before the first contract phase).
	ContractNodes []uint64
	// IPFarmsPerRound is the number of contract farms one nc-ip phase uses,
	// ContractFarms(accounts, 1): round r takes the r-th group of them.
	IPFarmsPerRound int
	// ContractDataBytes is the size of each node contract's deployment data.
	ContractDataBytes int
}

// BuildMsg returns message j of account acc (0-based) for phase spec over
// accs.
func BuildMsg(spec PhaseSpec, accs []*Account, acc *Account, j int, opts MsgOptions) (sdk.Msg, error) {
	switch k := spec.Kind; k {
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
	case KindContract, KindContractIP:
		return contractMsg(spec, acc, j, opts)
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

// contractMsg is node contract j of account acc: without an IP on contract
// node acc.Index mod the node count, or with one IP on the node of contract
// farm acc.Index / IPsPerContractFarm of the phase's round's group of farms
// (each farm serves that many accounts once).
func contractMsg(spec PhaseSpec, acc *Account, j int, opts MsgOptions) (sdk.Msg, error) {
	nodes := opts.ContractNodes
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s phase: no contract nodes set up", spec.Kind)
	}
	msg := &sctypes.MsgCreateNodeContract{
		Creator:        acc.Bech32,
		DeploymentHash: DeploymentHash(spec.Name, acc.Index, j),
		DeploymentData: DeploymentData(acc.Index, opts.ContractDataBytes),
	}
	if spec.Kind == KindContract {
		msg.NodeId = nodes[acc.Index%len(nodes)]
		return msg, nil
	}
	if j > 0 {
		return nil, fmt.Errorf("nc-ip phase: one contract with an IP per account, not %d", j+1)
	}
	farm := spec.Round*opts.IPFarmsPerRound + acc.Index/IPsPerContractFarm
	if farm >= len(nodes) {
		return nil, fmt.Errorf("nc-ip phase: account %d needs contract farm %d, only %d set up", acc.Index, farm, len(nodes))
	}
	msg.NodeId = nodes[farm]
	msg.PublicIpsCount = 1
	return msg, nil
}

// DeploymentHash is the deployment hash of contract j of account i in a
// phase: unique per phase, account and j, so never taken on a node already.
func DeploymentHash(phase string, i, j int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("loadgen-deployment-%s-%d-%d", phase, i, j)))
	return hex.EncodeToString(sum[:])
}

// DeploymentData is n bytes of deployment data for account i.
func DeploymentData(i, n int) []byte {
	if n <= 0 {
		return nil
	}
	data := make([]byte, n)
	seed := fmt.Sprintf(`{"loadgen":%d}`, i)
	for k := range data {
		data[k] = seed[k%len(seed)]
	}
	return data
}

// IPsPerContractFarm is the size of each contract farm: the most public IPs
// a farm may have (max_farm_public_ips).
const IPsPerContractFarm = 256

// ContractFarms is the number of contract farms n accounts need for one
// contract with a public IP each in each of rounds nc-ip phases (at least
// one farm, which also carries the contracts without IPs).
func ContractFarms(n, rounds int) int {
	return max(1, (n+IPsPerContractFarm-1)/IPsPerContractFarm) * max(1, rounds)
}

// ContractFarmName is the name of contract farm k.
func ContractFarmName(k int) string { return fmt.Sprintf("loadgen-ipfarm-%d", k) }

// ContractFarmIPs are the IPsPerContractFarm public IPs of contract farm k:
// the /23 46.a.b.0/23 with b even (up to 32,768 farms, apart from the farm
// phase's 45.0.0.0/8), gateway .1, IPs from .10 of the first /24 on.
func ContractFarmIPs(k int) []types.PublicIPInput {
	a, b := (k/128)%256, 2*(k%128)
	ips := make([]types.PublicIPInput, 0, IPsPerContractFarm)
	for n := range IPsPerContractFarm {
		host := 10 + n // 10..265: spills into the second /24 of the /23
		ips = append(ips, types.PublicIPInput{
			Ip:      fmt.Sprintf("46.%d.%d.%d/23", a, b+host/256, host%256),
			Gateway: fmt.Sprintf("46.%d.%d.1", a, b),
		})
	}
	return ips
}
