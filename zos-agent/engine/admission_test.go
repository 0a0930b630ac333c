package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"":                          nil,
		"/bin/sh":                   {"/bin/sh"},
		"  a   b ":                  {"a", "b"},
		`sh -c 'echo "x y"; sleep'`: {"sh", "-c", `echo "x y"; sleep`},
		`a "b c" d\ e`:              {"a", "b c", "d e"},
		`''`:                        {""},
	} {
		got, err := splitCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `"a`, `a\`} {
		if _, err := splitCommand(bad); err == nil {
			t.Errorf("splitCommand(%q) accepted", bad)
		}
	}
}

func TestCheckFree(t *testing.T) {
	const g = 1 << 30
	total := deployment.Capacity{MRU: 8 * g, SRU: 100 * g}
	cases := []struct {
		name            string
		need, had, used deployment.Capacity
		avail           uint64
		ok              bool
	}{
		{"fits", deployment.Capacity{CRU: 2, MRU: 4 * g, SRU: 10 * g}, deployment.Capacity{}, deployment.Capacity{MRU: 4 * g}, 8 * g, true},
		{"memory taken by others", deployment.Capacity{MRU: 5 * g}, deployment.Capacity{}, deployment.Capacity{MRU: 4 * g}, 8 * g, false},
		{"memory not really free", deployment.Capacity{MRU: 2 * g}, deployment.Capacity{}, deployment.Capacity{}, 1 * g, false},
		{"an update adds only its growth", deployment.Capacity{MRU: 2 * g}, deployment.Capacity{MRU: 2 * g}, deployment.Capacity{}, 0, true},
		{"ssd", deployment.Capacity{SRU: 60 * g}, deployment.Capacity{}, deployment.Capacity{SRU: 50 * g}, 8 * g, false},
		{"hdd none", deployment.Capacity{HRU: 1}, deployment.Capacity{}, deployment.Capacity{}, 8 * g, false},
		{"cpu overcommitted up to the ratio", deployment.Capacity{CRU: 4}, deployment.Capacity{}, deployment.Capacity{CRU: 4}, 8 * g, true},
		{"cpu beyond the ratio", deployment.Capacity{CRU: 5}, deployment.Capacity{}, deployment.Capacity{CRU: 4}, 8 * g, false},
		{"used above total", deployment.Capacity{MRU: 1}, deployment.Capacity{}, deployment.Capacity{MRU: 9 * g}, 8 * g, false},
	}
	for _, c := range cases {
		err := checkFree(9, c.need, c.had, c.used, 4, 2, total, c.avail)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrCapacity)) {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
