package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/chainclient"
)

// Node is the load generator's connection to one node: gRPC for accounts and
// broadcasts, CometBFT RPC for blocks, results and the mempool.
type Node struct{ *chainclient.Client }

// Dial connects to the node's gRPC server (host:port) and CometBFT RPC
// (http://host:port). conns is the number of parallel HTTP connections the RPC
// client keeps (one per broadcasting worker).
func Dial(grpcAddr, rpcAddr string, conns int) (*Node, error) {
	c, err := chainclient.Dial(grpcAddr, rpcAddr, chainclient.WithRPCConnections(conns))
	if err != nil {
		return nil, err
	}
	return &Node{c}, nil
}

// WaitHeight waits until the node has committed block h.
func (n *Node) WaitHeight(ctx context.Context, h int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		st, err := n.RPC.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return st.SyncInfo.LatestBlockHeight, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("node did not reach height %d within %s (last error: %v)", h, timeout, lastErr)
}

// LatestHeight returns the node's last committed height.
func (n *Node) LatestHeight(ctx context.Context) (int64, error) {
	st, err := n.RPC.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

// RefreshAccounts reads the account number and sequence of every account
// over gRPC (cosmos.auth.v1beta1.Query/AccountInfo), with workers queries in
// flight.
func (n *Node) RefreshAccounts(ctx context.Context, accs []*Account, workers int) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan *Account)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for acc := range next {
				var (
					res *authtypes.QueryAccountInfoResponse
					err error
				)
				for try := range 5 { // a node under load may be slow to answer; a missing account is not retried
					res, err = n.Auth.AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: acc.Bech32})
					if err == nil || status.Code(err) == codes.NotFound || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
				}
				if err == nil && res.Info == nil {
					err = fmt.Errorf("no account info")
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("account %d (%s): %w", acc.Index, acc.Bech32, err)
					}
					mu.Unlock()
					continue
				}
				acc.AccountNumber, acc.Sequence = res.Info.AccountNumber, res.Info.Sequence
			}
		}()
	}
	for _, acc := range accs {
		next <- acc
	}
	close(next)
	wg.Wait()
	return firstErr
}
