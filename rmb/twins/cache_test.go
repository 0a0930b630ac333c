package twins

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
)

type countingLookup struct {
	inner *rmb.MemoryLookup
	calls atomic.Int64
	delay time.Duration
}

func (c *countingLookup) Twin(ctx context.Context, id uint64) (rmb.Twin, error) {
	c.calls.Add(1)
	time.Sleep(c.delay)
	return c.inner.Twin(ctx, id)
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	key := secp256k1.GenPrivKey()
	tw, err := rmb.NewTwin(1, key.PubKey().Bytes(), []string{"ws://a:1"}, nil)
	require.NoError(t, err)
	inner := &countingLookup{inner: rmb.NewMemoryLookup(tw), delay: 50 * time.Millisecond}
	c := NewCache(inner, time.Minute)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Twin(ctx, 1)
			require.NoError(t, err)
			require.Equal(t, uint64(1), got.ID)
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, inner.calls.Load(), "one fetch for concurrent callers")
	_, err = c.Twin(ctx, 1)
	require.NoError(t, err)
	require.EqualValues(t, 1, inner.calls.Load(), "cached")

	// unknown twins are cached briefly and report ErrUnknownTwin
	_, err = c.Twin(ctx, 2)
	require.ErrorIs(t, err, rmb.ErrUnknownTwin)

	// an update on chain + Invalidate: the next lookup sees it
	tw.Relays = []string{"ws://b:2"}
	inner.inner.Set(tw)
	got, _ := c.Twin(ctx, 1)
	require.Equal(t, []string{"ws://a:1"}, got.Relays)
	c.Invalidate(1)
	got, _ = c.Twin(ctx, 1)
	require.Equal(t, []string{"ws://b:2"}, got.Relays)

	// an invalidation while a fetch is in flight: the stale answer is not kept
	tw.Relays = []string{"ws://c:3"}
	c.Invalidate(1)
	done := make(chan struct{})
	go func() { _, _ = c.Twin(ctx, 1); close(done) }()
	time.Sleep(10 * time.Millisecond)
	c.Invalidate(1)
	<-done
	inner.inner.Set(tw)
	got, _ = c.Twin(ctx, 1)
	require.Equal(t, []string{"ws://c:3"}, got.Relays)
}
