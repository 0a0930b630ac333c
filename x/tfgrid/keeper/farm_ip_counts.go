package keeper

// Per-farm public IP counts: public_ip_count_by_farm answers "how many IPs has this farm" and
// farms_by_public_ip_count "which farm has the most", each with one read, so neither adding an IP nor
// lowering max_farm_public_ips walks the IP table.

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// insertPublicIP stores a new public IP under its bare address and counts it for its farm. With
// removePublicIP it is the only code that adds or drops an IP.
func (k *Keeper) insertPublicIP(ctx context.Context, addr string, ip types.PublicIP) error {
	if err := k.PublicIPs.Set(ctx, addr, ip); err != nil {
		return err
	}
	n, err := k.countFarmIPs(ctx, ip.FarmId)
	if err != nil {
		return err
	}
	return k.setFarmIPCount(ctx, ip.FarmId, n, n+1)
}

// removePublicIP deletes a public IP and uncounts it.
func (k *Keeper) removePublicIP(ctx context.Context, addr string, ip types.PublicIP) error {
	if err := k.PublicIPs.Remove(ctx, addr); err != nil {
		return err
	}
	n, err := k.countFarmIPs(ctx, ip.FarmId)
	if err != nil {
		return err
	}
	if n == 0 {
		return types.ErrInvariantBroken.Wrapf("farm %d counts no public IPs, yet holds %s", ip.FarmId, addr)
	}
	return k.setFarmIPCount(ctx, ip.FarmId, n, n-1)
}

// countFarmIPs is a farm's number of public IPs.
func (k *Keeper) countFarmIPs(ctx context.Context, farmID uint64) (uint64, error) {
	n, err := k.PublicIPCountByFarm.Get(ctx, farmID)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// setFarmIPCount moves a farm's count from old to n in both collections; a zero count has no entry.
func (k *Keeper) setFarmIPCount(ctx context.Context, farmID, old, n uint64) error {
	if old > 0 {
		if err := k.FarmsByPublicIPCount.Remove(ctx, collections.Join(old, farmID)); err != nil {
			return err
		}
	}
	if n == 0 {
		return k.PublicIPCountByFarm.Remove(ctx, farmID)
	}
	if err := k.PublicIPCountByFarm.Set(ctx, farmID, n); err != nil {
		return err
	}
	return k.FarmsByPublicIPCount.Set(ctx, collections.Join(n, farmID))
}

// farmWithMostIPs is the farm holding the most public IPs and its count (0, 0 without any IP); of
// farms with equal counts, the highest id.
func (k *Keeper) farmWithMostIPs(ctx context.Context) (farmID, n uint64, err error) {
	rng := new(collections.Range[collections.Pair[uint64, uint64]]).Descending()
	err = k.FarmsByPublicIPCount.Walk(ctx, rng, func(key collections.Pair[uint64, uint64]) (bool, error) {
		n, farmID = key.K1(), key.K2()
		return true, nil
	})
	return farmID, n, err
}
