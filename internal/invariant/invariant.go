// Package invariant holds the generic pieces of the modules' invariant checks: comparing an index (or
// any derived collection) with what a full scan of the primary data wants, comparable copies of
// collections' pair and triple keys, and the broken-invariant error. Each module's
// keeper.CheckInvariants uses it with its own registered ErrInvariantBroken.
package invariant

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
)

// Broken reports a broken invariant as the module's registered error.
func Broken(kind *errorsmod.Error, format string, args ...any) error {
	return kind.Wrap(fmt.Sprintf(format, args...))
}

// OrBroken passes a store error through, or reports the broken invariant.
func OrBroken(kind *errorsmod.Error, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return Broken(kind, format, args...)
}

// SameSet checks that walk visits exactly the entries of want: the first entry no one needs, else the
// first missing one, is reported. walk stops at the first error add returns.
func SameSet[N comparable](kind *errorsmod.Error, name string, want map[N]bool, walk func(add func(N) error) error) error {
	seen := make(map[N]bool, len(want))
	err := walk(func(key N) error {
		if !want[key] {
			return Broken(kind, "index %s has %v, which nothing needs", name, key)
		}
		seen[key] = true
		return nil
	})
	if err != nil {
		return err
	}
	for key := range want {
		if !seen[key] {
			return Broken(kind, "index %s lacks %v", name, key)
		}
	}
	return nil
}

// SameMap checks that walk visits exactly the entries of want, each with the wanted value.
func SameMap[N, V comparable](kind *errorsmod.Error, name string, want map[N]V, walk func(add func(N, V) error) error) error {
	seen := make(map[N]bool, len(want))
	err := walk(func(key N, got V) error {
		w, ok := want[key]
		if !ok {
			return Broken(kind, "index %s has %v → %v, which nothing needs", name, key, got)
		}
		if w != got {
			return Broken(kind, "index %s maps %v to %v, want %v", name, key, got, w)
		}
		seen[key] = true
		return nil
	})
	if err != nil {
		return err
	}
	for key, w := range want {
		if !seen[key] {
			return Broken(kind, "index %s lacks %v (→ %v)", name, key, w)
		}
	}
	return nil
}

// Keys adapts the Walk method of a key set to SameSet, norm making its keys comparable: it walks the
// whole set (a nil ranger).
func Keys[R any, K any, N comparable](ctx context.Context, walk func(context.Context, R, func(K) (bool, error)) error, norm func(K) N) func(func(N) error) error {
	return func(add func(N) error) error {
		var all R
		return walk(ctx, all, func(k K) (bool, error) {
			err := add(norm(k))
			return err != nil, err
		})
	}
}

// Entries adapts the Walk method of a map to SameMap, norm making its keys comparable.
func Entries[R any, K any, V comparable, N comparable](ctx context.Context, walk func(context.Context, R, func(K, V) (bool, error)) error, norm func(K) N) func(func(N, V) error) error {
	return func(add func(N, V) error) error {
		var all R
		return walk(ctx, all, func(k K, v V) (bool, error) {
			err := add(norm(k), v)
			return err != nil, err
		})
	}
}

// Pairs adapts the Walk method of an index (indexing key, primary key), or of a map, to SameSet, norm
// folding each pair into one comparable key.
func Pairs[R any, K, V any, N comparable](ctx context.Context, walk func(context.Context, R, func(K, V) (bool, error)) error, norm func(K, V) N) func(func(N) error) error {
	return func(add func(N) error) error {
		var all R
		return walk(ctx, all, func(k K, v V) (bool, error) {
			err := add(norm(k, v))
			return err != nil, err
		})
	}
}

// Pair is a comparable copy of a collections.Pair, which holds pointers and so cannot key a map.
type Pair[K1, K2 comparable] struct {
	K1 K1
	K2 K2
}

// PairOf copies a collections.Pair.
func PairOf[K1, K2 comparable](p collections.Pair[K1, K2]) Pair[K1, K2] {
	return Pair[K1, K2]{p.K1(), p.K2()}
}

// Triple is a comparable copy of a collections.Triple.
type Triple[K1, K2, K3 comparable] struct {
	K1 K1
	K2 K2
	K3 K3
}

// TripleOf copies a collections.Triple.
func TripleOf[K1, K2, K3 comparable](t collections.Triple[K1, K2, K3]) Triple[K1, K2, K3] {
	return Triple[K1, K2, K3]{t.K1(), t.K2(), t.K3()}
}

// Itself is the identity, for keys that are comparable already.
func Itself[K any](k K) K { return k }
