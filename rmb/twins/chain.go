// Package twins finds twins on the tfgrid chain for RMB: Chain queries x/tfgrid over gRPC, Cache keeps
// answers in memory, and Watcher invalidates the cache from the chain's twin events (a CometBFT
// websocket subscription that reconnects by itself). Connect wires the three.
package twins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/tfgrid/tfgrid/rmb"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Chain looks twins up with the gRPC query tfgrid.tfgrid.v1.Query/Twin.
type Chain struct {
	conn    *grpc.ClientConn
	q       tftypes.QueryClient
	timeout time.Duration
}

// DialChain connects to a node's gRPC endpoint (host:port, plaintext).
func DialChain(grpcAddr string) (*Chain, error) {
	if grpcAddr == "" {
		return nil, errors.New("chain gRPC address is empty")
	}
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	conn, err := grpc.NewClient(grpcAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(cdc.GRPCCodec())))
	if err != nil {
		return nil, fmt.Errorf("chain gRPC %s: %w", grpcAddr, err)
	}
	return &Chain{conn: conn, q: tftypes.NewQueryClient(conn), timeout: 10 * time.Second}, nil
}

// Close closes the gRPC connection.
func (c *Chain) Close() error { return c.conn.Close() }

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
	chain, err := DialChain(grpcAddr)
	if err != nil {
		return nil, err
	}
	cache := NewCache(chain, opts.TTL)
	w, err := NewWatcher(rpcURL, cache, opts.Logger)
	if err != nil {
		chain.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Lookup{Cache: cache, chain: chain, watcher: w, cancel: cancel, done: make(chan struct{})}
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
	return l.chain.Close()
}
