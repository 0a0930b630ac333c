package keeper

import (
	"context"
	"fmt"
	"slices"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CheckInvariants verifies what every close path must preserve: farm IPs and contracts agree, the
// indexes hold exactly the live contracts, each node's reserved total is the sum of its live contracts'
// reservations and fits in its capacity, and the module account holds exactly the live deposits.
// Tests and the simulation run it after every block; it scans everything, so the chain never does.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	live := map[uint64]types.Contract{}
	err := k.Contracts.Walk(ctx, nil, func(id uint64, c types.Contract) (bool, error) {
		if !c.IsLive() {
			return true, broken("contract %d is stored with state %s", id, c.State)
		}
		if has, err := k.Tombstones.Has(ctx, id); err != nil || has {
			return true, orBroken(err, "contract %d is live and has a tombstone", id)
		}
		live[id] = c
		return false, nil
	})
	if err != nil {
		return err
	}
	for _, check := range []func(context.Context, map[uint64]types.Contract) error{k.checkIPs, k.checkIndexes, k.checkReservations, k.checkDeposits} {
		if err := check(ctx, live); err != nil {
			return err
		}
	}
	return nil
}

// checkIPs: every farm IP held by a contract is listed by that live node contract on a node of the
// IP's farm, and every IP a live contract lists is held by it.
func (k *Keeper) checkIPs(ctx context.Context, live map[uint64]types.Contract) error {
	held := map[string]uint64{}
	err := k.registry.WalkPublicIPs(ctx, func(ip tfgridtypes.PublicIP) error {
		if ip.ContractId == 0 {
			return nil
		}
		c, ok := live[ip.ContractId]
		nc := c.GetNodeContract()
		if !ok || nc == nil {
			return broken("farm %d IP %s is held by contract %d, which is not a live node contract", ip.FarmId, ip.Ip, ip.ContractId)
		}
		if node, err := k.registry.GetNode(ctx, nc.NodeId); err != nil || node.FarmId != ip.FarmId {
			return orBroken(err, "farm %d IP %s is held by contract %d on node %d of another farm", ip.FarmId, ip.Ip, c.Id, nc.NodeId)
		}
		if !slices.Contains(nc.IPs(), ip.Ip) {
			return broken("farm %d IP %s is marked for contract %d, which does not list it", ip.FarmId, ip.Ip, c.Id)
		}
		held[ip.Ip] = ip.ContractId
		return nil
	})
	if err != nil {
		return err
	}
	for id, c := range live {
		nc := c.GetNodeContract()
		if nc == nil {
			continue
		}
		if uint32(len(nc.PublicIps)) != nc.PublicIpsCount {
			return broken("contract %d lists %d IPs, public_ips_count is %d", id, len(nc.PublicIps), nc.PublicIpsCount)
		}
		for _, ip := range nc.PublicIps {
			if held[ip.Ip] != id {
				return broken("contract %d lists IP %s, which the farm marks for contract %d", id, ip.Ip, held[ip.Ip])
			}
		}
	}
	return nil
}

// checkIndexes: each index holds exactly the entries a full scan of the live contracts produces.
func (k *Keeper) checkIndexes(ctx context.Context, live map[uint64]types.Contract) error {
	wantByTwin, wantByNodeTwin := map[pairKey[uint64, uint64]]bool{}, map[tripleKey]bool{}
	wantHash, wantRent, wantName := map[pairKey[uint64, string]]uint64{}, map[uint64]uint64{}, map[string]uint64{}
	for id, c := range live {
		wantByTwin[pairKey[uint64, uint64]{c.TwinId, id}] = true
		switch kind := c.Kind.(type) {
		case *types.Contract_NodeContract:
			wantHash[pairKey[uint64, string]{kind.NodeContract.NodeId, kind.NodeContract.DeploymentHash}] = id
			wantByNodeTwin[tripleKey{kind.NodeContract.NodeId, c.TwinId, id}] = true
		case *types.Contract_RentContract:
			wantRent[kind.RentContract.NodeId] = id
		case *types.Contract_NameContract:
			wantName[kind.NameContract.Name] = id
		}
	}
	if err := sameSet(ctx, "contracts_by_twin", k.ContractsByTwin, keyOf[uint64, uint64], wantByTwin); err != nil {
		return err
	}
	if err := sameSet(ctx, "node_contracts_by_node_twin", k.NodeContractsByNodeTwin, tripleKeyOf, wantByNodeTwin); err != nil {
		return err
	}
	if err := sameMap(ctx, "contract_by_node_hash", k.ContractByNodeHash, keyOf[uint64, string], wantHash); err != nil {
		return err
	}
	if err := sameMap(ctx, "rent_contract_by_node", k.RentContractByNode, itself[uint64], wantRent); err != nil {
		return err
	}
	return sameMap(ctx, "name_contract_by_name", k.NameContractByName, itself[string], wantName)
}

// checkReservations: node_reserved holds, per node, exactly the sum of its live node contracts'
// reservations, and no node reserves more than it has.
func (k *Keeper) checkReservations(ctx context.Context, live map[uint64]types.Contract) error {
	want := map[uint64]tfgridtypes.Resources{}
	for _, c := range live {
		if nc := c.GetNodeContract(); nc != nil && nc.Resources != (tfgridtypes.Resources{}) {
			sum, ok := want[nc.NodeId].Add(nc.Resources)
			if !ok {
				return broken("node %d: reservations overflow at contract %d", nc.NodeId, c.Id)
			}
			want[nc.NodeId] = sum
		}
	}
	n := 0
	err := k.NodeReserved.Walk(ctx, nil, func(nodeID uint64, got tfgridtypes.Resources) (bool, error) {
		n++
		if got != want[nodeID] {
			return true, broken("node %d reserves %v, its live contracts %v", nodeID, got, want[nodeID])
		}
		node, err := k.registry.GetNode(ctx, nodeID)
		if err != nil {
			return true, err
		}
		if field, has, need := tfgridtypes.FirstShortfall(node.Resources, got); field != "" {
			return true, broken("node %d has %s %d, its live contracts reserve %d", nodeID, field, has, need)
		}
		return false, nil
	})
	if err == nil && n != len(want) {
		err = broken("node_reserved has %d nodes, live contracts reserve on %d", n, len(want))
	}
	return err
}

// pairKey is a comparable copy of a collections.Pair, which holds pointers and so cannot key a map.
type pairKey[K1, K2 comparable] struct {
	k1 K1
	k2 K2
}

func keyOf[K1, K2 comparable](p collections.Pair[K1, K2]) pairKey[K1, K2] {
	return pairKey[K1, K2]{p.K1(), p.K2()}
}

// tripleKey is a comparable copy of a (node, twin, contract) key of node_contracts_by_node_twin.
type tripleKey struct{ node, twin, contract uint64 }

func tripleKeyOf(t collections.Triple[uint64, uint64, uint64]) tripleKey {
	return tripleKey{t.K1(), t.K2(), t.K3()}
}

func itself[K comparable](k K) K { return k }

// checkDeposits: the module account holds exactly the deposits of the live contracts.
func (k *Keeper) checkDeposits(ctx context.Context, live map[uint64]types.Contract) error {
	sum := sdkmath.ZeroInt()
	for _, c := range live {
		sum = sum.Add(c.Deposit)
	}
	held := k.bank.GetBalance(ctx, authtypes.NewModuleAddress(types.ModuleName), k.denom).Amount
	if !held.Equal(sum) {
		return broken("module account holds %s%s, live contracts deposited %s%s", held, k.denom, sum, k.denom)
	}
	return nil
}

func sameSet[K any, N comparable](ctx context.Context, name string, set collections.KeySet[K], norm func(K) N, want map[N]bool) error {
	n := 0
	err := set.Walk(ctx, nil, func(k K) (bool, error) {
		n++
		if key := norm(k); !want[key] {
			return true, broken("index %s has %v, which no live contract needs", name, key)
		}
		return false, nil
	})
	if err == nil && n != len(want) {
		err = broken("index %s has %d entries, live contracts need %d", name, n, len(want))
	}
	return err
}

func sameMap[K any, N comparable](ctx context.Context, name string, m collections.Map[K, uint64], norm func(K) N, want map[N]uint64) error {
	n := 0
	err := m.Walk(ctx, nil, func(k K, id uint64) (bool, error) {
		n++
		if key := norm(k); want[key] != id {
			return true, broken("index %s maps %v to %d, want %d", name, key, id, want[key])
		}
		return false, nil
	})
	if err == nil && n != len(want) {
		err = broken("index %s has %d entries, live contracts need %d", name, n, len(want))
	}
	return err
}

func broken(format string, args ...any) error {
	return types.ErrInvariantBroken.Wrap(fmt.Sprintf(format, args...))
}

// orBroken passes a store error through, or reports the broken invariant.
func orBroken(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return broken(format, args...)
}
