package invariant_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"

	"github.com/tfgrid/tfgrid/internal/invariant"
)

var errBroken = errorsmod.Register("invariant_test", 2, "invariant broken")

// entry is one (key, id) pair of an index, in walk order.
type entry struct {
	key string
	id  uint64
}

func walkOf(es []entry) func(func(string, uint64) error) error {
	return func(add func(string, uint64) error) error {
		for _, e := range es {
			if err := add(e.key, e.id); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestSameMap(t *testing.T) {
	want := map[string]uint64{"a": 1, "b": 2}
	cases := []struct {
		name string
		got  []entry
		err  string // "" = holds
	}{
		{"same", []entry{{"a", 1}, {"b", 2}}, ""},
		{"stray entry", []entry{{"a", 1}, {"b", 2}, {"c", 3}}, "index idx has c → 3, which nothing needs"},
		{"wrong value", []entry{{"a", 1}, {"b", 7}}, "index idx maps b to 7, want 2"},
		{"missing entry", []entry{{"a", 1}}, "index idx lacks b (→ 2)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := invariant.SameMap(errBroken, "idx", want, walkOf(tc.got))
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errBroken)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestSameSet(t *testing.T) {
	want := map[string]bool{"a": true, "b": true}
	set := func(keys ...string) func(func(string) error) error {
		return func(add func(string) error) error {
			for _, k := range keys {
				if err := add(k); err != nil {
					return err
				}
			}
			return nil
		}
	}
	require.NoError(t, invariant.SameSet(errBroken, "idx", want, set("a", "b")))
	require.ErrorContains(t, invariant.SameSet(errBroken, "idx", want, set("a", "b", "z")), "index idx has z, which nothing needs")
	require.ErrorContains(t, invariant.SameSet(errBroken, "idx", want, set("b")), "index idx lacks a")
}

func TestOrBrokenPassesStoreErrors(t *testing.T) {
	store := errors.New("disk on fire")
	require.Equal(t, store, invariant.OrBroken(errBroken, store, "ignored"))
	require.ErrorIs(t, invariant.OrBroken(errBroken, nil, "node %d", 7), errBroken)
	require.ErrorContains(t, invariant.OrBroken(errBroken, nil, "node %d", 7), "node 7")
}
