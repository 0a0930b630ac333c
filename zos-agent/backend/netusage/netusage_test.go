package netusage_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
)

func TestIncrease(t *testing.T) {
	c := func(rx, tx uint64) netusage.Counters { return netusage.Counters{RxBytes: rx, TxBytes: tx} }
	for _, tc := range []struct {
		name           string
		previous, curr netusage.Counters
		want           uint64
	}{
		{"first reading counts everything", c(0, 0), c(100, 50), 150},
		{"steady growth", c(100, 50), c(160, 90), 100},
		{"no traffic", c(100, 50), c(100, 50), 0},
		{"both counters reset", c(1000, 900), c(10, 5), 15},
		{"only rx reset", c(1000, 900), c(10, 950), 60},
		{"reset to zero", c(1000, 900), c(0, 0), 0},
		{"near the top of uint64", c(1<<64-10, 0), c(1<<64-1, 0), 9},
	} {
		if got := netusage.Increase(tc.previous, tc.curr); got != tc.want {
			t.Errorf("%s: Increase(%+v, %+v) = %d, want %d", tc.name, tc.previous, tc.curr, got, tc.want)
		}
	}
}

// Real traffic through a veth shows up in the samples, once; a restarted meter continues from
// the persisted readings, and a recreated link (counters back at zero) is not negative traffic.
func TestMeterCountsTrafficThroughALink(t *testing.T) {
	backendtest.RequireRoot(t)
	host, workload := backendtest.NetNS(t, "host"), backendtest.NetNS(t, "wl")
	connect := func() {
		backendtest.Veth(t, host, "tfzpmeter", netip.MustParsePrefix("192.0.2.1/24"), workload, "pub", netip.MustParsePrefix("192.0.2.2/24"))
	}
	connect()
	payload := strings.Repeat("x", 200_000)
	server := netip.MustParseAddrPort("192.0.2.2:80")
	backendtest.Serve(t, workload, server, payload)

	m := netusage.NewMeter(host, nil)
	if _, err := m.Sample("w1", "tfzpmeter"); err != nil {
		t.Fatal(err)
	}
	fetch := func() {
		t.Helper()
		if err := backendtest.Eventually(host, netip.Addr{}, server, payload, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	fetch()
	got, err := m.Sample("w1", "tfzpmeter")
	if err != nil || got < uint64(len(payload)) || got > 2*uint64(len(payload)) {
		t.Fatalf("after %d bytes: sample %d %v", len(payload), got, err)
	}
	restarted := netusage.NewMeter(host, m.Last())
	if got, err := restarted.Sample("w1", "tfzpmeter"); err != nil || got > 1000 {
		t.Fatalf("a restarted meter counted old traffic again: %d %v", got, err)
	}
	// More traffic before the reset, so the new link's counters end below the old ones.
	fetch()
	if _, err := restarted.Sample("w1", "tfzpmeter"); err != nil {
		t.Fatal(err)
	}

	h, err := netnsutil.Handle(host)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName("tfzpmeter")
	if err != nil || h.LinkDel(link) != nil {
		t.Fatalf("delete link: %v", err)
	}
	connect()
	fetch()
	got, err = restarted.Sample("w1", "tfzpmeter")
	if err != nil || got < uint64(len(payload)) || got > 2*uint64(len(payload)) {
		t.Fatalf("after a reset and %d bytes: sample %d %v", len(payload), got, err)
	}
	if _, err := restarted.Sample("gone", "tfzpnosuch"); err == nil || !strings.Contains(err.Error(), "tfzpnosuch") {
		t.Fatalf("sample of a missing link: %v", err)
	}
	restarted.Forget("w1")
	if _, ok := restarted.Last()["w1"]; ok {
		t.Fatal("forgotten workload still has a reading")
	}
}
