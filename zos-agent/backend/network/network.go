// Package network runs twins' private networks on the node: one network namespace per (twin,
// network name) holding a bridge for the node's subnet and a userspace WireGuard interface to the
// network's other nodes and users, and veth links that put machines on the bridge.
package network

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/jsonfile"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/veth"
)

// Config says where the manager keeps its records and where WireGuard listens.
type Config struct {
	// DataDir is the agent's data directory; records go to DataDir/networks.
	DataDir string
	// UplinkNS is the path of the network namespace whose addresses peers reach the node on (the
	// WireGuard UDP sockets live there); "" is the agent's own.
	UplinkNS string
}

// Manager creates, shares and deletes private networks and attaches machines to them. It is
// safe for concurrent use.
type Manager struct {
	cfg     Config
	mu      sync.Mutex
	devices map[string]*wireGuard // by WireGuard link name
}

// Names are what a network is called on the machine, all derived from (twin, network name).
type Names struct {
	NetNS     string `json:"netns"`
	Bridge    string `json:"bridge"`
	WireGuard string `json:"wireguard"`
}

// Info describes a network after Ensure.
type Info struct {
	Names
	NetNSPath string `json:"netns_path"`
	// Users are the workload ids sharing the network.
	Users []string `json:"users"`
	// PublicKey is the node's WireGuard public key in this network, base64.
	PublicKey string `json:"public_key"`
}

// Attachment is a machine's link to a network.
type Attachment struct {
	ID       string     `json:"id"`
	NetNS    string     `json:"netns"`
	IfName   string     `json:"if_name"`
	HostLink string     `json:"host_link"`
	IP       netip.Addr `json:"ip"`
	Gateway  netip.Addr `json:"gateway"`
	// Tap: a virtual machine's attachment, whose HostLink is a tap the VM backend makes.
	Tap bool `json:"tap,omitempty"`
	// BridgeNS (a path) and Bridge are where the machine's host link is.
	BridgeNS string `json:"bridge_ns"`
	Bridge   string `json:"bridge"`
	// Subnet is the node's subnet of the network, for the address's prefix length.
	Subnet netip.Prefix `json:"subnet"`
}

// record is what the manager keeps per network, in DataDir/networks/<netns>.json.
type record struct {
	Spec     Spec                  `json:"spec"`
	Users    []string              `json:"users"`
	Machines map[string]Attachment `json:"machines"`
}

// New opens the manager over cfg.DataDir and restarts the WireGuard devices of recorded networks
// (a device lives in the agent's process, the namespace and bridge survive it).
func New(cfg Config) (*Manager, error) {
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("data dir %q: %w: required", cfg.DataDir, ErrInvalidSpec)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "networks"), 0o700); err != nil {
		return nil, fmt.Errorf("network records: %w", err)
	}
	m := &Manager{cfg: cfg, devices: map[string]*wireGuard{}}
	records, err := m.records()
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if err := m.apply(r.Spec); err != nil {
			return nil, fmt.Errorf("restore network %q of twin %d: %w", r.Spec.Name, r.Spec.Twin, err)
		}
	}
	return m, nil
}

// NamesOf derives the machine-wide names of the network name of twin: interface names are at
// most 15 characters and unique on the node (WireGuard's UAPI sockets are shared by all
// namespaces), so they carry a hash of (twin, name).
func NamesOf(twin uint32, name string) Names {
	h := shortHash(strconv.FormatUint(uint64(twin), 10) + "/" + name)
	return Names{NetNS: backend.Prefix + "net-" + h, Bridge: "tfzb" + h, WireGuard: "tfzw" + h}
}

// hostLinkOf names the bridge end of machine id's veth.
func hostLinkOf(id string) string { return "tfzv" + shortHash(id) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// Ensure creates the network, or joins user (a network workload's id) to the existing one of the
// same twin and name, updating its peers. The rest of the spec must match the existing network.
func (m *Manager) Ensure(user string, spec Spec) (Info, error) {
	if err := backend.ValidateID(user); err != nil {
		return Info{}, fmt.Errorf("user: %w: %w", ErrInvalidSpec, err)
	}
	key, _, err := spec.check()
	if err != nil {
		return Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	names := NamesOf(spec.Twin, spec.Name)
	r, found, err := m.load(names)
	if err != nil {
		return Info{}, err
	}
	if found {
		if err := r.Spec.sameNetwork(spec); err != nil {
			return Info{}, fmt.Errorf("network %q of twin %d: %w", spec.Name, spec.Twin, err)
		}
	} else {
		if err := m.checkPortFree(spec); err != nil {
			return Info{}, err
		}
		r = record{Machines: map[string]Attachment{}}
	}
	if err := m.apply(spec); err != nil {
		if !found {
			m.teardown(names)
		}
		return Info{}, fmt.Errorf("network %q of twin %d: %w", spec.Name, spec.Twin, err)
	}
	r.Spec = spec
	if !slices.Contains(r.Users, user) {
		r.Users = append(r.Users, user)
	}
	if err := m.save(names, r); err != nil {
		return Info{}, err
	}
	return Info{Names: names, NetNSPath: netnsutil.Path(names.NetNS), Users: slices.Clone(r.Users), PublicKey: publicKey(key)}, nil
}

// Release removes user from the network and deletes the network with its last user. A network
// that still has machines attached is refused with ErrInUse, changing nothing. Releasing from a
// network that does not exist is not an error.
func (m *Manager) Release(user string, twin uint32, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := NamesOf(twin, name)
	r, found, err := m.load(names)
	if err != nil || !found {
		return err
	}
	users := slices.DeleteFunc(slices.Clone(r.Users), func(u string) bool { return u == user })
	if len(users) > 0 {
		r.Users = users
		return m.save(names, r)
	}
	if len(r.Machines) > 0 {
		return fmt.Errorf("network %q of twin %d: %w: %v", name, twin, ErrInUse, slices.Sorted(maps.Keys(r.Machines)))
	}
	if err := m.teardown(names); err != nil {
		return err
	}
	return jsonfile.Remove(m.recordPath(names))
}

// checkPortFree refuses a new network whose WireGuard port another network listens on.
func (m *Manager) checkPortFree(spec Spec) error {
	records, err := m.records()
	if err != nil {
		return err
	}
	for _, r := range records {
		if r.Spec.ListenPort == spec.ListenPort {
			return fmt.Errorf("network %q of twin %d: wireguard_listen_port %d: %w (network %q of twin %d)",
				spec.Name, spec.Twin, spec.ListenPort, ErrPortTaken, r.Spec.Name, r.Spec.Twin)
		}
	}
	return nil
}

// Machines are the machines attached to the network (zos.network.list_private_ips).
func (m *Manager) Machines(twin uint32, name string) ([]Attachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, found, err := m.load(NamesOf(twin, name))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("network %q of twin %d: %w", name, twin, ErrNotFound)
	}
	return slices.SortedFunc(maps.Values(r.Machines), func(a, b Attachment) int { return a.IP.Compare(b.IP) }), nil
}

// ListenPorts are the WireGuard ports of all networks on the node (zos.network.list_wg_ports).
func (m *Manager) ListenPorts() ([]uint16, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	records, err := m.records()
	if err != nil {
		return nil, err
	}
	var ports []uint16
	for _, r := range records {
		ports = append(ports, r.Spec.ListenPort)
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}

// apply makes the machine match spec: namespace, bridge with the gateway address, forwarding,
// the WireGuard device (started, or reconfigured when running) and the routes to the peers.
func (m *Manager) apply(spec Spec) error {
	key, peers, err := spec.check()
	if err != nil {
		return err
	}
	names := NamesOf(spec.Twin, spec.Name)
	nsPath, err := netnsutil.Create(names.NetNS)
	if err != nil {
		return err
	}
	h, err := netnsutil.Handle(nsPath)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := ensureBridge(h, names.Bridge, spec.gateway()); err != nil {
		return err
	}
	if err := netnsutil.EnableForwarding(nsPath); err != nil {
		return err
	}
	config := ipcConfig(key, spec.ListenPort, peers)
	wgLink, err := m.ensureWireGuard(h, nsPath, names.WireGuard, config)
	if err != nil {
		return err
	}
	return syncRoutes(h, wgLink, peerRoutes(spec.Subnet, peers))
}

func ensureBridge(h *netlink.Handle, name string, gateway netip.Prefix) error {
	link, err := h.LinkByName(name)
	if err != nil {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
		if err := h.LinkAdd(br); err != nil {
			return fmt.Errorf("bridge %s: create: %w", name, err)
		}
		if link, err = h.LinkByName(name); err != nil {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	addr := &netlink.Addr{IPNet: veth.IPNet(gateway)}
	if err := h.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("bridge %s: address %s: %w", name, gateway, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bridge %s: up: %w", name, err)
	}
	return nil
}

// ensureWireGuard starts the device when this process does not run it yet (first create, or
// after an agent restart) and moves its link from the uplink namespace into the network's;
// otherwise it reconfigures the running device.
func (m *Manager) ensureWireGuard(h *netlink.Handle, nsPath, name, config string) (netlink.Link, error) {
	if wg, ok := m.devices[name]; ok {
		if err := wg.reconfigure(m.cfg.UplinkNS, config); err != nil {
			return nil, err
		}
		return h.LinkByName(name)
	}
	if stale, err := h.LinkByName(name); err == nil {
		if err := h.LinkDel(stale); err != nil {
			return nil, fmt.Errorf("wireguard %s: remove stale link: %w", name, err)
		}
	}
	wg, err := startWireGuard(m.cfg.UplinkNS, name, config)
	if err != nil {
		return nil, err
	}
	m.devices[name] = wg
	if err := moveLink(m.cfg.UplinkNS, name, nsPath); err != nil {
		return nil, err
	}
	link, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("wireguard %s: %w", name, err)
	}
	if err := h.LinkSetMTU(link, wireGuardMTU); err != nil {
		return nil, fmt.Errorf("wireguard %s: mtu: %w", name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("wireguard %s: up: %w", name, err)
	}
	return link, nil
}

// moveLink moves the link name from the namespace at from into the one at to.
func moveLink(from, name, to string) error {
	src, err := netnsutil.Handle(from)
	if err != nil {
		return err
	}
	defer src.Close()
	link, err := src.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	dst, err := netnsutil.Fd(to)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := src.LinkSetNsFd(link, int(dst)); err != nil {
		return fmt.Errorf("link %s: move into %s: %w", name, to, err)
	}
	return nil
}

// syncRoutes routes exactly want through link.
func syncRoutes(h *netlink.Handle, link netlink.Link, want []netip.Prefix) error {
	have, err := h.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("routes of %s: %w", link.Attrs().Name, err)
	}
	for _, r := range have {
		if r.Dst == nil || r.Protocol == unix.RTPROT_KERNEL { // routes of the link's own addresses
			continue
		}
		if p, ok := ipNetToPrefix(r.Dst); ok && !slices.Contains(want, p) {
			if err := h.RouteDel(&r); err != nil {
				return fmt.Errorf("route %s: delete: %w", p, err)
			}
		}
	}
	for _, p := range want {
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: veth.IPNet(p), Scope: netlink.SCOPE_LINK}
		if err := h.RouteReplace(route); err != nil {
			return fmt.Errorf("route %s via %s: %w", p, link.Attrs().Name, err)
		}
	}
	return nil
}

// teardown stops the network's WireGuard device and deletes its namespace (with the bridge and
// the machines' veth links); it is idempotent.
func (m *Manager) teardown(names Names) error {
	if wg, ok := m.devices[names.WireGuard]; ok {
		wg.close()
		delete(m.devices, names.WireGuard)
	}
	if h, err := netnsutil.Handle(m.cfg.UplinkNS); err == nil {
		// A device that failed before its link moved leaves the link in the uplink namespace.
		if link, err := h.LinkByName(names.WireGuard); err == nil {
			_ = h.LinkDel(link)
		}
		h.Close()
	}
	if err := os.Remove(UAPISocket(names.WireGuard)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("wireguard %s: remove UAPI socket: %w", names.WireGuard, err)
	}
	return netnsutil.Delete(names.NetNS)
}

func (m *Manager) recordPath(names Names) string {
	return filepath.Join(m.cfg.DataDir, "networks", names.NetNS+".json")
}

func (m *Manager) load(names Names) (record, bool, error) {
	var r record
	found, err := jsonfile.Read(m.recordPath(names), &r)
	if r.Machines == nil {
		r.Machines = map[string]Attachment{}
	}
	return r, found, err
}

func (m *Manager) save(names Names, r record) error { return jsonfile.Write(m.recordPath(names), r) }

func (m *Manager) records() ([]record, error) {
	return jsonfile.ReadAll[record](filepath.Join(m.cfg.DataDir, "networks", backend.Prefix+"net-*.json"))
}
