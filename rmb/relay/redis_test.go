package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/internal/redistest"
	"github.com/tfgrid/tfgrid/rmb/relay"
)

// Two relay instances share one Redis: a peer on one reaches a peer on the other, an envelope kept
// while the destination is offline is delivered through whichever relay it connects to, and a
// session connecting to the second relay evicts its connection on the first.
func TestRedisSharedRelays(t *testing.T) {
	srv := redistest.Start(t)
	w := newWorld(t)
	ctx := context.Background()
	open := func() *relay.RedisStore {
		s, err := relay.OpenRedisStore(ctx, srv.URL, "rmbtest:", relay.Limits{MaxCount: 100, MaxBytes: 1 << 20})
		require.NoError(t, err)
		return s
	}
	s1, s2 := open(), open()
	var cluster []string
	r1 := w.startRelayWith(s1, func(c *relay.Config) { c.Bus = s1 })
	r2 := w.startRelayWith(s2, func(c *relay.Config) { c.Bus = s2 })
	cluster = []string{r1.url, r2.url}
	r1.setURLs(t, w, cluster)
	r2.setURLs(t, w, cluster)

	a, b := w.twin(true, r1.url), w.twin(true, r1.url)
	// b is offline: a's request is kept in Redis by r1 ...
	ca := dialRaw(t, r1.url, a, "")
	ca.send(ca.request("kept", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, []byte(`{}`)))
	require.Eventually(t, func() bool { _, n, _, _ := s2.Stats(ctx); return n == 1 }, 5*time.Second, 20*time.Millisecond)
	// ... and delivered by r2 when b connects there.
	cb := dialRaw(t, r2.url, b, "")
	h, _, _ := cb.recv()
	require.Equal(t, "kept", h.UID)

	// live routing across the two instances, both directions
	ca.send(ca.request("live", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, []byte(`{}`)))
	h, _, _ = cb.recv()
	require.Equal(t, "live", h.UID)
	cb.send(cb.request("back", rmb.Address{Twin: b.id}, rmb.Address{Twin: a.id}, 60, []byte(`{}`)))
	h, _, _ = ca.recv()
	require.Equal(t, "back", h.UID)

	// b connects to r1 too: its r2 connection is evicted through the bus.
	cb1 := dialRaw(t, r1.url, b, "")
	_ = cb.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := cb.ws.ReadMessage()
	require.ErrorContains(t, err, "evicted")
	ca.send(ca.request("after", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, []byte(`{}`)))
	h, _, _ = cb1.recv()
	require.Equal(t, "after", h.UID)
}

func TestRedisStoreBoundsAndExpiry(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s, err := relay.OpenRedisStore(ctx, srv.URL, "bounds:", relay.Limits{MaxCount: 2, MaxBytes: 10})
	require.NoError(t, err)
	defer s.Close()
	testStoreContract(t, s)
}

func TestBoltStoreBoundsAndExpiry(t *testing.T) {
	s, err := relay.OpenBoltStore(t.TempDir()+"/s.db", relay.Limits{MaxCount: 2, MaxBytes: 10})
	require.NoError(t, err)
	defer s.Close()
	testStoreContract(t, s)
}

// testStoreContract checks a store with limits {2 envelopes, 10 bytes}.
func testStoreContract(t *testing.T, s relay.Store) {
	ctx := context.Background()
	now := time.Now().Unix()
	require.NoError(t, s.Push(ctx, "s/1/", now+60, []byte("aaaa")))
	require.NoError(t, s.Push(ctx, "s/1/", now-1, []byte("bbbb")))
	err := s.Push(ctx, "s/1/", now+60, []byte("c"))
	require.ErrorIs(t, err, relay.ErrQueueFull, "count bound")
	err = s.Push(ctx, "s/1/other-session", now+60, []byte("c"))
	require.ErrorIs(t, err, relay.ErrQueueFull, "the bound is the twin's, across its sessions")
	require.ErrorContains(t, err, "per destination twin")
	require.NoError(t, s.Push(ctx, "s/2/", now+60, []byte("12345678")))
	require.ErrorIs(t, s.Push(ctx, "s/2/", now+60, []byte("123")), relay.ErrQueueFull, "byte bound")
	q, n, b, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, []any{2, 3, int64(16)}, []any{q, n, b})

	es, err := s.Peek(ctx, "s/1/", 10)
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.Equal(t, "aaaa", string(es[0].Data))
	gone, err := s.Expire(ctx, now, 100)
	require.NoError(t, err)
	require.Len(t, gone, 1)
	require.Equal(t, "bbbb", string(gone[0].Data))
	require.NoError(t, s.Ack(ctx, "s/1/", es[0].ID))
	es, err = s.Peek(ctx, "s/1/", 10)
	require.NoError(t, err)
	require.Empty(t, es)
	qs, err := s.Queues(ctx, "s/")
	require.NoError(t, err)
	require.Equal(t, []string{"s/2/"}, qs)
	require.NoError(t, s.Push(ctx, "s/1/", now+60, []byte("dddd")), "room again after ack and expiry")

	// Take hands each entry out once, oldest first, and frees its room.
	require.NoError(t, s.Push(ctx, "s/1/", now+60, []byte("eeee")))
	got, err := s.Take(ctx, "s/1/", 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "dddd", string(got[0].Data))
	got, err = s.Take(ctx, "s/1/", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "eeee", string(got[0].Data))
	got, err = s.Take(ctx, "s/1/", 10)
	require.NoError(t, err)
	require.Empty(t, got)
	_, n, _, err = s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only s/2/ is left")

	// remembered keys: set once unless replaced, recalled until taken or expired
	fresh, err := s.Remember(ctx, "k", "v1", time.Minute, false)
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.Remember(ctx, "k", "v2", time.Minute, false)
	require.NoError(t, err)
	require.False(t, fresh, "a remembered key is not fresh")
	v, ok, err := s.Recall(ctx, "k", false)
	require.NoError(t, err)
	require.Equal(t, []any{"v1", true}, []any{v, ok})
	_, err = s.Remember(ctx, "k", "v3", time.Minute, true)
	require.NoError(t, err)
	v, ok, err = s.Recall(ctx, "k", true)
	require.NoError(t, err)
	require.Equal(t, []any{"v3", true}, []any{v, ok})
	_, ok, err = s.Recall(ctx, "k", false)
	require.NoError(t, err)
	require.False(t, ok, "taken")
	_, err = s.Remember(ctx, "short", "", 50*time.Millisecond, false)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	_, ok, err = s.Recall(ctx, "short", false)
	require.NoError(t, err)
	require.False(t, ok, "expired")
}

// The whole store is bounded too, whatever the twins.
func testStoreTotal(t *testing.T, s relay.Store) {
	ctx := context.Background()
	now := time.Now().Unix()
	require.NoError(t, s.Push(ctx, "s/1/", now+60, []byte("a")))
	require.NoError(t, s.Push(ctx, "s/2/", now+60, []byte("b")))
	err := s.Push(ctx, "s/3/", now+60, []byte("c"))
	require.ErrorIs(t, err, relay.ErrQueueFull)
	require.ErrorContains(t, err, "in all")
}

func TestStoresTotalBound(t *testing.T) {
	limits := relay.Limits{MaxCount: 10, MaxBytes: 100, MaxTotalCount: 2, MaxTotalBytes: 100}
	b, err := relay.OpenBoltStore(t.TempDir()+"/s.db", limits)
	require.NoError(t, err)
	defer b.Close()
	testStoreTotal(t, b)
	srv := redistest.Start(t)
	r, err := relay.OpenRedisStore(context.Background(), srv.URL, "total:", limits)
	require.NoError(t, err)
	defer r.Close()
	testStoreTotal(t, r)
}
