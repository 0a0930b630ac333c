package network

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// wireGuardMTU leaves room for WireGuard's own headers inside a 1500-byte uplink packet.
const wireGuardMTU = 1420

// wireGuard is one running userspace WireGuard device: its TUN link, its UDP sockets (in the
// uplink namespace) and its UAPI socket, through which `wg show <name>` can read it.
type wireGuard struct {
	name string
	dev  *device.Device
	uapi net.Listener
}

// startWireGuard creates the TUN link name in the uplink namespace, runs a WireGuard device on it
// with config (IPC text) and listens on its UAPI socket. Everything is created on a thread inside
// the uplink namespace, and the TUN is unmonitored, so the device never rebinds its UDP sockets
// from another goroutine (whose thread could be in any namespace).
func startWireGuard(uplinkNS, name, config string) (*wireGuard, error) {
	var wg *wireGuard
	err := netnsutil.Do(uplinkNS, func() error {
		tunDev, err := openTUN(name)
		if err != nil {
			return err
		}
		logger := device.NewLogger(device.LogLevelError, fmt.Sprintf("wireguard %s: ", name))
		dev := device.NewDevice(tunDev, conn.NewDefaultBind(), logger)
		if err := dev.IpcSet(config); err != nil {
			dev.Close()
			return fmt.Errorf("wireguard %s: configure: %w", name, err)
		}
		if err := dev.Up(); err != nil {
			dev.Close()
			return fmt.Errorf("wireguard %s: up: %w", name, err)
		}
		uapi, err := listenUAPI(name, dev)
		if err != nil {
			dev.Close()
			return err
		}
		wg = &wireGuard{name: name, dev: dev, uapi: uapi}
		return nil
	})
	return wg, err
}

// AccessPoint runs a user's end of a network, as wg-quick does on a laptop: a userspace WireGuard
// device name in the namespace ns with privateKey, whose only peer is the node (nodePublicKey,
// reached at endpoint) for ipRange. Addressing the device is the caller's. It returns the stop.
func AccessPoint(ns, name, privateKey, nodePublicKey string, endpoint netip.AddrPort, ipRange netip.Prefix) (func(), error) {
	key, err := decodeKey("access point private key", privateKey)
	if err != nil {
		return nil, err
	}
	nodeKey, err := decodeKey("node public key", nodePublicKey)
	if err != nil {
		return nil, err
	}
	wg, err := startWireGuard(ns, name, ipcConfig(key, 0, []resolvedPeer{{publicKey: nodeKey, endpoint: endpoint.String(), allowedIPs: []netip.Prefix{ipRange}}}))
	if err != nil {
		return nil, err
	}
	return wg.close, nil
}

// reconfigure replaces the device's configuration (keys, port, peers); a new listen port opens
// new sockets, so this too runs inside the uplink namespace.
func (w *wireGuard) reconfigure(uplinkNS, config string) error {
	return netnsutil.Do(uplinkNS, func() error {
		if err := w.dev.IpcSet(config); err != nil {
			return fmt.Errorf("wireguard %s: configure: %w", w.name, err)
		}
		return nil
	})
}

// close stops the device (its goroutines, sockets and TUN link) and removes the UAPI socket.
func (w *wireGuard) close() {
	w.uapi.Close()
	w.dev.Close()
}

// openTUN creates the TUN link name in the calling thread's namespace, with the flags
// wireguard-go's own CreateTUN uses, but without its link monitor (see startWireGuard).
func openTUN(name string) (tun.Device, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("wireguard %s: open /dev/net/tun: %w", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wireguard %s: create TUN link: %w", name, err)
	}
	dev, _, err := tun.CreateUnmonitoredTUNFromFD(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wireguard %s: TUN device: %w", name, err)
	}
	return dev, nil
}

// listenUAPI serves the device's UAPI socket (shared by all namespaces, hence unique names).
func listenUAPI(name string, dev *device.Device) (net.Listener, error) {
	file, err := ipc.UAPIOpen(name)
	if err != nil {
		return nil, fmt.Errorf("wireguard %s: UAPI socket: %w", name, err)
	}
	defer file.Close()
	l, err := ipc.UAPIListen(name, file)
	if err != nil {
		os.Remove(UAPISocket(name))
		return nil, fmt.Errorf("wireguard %s: UAPI listen: %w", name, err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go dev.IpcHandle(c)
		}
	}()
	return l, nil
}

// UAPISocket is where the WireGuard device name answers `wg` tools.
func UAPISocket(name string) string { return "/var/run/wireguard/" + name + ".sock" }

// ipcConfig renders a device configuration in WireGuard's IPC text form (hex keys); the listen
// port and peers are replaced as a whole.
func ipcConfig(privateKey []byte, listenPort uint16, peers []resolvedPeer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "private_key=%s\nlisten_port=%d\nreplace_peers=true\n", hex.EncodeToString(privateKey), listenPort)
	for _, p := range peers {
		fmt.Fprintf(&b, "public_key=%s\nreplace_allowed_ips=true\n", hex.EncodeToString(p.publicKey))
		if p.endpoint != "" {
			fmt.Fprintf(&b, "endpoint=%s\npersistent_keepalive_interval=%d\n", p.endpoint, keepaliveSeconds)
		}
		for _, allowed := range p.allowedIPs {
			fmt.Fprintf(&b, "allowed_ip=%s\n", allowed)
		}
	}
	return b.String()
}

// keepaliveSeconds keeps NAT mappings open towards peers this node dials.
const keepaliveSeconds = 20

// decodeKey reads a base64 WireGuard key (32 bytes), naming field and value when it is not one.
func decodeKey(field, value string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s %q: %w: must be a base64 WireGuard key of 32 bytes", field, value, ErrInvalidSpec)
	}
	return key, nil
}
