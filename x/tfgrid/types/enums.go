package types

// ValidateFarmCertification refuses the unspecified and unknown values.
func ValidateFarmCertification(c FarmCertification) error {
	if c != FarmCertificationNotCertified && c != FarmCertificationGold {
		return ErrInvalidCertification.Wrapf("farm certification %d (%s)", int32(c), c)
	}
	return nil
}

// ValidateNodeCertification refuses the unspecified and unknown values.
func ValidateNodeCertification(c NodeCertification) error {
	if c != NodeCertificationDIY && c != NodeCertificationCertified {
		return ErrInvalidCertification.Wrapf("node certification %d (%s)", int32(c), c)
	}
	return nil
}

// ValidatePowerState refuses the unspecified and unknown values of a power state or target.
func ValidatePowerState(field string, s PowerState) error {
	if s != PowerStateUp && s != PowerStateDown {
		return ErrInvalidPowerState.Wrapf("%s %d (%s): want up or down", field, int32(s), s)
	}
	return nil
}
