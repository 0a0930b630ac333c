package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Node is the load generator's connection to one node: gRPC for accounts and
// broadcasts, CometBFT RPC for blocks, results and the mempool.
type Node struct {
	conn     *grpc.ClientConn
	Auth     authtypes.QueryClient
	Tx       txtypes.ServiceClient
	Registry tfgridtypes.QueryClient
	RPC      *rpchttp.HTTP
}

// Dial connects to the node's gRPC server (host:port) and CometBFT RPC
// (http://host:port). conns is the number of parallel HTTP connections the RPC
// client keeps (one per broadcasting worker).
func Dial(grpcAddr, rpcAddr string, ir codectypes.InterfaceRegistry, conns int) (*Node, error) {
	conn, err := grpc.NewClient(grpcAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(ir).GRPCCodec())),
	)
	if err != nil {
		return nil, fmt.Errorf("grpc %s: %w", grpcAddr, err)
	}
	hc := &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns + 8,
			MaxIdleConnsPerHost: conns + 8,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	rpc, err := rpchttp.NewWithClient(rpcAddr, "/websocket", hc)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rpc %s: %w", rpcAddr, err)
	}
	return &Node{conn: conn, Auth: authtypes.NewQueryClient(conn), Tx: txtypes.NewServiceClient(conn),
		Registry: tfgridtypes.NewQueryClient(conn), RPC: rpc}, nil
}

// Close closes the gRPC connection.
func (n *Node) Close() error { return n.conn.Close() }

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
