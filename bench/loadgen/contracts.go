package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// ContractFarmer is the account that owns contract farm k and runs its one
// node (the farmer's twin is allowed as the node's twin).
func ContractFarmer(k int) *Account {
	return newAccountFromSecret(k, []byte(fmt.Sprintf("loadgen-farmer-%d", k)))
}

// ContractFarmers derives the owners of contract farms 0..n-1.
func ContractFarmers(n int) []*Account {
	accs := make([]*Account, n)
	parallelFor(n, func(k int) { accs[k] = ContractFarmer(k) })
	return accs
}

// setupGas is the gas limit of the setup txs: a farm with 256 IPs writes
// each of them.
const setupGas = 40_000_000

// SetupContractNodes gives every farmer (whose account numbers and sequences
// must be current) a twin, a farm of IPsPerContractFarm public IPs and one
// node on it, in two committed rounds, and returns the node ids in farmer
// order. It is not timed.
func SetupContractNodes(ctx context.Context, node *Node, cfg RunConfig, farmers []*Account) ([]uint64, error) {
	start := time.Now()
	round1 := PhaseSpec{Name: "setup-farms", Accounts: len(farmers), PerAccount: 2, Gas: setupGas,
		Build: func(acc *Account, j int) (sdk.Msg, error) {
			if j == 0 {
				return &types.MsgCreateTwin{Creator: acc.Bech32, Relays: TwinRelays(acc.Index, 1)}, nil
			}
			return &types.MsgCreateFarm{Creator: acc.Bech32, Name: ContractFarmName(acc.Index), PublicIps: ContractFarmIPs(acc.Index)}, nil
		}}
	if err := runSetup(ctx, node, cfg, farmers, round1); err != nil {
		return nil, err
	}
	twins := make([]uint64, len(farmers))
	farms := make([]uint64, len(farmers))
	for k, acc := range farmers {
		twin, err := node.Tfgrid.TwinByAccount(ctx, &types.QueryTwinByAccountRequest{Address: acc.Bech32})
		if err != nil {
			return nil, fmt.Errorf("twin of contract farmer %d: %w", k, err)
		}
		farm, err := node.Tfgrid.FarmByName(ctx, &types.QueryFarmByNameRequest{Name: ContractFarmName(k)})
		if err != nil {
			return nil, fmt.Errorf("contract farm %d: %w", k, err)
		}
		twins[k], farms[k] = twin.Twin.Id, farm.Farm.Id
	}

	round2 := PhaseSpec{Name: "setup-nodes", Accounts: len(farmers), PerAccount: 2, Gas: setupGas,
		Build: func(acc *Account, j int) (sdk.Msg, error) {
			k := acc.Index
			if j == 0 {
				return &types.MsgAllowNodeTwin{Creator: acc.Bech32, FarmId: farms[k], TwinId: twins[k]}, nil
			}
			return contractNodeMsg(acc, farms[k]), nil
		}}
	if err := runSetup(ctx, node, cfg, farmers, round2); err != nil {
		return nil, err
	}
	nodes := make([]uint64, len(farmers))
	for k := range farmers {
		res, err := node.Tfgrid.NodeByTwin(ctx, &types.QueryNodeByTwinRequest{TwinId: twins[k]})
		if err != nil {
			return nil, fmt.Errorf("node of contract farmer %d (twin %d): %w", k, twins[k], err)
		}
		nodes[k] = res.Node.Id
	}
	logf(cfg.Log, "set up %d contract farms of %d public IPs, each with one node, in %.1fs", len(farmers), IPsPerContractFarm, time.Since(start).Seconds())
	return nodes, nil
}

// contractNodeMsg registers a plausible node for the contracts of a run; they
// reserve no capacity (zero reservations), so any node holds all of them.
func contractNodeMsg(acc *Account, farmID uint64) *types.MsgCreateNode {
	return &types.MsgCreateNode{
		Creator:      acc.Bech32,
		FarmId:       farmID,
		Resources:    types.Resources{Cru: 64, Mru: 512 * types.GiB, Sru: 8192 * types.GiB, Hru: 32768 * types.GiB},
		Location:     types.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
		SerialNumber: fmt.Sprintf("loadgen-node-%d", acc.Index),
	}
}

// runSetup runs one untimed setup round and fails unless every tx succeeded.
func runSetup(ctx context.Context, node *Node, cfg RunConfig, accs []*Account, spec PhaseSpec) error {
	res, err := RunPhase(ctx, node, cfg, accs, spec)
	if err != nil {
		return err
	}
	if res.OK == res.Sent {
		return nil
	}
	var reasons []string
	for _, r := range sortedReasons(res.RejectReasons) {
		reasons = append(reasons, fmt.Sprintf("%d rejected: %s", res.RejectReasons[r], r))
	}
	for _, r := range sortedReasons(res.FailReasons) {
		reasons = append(reasons, fmt.Sprintf("%d failed: %s", res.FailReasons[r], r))
	}
	return fmt.Errorf("%s: %d of %d txs committed successfully (%s)", spec.Name, res.OK, res.Sent, strings.Join(reasons, "; "))
}
