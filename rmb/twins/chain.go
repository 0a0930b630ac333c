// Package twins finds twins on the tfgrid chain for RMB: Chain queries x/tfgrid over gRPC, Cache keeps
// answers in memory, and Watcher invalidates the cache from the chain's twin events (chainclient's
// block follower: it reconnects and backfills by itself). Connect wires the three.
package twins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/rmb"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Chain looks twins up with the gRPC query tfgrid.tfgrid.v1.Query/Twin.
type Chain struct {
	q       tftypes.QueryClient
	timeout time.Duration
}

// NewChain looks twins up through q.
func NewChain(q tftypes.QueryClient) *Chain { return &Chain{q: q, timeout: 10 * time.Second} }

// Twin implements rmb.TwinLookup.
func (c *Chain) Twin(ctx context.Context, id uint64) (rmb.Twin, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.q.Twin(ctx, &tftypes.QueryTwinRequest{Id: id})
	if err != nil {
		if status.Code(err) == codes.NotFound || strings.Contains(err.Error(), "twin not found") {
			return rmb.Twin{}, fmt.Errorf("twin %d: %w", id, rmb.ErrUnknownTwin)
		}
		return rmb.Twin{}, fmt.Errorf("query twin %d: %w", id, err)
	}
	t := res.Twin
	tw, err := rmb.NewTwin(t.Id, t.Pubkey, t.Relays, t.E2EKey)
	if err != nil {
		return rmb.Twin{}, fmt.Errorf("chain returned a bad twin: %w", err)
	}
	return tw, nil
}

// Reachable tells whether the chain answers a twin query now (twin 0 never exists: "not found" is
// an answer). Relays report it on /healthz.
func (c *Chain) Reachable(ctx context.Context) error {
	_, err := c.Twin(ctx, 0)
	if err == nil || errors.Is(err, rmb.ErrUnknownTwin) {
		return nil
	}
	return err
}

// Lookup is a cached chain lookup kept fresh by chain events. Close it when done.
type Lookup struct {
	*Cache
	chain   *Chain
	client  *chainclient.Client
	watcher *Watcher
	cancel  context.CancelFunc
	done    chan struct{}
}

// Options of Connect.
type Options struct {
	TTL    time.Duration // cache TTL, a safety net behind event invalidation (default 10 min)
	Logger *slog.Logger
}

// Connect dials the chain's gRPC (host:port) and starts a watcher on its CometBFT RPC
// (http://host:port or ws://host:port), returning the cached lookup.
func Connect(ctx context.Context, grpcAddr, rpcURL string, opts Options) (*Lookup, error) {
	client, err := chainclient.Dial(grpcAddr, rpcURL)
	if err != nil {
		return nil, err
	}
	chain := NewChain(client.Tfgrid)
	cache := NewCache(chain, opts.TTL)
	w := NewWatcher(client, cache, opts.Logger)
	ctx, cancel := context.WithCancel(ctx)
	l := &Lookup{Cache: cache, chain: chain, client: client, watcher: w, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(l.done); w.Run(ctx) }()
	return l, nil
}

// Reachable tells whether the chain's gRPC answers now (Chain.Reachable, never cached).
func (l *Lookup) Reachable(ctx context.Context) error { return l.chain.Reachable(ctx) }

// Watcher returns the event watcher (tests wait on its subscription).
func (l *Lookup) Watcher() *Watcher { return l.watcher }

// Close stops the watcher and closes the gRPC connection.
func (l *Lookup) Close() error {
	l.cancel()
	<-l.done
	return l.client.Close()
}
