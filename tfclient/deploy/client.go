package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Config says where the chain and the relays are and whose key acts.
type Config struct {
	GRPC    string // chain gRPC host:port
	RPC     string // CometBFT RPC URL
	ChainID string
	Key     *secp256k1.PrivKey
	// Relays reach the nodes; default: the relays registered on the user's twin.
	Relays []string
	// CallTTL bounds one RMB call: a node that does not answer within it is offline (default 30 s).
	CallTTL time.Duration
}

// Client acts for one twin.
type Client struct {
	Chain *chainclient.Client
	Twin  tftypes.Twin

	cfg  Config
	bc   *chainclient.Broadcaster
	peer *peer.Peer
	stop context.CancelFunc
}

// New connects to the chain and finds the key's twin.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.CallTTL == 0 {
		cfg.CallTTL = 30 * time.Second
	}
	chain, err := chainclient.Dial(cfg.GRPC, cfg.RPC)
	if err != nil {
		return nil, err
	}
	bc, err := chain.NewBroadcaster(cfg.Key, cfg.ChainID)
	if err != nil {
		chain.Close()
		return nil, err
	}
	res, err := chain.Tfgrid.TwinByAccount(ctx, &tftypes.QueryTwinByAccountRequest{Address: bc.Address()})
	if err != nil {
		chain.Close()
		return nil, fmt.Errorf("account %s has no twin (create one: tfgridd tx tfgrid create-twin --relays URL): %w", bc.Address(), err)
	}
	return &Client{Chain: chain, Twin: res.Twin, cfg: cfg, bc: bc}, nil
}

// Close ends the RMB session and the chain connection.
func (c *Client) Close() {
	if c.peer != nil {
		c.stop()
		c.peer.Close()
	}
	c.Chain.Close()
}

// Address is the user's account.
func (c *Client) Address() string { return c.bc.Address() }

// rmbPeer connects to the relays on first use.
func (c *Client) rmbPeer(ctx context.Context) (*peer.Peer, error) {
	if c.peer != nil {
		return c.peer, nil
	}
	relays := c.cfg.Relays
	if len(relays) == 0 {
		relays = c.Twin.Relays
	}
	if len(relays) == 0 {
		return nil, fmt.Errorf("twin %d has no relay registered and none was given: cannot reach nodes over RMB", c.Twin.Id)
	}
	pctx, stop := context.WithCancel(context.Background())
	p, err := peer.New(pctx, c.cfg.Key, c.Twin.Id, relays, peer.Options{
		Lookup: twins.NewChain(c.Chain.Tfgrid), Session: "cli-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	if err != nil {
		stop()
		return nil, fmt.Errorf("connect to relays %v: %w", relays, err)
	}
	c.peer, c.stop = p, stop
	return p, nil
}

// nodeTwin is the twin a node answers RMB as.
func (c *Client) nodeTwin(ctx context.Context, node uint64) (tftypes.Node, error) {
	res, err := c.Chain.Tfgrid.Node(ctx, &tftypes.QueryNodeRequest{Id: node})
	if err != nil {
		return tftypes.Node{}, fmt.Errorf("node %d: %w", node, err)
	}
	return res.Node, nil
}

// call sends one RMB request to a node; no answer within the TTL is "offline".
func (c *Client) call(ctx context.Context, node tftypes.Node, command string, req, resp any) error {
	p, err := c.rmbPeer(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTTL)
	defer cancel()
	err = p.Call(cctx, node.TwinId, command, req, resp)
	var rerr *rmb.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &rerr) && (rerr.Code == rmb.CodeExpired || rerr.Code == rmb.CodeDestinationOffline):
		return fmt.Errorf("node %d (twin %d) did not answer %s within %s: it is offline on RMB", node.Id, node.TwinId, command, c.cfg.CallTTL)
	case rerr != nil && rerr.Code == rmb.CodeHandlerError:
		return fmt.Errorf("node %d refused %s: %s", node.Id, command, rerr.Message)
	case rerr != nil:
		return fmt.Errorf("node %d: %s: %s: %s", node.Id, command, rerr.Code, rerr.Message)
	default:
		return fmt.Errorf("node %d: %s: %w", node.Id, command, err)
	}
}

// contractRequest names a deployment by its contract (zos-agent/api.ContractRequest).
type contractRequest struct {
	ContractID uint64 `json:"contract_id"`
}

// Contract reads a node contract of this twin.
func (c *Client) Contract(ctx context.Context, id uint64) (sctypes.Contract, *sctypes.NodeContract, error) {
	res, err := c.Chain.Contracts.Contract(ctx, &sctypes.QueryContractRequest{Id: id})
	if err != nil {
		return sctypes.Contract{}, nil, fmt.Errorf("contract %d: %w", id, err)
	}
	nc := res.Contract.GetNodeContract()
	if nc == nil {
		return res.Contract, nil, fmt.Errorf("contract %d is not a node contract", id)
	}
	return res.Contract, nc, nil
}

// send broadcasts msgs and names what failed.
func (c *Client) send(ctx context.Context, what string, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	res, err := c.bc.Send(ctx, msgs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// Cancel cancels a contract of this twin; the node tears its deployment down.
func (c *Client) Cancel(ctx context.Context, id uint64) error {
	_, err := c.send(ctx, fmt.Sprintf("cancel contract %d", id), &sctypes.MsgCancelContract{Creator: c.Address(), ContractId: id})
	return err
}

// contractIDFrom reads the id of the contract a tx created from its EventContractCreated.
func contractIDFrom(res *sdk.TxResponse) (uint64, error) {
	for _, ev := range res.Events {
		if ev.Type != "tfgrid.smartcontract.v1.EventContractCreated" {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == "contract_id" {
				return strconv.ParseUint(strings.Trim(a.Value, `"`), 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("tx %s: no contract id in its events", res.TxHash)
}

// Raw is an RMB answer kept as JSON.
type Raw = json.RawMessage
