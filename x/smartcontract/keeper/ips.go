package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// reserveIPs takes the node contract's public_ips_count free IPs from the node's farm and records them
// on the contract; with too few free IPs nothing is reserved.
func (k *Keeper) reserveIPs(ctx context.Context, contractID, farmID uint64, nc *types.NodeContract) error {
	if nc.PublicIpsCount == 0 {
		return nil
	}
	ips, err := k.registry.ReservePublicIPs(ctx, farmID, nc.PublicIpsCount, contractID)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		nc.PublicIps = append(nc.PublicIps, types.ContractPublicIP{Ip: ip.Ip, Gateway: ip.Gateway})
	}
	return keeperutil.Emit(ctx, &types.EventPublicIpsReserved{ContractId: contractID, FarmId: farmID, Ips: nc.IPs()})
}

// releaseIPs gives a node contract's IPs back to the farm of its node.
func (k *Keeper) releaseIPs(ctx context.Context, contractID uint64, nc *types.NodeContract) error {
	if len(nc.PublicIps) == 0 {
		return nil
	}
	farmID, err := k.ipFarm(ctx, nc)
	if err != nil {
		return err
	}
	if err := k.registry.ReleasePublicIPs(ctx, farmID, contractID, nc.IPs()); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventPublicIpsFreed{ContractId: contractID, FarmId: farmID, Ips: nc.IPs()})
}

// ipFarm is the farm that owns a node contract's IPs: read from the IP table, since the node itself
// may already be gone when its contracts close.
func (k *Keeper) ipFarm(ctx context.Context, nc *types.NodeContract) (uint64, error) {
	ip, err := k.registry.GetPublicIP(ctx, nc.PublicIps[0].Ip)
	if err != nil {
		return 0, err
	}
	return ip.FarmId, nil
}

// ForceResetFarmIP frees a farm IP whose contract no longer lives (authority checked by the caller).
func (k *Keeper) ForceResetFarmIP(ctx context.Context, farmID uint64, ipStr string) error {
	ip, err := k.registry.GetPublicIP(ctx, ipStr)
	if err != nil {
		return err
	}
	if ip.FarmId != farmID {
		return types.ErrInvalidContractState.Wrapf("public IP %s belongs to farm %d, not farm %d", ipStr, ip.FarmId, farmID)
	}
	previous := ip.ContractId
	if previous == 0 {
		return nil
	}
	live, err := k.Contracts.Has(ctx, previous)
	if err != nil {
		return err
	}
	if live {
		return types.ErrPublicIPInUse.Wrapf("public IP %s is held by live contract %d; cancel the contract instead", ipStr, previous)
	}
	if err := k.registry.SetPublicIPContract(ctx, ip, 0); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmIpForceReset{FarmId: farmID, Ip: ip.Ip, PreviousContractId: previous})
}
