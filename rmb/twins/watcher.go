package twins

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/gorilla/websocket"

	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// The subscriptions of a Watcher: transactions that created or updated a twin.
var watchQueries = []string{
	"tm.event='Tx' AND tfgrid.tfgrid.v1.EventTwinUpdated.twin_id EXISTS",
	"tm.event='Tx' AND tfgrid.tfgrid.v1.EventTwinCreated.twin_id EXISTS",
}

// Watcher subscribes to a node's CometBFT websocket (/websocket) and invalidates the cache for every
// twin created or updated on chain (typed events decoded with sdk.ParseTypedEvent). When the
// connection drops it reconnects with backoff and, having possibly missed events, clears the cache.
type Watcher struct {
	wsURL string
	cache interface {
		Invalidate(id uint64)
		InvalidateAll()
	}
	log *slog.Logger

	mu          sync.Mutex
	subscribed  chan struct{} // closed when the current connection's subscriptions are confirmed
	connections int
	events      uint64
}

// NewWatcher watches the node at rpcURL (http://host:port, https://, ws:// or wss://).
func NewWatcher(rpcURL string, cache *Cache, log *slog.Logger) (*Watcher, error) {
	u, err := url.Parse(rpcURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("chain RPC URL %q: want http://host:port", rpcURL)
	}
	switch u.Scheme {
	case "http", "tcp":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("chain RPC URL %q: scheme must be http, https, ws or wss", rpcURL)
	}
	u.Path = "/websocket"
	if log == nil {
		log = slog.Default()
	}
	return &Watcher{wsURL: u.String(), cache: cache, log: log.With("component", "twin-watcher"), subscribed: make(chan struct{})}, nil
}

// Subscribed returns a channel closed once the watcher's current connection is subscribed.
func (w *Watcher) Subscribed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.subscribed
}

// Stats returns how many connections were made and how many twin events were seen.
func (w *Watcher) Stats() (connections int, events uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connections, w.events
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > 30*time.Second {
			backoff = 500 * time.Millisecond
		}
		w.log.Warn("chain event subscription lost; reconnecting", "url", w.wsURL, "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    string `json:"data"`
	} `json:"error"`
}

type txEventResult struct {
	Data struct {
		Type  string `json:"type"`
		Value struct {
			TxResult struct {
				Height string `json:"height"`
				Result struct {
					Code   uint32       `json:"code"`
					Events []abci.Event `json:"events"`
				} `json:"result"`
			} `json:"TxResult"`
		} `json:"value"`
	} `json:"data"`
}

// session runs one connection: subscribe, then invalidate on every event until the connection fails.
func (w *Watcher) session(ctx context.Context) error {
	w.resetSubscribed()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ws, _, err := websocket.DefaultDialer.DialContext(dctx, w.wsURL, nil)
	cancel()
	if err != nil {
		return err
	}
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	defer stop()
	const readWait = 90 * time.Second // CometBFT pings every ~27 s
	_ = ws.SetReadDeadline(time.Now().Add(readWait))
	ws.SetPingHandler(func(data string) error {
		_ = ws.SetReadDeadline(time.Now().Add(readWait))
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	for i, q := range watchQueries {
		req := map[string]any{"jsonrpc": "2.0", "id": i + 1, "method": "subscribe", "params": map[string]any{"query": q}}
		if err := ws.WriteJSON(req); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	confirmed := 0
	for {
		var resp rpcResponse
		if err := ws.ReadJSON(&resp); err != nil {
			return err
		}
		_ = ws.SetReadDeadline(time.Now().Add(readWait))
		if resp.Error != nil {
			return fmt.Errorf("subscription error %d: %s %s", resp.Error.Code, resp.Error.Message, resp.Error.Data)
		}
		var res txEventResult
		if len(resp.Result) == 0 || json.Unmarshal(resp.Result, &res) != nil || res.Data.Type == "" {
			// a subscription confirmation ({} result)
			confirmed++
			if confirmed == len(watchQueries) {
				// Events may have been missed while disconnected: forget everything, then announce.
				w.cache.InvalidateAll()
				w.mu.Lock()
				w.connections++
				close(w.subscribed)
				w.mu.Unlock()
				w.log.Info("subscribed to chain twin events", "url", w.wsURL)
			}
			continue
		}
		for _, ev := range res.Data.Value.TxResult.Result.Events {
			w.handle(ev, res.Data.Value.TxResult.Height)
		}
	}
}

func (w *Watcher) handle(ev abci.Event, height string) {
	if ev.Type != "tfgrid.tfgrid.v1.EventTwinUpdated" && ev.Type != "tfgrid.tfgrid.v1.EventTwinCreated" {
		return
	}
	msg, err := sdk.ParseTypedEvent(ev)
	if err != nil {
		w.log.Warn("cannot decode a twin event; clearing the cache", "type", ev.Type, "err", err)
		w.cache.InvalidateAll()
		return
	}
	var id uint64
	switch e := msg.(type) {
	case *tftypes.EventTwinUpdated:
		id = e.TwinId
	case *tftypes.EventTwinCreated:
		id = e.TwinId
	default:
		return
	}
	w.cache.Invalidate(id)
	w.mu.Lock()
	w.events++
	w.mu.Unlock()
	w.log.Info("twin changed on chain; cache invalidated", "twin", id, "event", ev.Type, "height", height)
}

// resetSubscribed prepares the channel for the next connection.
func (w *Watcher) resetSubscribed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.subscribed:
		w.subscribed = make(chan struct{})
	default:
	}
}
