package chainclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"
)

// Block is one committed block's events, in execution order: those of its successful txs, then
// those of FinalizeBlock (begin/end block work, such as scheduled settlements).
type Block struct {
	Height int64
	Time   time.Time
	Events []abci.Event
}

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
		timer := time.NewTimer(watchdog)
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
			timer.Reset(watchdog)
		}
		timer.Stop()
		closeSub()
	}
	return nil
}

// subscribe opens a fresh websocket subscription to new block headers.
func (f *follower) subscribe(ctx context.Context) (<-chan struct{}, func(), error) {
	noop := func() {}
	ws, err := rpchttp.New(f.c.rpcURL, "/websocket")
	if err != nil {
		return nil, noop, err
	}
	if err := ws.Start(); err != nil {
		return nil, noop, err
	}
	subCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	events, err := ws.Subscribe(subCtx, "tfgrid-chainclient", cmttypes.QueryForEvent(cmttypes.EventNewBlockHeader).String(), 16)
	cancel()
	if err != nil {
		_ = ws.Stop()
		return nil, noop, err
	}
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case _, ok := <-events:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default: // a look is already due; it fetches every height anyway
				}
			}
		}
	}()
	return out, func() {
		close(done)
		_ = ws.UnsubscribeAll(context.Background(), "tfgrid-chainclient")
		_ = ws.Stop()
	}, nil
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
	b.Events = append(b.Events, res.FinalizeBlockEvents...)
	return b, nil
}
