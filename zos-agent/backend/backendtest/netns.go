package backendtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/veth"
)

// NetNSPrefix starts the names of the network namespaces the tests make.
const NetNSPrefix = "tfzt-"

// NetNS makes a named network namespace (loopback up) for one test, deleted at cleanup, and
// returns its path. role goes into the name to tell the namespaces apart while debugging, and the
// test process's pid, so that a later run can delete what a killed one (a test timeout) left.
func NetNS(t *testing.T, role string) string {
	t.Helper()
	sweepOnce.Do(func() { sweepOrphanNetNS(t) })
	name := fmt.Sprintf("%s%s-%d-%s", NetNSPrefix, role, os.Getpid(), randomHex(t, 3))
	path, err := netnsutil.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netnsutil.Delete(name); err != nil {
			t.Errorf("delete test network namespace: %v", err)
		}
	})
	return path
}

// Veth links two namespaces with a veth pair, each end up and addressed (when the address is valid).
func Veth(t *testing.T, nsA, nameA string, addrA netip.Prefix, nsB, nameB string, addrB netip.Prefix) {
	t.Helper()
	h, err := netnsutil.Handle(nsA)
	must(t, err)
	defer h.Close()
	peerNS, err := netnsutil.Fd(nsB)
	must(t, err)
	defer peerNS.Close()
	must(t, h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(peerNS)}))
	Address(t, nsA, nameA, addrA)
	Address(t, nsB, nameB, addrB)
}

// Address adds addr (unless it is the zero Prefix) to link in the namespace ns and brings the
// link up.
func Address(t *testing.T, ns, link string, addr netip.Prefix) {
	t.Helper()
	withLink(t, ns, link, func(h *netlink.Handle, l netlink.Link) error {
		if addr.IsValid() {
			if err := h.AddrAdd(l, &netlink.Addr{IPNet: veth.IPNet(addr)}); err != nil {
				return err
			}
		}
		return h.LinkSetUp(l)
	})
}

// Route adds a route to dst through gw (or straight out of link when gw is invalid) in ns.
func Route(t *testing.T, ns, link string, dst netip.Prefix, gw netip.Addr) {
	t.Helper()
	withLink(t, ns, link, func(h *netlink.Handle, l netlink.Link) error {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: veth.IPNet(dst)}
		if gw.IsValid() {
			r.Gw = gw.AsSlice()
		} else {
			r.Scope = netlink.SCOPE_LINK
		}
		return h.RouteReplace(r)
	})
}

// withLink runs fn on link in the namespace ns, failing the test on any error.
func withLink(t *testing.T, ns, link string, fn func(*netlink.Handle, netlink.Link) error) {
	t.Helper()
	h, err := netnsutil.Handle(ns)
	must(t, err)
	defer h.Close()
	l, err := h.LinkByName(link)
	must(t, err)
	must(t, fn(h, l))
}

// Forwarding turns IPv4 forwarding on in ns (a router).
func Forwarding(t *testing.T, ns string) {
	t.Helper()
	must(t, netnsutil.EnableForwarding(ns))
}

// Serve runs a TCP server in the namespace ns on addr that writes reply to every client and
// closes; it stops at cleanup.
func Serve(t *testing.T, ns string, addr netip.AddrPort, reply string) {
	t.Helper()
	var l net.Listener
	must(t, netnsutil.Do(ns, func() (err error) {
		l, err = net.Listen("tcp", addr.String())
		return err
	}))
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(reply))
			c.Close()
		}
	}()
}

// Fetch connects from the namespace ns (from source when valid) to addr and returns what the
// server sent. The socket is made inside ns, so the connection really goes through ns's links.
func Fetch(ns string, source netip.Addr, addr netip.AddrPort, timeout time.Duration) (string, error) {
	return Exchange(ns, source, addr, "", timeout)
}

// Connect completes a TCP handshake from the namespace ns to addr and closes the connection: a
// paused machine's kernel (a frozen container's) still completes one, so it tells whether the
// address is reachable at all.
func Connect(ns string, addr netip.AddrPort, timeout time.Duration) error {
	return netnsutil.Do(ns, func() error {
		c, err := net.DialTimeout("tcp", addr.String(), timeout)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// Exchange is Fetch that first sends request (an HTTP request to a web server, say).
func Exchange(ns string, source netip.Addr, addr netip.AddrPort, request string, timeout time.Duration) (string, error) {
	var c net.Conn
	err := netnsutil.Do(ns, func() (err error) {
		d := net.Dialer{Timeout: timeout}
		if source.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: source.AsSlice()}
		}
		c, err = d.Dial("tcp", addr.String())
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, request); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// HTTPGet sends an HTTP/1.0 GET of path to addr from the namespace ns and returns the whole
// response (status line, headers and body).
func HTTPGet(ns string, addr netip.AddrPort, path string, timeout time.Duration) (string, error) {
	return Exchange(ns, netip.Addr{}, addr, "GET "+path+" HTTP/1.0\r\nHost: "+addr.Addr().String()+"\r\n\r\n", timeout)
}

// Eventually retries Fetch until it returns want or the deadline passes (a WireGuard handshake
// or ARP takes a moment).
func Eventually(ns string, source netip.Addr, addr netip.AddrPort, want string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		got, err := Fetch(ns, source, addr, time.Second)
		if err == nil && got == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("from %s to %s: got %q, %v (want %q)", ns, addr, got, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// AssertNetNSGone fails unless the named namespace file is gone.
func AssertNetNSGone(t *testing.T, name string) {
	t.Helper()
	if _, err := os.Stat(netnsutil.Path(name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("network namespace %s still exists (%v)", name, err)
	}
}

// AssertNoLink fails if the link name exists in ns.
func AssertNoLink(t *testing.T, ns, name string) {
	t.Helper()
	h, err := netnsutil.Handle(ns)
	must(t, err)
	defer h.Close()
	if _, err := h.LinkByName(name); err == nil {
		t.Errorf("link %s still exists in %s", name, ns)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	must(t, err)
	return hex.EncodeToString(b)
}

var sweepOnce sync.Once

// sweepOrphanNetNS deletes the test namespaces whose test process is gone: t.Cleanup never ran in a
// process killed by a timeout. Namespaces of test processes still running are left alone.
func sweepOrphanNetNS(t *testing.T) {
	entries, err := os.ReadDir(netnsutil.Dir)
	if err != nil {
		return // no namespace yet
	}
	for _, e := range entries {
		fields := strings.Split(strings.TrimPrefix(e.Name(), NetNSPrefix), "-")
		if !strings.HasPrefix(e.Name(), NetNSPrefix) || len(fields) < 3 {
			continue
		}
		pid, err := strconv.Atoi(fields[len(fields)-2])
		if err != nil || pid <= 0 || pid == os.Getpid() || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		if err := netnsutil.Delete(e.Name()); err != nil {
			t.Logf("delete orphaned test network namespace %s: %v", e.Name(), err)
		}
	}
}
