package chainclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/codec"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Client is a connection to one node: gRPC for queries and broadcasts, CometBFT RPC for blocks.
type Client struct {
	Codec *Codec

	Tfgrid    tftypes.QueryClient
	Contracts sctypes.QueryClient
	Billing   billingtypes.QueryClient
	Auth      authtypes.QueryClient
	Bank      banktypes.QueryClient
	Tx        txtypes.ServiceClient
	RPC       *rpchttp.HTTP

	conn   *grpc.ClientConn
	rpcURL string
}

// Option tunes Dial.
type Option func(*dialOptions)

type dialOptions struct{ rpcConns int }

// WithRPCConnections keeps up to n idle HTTP connections to the CometBFT RPC (for n callers at once).
func WithRPCConnections(n int) Option { return func(o *dialOptions) { o.rpcConns = n } }

// Dial connects to a node's gRPC server (host:port) and CometBFT RPC (http://host:port or
// tcp://host:port). Nothing is sent until the first call: a node that is down now is retried by
// every call.
func Dial(grpcAddr, rpcURL string, opts ...Option) (*Client, error) {
	var o dialOptions
	for _, opt := range opts {
		opt(&o)
	}
	cdc, err := NewCodec()
	if err != nil {
		return nil, err
	}
	if grpcAddr == "" || strings.Contains(grpcAddr, "://") {
		return nil, fmt.Errorf("chain gRPC address %q: want host:port", grpcAddr)
	}
	httpURL, err := normalizeRPC(rpcURL)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(grpcAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(cdc.Registry).GRPCCodec())),
	)
	if err != nil {
		return nil, fmt.Errorf("chain gRPC %s: %w", grpcAddr, err)
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: o.rpcConns + 8, MaxIdleConnsPerHost: o.rpcConns + 8, IdleConnTimeout: 90 * time.Second,
	}}
	rpc, err := rpchttp.NewWithClient(httpURL, "/websocket", hc)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("chain RPC %s: %w", rpcURL, err)
	}
	return &Client{
		Codec:     cdc,
		Tfgrid:    tftypes.NewQueryClient(conn),
		Contracts: sctypes.NewQueryClient(conn),
		Billing:   billingtypes.NewQueryClient(conn),
		Auth:      authtypes.NewQueryClient(conn),
		Bank:      banktypes.NewQueryClient(conn),
		Tx:        txtypes.NewServiceClient(conn),
		RPC:       rpc,
		conn:      conn,
		rpcURL:    httpURL,
	}, nil
}

// Close closes the gRPC connection.
func (c *Client) Close() error { return c.conn.Close() }

// RPCURL is the node's CometBFT RPC as http://host:port.
func (c *Client) RPCURL() string { return c.rpcURL }

// normalizeRPC turns tcp://, http://, https://, ws:// and wss:// RPC URLs into http(s)://host:port.
func normalizeRPC(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("chain RPC URL %q: want http://host:port", raw)
	}
	switch u.Scheme {
	case "http", "tcp", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("chain RPC URL %q: scheme must be http, https, tcp, ws or wss", raw)
	}
	u.Path = ""
	return u.String(), nil
}
