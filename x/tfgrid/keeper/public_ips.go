package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// AddFarmIP adds a public IP to the signer's farm.
func (k *Keeper) AddFarmIP(ctx context.Context, msg *types.MsgAddFarmIp) error {
	farm, err := k.farmOfFarmer(ctx, msg.Creator, msg.FarmId)
	if err != nil {
		return err
	}
	return k.addPublicIP(ctx, farm.Id, msg.Ip, msg.Gateway)
}

// RemoveFarmIP removes a free public IP from the signer's farm.
func (k *Keeper) RemoveFarmIP(ctx context.Context, msg *types.MsgRemoveFarmIp) error {
	farm, err := k.farmOfFarmer(ctx, msg.Creator, msg.FarmId)
	if err != nil {
		return err
	}
	addr, err := types.CanonicalIPv4(msg.Ip)
	if err != nil {
		return err
	}
	ip, err := k.PublicIPs.Get(ctx, addr)
	if err != nil || ip.FarmId != farm.Id {
		if err != nil && !errors.Is(err, collections.ErrNotFound) {
			return err
		}
		return types.ErrPublicIPNotFound.Wrapf("farm %d has no public IP %s", farm.Id, msg.Ip)
	}
	if ip.ContractId != 0 {
		return types.ErrPublicIPInUse.Wrapf("public IP %s of farm %d is held by contract %d", ip.Ip, farm.Id, ip.ContractId)
	}
	if err := k.PublicIPs.Remove(ctx, addr); err != nil {
		return err
	}
	return emit(ctx, &types.EventFarmPublicIpRemoved{FarmId: farm.Id, Ip: ip.Ip})
}

// addPublicIP validates an IP, checks that it is new on the chain and that the farm has room for it.
func (k *Keeper) addPublicIP(ctx context.Context, farmID uint64, cidr, gateway string) error {
	addr, _, err := types.ParsePublicIP(cidr, gateway)
	if err != nil {
		return err
	}
	key := addr.String()
	existing, err := k.PublicIPs.Get(ctx, key)
	switch {
	case err == nil:
		return types.ErrPublicIPExists.Wrapf("public IP %s is already registered by farm %d", key, existing.FarmId)
	case !errors.Is(err, collections.ErrNotFound):
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	count, err := k.countFarmIPs(ctx, farmID)
	if err != nil {
		return err
	}
	if count >= uint64(params.MaxFarmPublicIps) {
		return types.ErrTooManyPublicIPs.Wrapf("farm %d already has %d public IPs (max_farm_public_ips %d)", farmID, count, params.MaxFarmPublicIps)
	}
	ip := types.PublicIP{Ip: cidr, Gateway: gateway, FarmId: farmID}
	if err := k.PublicIPs.Set(ctx, key, ip); err != nil {
		return err
	}
	return emit(ctx, &types.EventFarmPublicIpAdded{FarmId: farmID, Ip: cidr, Gateway: gateway})
}

// countFarmIPs counts a farm's public IPs; the count is bounded by max_farm_public_ips.
func (k *Keeper) countFarmIPs(ctx context.Context, farmID uint64) (uint64, error) {
	iter, err := k.PublicIPs.Indexes.Farm.MatchExact(ctx, farmID)
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	var n uint64
	for ; iter.Valid(); iter.Next() {
		n++
	}
	return n, nil
}

// FarmPublicIPs returns a farm's public IPs in address order.
func (k *Keeper) FarmPublicIPs(ctx context.Context, farmID uint64) ([]types.PublicIP, error) {
	iter, err := k.PublicIPs.Indexes.Farm.MatchExact(ctx, farmID)
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var ips []types.PublicIP
	for ; iter.Valid(); iter.Next() {
		addr, err := iter.PrimaryKey()
		if err != nil {
			return nil, err
		}
		ip, err := k.PublicIPs.Get(ctx, addr)
		if err != nil {
			return nil, err
		}
		ips = append(ips, ip)
	}
	return ips, nil
}
