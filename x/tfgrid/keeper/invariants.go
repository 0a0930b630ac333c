package keeper

import (
	"context"
	"encoding/hex"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/invariant"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CheckInvariants verifies the registry's derived state against a full scan of its objects: every
// index holds exactly the entries the objects need, references between objects resolve, ids stay
// below their sequences, the free-IP lists hold exactly the IPs without a contract, and the per-farm
// IP counts match the IP table. Tests and the simulation run it after every block; it scans
// everything, so the chain never does.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	var scan registryScan
	for _, check := range []func(context.Context, *registryScan) error{
		k.checkTwins, k.checkFarms, k.checkPublicIPs, k.checkAllowedNodeTwins, k.checkNodes, k.checkPricingPolicies,
	} {
		if err := check(ctx, &scan); err != nil {
			return err
		}
	}
	return nil
}

// registryScan is what the checks learnt of the objects so far, for the references of later ones.
type registryScan struct {
	twins, farms map[uint64]bool
}

type idPair = invariant.Pair[uint64, uint64]

// checkTwins: twins sit under their id, below the sequence; twins_by_account maps each account to its twin.
func (k *Keeper) checkTwins(ctx context.Context, scan *registryScan) error {
	scan.twins = map[uint64]bool{}
	accounts := map[invariant.Pair[string, uint64]]bool{}
	err := k.Twins.Walk(ctx, nil, func(id uint64, tw types.Twin) (bool, error) {
		addr, err := k.addressCodec.StringToBytes(tw.Account)
		if err != nil {
			return true, broken("twin %d has account %q: %s", id, tw.Account, err)
		}
		if err := checkID(ctx, "twin", id, tw.Id, k.TwinSeq); err != nil {
			return true, err
		}
		scan.twins[id], accounts[invariant.Pair[string, uint64]{K1: hex.EncodeToString(addr), K2: id}] = true, true
		return false, nil
	})
	if err != nil {
		return err
	}
	return invariant.SameSet(types.ErrInvariantBroken, "twins_by_account", accounts,
		invariant.Pairs(ctx, k.Twins.Indexes.Account.Walk, func(addr sdk.AccAddress, id uint64) invariant.Pair[string, uint64] {
			return invariant.Pair[string, uint64]{K1: hex.EncodeToString(addr), K2: id}
		}))
}

// checkFarms: farms sit under their id, belong to a known twin, have unique names, listed by farms_by_name
// and by their twin in farms_by_twin.
func (k *Keeper) checkFarms(ctx context.Context, scan *registryScan) error {
	scan.farms = map[uint64]bool{}
	names := map[string]uint64{}
	byTwin := map[invariant.Pair[uint64, uint64]]bool{}
	err := k.Farms.Walk(ctx, nil, func(id uint64, f types.Farm) (bool, error) {
		if err := checkID(ctx, "farm", id, f.Id, k.FarmSeq); err != nil {
			return true, err
		}
		if !scan.twins[f.TwinId] {
			return true, broken("farm %d belongs to unknown twin %d", id, f.TwinId)
		}
		if other, dup := names[f.Name]; dup {
			return true, broken("farms %d and %d are both named %q", other, id, f.Name)
		}
		scan.farms[id], names[f.Name] = true, id
		byTwin[invariant.Pair[uint64, uint64]{K1: f.TwinId, K2: id}] = true
		return false, nil
	})
	if err != nil {
		return err
	}
	return errors.Join(
		invariant.SameMap(types.ErrInvariantBroken, "farms_by_name", names,
			invariant.Entries(ctx, k.Farms.Indexes.Name.Walk, invariant.Itself[string])),
		invariant.SameSet(types.ErrInvariantBroken, "farms_by_twin", byTwin,
			invariant.Pairs(ctx, k.Farms.Indexes.Twin.Walk, func(twin, id uint64) invariant.Pair[uint64, uint64] {
				return invariant.Pair[uint64, uint64]{K1: twin, K2: id}
			})))
}

// checkPublicIPs: IPs sit under their canonical address in a known farm; the free-IP lists,
// public_ips_by_farm and the per-farm counts match them.
func (k *Keeper) checkPublicIPs(ctx context.Context, scan *registryScan) error {
	byFarm := map[invariant.Pair[uint64, string]]bool{}
	free := map[farmAddr]bool{}
	perFarm := map[uint64]uint64{}
	err := k.PublicIPs.Walk(ctx, nil, func(addr string, ip types.PublicIP) (bool, error) {
		canonical, err := types.CanonicalIPv4(ip.Ip)
		if err != nil || canonical != addr || !scan.farms[ip.FarmId] {
			return true, broken("public IP %s stored under %q, farm %d: bad key or unknown farm (%v)", ip.Ip, addr, ip.FarmId, err)
		}
		byFarm[invariant.Pair[uint64, string]{K1: ip.FarmId, K2: addr}] = true
		perFarm[ip.FarmId]++
		if ip.ContractId != 0 {
			return false, nil
		}
		a, err := addrKey(addr)
		free[farmAddr{ip.FarmId, a}] = true
		return err != nil, err
	})
	if err != nil {
		return err
	}
	if err := k.PublicIPs.Indexes.Free.check(ctx, free); err != nil {
		return err
	}
	err = invariant.SameSet(types.ErrInvariantBroken, "public_ips_by_farm", byFarm,
		invariant.Pairs(ctx, k.PublicIPs.Indexes.Farm.Walk, func(farm uint64, addr string) invariant.Pair[uint64, string] {
			return invariant.Pair[uint64, string]{K1: farm, K2: addr}
		}))
	if err != nil {
		return err
	}
	return k.checkFarmIPCounts(ctx, perFarm)
}

// checkFarmIPCounts: public_ip_count_by_farm and farms_by_public_ip_count hold exactly each farm's
// number of public IPs.
func (k *Keeper) checkFarmIPCounts(ctx context.Context, perFarm map[uint64]uint64) error {
	byCount := map[idPair]bool{}
	for farm, n := range perFarm {
		byCount[idPair{K1: n, K2: farm}] = true
	}
	return errors.Join(
		invariant.SameMap(types.ErrInvariantBroken, "public_ip_count_by_farm", perFarm,
			invariant.Entries(ctx, k.PublicIPCountByFarm.Walk, invariant.Itself[uint64])),
		invariant.SameSet(types.ErrInvariantBroken, "farms_by_public_ip_count", byCount,
			invariant.Keys(ctx, k.FarmsByPublicIPCount.Walk, invariant.PairOf[uint64, uint64])),
	)
}

// checkAllowedNodeTwins: allow-list entries name a known farm and twin.
func (k *Keeper) checkAllowedNodeTwins(ctx context.Context, scan *registryScan) error {
	return k.AllowedNodeTwins.Walk(ctx, nil, func(p collections.Pair[uint64, uint64]) (bool, error) {
		if !scan.farms[p.K1()] || !scan.twins[p.K2()] {
			return true, broken("allowed node twin (farm %d, twin %d): unknown farm or twin", p.K1(), p.K2())
		}
		return false, nil
	})
}

// checkNodes: nodes sit under their id, one per twin, in a known farm with a known farming policy,
// listed by nodes_by_twin and nodes_by_farm.
func (k *Keeper) checkNodes(ctx context.Context, scan *registryScan) error {
	byTwin, byFarm := map[uint64]uint64{}, map[idPair]bool{}
	err := k.Nodes.Walk(ctx, nil, func(id uint64, n types.Node) (bool, error) {
		if err := checkID(ctx, "node", id, n.Id, k.NodeSeq); err != nil {
			return true, err
		}
		if _, dup := byTwin[n.TwinId]; dup || !scan.twins[n.TwinId] || !scan.farms[n.FarmId] {
			return true, broken("node %d (twin %d, farm %d): unknown twin or farm, or a second node of its twin", id, n.TwinId, n.FarmId)
		}
		if has, err := k.FarmingPolicies.Has(ctx, n.FarmingPolicyId); err != nil || !has {
			return true, invariant.OrBroken(types.ErrInvariantBroken, err, "node %d: unknown farming policy %d", id, n.FarmingPolicyId)
		}
		byTwin[n.TwinId], byFarm[idPair{K1: n.FarmId, K2: id}] = id, true
		return false, nil
	})
	if err != nil {
		return err
	}
	return errors.Join(
		invariant.SameMap(types.ErrInvariantBroken, "nodes_by_twin", byTwin,
			invariant.Entries(ctx, k.Nodes.Indexes.Twin.Walk, invariant.Itself[uint64])),
		invariant.SameSet(types.ErrInvariantBroken, "nodes_by_farm", byFarm,
			invariant.Pairs(ctx, k.Nodes.Indexes.Farm.Walk, func(farm, id uint64) idPair { return idPair{K1: farm, K2: id} })),
	)
}

// checkPricingPolicies: policies sit under their id, listed by pricing_policies_by_name.
func (k *Keeper) checkPricingPolicies(ctx context.Context, _ *registryScan) error {
	names := map[string]uint64{}
	err := k.PricingPolicies.Walk(ctx, nil, func(id uint64, p types.PricingPolicy) (bool, error) {
		names[p.Name] = id
		return false, checkID(ctx, "pricing policy", id, p.Id, k.PricingPolicySeq)
	})
	if err != nil {
		return err
	}
	return invariant.SameMap(types.ErrInvariantBroken, "pricing_policies_by_name", names,
		invariant.Entries(ctx, k.PricingPolicies.Indexes.Name.Walk, invariant.Itself[string]))
}

// checkID: an object is stored under its own id, which its sequence has issued.
func checkID(ctx context.Context, kind string, key, id uint64, seq collections.Sequence) error {
	last, err := seq.Peek(ctx)
	if err != nil {
		return err
	}
	if key != id || id == 0 || id > last {
		return broken("%s %d stored under id %d (last issued %d)", kind, id, key, last)
	}
	return nil
}

func broken(format string, args ...any) error {
	return invariant.Broken(types.ErrInvariantBroken, format, args...)
}
