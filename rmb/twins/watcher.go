package twins

import (
	"context"
	"log/slog"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/chainclient"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// watchedBlockTime is the block time the watcher assumes for its watchdog: a chain that makes no
// block for 3× it gets its subscription renewed.
const watchedBlockTime = 10 * time.Second

// Watcher follows the chain's committed blocks (chainclient.FollowBlocks: a new-block subscription
// with reconnect, a watchdog and backfill) and invalidates the cache for every twin created or
// updated. Blocks missed while disconnected are fetched, not guessed: nothing needs clearing.
type Watcher struct {
	chain *chainclient.Client
	cache interface {
		Invalidate(id uint64)
		InvalidateAll()
	}
	log *slog.Logger

	mu          sync.Mutex
	subscribed  chan struct{} // closed once the first subscription is in place
	connections int
	events      uint64
}

// NewWatcher watches the chain through c.
func NewWatcher(c *chainclient.Client, cache *Cache, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.Default()
	}
	return &Watcher{chain: c, cache: cache, log: log.With("component", "twin-watcher"), subscribed: make(chan struct{})}
}

// Subscribed returns a channel closed once the watcher follows new blocks.
func (w *Watcher) Subscribed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.subscribed
}

// Stats returns how many times the watcher subscribed and how many twin events it saw.
func (w *Watcher) Stats() (connections int, events uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connections, w.events
}

// Run watches from the next block until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	err := w.chain.FollowBlocks(ctx, chainclient.FollowOptions{
		BlockTime:    watchedBlockTime,
		Log:          w.log,
		OnSubscribed: w.onSubscribed,
	}, w.handleBlock)
	if err != nil && ctx.Err() == nil {
		w.log.Error("twin watcher stopped", "err", err)
	}
}

func (w *Watcher) onSubscribed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.connections++
	select {
	case <-w.subscribed:
	default:
		close(w.subscribed)
		w.log.Info("following chain twin events")
	}
}

func (w *Watcher) handleBlock(b chainclient.Block) error {
	for _, ev := range b.Events {
		if ev.Type != "tfgrid.tfgrid.v1.EventTwinUpdated" && ev.Type != "tfgrid.tfgrid.v1.EventTwinCreated" {
			continue
		}
		msg, err := sdk.ParseTypedEvent(ev)
		if err != nil {
			w.log.Warn("cannot decode a twin event; clearing the cache", "type", ev.Type, "height", b.Height, "err", err)
			w.cache.InvalidateAll()
			continue
		}
		var id uint64
		switch e := msg.(type) {
		case *tftypes.EventTwinUpdated:
			id = e.TwinId
		case *tftypes.EventTwinCreated:
			id = e.TwinId
		default:
			continue
		}
		w.cache.Invalidate(id)
		w.mu.Lock()
		w.events++
		w.mu.Unlock()
		w.log.Info("twin changed on chain; cache invalidated", "twin", id, "event", ev.Type, "height", b.Height)
	}
	return nil
}
