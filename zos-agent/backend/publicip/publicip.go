// Package publicip gives workloads public IPv4 addresses from their contract on the farm's
// network: a veth from the workload's namespace into the node's public bridge, with a MAC derived
// from the workload id, the address, a default route via the farm's gateway, and nftables rules
// on the bridge so a workload can send only from its own MAC and IP.
package publicip

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/vishvananda/netlink"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/jsonfile"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/veth"
)

// Errors callers can test for; every returned error names the field and value involved.
var (
	ErrInvalidSpec = errors.New("invalid public IP spec")
	ErrIPTaken     = errors.New("public IP already used by another workload")
	ErrExists      = errors.New("workload already has another public IP")
)

// DefaultBridge is the public bridge the manager creates when Config.Interface is not a bridge.
const DefaultBridge = "tfz-pub"

// Config is the node's public network (the farm's uplink).
type Config struct {
	// DataDir is the agent's data directory; records go to DataDir/publicips.
	DataDir string
	// UplinkNS is the path of the network namespace holding the uplink; "" is the agent's own.
	UplinkNS string
	// Interface is a bridge on the farm's network, or an interface dedicated to it (without an
	// address) that the manager puts into the bridge DefaultBridge.
	Interface string
	// Gateway is the farm's gateway, the workloads' default route.
	Gateway netip.Addr
}

// Spec is one workload's public address.
type Spec struct {
	// ID is the workload id (backend.ValidateID).
	ID string
	// NetNS is the path of the workload's network namespace.
	NetNS string
	// IP is the address with the prefix length of the farm's block, e.g. 203.0.113.10/24.
	IP netip.Prefix
	// Gateway overrides Config.Gateway (the contract's IP carries its own gateway).
	Gateway netip.Addr
	// IfName is the interface's name inside the workload, "pub" when empty.
	IfName string
	// Tap: the workload is a virtual machine. No veth is made and NetNS is empty; the VM backend
	// puts a tap named HostLink(ID) with the MAC MAC(ID) into Bridge() (in UplinkNS()), and the
	// same rules filter it. The guest sets the address and route itself.
	Tap bool
}

// Record is what Create made; HostLink is the veth end on the bridge, whose counters are the
// workload's public traffic.
type Record struct {
	ID       string       `json:"id"`
	NetNS    string       `json:"netns"`
	IfName   string       `json:"if_name"`
	HostLink string       `json:"host_link"`
	MAC      string       `json:"mac"`
	IP       netip.Prefix `json:"ip"`
	Gateway  netip.Addr   `json:"gateway"`
	Tap      bool         `json:"tap,omitempty"`
}

// Manager gives workloads public IPs; it is safe for concurrent use.
type Manager struct {
	cfg    Config
	bridge string
	filter filter
	mu     sync.Mutex
}

// New sets up the public bridge and the nftables table in the uplink namespace.
func New(cfg Config) (*Manager, error) {
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("data dir %q: %w: required", cfg.DataDir, ErrInvalidSpec)
	}
	if !cfg.Gateway.Is4() {
		return nil, fmt.Errorf("public gateway %q: %w: must be an IPv4 address", cfg.Gateway, ErrInvalidSpec)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "publicips"), 0o700); err != nil {
		return nil, fmt.Errorf("public IP records: %w", err)
	}
	bridge, err := ensureBridge(cfg.UplinkNS, cfg.Interface)
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, bridge: bridge, filter: filter{uplinkNS: cfg.UplinkNS}}
	if err := m.filter.install(); err != nil {
		return nil, err
	}
	return m, nil
}

// Bridge is the name of the public bridge in the uplink namespace.
func (m *Manager) Bridge() string { return m.bridge }

// ensureBridge returns iface when it is a bridge; otherwise it puts iface into DefaultBridge.
func ensureBridge(uplinkNS, iface string) (string, error) {
	h, err := netnsutil.Handle(uplinkNS)
	if err != nil {
		return "", err
	}
	defer h.Close()
	link, err := h.LinkByName(iface)
	if err != nil {
		return "", fmt.Errorf("public interface %q: %w: %v", iface, ErrInvalidSpec, err)
	}
	if _, ok := link.(*netlink.Bridge); ok {
		return iface, h.LinkSetUp(link)
	}
	br, err := h.LinkByName(DefaultBridge)
	if err != nil {
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: DefaultBridge}}); err != nil {
			return "", fmt.Errorf("public bridge %s: create: %w", DefaultBridge, err)
		}
		if br, err = h.LinkByName(DefaultBridge); err != nil {
			return "", fmt.Errorf("public bridge %s: %w", DefaultBridge, err)
		}
	}
	if err := h.LinkSetMaster(link, br); err != nil {
		return "", fmt.Errorf("public interface %s: into bridge %s: %w", iface, DefaultBridge, err)
	}
	for _, l := range []netlink.Link{link, br} {
		if err := h.LinkSetUp(l); err != nil {
			return "", fmt.Errorf("public link %s: up: %w", l.Attrs().Name, err)
		}
	}
	return DefaultBridge, nil
}

var ifNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)

func (s Spec) check() error {
	if err := backend.ValidateID(s.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if s.NetNS == "" && !s.Tap {
		return fmt.Errorf("netns %q: %w: the workload's network namespace path is required", s.NetNS, ErrInvalidSpec)
	}
	if s.NetNS != "" && s.Tap {
		return fmt.Errorf("netns %q: %w: a virtual machine's tap has no namespace of its own", s.NetNS, ErrInvalidSpec)
	}
	if !s.IP.IsValid() || !s.IP.Addr().Is4() || s.IP.Bits() > 31 || s.IP.Addr() == s.IP.Masked().Addr() {
		return fmt.Errorf("ip %q: %w: must be an IPv4 host address with its prefix length, e.g. 203.0.113.10/24", s.IP, ErrInvalidSpec)
	}
	if s.Gateway.IsValid() && !s.IP.Contains(s.Gateway) {
		return fmt.Errorf("gateway %s: %w: not inside %s", s.Gateway, ErrInvalidSpec, s.IP.Masked())
	}
	if s.IfName != "" && !ifNamePattern.MatchString(s.IfName) {
		return fmt.Errorf("interface name %q: %w: must be 1 to 15 of a-z, A-Z, 0-9, '_', '.', '-'", s.IfName, ErrInvalidSpec)
	}
	return nil
}

// Create connects the workload to the public network. Creating the same workload again with the
// same spec returns its record (and puts back its rules if a reboot removed them); an IP another
// workload holds is refused with ErrIPTaken. A failure leaves nothing behind.
func (m *Manager) Create(spec Spec) (Record, error) {
	if err := spec.check(); err != nil {
		return Record{}, fmt.Errorf("public IP of workload %q: %w", spec.ID, err)
	}
	if spec.IfName == "" {
		spec.IfName = "pub"
	}
	if !spec.Gateway.IsValid() {
		spec.Gateway = m.cfg.Gateway
	}
	if !spec.IP.Contains(spec.Gateway) {
		return Record{}, fmt.Errorf("public IP of workload %s: ip %s: %w: gateway %s is not inside it", spec.ID, spec.IP, ErrInvalidSpec, spec.Gateway)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	records, err := m.records()
	if err != nil {
		return Record{}, err
	}
	for _, r := range records {
		if r.ID == spec.ID && r.IP == spec.IP && r.NetNS == spec.NetNS && r.Tap == spec.Tap {
			return r, m.ensureRules(r)
		}
		if r.ID == spec.ID {
			return Record{}, fmt.Errorf("public IP %s of workload %s: %w (%s in %s)", spec.IP, spec.ID, ErrExists, r.IP, r.NetNS)
		}
		if r.IP.Addr() == spec.IP.Addr() {
			return Record{}, fmt.Errorf("public IP %s of workload %s: %w %s", spec.IP, spec.ID, ErrIPTaken, r.ID)
		}
	}
	rec := Record{ID: spec.ID, NetNS: spec.NetNS, IfName: spec.IfName, HostLink: HostLink(spec.ID),
		MAC: MAC(spec.ID).String(), IP: spec.IP, Gateway: spec.Gateway, Tap: spec.Tap}
	if err := m.connect(rec); err != nil {
		_ = m.remove(rec.ID)
		return Record{}, fmt.Errorf("public IP %s of workload %s: %w", spec.IP, spec.ID, err)
	}
	if err := m.save(rec); err != nil {
		_ = m.remove(rec.ID)
		return Record{}, err
	}
	return rec, nil
}

// Delete disconnects workload id: its rules and its veth go, so the IP answers nothing. A
// workload without a public IP is not an error.
func (m *Manager) Delete(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.remove(id); err != nil {
		return fmt.Errorf("public IP of workload %s: %w", id, err)
	}
	return jsonfile.Remove(m.recordPath(id))
}

// Cut takes workload id's public link down on the bridge side (the contract's grace period): its
// IP answers nothing, not even a TCP handshake its paused machine's kernel would complete, and
// it sends nothing. Restore brings it back. The workload cannot undo it: the link's bridge end is
// in the uplink namespace. A workload without a public IP is not an error.
func (m *Manager) Cut(id string) error { return m.setLink(id, false) }

// Restore ends a Cut: the workload's public link is up again.
func (m *Manager) Restore(id string) error { return m.setLink(id, true) }

func (m *Manager) setLink(id string, up bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var r Record
	found, err := jsonfile.Read(m.recordPath(id), &r)
	if err != nil || !found {
		return err
	}
	h, err := netnsutil.Handle(m.cfg.UplinkNS)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(r.HostLink)
	if err != nil {
		return fmt.Errorf("public IP of workload %s: link %s: %w", id, r.HostLink, err)
	}
	set, state := h.LinkSetDown, "down"
	if up {
		set, state = h.LinkSetUp, "up"
	}
	if err := set(link); err != nil {
		return fmt.Errorf("public IP of workload %s: link %s %s: %w", id, r.HostLink, state, err)
	}
	return nil
}

// List returns the public IPs in use (zos.network.list_public_ips).
func (m *Manager) List() ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.records()
}

// Uninstall removes the nftables table; the agent calls it when the node leaves the public
// network (no workload has a public IP any more).
func (m *Manager) Uninstall() error { return m.filter.uninstall() }

// UplinkNS is the path of the namespace holding the public bridge ("" is the agent's own).
func (m *Manager) UplinkNS() string { return m.cfg.UplinkNS }

// connect: the filter rules first, so the port never forwards a frame unfiltered; then the IP's
// new MAC is announced to the farm (see announce). A virtual machine's tap comes later, from the
// VM backend.
func (m *Manager) connect(r Record) error {
	mac := MAC(r.ID)
	if err := m.filter.allow(r.ID, r.HostLink, mac, r.IP.Addr()); err != nil {
		return err
	}
	if !r.Tap {
		plug := veth.Plug{
			BridgeNS: m.cfg.UplinkNS, Bridge: m.bridge, HostLink: r.HostLink,
			WorkloadNS: r.NetNS, IfName: r.IfName, MAC: mac,
			Address: r.IP, Routed: netip.MustParsePrefix("0.0.0.0/0"), Gateway: r.Gateway,
		}
		if err := plug.Connect(); err != nil {
			return err
		}
	}
	return m.announce(mac, r.IP.Addr())
}

// ensureRules puts back workload r's rules when they are gone (a reboot empties nftables).
func (m *Manager) ensureRules(r Record) error {
	n, err := m.filter.rulesOf(r.ID)
	if err != nil || n > 0 {
		return err
	}
	return m.filter.allow(r.ID, r.HostLink, MAC(r.ID), r.IP.Addr())
}

// remove deletes the workload's veth (the workload's end goes with it), or a virtual machine's
// tap, then its rules: the link goes first, as a link left without its rules would forward anything.
func (m *Manager) remove(id string) error {
	if err := veth.Remove(m.cfg.UplinkNS, HostLink(id)); err != nil {
		return err
	}
	return m.filter.revoke(id)
}

// HostLink names the bridge end of workload id's veth (≤ 15 characters, unique on the node).
func HostLink(id string) string { return "tfzp" + hashOf(id)[:10] }

// MAC derives workload id's MAC address: stable across restarts, so the neighbours' ARP caches
// stay right; locally administered and unicast.
func MAC(id string) net.HardwareAddr { return backend.MAC(id) }

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (m *Manager) recordPath(id string) string {
	return filepath.Join(m.cfg.DataDir, "publicips", backend.Name(id)+".json")
}

func (m *Manager) save(r Record) error { return jsonfile.Write(m.recordPath(r.ID), r) }

func (m *Manager) records() ([]Record, error) {
	return jsonfile.ReadAll[Record](filepath.Join(m.cfg.DataDir, "publicips", backend.Prefix+"*.json"))
}
