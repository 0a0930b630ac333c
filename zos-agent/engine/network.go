package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// ErrNoPublicNetwork: an "ip" workload on a node without a public network configured.
var ErrNoPublicNetwork = errors.New("this node has no public network configured")

// ReservedIP is one of a contract's public IPs as the chain reserved it.
type ReservedIP struct {
	IP      netip.Prefix `json:"ip"`
	Gateway netip.Addr   `json:"gateway"`
}

// IPResult is an "ip" workload's result data: the contract IP it took.
type IPResult struct {
	IP      string `json:"ip"`
	Gateway string `json:"gateway"`
}

// networkSpec translates a network workload of twin into the network backend's spec.
func networkSpec(twin uint64, name string, n *deployment.Network) (network.Spec, error) {
	ipRange, err := netip.ParsePrefix(n.IPRange)
	if err != nil {
		return network.Spec{}, fmt.Errorf("network %q: ip_range %q: %w", name, n.IPRange, err)
	}
	subnet, err := netip.ParsePrefix(n.Subnet)
	if err != nil {
		return network.Spec{}, fmt.Errorf("network %q: subnet %q: %w", name, n.Subnet, err)
	}
	spec := network.Spec{Twin: uint32(twin), Name: name, IPRange: ipRange, Subnet: subnet,
		PrivateKey: n.WireGuardPrivateKey, ListenPort: n.WireGuardListenPort}
	for i, p := range n.Peers {
		peer := network.Peer{PublicKey: p.WireGuardPublicKey, Endpoint: p.Endpoint}
		for j, a := range p.AllowedIPs {
			prefix, err := netip.ParsePrefix(a)
			if err != nil {
				return network.Spec{}, fmt.Errorf("network %q: peers[%d].allowed_ips[%d] %q: %w", name, i, j, a, err)
			}
			peer.AllowedIPs = append(peer.AllowedIPs, prefix)
		}
		spec.Peers = append(spec.Peers, peer)
	}
	return spec, nil
}

// ensureNetwork creates the twin's network, or joins the existing one of that name.
func (e *Engine) ensureNetwork(twin uint64, id string, w deployment.Workload) (network.Info, error) {
	if e.b.Networks == nil {
		return network.Info{}, fmt.Errorf("network %q: %w", w.Name, ErrUnsupported)
	}
	n, err := decode[*deployment.Network](w)
	if err != nil {
		return network.Info{}, err
	}
	spec, err := networkSpec(twin, w.Name, n)
	if err != nil {
		return network.Info{}, err
	}
	return e.b.Networks.Ensure(id, spec)
}

// connectMachine gives machine id its network namespace and its private interfaces before the
// container starts in it (its public IP follows with the ip workload). Without a network backend
// (unit tests of the engine) the container gets a namespace of its own with loopback only.
func (e *Engine) connectMachine(twin, contract uint64, id string, m *deployment.ZMachine) (string, error) {
	if e.b.Networks == nil {
		return "", nil
	}
	_, statErr := os.Stat(network.MachineNSPath(id))
	ns, err := network.MachineNS(id)
	if err != nil {
		return "", err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// A new namespace (first start, or after a reboot emptied /var/run/netns): links the
		// backends recorded for an earlier one are gone, so their records go too.
		if err := e.forgetLinks(twin, contract, id, m); err != nil {
			return "", err
		}
	}
	for _, iface := range m.Network.Interfaces {
		ip, err := netip.ParseAddr(iface.IP)
		if err != nil {
			return "", fmt.Errorf("network %q: ip %q: %w", iface.Network, iface.IP, err)
		}
		_, err = e.b.Networks.Attach(network.AttachSpec{ID: id, Twin: uint32(twin), Network: iface.Network, NetNS: ns,
			IP: ip, DefaultRoute: m.Network.PublicIP == ""})
		if err != nil {
			return "", err
		}
	}
	return ns, nil
}

// forgetLinks drops the backends' records of machine id's links: its interfaces and its public IP.
func (e *Engine) forgetLinks(twin, contract uint64, id string, m *deployment.ZMachine) error {
	var errs []error
	for _, iface := range m.Network.Interfaces {
		errs = append(errs, e.b.Networks.Detach(uint32(twin), iface.Network, id))
	}
	if e.b.PublicIPs != nil && m.Network.PublicIP != "" {
		errs = append(errs, e.b.PublicIPs.Delete(WorkloadID(contract, m.Network.PublicIP)))
	}
	return errors.Join(errs...)
}

// disconnectMachine removes what connectMachine made; what is gone is no error.
func (e *Engine) disconnectMachine(twin uint64, id string, m *deployment.ZMachine) error {
	if e.b.Networks == nil {
		return nil
	}
	var errs []error
	for _, iface := range m.Network.Interfaces {
		errs = append(errs, e.b.Networks.Detach(uint32(twin), iface.Network, id))
	}
	errs = append(errs, network.DeleteMachineNS(id))
	return errors.Join(errs...)
}

// ensurePublicIP puts the IP the workload took on the machine that names it.
func (e *Engine) ensurePublicIP(d *deployment.Deployment, contract uint64, w deployment.Workload) (publicip.Record, error) {
	if e.b.PublicIPs == nil {
		return publicip.Record{}, ErrNoPublicNetwork
	}
	var taken IPResult
	if err := json.Unmarshal(w.Result.Data, &taken); err != nil || taken.IP == "" {
		return publicip.Record{}, fmt.Errorf("ip %q: no contract IP was assigned at admission", w.Name)
	}
	ip, err := netip.ParsePrefix(taken.IP)
	if err != nil {
		return publicip.Record{}, fmt.Errorf("ip %q: contract IP %q: %w", w.Name, taken.IP, err)
	}
	gateway, _ := netip.ParseAddr(taken.Gateway) // invalid: the node's public gateway
	name, machine, ok := machineUsing(d, w.Name)
	if !ok {
		return publicip.Record{}, fmt.Errorf("ip %q: no zmachine names it in network.public_ip", w.Name)
	}
	spec := publicip.Spec{ID: WorkloadID(contract, w.Name), IP: ip, Gateway: gateway}
	if _, isVM, err := e.vmBootOf(machine); err != nil {
		return publicip.Record{}, fmt.Errorf("ip %q: %w", w.Name, err)
	} else if isVM {
		spec.Tap = true // the machine's QEMU plugs the tap in
	} else {
		spec.NetNS = network.MachineNSPath(WorkloadID(contract, name))
	}
	return e.b.PublicIPs.Create(spec)
}

// machineUsing names the machine whose network.public_ip is the ip workload.
func machineUsing(d *deployment.Deployment, ip string) (string, *deployment.ZMachine, bool) {
	for _, w := range d.Workloads {
		if m, err := decode[*deployment.ZMachine](w); err == nil && w.Type == deployment.TypeZMachine && m.Network.PublicIP == ip {
			return w.Name, m, true
		}
	}
	return "", nil, false
}

// assignIPs gives each new "ip" workload of d with v4 one of the contract's reserved IPs that no
// other ip workload of the deployment holds, in its result data. Kept workloads of an update keep
// theirs (current holds their results).
func (e *Engine) assignIPs(d *deployment.Deployment, current *deployment.Deployment, reserved []ReservedIP) error {
	held := map[string]string{} // workload name → IP
	if current != nil {
		for _, w := range current.Workloads {
			if w.Type == deployment.TypeIP && w.Result.State != deployment.StateDeleted {
				var r IPResult
				if json.Unmarshal(w.Result.Data, &r) == nil && r.IP != "" {
					held[w.Name] = r.IP
				}
			}
		}
	}
	for i, w := range d.Workloads {
		if w.Type != deployment.TypeIP {
			continue
		}
		if e.b.PublicIPs == nil {
			return fmt.Errorf("contract %d: workload %q: %w", d.ContractID, w.Name, ErrNoPublicNetwork)
		}
		p, err := decode[*deployment.PublicIP](w)
		if err != nil {
			return fmt.Errorf("contract %d: %w", d.ContractID, err)
		}
		if p.V6 {
			return fmt.Errorf("contract %d: workload %q: v6 true: %w (this node gives IPv4 only)", d.ContractID, w.Name, ErrUnsupported)
		}
		if _, ok := held[w.Name]; ok {
			continue
		}
		r, ok := freeIP(reserved, held)
		if !ok {
			return fmt.Errorf("contract %d: workload %q: the contract reserves %d public IPs, all taken by the deployment's other ip workloads",
				d.ContractID, w.Name, len(reserved))
		}
		held[w.Name] = r.IP.String()
		d.Workloads[i].Result.Data = marshal(IPResult{IP: r.IP.String(), Gateway: r.Gateway.String()})
	}
	return nil
}

// freeIP is the first reserved IP that no workload holds (held: workload name → IP).
func freeIP(reserved []ReservedIP, held map[string]string) (ReservedIP, bool) {
	taken := map[string]bool{}
	for _, ip := range held {
		taken[ip] = true
	}
	i := slices.IndexFunc(reserved, func(r ReservedIP) bool { return !taken[r.IP.String()] })
	if i < 0 {
		return ReservedIP{}, false
	}
	return reserved[i], true
}

// admitNetworks checks that every private network a machine of d joins is either a network
// workload of d or one the twin already has on this node.
func (e *Engine) admitNetworks(d *deployment.Deployment) error {
	if e.b.Networks == nil {
		return nil
	}
	own := map[string]bool{}
	for _, w := range d.Workloads {
		if w.Type == deployment.TypeNetwork {
			own[w.Name] = true
		}
	}
	for _, w := range d.Workloads {
		if g, err := decode[*deployment.GatewayNameProxy](w); err == nil && w.Type == deployment.TypeGatewayNameProxy && g.Network != "" && !own[g.Network] {
			if _, err := e.b.Networks.Machines(uint32(d.TwinID), g.Network); err != nil {
				return fmt.Errorf("contract %d: workload %q: network %q: not a network of this deployment nor of twin %d on this node: %w",
					d.ContractID, w.Name, g.Network, d.TwinID, err)
			}
		}
		m, err := decode[*deployment.ZMachine](w)
		if err != nil || w.Type != deployment.TypeZMachine {
			continue
		}
		for i, iface := range m.Network.Interfaces {
			if own[iface.Network] {
				continue
			}
			if _, err := e.b.Networks.Machines(uint32(d.TwinID), iface.Network); err != nil {
				return fmt.Errorf("contract %d: workload %q: network.interfaces[%d].network %q: not a network of this deployment nor of twin %d on this node: %w",
					d.ContractID, w.Name, i, iface.Network, d.TwinID, err)
			}
		}
	}
	return nil
}

// decode reads a workload's data as the type T.
func decode[T deployment.WorkloadData](w deployment.Workload) (T, error) {
	var zero T
	data, err := w.DecodeData()
	if err != nil {
		return zero, err
	}
	t, ok := data.(T)
	if !ok {
		return zero, fmt.Errorf("workload %q is a %s", w.Name, w.Type)
	}
	return t, nil
}

// PublicLink is a running workload's host-side link to the public network: its bytes are the
// contract's billed network usage.
type PublicLink struct {
	ID       string
	HostLink string
}

// PublicLinks lists, by contract, the public links of the ip workloads that run (ok or paused).
func (e *Engine) PublicLinks() (map[uint64][]PublicLink, error) {
	recs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	out := map[uint64][]PublicLink{}
	for _, rec := range recs {
		for _, w := range rec.Deployment.Workloads {
			if w.Type != deployment.TypeIP || !running(w.Result.State) {
				continue
			}
			var r publicip.Record
			if err := json.Unmarshal(rec.Objects[w.Name], &r); err != nil || r.HostLink == "" {
				continue // not connected: no traffic
			}
			out[rec.Deployment.ContractID] = append(out[rec.Deployment.ContractID], PublicLink{ID: r.ID, HostLink: r.HostLink})
		}
	}
	return out, nil
}
