package rmb

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
)

// ErrUnknownTwin is returned by a TwinLookup for a twin that does not exist.
var ErrUnknownTwin = errors.New("unknown twin")

// Twin is what RMB needs of a twin on the chain.
type Twin struct {
	ID     uint64
	PubKey []byte  // 33-byte compressed secp256k1 account key
	Key    *PubKey // PubKey parsed
	Relays []string
	E2EKey []byte // 33-byte compressed secp256k1, or empty
}

// NewTwin builds a Twin, parsing its keys; it fails on a malformed key.
func NewTwin(id uint64, pubkey []byte, relays []string, e2eKey []byte) (Twin, error) {
	k, err := ParsePubKey(pubkey)
	if err != nil {
		return Twin{}, fmt.Errorf("twin %d: pubkey: %w", id, err)
	}
	if len(e2eKey) != 0 {
		if _, err := ParsePubKey(e2eKey); err != nil {
			return Twin{}, fmt.Errorf("twin %d: e2e_key: %w", id, err)
		}
	}
	return Twin{ID: id, PubKey: pubkey, Key: k, Relays: relays, E2EKey: e2eKey}, nil
}

// TwinLookup finds twins. Implementations: rmb/twins (chain + cache), MemoryLookup (tests, tools).
type TwinLookup interface {
	// Twin returns the twin, ErrUnknownTwin (wrapped or not) when it does not exist, or another error
	// when it cannot tell.
	Twin(ctx context.Context, id uint64) (Twin, error)
}

// MemoryLookup is a TwinLookup over a map, safe for concurrent use.
type MemoryLookup struct {
	mu    sync.RWMutex
	twins map[uint64]Twin
}

// NewMemoryLookup returns a lookup holding twins.
func NewMemoryLookup(twins ...Twin) *MemoryLookup {
	m := &MemoryLookup{twins: map[uint64]Twin{}}
	for _, t := range twins {
		m.twins[t.ID] = t
	}
	return m
}

// Set adds or replaces a twin.
func (m *MemoryLookup) Set(t Twin) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.twins[t.ID] = t
}

// Twin implements TwinLookup.
func (m *MemoryLookup) Twin(_ context.Context, id uint64) (Twin, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.twins[id]
	if !ok {
		return Twin{}, fmt.Errorf("twin %d: %w", id, ErrUnknownTwin)
	}
	return t, nil
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// Invalidator is implemented by caching lookups: Invalidate drops a twin so the next lookup reads it
// again (peers call it when a cached e2e key fails to decrypt).
type Invalidator interface {
	Invalidate(id uint64)
}
