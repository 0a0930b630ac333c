package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// accountKey exports acc's private key from the chain's test keyring.
func (c *chain) accountKey(acc string) *secp256k1.PrivKey {
	c.t.Helper()
	out := c.mustRun("keys", "export", acc, "--unarmored-hex", "--unsafe", "--yes", "--keyring-backend", "test", "--home", c.home)
	var priv secp256k1.PrivKey
	_, err := fmt.Sscanf(strings.TrimSpace(string(out)), "%x", &priv.Key)
	require.NoError(c.t, err)
	return &priv
}

// blockLog collects the typed twin events a follower delivers.
type blockLog struct {
	mu      sync.Mutex
	heights []int64
	twins   map[uint64]int64 // twin id -> height of its EventTwinCreated
}

func (l *blockLog) add(b chainclient.Block) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.heights = append(l.heights, b.Height)
	for _, ev := range b.Events {
		msg, err := sdk.ParseTypedEvent(ev)
		if err != nil {
			continue // not a typed event
		}
		if created, ok := msg.(*types.EventTwinCreated); ok {
			l.twins[created.TwinId] = b.Height
		}
	}
	return nil
}

func (l *blockLog) twinHeight(id uint64) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.twins[id]
	return h, ok
}

// TestChainClient drives chainclient against a real node: serial broadcasts that survive another
// program using the same key, refusals as errors, and a block follower that delivers every height
// in order, across a node restart.
func TestChainClient(t *testing.T) {
	c := newChain(t, "chainclient")
	c.start(1)

	cl, err := chainclient.Dial(c.grpc, c.rpc)
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	log := &blockLog{twins: map[uint64]int64{}}
	followed := make(chan error, 1)
	followCtx, stopFollow := context.WithCancel(ctx)
	go func() {
		followed <- cl.FollowBlocks(followCtx, chainclient.FollowOptions{From: 1, BlockTime: 300 * time.Millisecond}, log.add)
	}()

	b, err := cl.NewBroadcaster(c.accountKey("alice"), chainID)
	require.NoError(t, err)
	require.Equal(t, c.addrs["alice"], b.Address())
	res, err := b.Send(ctx, &types.MsgCreateTwin{Creator: b.Address(), Relays: []string{"ws://127.0.0.1:8080"}})
	require.NoError(t, err)
	require.NotZero(t, res.Height)
	twin, err := cl.Tfgrid.TwinByAccount(ctx, &types.QueryTwinByAccountRequest{Address: b.Address()})
	require.NoError(t, err)

	// Another program uses alice's key: the broadcaster's sequence is stale, it resyncs and retries.
	c.mustSendTx("alice", nil, "bank", "send", "alice", c.addrs["bob"], "1utft")
	_, err = b.Send(ctx, &types.MsgUpdateTwin{Creator: b.Address(), Relays: []string{"ws://127.0.0.1:8081"}})
	require.NoError(t, err)

	// A refused message is an error naming the chain's reason.
	_, err = b.Send(ctx, &types.MsgCreateTwin{Creator: b.Address()})
	require.ErrorContains(t, err, "twin already exists")
	var refused *chainclient.TxError
	require.ErrorAs(t, err, &refused, "the chain's refusal, not a failure to reach it")
	require.True(t, refused.Simulated)

	// The follower saw the twin's creation at its block.
	require.Eventually(t, func() bool { h, ok := log.twinHeight(twin.Twin.Id); return ok && h == res.Height },
		10*time.Second, 50*time.Millisecond, "follower did not deliver EventTwinCreated of twin %d at height %d", twin.Twin.Id, res.Height)

	// The node goes away for a while: the follower waits, then backfills from where it was.
	c.stop()
	time.Sleep(2 * time.Second)
	c.start(1)
	b2, err := cl.NewBroadcaster(c.accountKey("bob"), chainID)
	require.NoError(t, err)
	res2, err := b2.Send(ctx, &types.MsgCreateTwin{Creator: b2.Address()})
	require.NoError(t, err)
	bobTwin, err := cl.Tfgrid.TwinByAccount(ctx, &types.QueryTwinByAccountRequest{Address: b2.Address()})
	require.NoError(t, err)
	require.Eventually(t, func() bool { h, ok := log.twinHeight(bobTwin.Twin.Id); return ok && h == res2.Height },
		30*time.Second, 100*time.Millisecond, "follower did not resume after the node restarted")

	stopFollow()
	require.NoError(t, <-followed)
	log.mu.Lock()
	defer log.mu.Unlock()
	for i, h := range log.heights {
		require.Equal(t, int64(i+1), h, "heights delivered in order, none skipped or repeated")
	}
}
