package deploy

import (
	sdkmath "cosmossdk.io/math"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// HourlyUTFT is what a contract reserving c with ips public IPs costs per hour under a pricing
// policy at a TFT price (mUSD), before the staking discount and a certified node's markup: the
// billing module's own formulas.
func HourlyUTFT(policy tftypes.PricingPolicy, c deployment.Capacity, ips uint32, priceMUSD sdkmath.LegacyDec) sdkmath.Int {
	units := billingtypes.ResourceCost(policy.Cu, policy.Su, billingtypes.Capacity{Cru: c.CRU, Mru: c.MRU, Sru: c.SRU, Hru: c.HRU}, 3600)
	units.Add(units, billingtypes.IPCost(policy.Ipu, ips, 3600))
	return billingtypes.ToUTFT(units, priceMUSD)
}

// resources is a capacity as the chain's reservation.
func resources(c deployment.Capacity) tftypes.Resources {
	return tftypes.Resources{Cru: c.CRU, Mru: c.MRU, Sru: c.SRU, Hru: c.HRU}
}
