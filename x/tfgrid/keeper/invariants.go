package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CheckInvariants verifies the registry's derived state: the free-IP index holds exactly the farm
// IPs without a contract, in sorted lists. Tests and the simulation run it
// after every block; it scans every IP, so the chain never does.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	free := map[farmAddr]bool{}
	err := k.PublicIPs.Walk(ctx, nil, func(addr string, ip types.PublicIP) (bool, error) {
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
	return k.PublicIPs.Indexes.Free.check(ctx, free)
}
