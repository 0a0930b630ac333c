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
}
