package deployment

import (
	"errors"
	"testing"
)

func TestMinRootSize(t *testing.T) {
	cases := []struct {
		cpu    uint8
		memory uint64
		want   uint64
	}{
		{1, 256 * MiB, 500 * MiB},
		{1, 8*GiB - 1, 500 * MiB},
		{1, 8 * GiB, 2 * GiB},
		{2, 4*GiB - 1, 500 * MiB},
		{2, 4 * GiB, 2 * GiB},
		{255, 1 << 63, 2 * GiB}, // the product overflows 64 bits
	}
	for _, tc := range cases {
		if got := minRootSize(tc.cpu, tc.memory); got != tc.want {
			t.Errorf("minRootSize(%d, %d) = %d, want %d", tc.cpu, tc.memory, got, tc.want)
		}
	}
}

func TestCapacity(t *testing.T) {
	cases := []struct {
		name string
		add  []map[string]any
		want Capacity
	}{
		// vector2: machine 2 cpu, 2 GiB (root 500 MiB), zmount 1 GiB, one IPv4, a network.
		{"vector2", nil, Capacity{CRU: 2, MRU: 2 * GiB, SRU: 500*MiB + GiB, IPv4: 1}},
		{"plus a volume, a zdb, a qsfs, an IPv6-only ip and a gateway", []map[string]any{
			workload("vol", TypeVolume, map[string]any{"size": 3 * GiB}),
			workload("db", TypeZDB, map[string]any{"size": 5 * GiB, "mode": "user"}),
			workload("q", TypeQSFS, map[string]any{"cache": 2 * GiB}),
			workload("ip6", TypeIP, map[string]any{"v6": true}),
			workload("gw", TypeGatewayNameProxy, map[string]any{"name": "x", "backends": []any{"http://10.1.3.2"}}),
		}, Capacity{CRU: 3, MRU: 3 * GiB, SRU: 500*MiB + GiB + 3*GiB + 2*GiB, HRU: 5 * GiB, IPv4: 1}},
		{"plus a machine with a large root", []map[string]any{
			workload("big", TypeZMachine, map[string]any{"size": 10 * GiB, "compute_capacity": map[string]any{"cpu": 4, "memory": 8 * GiB}}),
		}, Capacity{CRU: 6, MRU: 10 * GiB, SRU: 500*MiB + GiB + 10*GiB, IPv4: 1}},
		{"plus a small machine taking the 2 GiB minimum root", []map[string]any{
			workload("mid", TypeZMachine, map[string]any{"compute_capacity": map[string]any{"cpu": 2, "memory": 4 * GiB}}),
		}, Capacity{CRU: 4, MRU: 6 * GiB, SRU: 500*MiB + GiB + 2*GiB, IPv4: 1}},
		{"plus a second IPv4", []map[string]any{workload("ip2", TypeIP, map[string]any{"v4": true, "v6": true})},
			Capacity{CRU: 2, MRU: 2 * GiB, SRU: 500*MiB + GiB, IPv4: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := validTree(t)
			for _, w := range tc.add {
				addWorkload(w)(t, tree)
			}
			got, err := mustParse(t, tree).Deployment.Capacity()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("capacity %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCapacityFits(t *testing.T) {
	need := Capacity{CRU: 2, MRU: 2 * GiB, SRU: 3 * GiB, HRU: 0, IPv4: 1}
	if !need.Fits(need) {
		t.Fatal("a capacity does not fit itself")
	}
	for _, reserved := range []Capacity{
		{CRU: 1, MRU: 2 * GiB, SRU: 3 * GiB, IPv4: 1},
		{CRU: 2, MRU: 2*GiB - 1, SRU: 3 * GiB, IPv4: 1},
		{CRU: 2, MRU: 2 * GiB, SRU: 3*GiB - 1, IPv4: 1},
		{CRU: 2, MRU: 2 * GiB, SRU: 3 * GiB, IPv4: 0},
	} {
		if need.Fits(reserved) {
			t.Errorf("%+v fits in %+v", need, reserved)
		}
	}
	if !need.Fits(Capacity{CRU: 8, MRU: 8 * GiB, SRU: 8 * GiB, HRU: GiB, IPv4: 2}) {
		t.Error("does not fit in more")
	}
}

// 2^11 workloads of 2^53 bytes each is 2^64: one past what a uint64 holds.
func TestCapacityOverflow(t *testing.T) {
	d := Deployment{}
	for range 1 << 11 {
		d.Workloads = append(d.Workloads, Workload{Name: "z", Type: TypeZDB, Data: []byte(`{"size":9007199254740992,"mode":"user"}`)})
	}
	_, err := d.Capacity()
	if !errors.Is(err, ErrCapacityOverflow) {
		t.Fatalf("error %v, want a capacity overflow", err)
	}
	d.Workloads = d.Workloads[:len(d.Workloads)-1]
	got, err := d.Capacity()
	if err != nil || got.HRU != (1<<11-1)<<53 {
		t.Fatalf("one workload less: %+v, %v", got, err)
	}
	d.Workloads[0].Data = []byte(`{"size":"big"}`)
	if _, err := d.Capacity(); !errors.Is(err, ErrWrongType) {
		t.Fatalf("undecodable data: %v", err)
	}
}
