package chainclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/gorilla/websocket"
)

// Block is one committed block's events, in execution order: those of its successful txs, then
// those of FinalizeBlock (begin/end block work, such as scheduled settlements).
type Block struct {
	Height int64
	Time   time.Time
	Events []abci.Event
}

// retrySubscribe is how soon a failed subscription is tried again.
const retrySubscribe = 2 * time.Second

// FollowOptions tunes FollowBlocks.
type FollowOptions struct {
	// From is the first height to deliver (the last processed height + 1). 0: the next new block.
	From int64
	// BlockTime is the chain's expected block interval; without a new block in 3× it, the
	// subscription is renewed (default 6 s).
	BlockTime time.Duration
	Log       *slog.Logger
	// OnError is told of every failure the follower recovers from (for metrics); may be nil.
	OnError func(error)
	// OnSubscribed is called each time a new-block subscription is in place and the blocks before
	// it are handled; may be nil.
	OnSubscribed func()
}

// FollowBlocks calls handle for every committed block from opts.From on, in height order, until ctx
// ends or handle fails. A websocket subscription to new blocks tells it when to look; a watchdog
// renews the subscription when no block came for 3× the block time; and every look fetches all
// heights since the last one handled, so nothing a dropped connection missed is skipped. A block
// whose handling fails is not skipped: FollowBlocks returns handle's error.
func (c *Client) FollowBlocks(ctx context.Context, opts FollowOptions, handle func(Block) error) error {
	if opts.BlockTime <= 0 {
		opts.BlockTime = 6 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	f := &follower{c: c, opts: opts, next: opts.From, handle: handle}
	return f.run(ctx)
}

type follower struct {
	c      *Client
	opts   FollowOptions
	next   int64
	handle func(Block) error
}

func (f *follower) report(err error) {
	f.opts.Log.Warn("chain follower", "err", err)
	if f.opts.OnError != nil {
		f.opts.OnError(err)
	}
}

func (f *follower) run(ctx context.Context) error {
	watchdog := 3 * f.opts.BlockTime
	for ctx.Err() == nil {
		newBlocks, closeSub, err := f.subscribe(ctx)
		if err != nil {
			f.report(fmt.Errorf("subscribe to new blocks: %w", err))
			newBlocks = nil // poll at the watchdog's pace until the next try
		}
		if err := f.catchUp(ctx); err != nil {
			closeSub()
			return err
		}
		if newBlocks != nil && f.opts.OnSubscribed != nil {
			f.opts.OnSubscribed()
		}
		wait := watchdog
		if newBlocks == nil {
			wait = min(watchdog, retrySubscribe) // no subscription: try again soon
		}
		timer := time.NewTimer(wait)
	listen:
		for {
			select {
			case <-ctx.Done():
				break listen
			case _, ok := <-newBlocks:
				if !ok {
					f.report(errors.New("new-block subscription closed"))
					break listen
				}
			case <-timer.C:
				if newBlocks != nil {
					f.report(fmt.Errorf("no new block in %s: renewing the subscription", watchdog))
				}
				break listen
			}
			if err := f.catchUp(ctx); err != nil {
				timer.Stop()
				closeSub()
				return err
			}
			timer.Reset(wait)
		}
		timer.Stop()
		closeSub()
	}
	return nil
}

// subscribe opens a fresh websocket subscription to new block headers. The channel gets a value per
// block (coalesced while a look is due) and is closed when the connection fails; the returned func
// closes the connection.
func (f *follower) subscribe(ctx context.Context) (<-chan struct{}, func(), error) {
	wsURL := "ws" + strings.TrimPrefix(f.c.rpcURL, "http") + "/websocket"
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ws, _, err := websocket.DefaultDialer.DialContext(dctx, wsURL, nil)
	cancel()
	if err != nil {
		return nil, func() {}, err
	}
	req := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "subscribe",
		"params": map[string]any{"query": cmttypes.QueryForEvent(cmttypes.EventNewBlockHeader).String()}}
	if err := ws.WriteJSON(req); err != nil {
		ws.Close()
		return nil, func() {}, err
	}
	var confirm struct {
		Error *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.ReadJSON(&confirm); err != nil {
		ws.Close()
		return nil, func() {}, err
	}
	if confirm.Error != nil {
		ws.Close()
		return nil, func() {}, fmt.Errorf("%s %s", confirm.Error.Message, confirm.Error.Data)
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		for {
			// The watchdog, not a read deadline, decides when a quiet connection is dead.
			_ = ws.SetReadDeadline(time.Time{})
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
			select {
			case out <- struct{}{}:
			default: // a look is already due; it fetches every height anyway
			}
		}
	}()
	return out, func() { ws.Close() }, nil
}

// catchUp handles every height from f.next to the node's latest. Chain errors are reported and
// left for the next look; only handle's errors stop the follower.
func (f *follower) catchUp(ctx context.Context) error {
	st, err := f.c.RPC.Status(ctx)
	if err != nil {
		f.report(fmt.Errorf("chain status: %w", err))
		return nil
	}
	latest := st.SyncInfo.LatestBlockHeight
	if f.next == 0 {
		f.next = latest + 1
	}
	if f.next < st.SyncInfo.EarliestBlockHeight {
		f.report(fmt.Errorf("heights %d..%d are pruned on this node: continuing at %d", f.next, st.SyncInfo.EarliestBlockHeight-1, st.SyncInfo.EarliestBlockHeight))
		f.next = st.SyncInfo.EarliestBlockHeight
	}
	for ; f.next <= latest && ctx.Err() == nil; f.next++ {
		b, err := f.c.BlockEvents(ctx, f.next)
		if err != nil {
			f.report(err)
			return nil
		}
		if err := f.handle(b); err != nil {
			return fmt.Errorf("block %d: %w", b.Height, err)
		}
	}
	return nil
}

// BlockEvents reads one committed block's time and events.
func (c *Client) BlockEvents(ctx context.Context, height int64) (Block, error) {
	h := height
	blk, err := c.RPC.Block(ctx, &h)
	if err != nil {
		return Block{}, fmt.Errorf("block %d: %w", height, err)
	}
	res, err := c.RPC.BlockResults(ctx, &h)
	if err != nil {
		return Block{}, fmt.Errorf("block %d results: %w", height, err)
	}
	b := Block{Height: height, Time: blk.Block.Time}
	for _, tx := range res.TxsResults {
		if tx.Code == 0 {
			b.Events = append(b.Events, tx.Events...)
		}
	}
	for _, ev := range res.FinalizeBlockEvents {
		b.Events = append(b.Events, withoutMode(ev))
	}
	return b, nil
}

// withoutMode drops the "mode" attribute (BeginBlock/EndBlock) that the SDK adds to FinalizeBlock's
// events: its value is not JSON, so sdk.ParseTypedEvent would refuse every typed event of a block's
// own work (scheduled settlements, grace, out-of-funds deletions).
func withoutMode(ev abci.Event) abci.Event {
	attrs := make([]abci.EventAttribute, 0, len(ev.Attributes))
	for _, a := range ev.Attributes {
		if a.Key != "mode" {
			attrs = append(attrs, a)
		}
	}
	ev.Attributes = attrs
	return ev
}
