package types

// Pricing and farming policies: stateless validation (see validate.go).

// ValidatePricingPolicyName checks a pricing-policy name: 3..64 characters of
// [A-Za-z0-9_-].
func ValidatePricingPolicyName(name string) error {
	if r := validateIdentifier(name, MinPolicyNameLength, MaxPolicyNameLength); r != "" {
		return ErrInvalidPricingPolicy.Wrapf("name %q: %s", name, r)
	}
	return nil
}

// ValidateFarmingPolicyName checks a farming-policy name: 3..64 characters of
// [A-Za-z0-9_-].
func ValidateFarmingPolicyName(name string) error {
	if r := validateIdentifier(name, MinPolicyNameLength, MaxPolicyNameLength); r != "" {
		return ErrInvalidFarmingPolicy.Wrapf("name %q: %s", name, r)
	}
	return nil
}

// ValidatePercent checks that the pricing-policy field `field` is a
// percentage (at most 100).
func ValidatePercent(field string, v uint32) error {
	if v > MaxPercent {
		return ErrInvalidPricingPolicy.Wrapf("%s %d: must be at most %d", field, v, MaxPercent)
	}
	return nil
}
