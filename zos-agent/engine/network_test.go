package engine

import (
	"net/netip"
	"testing"
)

func TestFreeIP(t *testing.T) {
	gw := netip.MustParseAddr("185.206.122.1")
	a := ReservedIP{IP: netip.MustParsePrefix("185.206.122.10/24"), Gateway: gw}
	b := ReservedIP{IP: netip.MustParsePrefix("185.206.122.11/24"), Gateway: gw}
	for _, tc := range []struct {
		name     string
		reserved []ReservedIP
		held     map[string]string
		want     ReservedIP
		ok       bool
	}{
		{"none reserved", nil, nil, ReservedIP{}, false},
		{"first free", []ReservedIP{a, b}, nil, a, true},
		{"first held by a kept workload", []ReservedIP{a, b}, map[string]string{"pub": a.IP.String()}, b, true},
		{"all held", []ReservedIP{a, b}, map[string]string{"p1": a.IP.String(), "p2": b.IP.String()}, ReservedIP{}, false},
		{"held IP not among the reserved", []ReservedIP{a}, map[string]string{"p": b.IP.String()}, a, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := freeIP(tc.reserved, tc.held)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("freeIP = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
