package keeper

import (
	"context"
	"errors"
	"slices"

	sdkmath "cosmossdk.io/math"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/invariant"
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

// checkIndexes: each index holds exactly the entries a full scan of the live contracts (and, for
// twin_contract_history, the tombstones) produces.
func (k *Keeper) checkIndexes(ctx context.Context, live map[uint64]types.Contract) error {
	type (
		twinContract = invariant.Pair[uint64, uint64]
		nodeHash     = invariant.Pair[uint64, string]
		nodeTwin     = invariant.Triple[uint64, uint64, uint64]
	)
	wantByTwin, wantByNodeTwin, wantGrace := map[twinContract]bool{}, map[nodeTwin]bool{}, map[uint64]bool{}
	wantHash, wantRent, wantName := map[nodeHash]uint64{}, map[uint64]uint64{}, map[string]uint64{}
	for id, c := range live {
		wantByTwin[twinContract{K1: c.TwinId, K2: id}] = true
		if c.State == types.ContractStateGracePeriod {
			wantGrace[id] = true
		}
		switch kind := c.Kind.(type) {
		case *types.Contract_NodeContract:
			wantHash[nodeHash{K1: kind.NodeContract.NodeId, K2: kind.NodeContract.DeploymentHash}] = id
			wantByNodeTwin[nodeTwin{K1: kind.NodeContract.NodeId, K2: c.TwinId, K3: id}] = true
		case *types.Contract_RentContract:
			wantRent[kind.RentContract.NodeId] = id
		case *types.Contract_NameContract:
			wantName[kind.NameContract.Name] = id
		}
	}
	wantHistory, err := k.twinContractHistory(ctx, live)
	if err != nil {
		return err
	}
	broken := types.ErrInvariantBroken
	checks := []error{
		invariant.SameSet(broken, "twin_contract_history", wantHistory,
			invariant.Keys(ctx, k.TwinContractHistory.Walk, invariant.PairOf[uint64, uint64])),
		invariant.SameSet(broken, "contracts_by_twin", wantByTwin,
			invariant.Keys(ctx, k.ContractsByTwin.Walk, invariant.PairOf[uint64, uint64])),
		invariant.SameSet(broken, "node_contracts_by_node_twin", wantByNodeTwin,
			invariant.Keys(ctx, k.NodeContractsByNodeTwin.Walk, invariant.TripleOf[uint64, uint64, uint64])),
		invariant.SameMap(broken, "contract_by_node_hash", wantHash,
			invariant.Entries(ctx, k.ContractByNodeHash.Walk, invariant.PairOf[uint64, string])),
		invariant.SameMap(broken, "rent_contract_by_node", wantRent, invariant.Entries(ctx, k.RentContractByNode.Walk, invariant.Itself[uint64])),
		invariant.SameSet(broken, "contracts_in_grace", wantGrace, invariant.Keys(ctx, k.ContractsInGrace.Walk, invariant.Itself[uint64])),
		invariant.SameMap(broken, "name_contract_by_name", wantName, invariant.Entries(ctx, k.NameContractByName.Walk, invariant.Itself[string])),
	}
	return errors.Join(checks...)
}

// twinContractHistory is what twin_contract_history must hold: (twin, id) of every live contract and
// every tombstone.
func (k *Keeper) twinContractHistory(ctx context.Context, live map[uint64]types.Contract) (map[invariant.Pair[uint64, uint64]]bool, error) {
	want := make(map[invariant.Pair[uint64, uint64]]bool, len(live))
	for id, c := range live {
		want[invariant.Pair[uint64, uint64]{K1: c.TwinId, K2: id}] = true
	}
	err := k.Tombstones.Walk(ctx, nil, func(id uint64, t types.Tombstone) (bool, error) {
		want[invariant.Pair[uint64, uint64]{K1: t.TwinId, K2: id}] = true
		return false, nil
	})
	return want, err
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

func broken(format string, args ...any) error {
	return invariant.Broken(types.ErrInvariantBroken, format, args...)
}

func orBroken(err error, format string, args ...any) error {
	return invariant.OrBroken(types.ErrInvariantBroken, err, format, args...)
}
