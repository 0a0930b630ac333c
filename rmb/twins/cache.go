package twins

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tfgrid/tfgrid/rmb"
)

// Cache is a TwinLookup that keeps the answers of another (positive ones for TTL, "unknown twin" for
// a few seconds), fetches each missing twin once however many callers ask at the same time, and can
// be invalidated per twin or as a whole. It is bounded in size.
type Cache struct {
	inner  rmb.TwinLookup
	ttl    time.Duration
	negTTL time.Duration
	max    int

	mu       sync.Mutex
	entries  map[uint64]cacheEntry
	inflight map[uint64]*fetch
	epoch    uint64 // bumped by InvalidateAll
	gens     map[uint64]uint64

	hits, misses uint64
}

type cacheEntry struct {
	twin    rmb.Twin
	unknown bool
	expires time.Time
}

type fetch struct {
	done chan struct{}
	twin rmb.Twin
	err  error
}

// NewCache wraps inner; ttl ≤ 0 means 10 minutes.
func NewCache(inner rmb.TwinLookup, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	return &Cache{inner: inner, ttl: ttl, negTTL: 5 * time.Second, max: 100_000,
		entries: map[uint64]cacheEntry{}, inflight: map[uint64]*fetch{}, gens: map[uint64]uint64{}}
}

// Twin implements rmb.TwinLookup.
func (c *Cache) Twin(ctx context.Context, id uint64) (rmb.Twin, error) {
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.entries[id]; ok && now.Before(e.expires) {
		c.hits++
		c.mu.Unlock()
		if e.unknown {
			return rmb.Twin{}, errUnknown(id)
		}
		return e.twin, nil
	}
	c.misses++
	f := c.inflight[id]
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		c.inflight[id] = f
		epoch, gen := c.epoch, c.gens[id]
		c.mu.Unlock()
		go c.fill(id, f, epoch, gen)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.twin, f.err
	case <-ctx.Done():
		return rmb.Twin{}, ctx.Err()
	}
}

func errUnknown(id uint64) error {
	return &unknownErr{id: id}
}

type unknownErr struct{ id uint64 }

func (e *unknownErr) Error() string { return "twin " + itoa(e.id) + ": unknown twin" }
func (e *unknownErr) Unwrap() error { return rmb.ErrUnknownTwin }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// fill fetches id and stores the answer unless the twin was invalidated meanwhile.
func (c *Cache) fill(id uint64, f *fetch, epoch, gen uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	f.twin, f.err = c.inner.Twin(ctx, id)
	c.mu.Lock()
	delete(c.inflight, id)
	if c.epoch == epoch && c.gens[id] == gen {
		switch {
		case f.err == nil:
			c.put(id, cacheEntry{twin: f.twin, expires: time.Now().Add(c.ttl)})
		case errors.Is(f.err, rmb.ErrUnknownTwin):
			c.put(id, cacheEntry{unknown: true, expires: time.Now().Add(c.negTTL)})
		}
	}
	c.mu.Unlock()
	close(f.done)
}

func (c *Cache) put(id uint64, e cacheEntry) {
	if len(c.entries) >= c.max {
		n := 0
		for k := range c.entries { // drop about a tenth, arbitrary ones
			delete(c.entries, k)
			if n++; n >= c.max/10 {
				break
			}
		}
	}
	c.entries[id] = e
}

// Invalidate implements rmb.Invalidator.
func (c *Cache) Invalidate(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
	c.gens[id]++
	if len(c.gens) > c.max {
		clear(c.gens) // epochs below keep in-flight fills honest
		c.epoch++
	}
}

// InvalidateAll drops every entry (after missing chain events, e.g. a reconnect).
func (c *Cache) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.epoch++
}

// Stats returns the hits and misses so far.
func (c *Cache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
