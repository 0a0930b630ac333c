package types

import (
	"fmt"
)

// DefaultGenesis has the default params and no contracts.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextContractId: 1}
}

// Validate checks the contracts on their own; references to the registry (nodes, farm IPs) and the
// deposits in the module account are checked by InitGenesis, which can see that state.
// maxData bounds the contracts' deployment data: MaxDeploymentDataBytesCap, not the current param,
// which governance may have lowered below what older contracts hold.
func (gs GenesisState) Validate(maxData uint64) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	// Ids start at 1, so the next id is at least 1; 0 would make the first new id wrap around to 0.
	if gs.NextContractId == 0 {
		return genesisErr("next_contract_id 0: ids start at 1")
	}
	ids := make(map[uint64]bool, len(gs.Contracts)+len(gs.Tombstones))
	// A struct key: collections.Pair holds pointers, so two equal pairs are different map keys.
	type nodeHash struct {
		node uint64
		hash string
	}
	hashes := make(map[nodeHash]bool)
	names := make(map[string]bool)
	rented := make(map[uint64]bool)
	for _, c := range gs.Contracts {
		if err := checkID("contract", c.Id, gs.NextContractId, ids); err != nil {
			return err
		}
		if err := c.validateLive(maxData); err != nil {
			return err
		}
		switch k := c.Kind.(type) {
		case *Contract_NodeContract:
			key := nodeHash{k.NodeContract.NodeId, k.NodeContract.DeploymentHash}
			if hashes[key] {
				return genesisErr("contract %d: node %d already has a contract for hash %s", c.Id, key.node, key.hash)
			}
			hashes[key] = true
		case *Contract_NameContract:
			if names[k.NameContract.Name] {
				return genesisErr("contract %d: name %q already taken", c.Id, k.NameContract.Name)
			}
			names[k.NameContract.Name] = true
		case *Contract_RentContract:
			if rented[k.RentContract.NodeId] {
				return genesisErr("contract %d: node %d already rented", c.Id, k.RentContract.NodeId)
			}
			rented[k.RentContract.NodeId] = true
		}
	}
	for _, t := range gs.Tombstones {
		if err := checkID("tombstone", t.Id, gs.NextContractId, ids); err != nil {
			return err
		}
		if t.Kind == ContractKindUnspecified || t.DeleteCause == DeleteCauseUnspecified {
			return genesisErr("tombstone %d: kind and delete_cause must be set", t.Id)
		}
		if t.CreatedAt > t.DeletedAt {
			return genesisErr("tombstone %d: created_at %d after deleted_at %d", t.Id, t.CreatedAt, t.DeletedAt)
		}
	}
	fees := make(map[uint64]bool, len(gs.NodeExtraFees))
	for _, f := range gs.NodeExtraFees {
		if fees[f.NodeId] || f.ExtraFee == 0 {
			return genesisErr("node extra fee of node %d: duplicate or zero", f.NodeId)
		}
		fees[f.NodeId] = true
	}
	return nil
}

// validateLive checks a live contract's own fields.
func (c Contract) validateLive(maxData uint64) error {
	if !c.IsLive() || c.DeleteCause != DeleteCauseUnspecified {
		return genesisErr("contract %d: state %s, delete cause %s: want a live contract", c.Id, c.State, c.DeleteCause)
	}
	if (c.State == ContractStateGracePeriod) != (c.GraceSince != 0) {
		return genesisErr("contract %d: grace_since %d does not match state %s", c.Id, c.GraceSince, c.State)
	}
	if c.Deposit.IsNil() || c.Deposit.IsNegative() {
		return genesisErr("contract %d: deposit %s", c.Id, c.Deposit)
	}
	switch k := c.Kind.(type) {
	case *Contract_NodeContract:
		nc := k.NodeContract
		if err := ValidateDeploymentHash(nc.DeploymentHash); err != nil {
			return genesisErr("contract %d: %s", c.Id, err)
		}
		if err := ValidateDeploymentData(nc.DeploymentData, maxData); err != nil {
			return genesisErr("contract %d: %s", c.Id, err)
		}
		if uint32(len(nc.PublicIps)) != nc.PublicIpsCount {
			return genesisErr("contract %d: holds %d public IPs, public_ips_count is %d", c.Id, len(nc.PublicIps), nc.PublicIpsCount)
		}
	case *Contract_NameContract:
		if err := ValidateName(k.NameContract.Name); err != nil {
			return genesisErr("contract %d: %s", c.Id, err)
		}
	case *Contract_RentContract:
	default:
		return genesisErr("contract %d: no kind", c.Id)
	}
	return nil
}

func checkID(kind string, id, next uint64, seen map[uint64]bool) error {
	if id == 0 || id >= next {
		return genesisErr("%s id %d: want 1..%d (below next_contract_id %d)", kind, id, next-1, next)
	}
	if seen[id] {
		return genesisErr("%s id %d: duplicate", kind, id)
	}
	seen[id] = true
	return nil
}

func genesisErr(format string, args ...any) error {
	return ErrInvalidGenesis.Wrap(fmt.Sprintf(format, args...))
}
