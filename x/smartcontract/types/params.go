package types

import sdkmath "cosmossdk.io/math"

// Defaults of the module's params.
const (
	DefaultMaxDeploymentDataBytes uint64 = 8192
	// maxMaxDeploymentDataBytes keeps state per contract small whatever governance sets.
	maxMaxDeploymentDataBytes uint64 = 64 * 1024
	// MaxDeploymentDataBytesCap bounds the deployment data of stored contracts (genesis): governance may
	// lower max_deployment_data_bytes below what existing contracts hold, which must stay valid.
	MaxDeploymentDataBytesCap = maxMaxDeploymentDataBytes
)

// DefaultContractDeposit is 1 TFT.
var DefaultContractDeposit = sdkmath.NewInt(1_000_000)

// DefaultParams returns the module's default params.
func DefaultParams() Params {
	return Params{MaxDeploymentDataBytes: DefaultMaxDeploymentDataBytes, ContractDeposit: DefaultContractDeposit}
}

// Validate checks every param.
func (p Params) Validate() error {
	if p.MaxDeploymentDataBytes == 0 || p.MaxDeploymentDataBytes > maxMaxDeploymentDataBytes {
		return ErrInvalidParams.Wrapf("max_deployment_data_bytes %d: want 1..%d", p.MaxDeploymentDataBytes, maxMaxDeploymentDataBytes)
	}
	if p.ContractDeposit.IsNil() || p.ContractDeposit.IsNegative() {
		return ErrInvalidParams.Wrapf("contract_deposit %s: want a non-negative amount of utft", p.ContractDeposit)
	}
	return nil
}
