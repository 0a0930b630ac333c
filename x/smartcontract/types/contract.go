package types

import (
	"regexp"

	sdkmath "cosmossdk.io/math"
)

// ContractKind names what the contract reserves.
func (c Contract) ContractKind() ContractKind {
	switch c.Kind.(type) {
	case *Contract_NodeContract:
		return ContractKindNode
	case *Contract_NameContract:
		return ContractKindName
	case *Contract_RentContract:
		return ContractKindRent
	}
	return ContractKindUnspecified
}

// NodeID is the node of a node or rent contract, 0 for a name contract.
func (c Contract) NodeID() uint64 {
	switch k := c.Kind.(type) {
	case *Contract_NodeContract:
		return k.NodeContract.NodeId
	case *Contract_RentContract:
		return k.RentContract.NodeId
	}
	return 0
}

// IsLive reports whether the contract holds its resources: created or in grace.
func (c Contract) IsLive() bool {
	return c.State == ContractStateCreated || c.State == ContractStateGracePeriod
}

// IPs lists the CIDRs of the public IPs a node contract holds.
func (nc *NodeContract) IPs() []string {
	ips := make([]string, len(nc.PublicIps))
	for i, ip := range nc.PublicIps {
		ips[i] = ip.Ip
	}
	return ips
}

// ValidateDeploymentHash checks for the 64-char lowercase hex SHA-256 of a deployment.
func ValidateDeploymentHash(hash string) error {
	if len(hash) != 64 {
		return ErrInvalidDeploymentHash.Wrapf("deployment_hash %q: want 64 lowercase hex chars, got %d chars", hash, len(hash))
	}
	if !lowerHex.MatchString(hash) {
		return ErrInvalidDeploymentHash.Wrapf("deployment_hash %q: want lowercase hex", hash)
	}
	return nil
}

var (
	lowerHex     = regexp.MustCompile(`^[0-9a-f]+$`)
	contractName = regexp.MustCompile(`^[a-z0-9_-]{3,64}$`)
)

// ValidateName checks a name contract's name: 3–64 of [a-z0-9_-].
func ValidateName(name string) error {
	if !contractName.MatchString(name) {
		return ErrInvalidName.Wrapf("name %q: want 3-64 chars of [a-z0-9_-]", name)
	}
	return nil
}

// ValidateDeploymentData bounds a node contract's deployment data.
func ValidateDeploymentData(data []byte, max uint64) error {
	if uint64(len(data)) > max {
		return ErrDeploymentDataTooLarge.Wrapf("deployment_data is %d bytes, max_deployment_data_bytes is %d", len(data), max)
	}
	return nil
}

// IsContractKind is the oneof of what a contract reserves: *Contract_NodeContract, *Contract_NameContract
// or *Contract_RentContract.
type IsContractKind = isContract_Kind

// ContractView shows a deleted contract the way live ones are shown, with state CONTRACT_STATE_DELETED
// and what the tombstone kept.
func (t Tombstone) ContractView() Contract {
	c := Contract{Id: t.Id, TwinId: t.TwinId, State: ContractStateDeleted, DeleteCause: t.DeleteCause, Deposit: sdkmath.ZeroInt(),
		CreatedAt: t.CreatedAt}
	switch t.Kind {
	case ContractKindNode:
		c.Kind = &Contract_NodeContract{NodeContract: &NodeContract{NodeId: t.NodeId}}
	case ContractKindName:
		c.Kind = &Contract_NameContract{NameContract: &NameContract{}}
	case ContractKindRent:
		c.Kind = &Contract_RentContract{RentContract: &RentContract{NodeId: t.NodeId}}
	}
	return c
}
