//go:build bench

package publicip

// The public-IP path benchmark (make bench-agent), built only with the bench tag:
//
//	go test -tags bench ./zos-agent/backend/publicip/ -run TestBenchPublicPath -v -count=1

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

const (
	benchStream = 2 * time.Second // how long each measurement streams
	benchRounds = 2               // rounds of every (direction, rules) pair in each order
)

// TestBenchPublicPath measures TCP throughput through a workload's public IP (its veth, the
// public bridge, the farm router) between the workload's namespace and the internet namespace,
// each way, with the workload's anti-spoofing rules and without them (the rules revoked, the
// veth kept): what the nftables rules cost. The rounds interleave rules on and off so that load
// from other processes on the shared machine hits both alike; the median of each is reported.
func TestBenchPublicPath(t *testing.T) {
	f := newFarm(t)
	workload := backendtest.NetNS(t, "wl")
	rec, err := f.m.Create(Spec{ID: "bench1", NetNS: workload, IP: netip.MustParsePrefix("203.0.113.30/24")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.m.Delete("bench1") })
	directions := []struct {
		name           string
		sender, server string
		addr           netip.AddrPort
	}{
		{"workload → internet", workload, f.Internet, netip.AddrPortFrom(f.InternetAddr, 5201)},
		{"internet → workload", f.Internet, workload, netip.AddrPortFrom(rec.IP.Addr(), 5201)},
	}
	rates := map[string][]float64{}
	for round := range benchRounds * 2 {
		order := []bool{true, false}
		if round%2 == 1 {
			order = []bool{false, true} // neither setting always goes first
		}
		for _, rules := range order {
			if err := f.setRules(rec, rules); err != nil {
				t.Fatal(err)
			}
			for _, dir := range directions {
				rate, err := stream(dir.sender, dir.server, dir.addr)
				if err != nil {
					t.Fatalf("%s: %v", dir.name, err)
				}
				key := fmt.Sprintf("%s, nftables rules %s", dir.name, onOff(rules))
				rates[key] = append(rates[key], rate)
			}
		}
	}
	for _, dir := range directions {
		on := median(rates[dir.name+", nftables rules on"])
		off := median(rates[dir.name+", nftables rules off"])
		t.Logf("BENCH public IP path %s: rules on %.2f Gbit/s, rules off %.2f Gbit/s (median of %d × %v; on/off %.2f)",
			dir.name, on/1e9, off/1e9, 2*benchRounds, benchStream, on/off)
	}
}

// setRules puts the workload's rules in place, or revokes them.
func (f *farm) setRules(r Record, on bool) error {
	if !on {
		return f.m.filter.revoke(r.ID)
	}
	if n, err := f.m.filter.rulesOf(r.ID); err != nil || n > 0 {
		return err
	}
	return f.m.filter.allow(r.ID, r.HostLink, MAC(r.ID), r.IP.Addr())
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// stream sends from the namespace sender to a receiver listening on addr in the namespace server
// for benchStream, and returns the receiver's rate in bit/s.
func stream(sender, server string, addr netip.AddrPort) (float64, error) {
	var l net.Listener
	if err := netnsutil.Do(server, func() (err error) {
		l, err = net.Listen("tcp", addr.String())
		return err
	}); err != nil {
		return 0, err
	}
	defer l.Close()
	type result struct {
		bytes int64
		took  time.Duration
		err   error
	}
	got := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		start := time.Now()
		n, err := io.Copy(io.Discard, c)
		got <- result{n, time.Since(start), err}
	}()
	var c net.Conn
	if err := netnsutil.Do(sender, func() (err error) {
		c, err = net.DialTimeout("tcp", addr.String(), 5*time.Second)
		return err
	}); err != nil {
		return 0, err
	}
	buf := make([]byte, 128<<10)
	for deadline := time.Now().Add(benchStream); time.Now().Before(deadline); {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			return 0, err
		}
	}
	c.Close()
	r := <-got
	if r.err != nil {
		return 0, r.err
	}
	if r.bytes == 0 {
		return 0, fmt.Errorf("nothing arrived")
	}
	return float64(r.bytes) * 8 / r.took.Seconds(), nil
}
