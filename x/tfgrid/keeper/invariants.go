package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CheckInvariants verifies the registry's derived state: the free-IP index holds exactly the farm
// IPs without a contract, in sorted lists, and the per-farm IP counts match the IP table. Tests and
// the simulation run it after every block; it scans every IP, so the chain never does.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	free := map[farmAddr]bool{}
	perFarm := map[uint64]uint64{}
	err := k.PublicIPs.Walk(ctx, nil, func(addr string, ip types.PublicIP) (bool, error) {
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
	return k.checkFarmIPCounts(ctx, perFarm)
}

// checkFarmIPCounts: public_ip_count_by_farm and farms_by_public_ip_count hold exactly each farm's
// number of public IPs.
func (k *Keeper) checkFarmIPCounts(ctx context.Context, perFarm map[uint64]uint64) error {
	n := 0
	err := k.PublicIPCountByFarm.Walk(ctx, nil, func(farmID, count uint64) (bool, error) {
		n++
		if count != perFarm[farmID] {
			return true, broken("public_ip_count_by_farm: farm %d counts %d public IPs, holds %d", farmID, count, perFarm[farmID])
		}
		return false, nil
	})
	if err == nil && n != len(perFarm) {
		err = broken("public_ip_count_by_farm has %d farms, %d farms hold public IPs", n, len(perFarm))
	}
	if err != nil {
		return err
	}
	n = 0
	err = k.FarmsByPublicIPCount.Walk(ctx, nil, func(key collections.Pair[uint64, uint64]) (bool, error) {
		n++
		if key.K1() != perFarm[key.K2()] {
			return true, broken("farms_by_public_ip_count: farm %d listed with %d public IPs, holds %d", key.K2(), key.K1(), perFarm[key.K2()])
		}
		return false, nil
	})
	if err == nil && n != len(perFarm) {
		err = broken("farms_by_public_ip_count has %d entries, %d farms hold public IPs", n, len(perFarm))
	}
	return err
}

func broken(format string, args ...any) error {
	return types.ErrInvariantBroken.Wrap(fmt.Sprintf(format, args...))
}
