package types

import (
	"fmt"

	"cosmossdk.io/core/address"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// DefaultFoundationAccount receives the foundation's share until governance points the policy elsewhere.
var DefaultFoundationAccount = authtypes.NewModuleAddress("foundation")

// Default pricing policy, in cost units of 1e-7 USD.
const (
	defaultCU         = 305600
	defaultSU         = 194400
	defaultNU         = 50000
	defaultIPU        = 69400
	defaultUniqueName = 13900
	defaultDomainName = 27800
)

// DefaultGenesis holds the default params, the `default` pricing policy (id 1) and two default farming
// policies: 1 for DIY nodes and 2 for certified nodes.
func DefaultGenesis(ac address.Codec) (*GenesisState, error) {
	foundation, err := ac.BytesToString(DefaultFoundationAccount)
	if err != nil {
		return nil, err
	}
	return &GenesisState{
		Params: DefaultParams(),
		PricingPolicies: []PricingPolicy{{
			Id: 1, Name: "default",
			Cu: defaultCU, Su: defaultSU, Nu: defaultNU, Ipu: defaultIPU,
			UniqueName: defaultUniqueName, DomainName: defaultDomainName,
			FoundationAccount: foundation, CertifiedSalesAccount: foundation,
			DedicatedNodeDiscountPercent: 50,
		}},
		FarmingPolicies: []FarmingPolicy{
			{Id: 1, Name: "default-diy", Cu: 2400, Su: 1000, Nu: 30, Ipv4: 5, MinimalUptime: 95, IsDefault: true,
				NodeCertification: NodeCertificationDIY, FarmCertification: FarmCertificationNotCertified},
			{Id: 2, Name: "default-certified", Cu: 3000, Su: 1250, Nu: 38, Ipv4: 6, MinimalUptime: 95, IsDefault: true,
				NodeCertification: NodeCertificationCertified, FarmCertification: FarmCertificationNotCertified},
		},
		NextTwinId: 1, NextFarmId: 1, NextNodeId: 1, NextPricingPolicyId: 2, NextFarmingPolicyId: 3,
	}, nil
}

// Validate checks every object and every reference between them, so a chain never starts from a
// registry that its own messages could not have produced.
func (gs GenesisState) Validate(ac address.Codec) error {
	if err := gs.Params.Validate(ac); err != nil {
		return err
	}
	// Ids start at 1, so a next id is at least 1; 0 would make the first new id wrap around.
	nexts := []struct {
		field string
		next  uint64
	}{
		{"next_twin_id", gs.NextTwinId}, {"next_farm_id", gs.NextFarmId}, {"next_node_id", gs.NextNodeId},
		{"next_pricing_policy_id", gs.NextPricingPolicyId}, {"next_farming_policy_id", gs.NextFarmingPolicyId},
	}
	for _, n := range nexts {
		if n.next == 0 {
			return genesisErr("%s 0: ids start at 1", n.field)
		}
	}
	twins, err := gs.validateTwins(ac)
	if err != nil {
		return err
	}
	pricing := make(map[uint64]bool, len(gs.PricingPolicies))
	names := make(map[string]bool, len(gs.PricingPolicies))
	for _, p := range gs.PricingPolicies {
		if err := checkID("pricing policy", p.Id, gs.NextPricingPolicyId, pricing); err != nil {
			return err
		}
		if err := p.Validate(ac); err != nil {
			return genesisErr("pricing policy %d: %s", p.Id, err)
		}
		if names[p.Name] {
			return genesisErr("pricing policy %d: duplicate name %q", p.Id, p.Name)
		}
		names[p.Name] = true
	}
	farming := make(map[uint64]bool, len(gs.FarmingPolicies))
	for _, p := range gs.FarmingPolicies {
		if err := checkID("farming policy", p.Id, gs.NextFarmingPolicyId, farming); err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return genesisErr("farming policy %d: %s", p.Id, err)
		}
	}
	farms, err := gs.validateFarms(twins, pricing, farming)
	if err != nil {
		return err
	}
	if err := gs.validatePublicIPs(farms, gs.Params.MaxFarmPublicIps); err != nil {
		return err
	}
	for _, a := range gs.AllowedNodeTwins {
		if !farms[a.FarmId] || !twins[a.TwinId] {
			return genesisErr("allowed node twin (farm %d, twin %d): unknown farm or twin", a.FarmId, a.TwinId)
		}
	}
	return gs.validateNodes(twins, farms, farming)
}

func (gs GenesisState) validateTwins(ac address.Codec) (map[uint64]bool, error) {
	ids := make(map[uint64]bool, len(gs.Twins))
	accounts := make(map[string]bool, len(gs.Twins))
	for _, t := range gs.Twins {
		if err := checkID("twin", t.Id, gs.NextTwinId, ids); err != nil {
			return nil, err
		}
		addr, err := ac.StringToBytes(t.Account)
		if err != nil {
			return nil, genesisErr("twin %d: account %q: %s", t.Id, t.Account, err)
		}
		// Compare the decoded addresses: one account may be spelled in lower or upper case.
		if accounts[string(addr)] {
			return nil, genesisErr("twin %d: account %s has another twin", t.Id, t.Account)
		}
		accounts[string(addr)] = true
		if len(t.Pubkey) != 33 {
			return nil, genesisErr("twin %d: pubkey must be 33 bytes, got %d", t.Id, len(t.Pubkey))
		}
		if err := ValidateRelays(t.Relays); err != nil {
			return nil, genesisErr("twin %d: %s", t.Id, err)
		}
		if err := ValidateE2EKey(t.E2EKey); err != nil {
			return nil, genesisErr("twin %d: %s", t.Id, err)
		}
	}
	return ids, nil
}

func (gs GenesisState) validateFarms(twins, pricing, farming map[uint64]bool) (map[uint64]bool, error) {
	ids := make(map[uint64]bool, len(gs.Farms))
	names := make(map[string]bool, len(gs.Farms))
	for _, f := range gs.Farms {
		if err := checkID("farm", f.Id, gs.NextFarmId, ids); err != nil {
			return nil, err
		}
		if err := ValidateFarmName(f.Name); err != nil {
			return nil, genesisErr("farm %d: %s", f.Id, err)
		}
		if names[FarmNameKey(f.Name)] {
			return nil, genesisErr("farm %d: duplicate name %q (names are unique in any letter case)", f.Id, f.Name)
		}
		names[FarmNameKey(f.Name)] = true
		if !twins[f.TwinId] {
			return nil, genesisErr("farm %d: unknown twin %d", f.Id, f.TwinId)
		}
		if !pricing[f.PricingPolicyId] {
			return nil, genesisErr("farm %d: unknown pricing policy %d", f.Id, f.PricingPolicyId)
		}
		if err := ValidateFarmCertification(f.Certification); err != nil {
			return nil, genesisErr("farm %d: %s", f.Id, err)
		}
		if f.FarmingPolicyLimits != nil && !farming[f.FarmingPolicyLimits.FarmingPolicyId] {
			return nil, genesisErr("farm %d: unknown farming policy %d", f.Id, f.FarmingPolicyLimits.FarmingPolicyId)
		}
	}
	return ids, nil
}

func (gs GenesisState) validatePublicIPs(farms map[uint64]bool, maxPerFarm uint32) error {
	addrs := make(map[string]bool, len(gs.PublicIps))
	perFarm := make(map[uint64]uint32)
	for _, ip := range gs.PublicIps {
		addr, _, err := ParsePublicIP(ip.Ip, ip.Gateway)
		if err != nil {
			return genesisErr("public IP %q: %s", ip.Ip, err)
		}
		if addrs[addr.String()] {
			return genesisErr("public IP %s: duplicate", addr)
		}
		addrs[addr.String()] = true
		if !farms[ip.FarmId] {
			return genesisErr("public IP %s: unknown farm %d", addr, ip.FarmId)
		}
		if perFarm[ip.FarmId]++; perFarm[ip.FarmId] > maxPerFarm {
			return genesisErr("farm %d: more than max_farm_public_ips (%d) public IPs", ip.FarmId, maxPerFarm)
		}
	}
	return nil
}

func (gs GenesisState) validateNodes(twins, farms, farming map[uint64]bool) error {
	ids := make(map[uint64]bool, len(gs.Nodes))
	nodeTwins := make(map[uint64]bool, len(gs.Nodes))
	for _, n := range gs.Nodes {
		if err := checkID("node", n.Id, gs.NextNodeId, ids); err != nil {
			return err
		}
		if !farms[n.FarmId] || !twins[n.TwinId] {
			return genesisErr("node %d: unknown farm %d or twin %d", n.Id, n.FarmId, n.TwinId)
		}
		if nodeTwins[n.TwinId] {
			return genesisErr("node %d: twin %d has another node", n.Id, n.TwinId)
		}
		nodeTwins[n.TwinId] = true
		if !farming[n.FarmingPolicyId] {
			return genesisErr("node %d: unknown farming policy %d", n.Id, n.FarmingPolicyId)
		}
		desc := NodeDescription{Resources: n.Resources, Location: n.Location, Interfaces: n.Interfaces, SerialNumber: n.SerialNumber}
		if err := desc.Validate(); err != nil {
			return genesisErr("node %d: %s", n.Id, err)
		}
		if n.PublicConfig != nil {
			if err := n.PublicConfig.Validate(); err != nil {
				return genesisErr("node %d: %s", n.Id, err)
			}
		}
		if err := ValidateNodeCertification(n.Certification); err != nil {
			return genesisErr("node %d: %s", n.Id, err)
		}
		if err := ValidatePowerState("power.state", n.Power.State); err != nil {
			return genesisErr("node %d: %s", n.Id, err)
		}
		if err := ValidatePowerState("power.target", n.Power.Target); err != nil {
			return genesisErr("node %d: %s", n.Id, err)
		}
	}
	return nil
}

// checkID checks that an id is set, unique and below the next id to hand out.
func checkID(kind string, id, next uint64, seen map[uint64]bool) error {
	if id == 0 || id >= next {
		return genesisErr("%s id %d: want 1..%d (below next id %d)", kind, id, next-1, next)
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
