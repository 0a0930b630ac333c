package types

import (
	"cosmossdk.io/core/address"
	sdkmath "cosmossdk.io/math"
)

// DefaultParams returns the billing defaults; the foundation account is the registry's default one.
func DefaultParams(foundation string) Params {
	dec := sdkmath.LegacyMustNewDecFromStr
	return Params{
		SettlementInterval:     3600,
		MaxSettlementsPerBlock: 200,
		GracePeriod:            14 * 24 * 3600,
		NodeOfflineAfter:       2 * 3600,
		FreeNodeTxsPerHour:     10,
		MaxFreeNodeTxGas:       2_000_000,
		PriceWindow:            1440,
		PriceSampleInterval:    60,
		MinTftPriceMusd:        dec("1"),
		MaxTftPriceMusd:        dec("1000"),
		DiscountLevels: []DiscountTier{
			{Level: DiscountLevelGold, MinMonths: dec("18"), Multiplier: dec("0.4")},
			{Level: DiscountLevelSilver, MinMonths: dec("6"), Multiplier: dec("0.6")},
			{Level: DiscountLevelBronze, MinMonths: dec("3"), Multiplier: dec("0.7")},
			{Level: DiscountLevelDefault, MinMonths: dec("1.5"), Multiplier: dec("0.8")},
		},
		CertifiedMultiplier:    dec("1.25"),
		FarmerSharePercent:     50,
		FoundationSharePercent: 40,
		StakingSharePercent:    10,
		FoundationAccount:      foundation,
		PayoutInterval:         24 * 3600,
		MaxPayoutsPerBlock:     100,
		MaxSettlementInterval:  24 * 3600,
	}
}

// Validate checks every param.
func (p Params) Validate(ac address.Codec) error {
	if p.SettlementInterval == 0 || p.GracePeriod == 0 || p.NodeOfflineAfter == 0 || p.PriceSampleInterval == 0 {
		return ErrInvalidParams.Wrapf("settlement_interval %d, grace_period %d, node_offline_after %d, price_sample_interval %d: all must be > 0",
			p.SettlementInterval, p.GracePeriod, p.NodeOfflineAfter, p.PriceSampleInterval)
	}
	if p.MaxSettlementInterval < p.SettlementInterval {
		return ErrInvalidParams.Wrapf("max_settlement_interval %d: want >= settlement_interval %d", p.MaxSettlementInterval, p.SettlementInterval)
	}
	if p.MaxSettlementsPerBlock == 0 || p.PriceWindow == 0 {
		return ErrInvalidParams.Wrapf("max_settlements_per_block %d, price_window %d: both must be > 0", p.MaxSettlementsPerBlock, p.PriceWindow)
	}
	if p.PayoutInterval == 0 || p.MaxPayoutsPerBlock == 0 {
		return ErrInvalidParams.Wrapf("payout_interval %d, max_payouts_per_block %d: both must be > 0", p.PayoutInterval, p.MaxPayoutsPerBlock)
	}
	if p.MinTftPriceMusd.IsNil() || p.MaxTftPriceMusd.IsNil() || !p.MinTftPriceMusd.IsPositive() || !p.MinTftPriceMusd.LT(p.MaxTftPriceMusd) {
		return ErrInvalidParams.Wrapf("min_tft_price_musd %s, max_tft_price_musd %s: want 0 < min < max", p.MinTftPriceMusd, p.MaxTftPriceMusd)
	}
	if err := validateTiers(p.DiscountLevels); err != nil {
		return err
	}
	if p.CertifiedMultiplier.IsNil() || !p.CertifiedMultiplier.IsPositive() {
		return ErrInvalidParams.Wrapf("certified_multiplier %s: want > 0", p.CertifiedMultiplier)
	}
	if p.FarmerSharePercent+p.FoundationSharePercent+p.StakingSharePercent != 100 {
		return ErrInvalidParams.Wrapf("farmer %d + foundation %d + staking %d share percents: want a sum of 100",
			p.FarmerSharePercent, p.FoundationSharePercent, p.StakingSharePercent)
	}
	if _, err := ac.StringToBytes(p.FoundationAccount); err != nil {
		return ErrInvalidParams.Wrapf("foundation_account %q: %s", p.FoundationAccount, err)
	}
	seen := map[string]bool{}
	for i, f := range p.PriceFeeders {
		if _, err := ac.StringToBytes(f); err != nil || seen[f] {
			return ErrInvalidParams.Wrapf("price_feeders[%d] %q: invalid or duplicate address", i, f)
		}
		seen[f] = true
	}
	return nil
}

func validateTiers(tiers []DiscountTier) error {
	for i, t := range tiers {
		if t.Level == DiscountLevelUnspecified || t.Level == DiscountLevelNone {
			return ErrInvalidParams.Wrapf("discount_levels[%d]: level %s is not a discount tier", i, t.Level)
		}
		if t.MinMonths.IsNil() || !t.MinMonths.IsPositive() || t.Multiplier.IsNil() || !t.Multiplier.IsPositive() || t.Multiplier.GT(sdkmath.LegacyOneDec()) {
			return ErrInvalidParams.Wrapf("discount_levels[%d]: min_months %s must be > 0 and multiplier %s in (0, 1]", i, t.MinMonths, t.Multiplier)
		}
		if i > 0 && !t.MinMonths.LT(tiers[i-1].MinMonths) {
			return ErrInvalidParams.Wrapf("discount_levels[%d]: min_months %s must be below %s (strictly descending)", i, t.MinMonths, tiers[i-1].MinMonths)
		}
	}
	return nil
}
