package keeper

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
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
	if err := k.removePublicIP(ctx, addr, ip); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmPublicIpRemoved{FarmId: farm.Id, Ip: ip.Ip})
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
	if err := k.insertPublicIP(ctx, key, ip); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmPublicIpAdded{FarmId: farmID, Ip: cidr, Gateway: gateway})
}

// FarmPublicIPs returns a farm's public IPs in address order.
func (k *Keeper) FarmPublicIPs(ctx context.Context, farmID uint64) ([]types.PublicIP, error) {
	iter, err := k.PublicIPs.Indexes.Farm.MatchExact(ctx, farmID)
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var addrs []string
	for ; iter.Valid(); iter.Next() {
		addr, err := iter.PrimaryKey()
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, addr)
	}
	// The index orders the bare addresses as strings ("….10" before "….2"): sort them as addresses.
	slices.SortFunc(addrs, compareAddrs)
	return k.publicIPsAt(ctx, addrs)
}

// publicIPsAt reads the IPs at the given bare addresses, in that order.
func (k *Keeper) publicIPsAt(ctx context.Context, addrs []string) ([]types.PublicIP, error) {
	ips := make([]types.PublicIP, 0, len(addrs))
	for _, addr := range addrs {
		ip, err := k.PublicIPs.Get(ctx, addr)
		if err != nil {
			return nil, err
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

// compareAddrs orders canonical IPv4 addresses numerically.
func compareAddrs(a, b string) int {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return x.Compare(y)
}

// ReservePublicIPs gives a contract n free IPs of a farm, first fit in address order; with fewer than n
// free it reserves nothing.
func (k *Keeper) ReservePublicIPs(ctx context.Context, farmID uint64, n uint32, contractID uint64) ([]types.PublicIP, error) {
	addrs, err := k.PublicIPs.Indexes.Free.First(ctx, farmID, n)
	if err != nil {
		return nil, err
	}
	if uint32(len(addrs)) < n {
		return nil, types.ErrNotEnoughPublicIPs.Wrapf("farm %d has %d free public IPs, contract %d asks %d", farmID, len(addrs), contractID, n)
	}
	reserved := make([]types.PublicIP, 0, n)
	for _, addr := range addrs {
		ip, err := k.PublicIPs.Get(ctx, addr)
		if err != nil {
			return nil, err
		}
		ip.ContractId = contractID
		if err := k.PublicIPs.Set(ctx, addr, ip); err != nil {
			return nil, err
		}
		reserved = append(reserved, ip)
	}
	return reserved, nil
}

// ReleasePublicIPs frees the listed IPs of a farm that the contract holds; IPs held by anyone else are
// left alone, so a close path never frees another contract's IP.
func (k *Keeper) ReleasePublicIPs(ctx context.Context, farmID, contractID uint64, cidrs []string) error {
	for _, cidr := range cidrs {
		ip, err := k.GetPublicIP(ctx, cidr)
		if errors.Is(err, types.ErrPublicIPNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if ip.FarmId != farmID || ip.ContractId != contractID {
			continue
		}
		ip.ContractId = 0
		if err := k.setPublicIP(ctx, ip); err != nil {
			return err
		}
	}
	return nil
}

// GetPublicIP loads a public IP by its address, given bare or as a CIDR.
func (k *Keeper) GetPublicIP(ctx context.Context, ip string) (types.PublicIP, error) {
	addr, err := types.CanonicalIPv4(ip)
	if err != nil {
		return types.PublicIP{}, err
	}
	pip, err := k.PublicIPs.Get(ctx, addr)
	return pip, keeperutil.NotFound(err, types.ErrPublicIPNotFound, "public IP %s", ip)
}

// SetPublicIPContract records the contract holding an IP (0 frees it).
func (k *Keeper) SetPublicIPContract(ctx context.Context, ip types.PublicIP, contractID uint64) error {
	ip.ContractId = contractID
	return k.setPublicIP(ctx, ip)
}

func (k *Keeper) setPublicIP(ctx context.Context, ip types.PublicIP) error {
	addr, err := types.CanonicalIPv4(ip.Ip)
	if err != nil {
		return err
	}
	return k.PublicIPs.Set(ctx, addr, ip)
}

// WalkPublicIPs visits every public IP of every farm, for invariant checks.
func (k *Keeper) WalkPublicIPs(ctx context.Context, fn func(types.PublicIP) error) error {
	return k.PublicIPs.Walk(ctx, nil, func(_ string, ip types.PublicIP) (bool, error) {
		return false, fn(ip)
	})
}
