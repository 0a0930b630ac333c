package chain

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tfgrid/tfgrid/chainclient"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

var (
	// ErrContract: the deployment does not match its contract on chain.
	ErrContract = errors.New("deployment does not match its contract")
	// ErrNameContract: a gateway's name is not held by a live name contract of the deployment's twin.
	ErrNameContract = errors.New("gateway name not granted by a name contract")
)

// Checker checks deployments against the chain for one node.
type Checker struct {
	Client *chainclient.Client
	NodeID uint64
}

// Check is the chain part of accepting a deployment: its contract exists, is a node contract on
// this node, owned by the deployment's twin, in state created; its deployment_hash equals the
// document's hash; the signature requirement is met with the twins' keys from chain; the public
// IPs asked for are reserved and the capacity is within the contract's reservation; each gateway
// name is held by a live name contract of the same twin. It returns the public IPs the contract
// holds (the only ones the deployment may use) and the gateways' name contracts.
func (c *Checker) Check(ctx context.Context, doc *deployment.Document) (engine.Grant, error) {
	d := &doc.Deployment
	ct, err := c.contract(ctx, d.ContractID)
	if err != nil {
		return engine.Grant{}, err
	}
	if err := c.check(ctx, doc, ct); err != nil {
		return engine.Grant{}, err
	}
	ips, err := reservedIPs(ct)
	if err != nil {
		return engine.Grant{}, err
	}
	names, err := c.names(ctx, d)
	if err != nil {
		return engine.Grant{}, err
	}
	return engine.Grant{IPs: ips, Names: names}, nil
}

// names checks that the name of every gateway-name-proxy workload of d is held by a name contract
// of d's twin in state created, and returns those contracts by name.
func (c *Checker) names(ctx context.Context, d *deployment.Deployment) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, w := range d.Workloads {
		if w.Type != deployment.TypeGatewayNameProxy {
			continue
		}
		data, err := w.DecodeData()
		if err != nil {
			return nil, fmt.Errorf("contract %d: %w", d.ContractID, err)
		}
		name := engine.GatewayName(data.(*deployment.GatewayNameProxy))
		refuse := func(format string, args ...any) error {
			return fmt.Errorf("contract %d: workload %q: name %q: %s: %w", d.ContractID, w.Name, name, fmt.Sprintf(format, args...), ErrNameContract)
		}
		res, err := c.Client.Contracts.ContractByName(ctx, &sctypes.QueryContractByNameRequest{Name: name})
		switch {
		case status.Code(err) == codes.NotFound:
			return nil, refuse("no live name contract holds it on chain (create one: tfgridd tx smartcontract create-name-contract %s)", name)
		case err != nil:
			return nil, fmt.Errorf("contract %d: workload %q: name %q: query the chain: %w", d.ContractID, w.Name, name, err)
		}
		nc := res.Contract
		switch {
		case nc.GetNameContract() == nil:
			return nil, refuse("contract %d is not a name contract", nc.Id)
		case nc.TwinId != d.TwinID:
			return nil, refuse("name contract %d is owned by twin %d, not by the deployment's twin %d", nc.Id, nc.TwinId, d.TwinID)
		case nc.State != sctypes.ContractStateCreated:
			return nil, refuse("name contract %d is in state %s, want %s", nc.Id, nc.State, sctypes.ContractStateCreated)
		}
		out[name] = nc.Id
	}
	return out, nil
}

// reservedIPs reads the public IPs the chain reserved for a node contract.
func reservedIPs(ct sctypes.Contract) ([]engine.ReservedIP, error) {
	var out []engine.ReservedIP
	for _, ip := range ct.GetNodeContract().PublicIps {
		prefix, err := netip.ParsePrefix(ip.Ip)
		if err != nil {
			return nil, fmt.Errorf("contract %d: public ip %q on chain: %w", ct.Id, ip.Ip, err)
		}
		gateway, err := netip.ParseAddr(ip.Gateway)
		if err != nil {
			return nil, fmt.Errorf("contract %d: public ip %q: gateway %q on chain: %w", ct.Id, ip.Ip, ip.Gateway, err)
		}
		out = append(out, engine.ReservedIP{IP: prefix, Gateway: gateway})
	}
	return out, nil
}

func (c *Checker) check(ctx context.Context, doc *deployment.Document, ct sctypes.Contract) error {
	d := &doc.Deployment
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("contract %d: %s: %w", d.ContractID, fmt.Sprintf(format, args...), ErrContract)
	}
	nc := ct.GetNodeContract()
	switch {
	case nc == nil:
		return refuse("not a node contract")
	case nc.NodeId != c.NodeID:
		return refuse("node_id %d is not this node (%d)", nc.NodeId, c.NodeID)
	case ct.TwinId != d.TwinID:
		return refuse("owned by twin %d, not by the deployment's twin_id %d", ct.TwinId, d.TwinID)
	case ct.State != sctypes.ContractStateCreated:
		return refuse("state %s, want %s (a contract in grace or deleted takes no deployment)", ct.State, sctypes.ContractStateCreated)
	case nc.DeploymentHash != doc.Hash():
		return refuse("deployment_hash %q on chain differs from the deployment's hash %q", nc.DeploymentHash, doc.Hash())
	}
	if err := deployment.Verify(doc, c.twinKey(ctx)); err != nil {
		return fmt.Errorf("contract %d: %w", d.ContractID, err)
	}
	need, err := d.Capacity()
	if err != nil {
		return fmt.Errorf("contract %d: %w", d.ContractID, err)
	}
	if need.IPv4 > uint64(nc.PublicIpsCount) {
		return refuse("the deployment asks %d public IPv4 addresses, public_ips_count reserves %d", need.IPv4, nc.PublicIpsCount)
	}
	if reserved, ok := Reservation(ct); ok && !need.Fits(reserved) {
		return refuse("the deployment needs cru %d, mru %d, sru %d, hru %d; the contract reserves cru %d, mru %d, sru %d, hru %d",
			need.CRU, need.MRU, need.SRU, need.HRU, reserved.CRU, reserved.MRU, reserved.SRU, reserved.HRU)
	}
	return nil
}

// Reservation is the capacity a node contract reserves, the user's consent that bounds both what a
// deployment may use and what reports charge (false: not a node contract).
func Reservation(c sctypes.Contract) (deployment.Capacity, bool) {
	nc := c.GetNodeContract()
	if nc == nil {
		return deployment.Capacity{}, false
	}
	r := nc.Resources
	return deployment.Capacity{CRU: r.Cru, MRU: r.Mru, SRU: r.Sru, HRU: r.Hru, IPv4: uint64(nc.PublicIpsCount)}, true
}

func (c *Checker) contract(ctx context.Context, id uint64) (sctypes.Contract, error) {
	res, err := c.Client.Contracts.Contract(ctx, &sctypes.QueryContractRequest{Id: id})
	if status.Code(err) == codes.NotFound {
		return sctypes.Contract{}, fmt.Errorf("contract %d: does not exist on chain: %w", id, ErrContract)
	}
	if err != nil {
		return sctypes.Contract{}, fmt.Errorf("contract %d: query the chain: %w", id, err)
	}
	return res.Contract, nil
}

// twinKey looks twins' account keys up on chain for the signature check.
func (c *Checker) twinKey(ctx context.Context) deployment.KeyLookup {
	return func(twin uint64) ([]byte, error) {
		res, err := c.Client.Tfgrid.Twin(ctx, &tftypes.QueryTwinRequest{Id: twin})
		if err != nil {
			return nil, fmt.Errorf("twin %d: %w", twin, err)
		}
		return res.Twin.Pubkey, nil
	}
}
