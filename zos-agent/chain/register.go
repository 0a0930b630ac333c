package chain

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tfgrid/tfgrid/chainclient"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
)

// Identity is who the node is on chain.
type Identity struct {
	TwinID uint64
	NodeID uint64
	// NodeCreated is when the node was registered: the chain takes no uptime longer than the node's age.
	NodeCreated time.Time
}

// Registration is what the node registers.
type Registration struct {
	Relays    []string
	E2EKey    []byte // 33-byte compressed public key
	FarmID    uint64
	Resources capacity.Resources
	// LinkRate bounds the network use the node may report, in bytes per second.
	LinkRate uint64
	Location tftypes.Location
}

// Register makes sure the node's twin (relays, e2e key) and node (farm, capacity, location) are on
// chain as given: created when missing, updated when they differ, left alone otherwise.
func Register(ctx context.Context, c *chainclient.Client, b *chainclient.Broadcaster, r Registration) (Identity, error) {
	twin, err := ensureTwin(ctx, c, b, r)
	if err != nil {
		return Identity{}, err
	}
	node, err := ensureNode(ctx, c, b, twin, r)
	if err != nil {
		return Identity{}, err
	}
	return Identity{TwinID: twin, NodeID: node.Id, NodeCreated: time.Unix(node.Created, 0)}, nil
}

func ensureTwin(ctx context.Context, c *chainclient.Client, b *chainclient.Broadcaster, r Registration) (uint64, error) {
	res, err := c.Tfgrid.TwinByAccount(ctx, &tftypes.QueryTwinByAccountRequest{Address: b.Address()})
	switch {
	case status.Code(err) == codes.NotFound:
		if _, err := b.Send(ctx, &tftypes.MsgCreateTwin{Creator: b.Address(), Relays: r.Relays, E2EKey: r.E2EKey}); err != nil {
			return 0, fmt.Errorf("create the node's twin: %w", err)
		}
		res, err = c.Tfgrid.TwinByAccount(ctx, &tftypes.QueryTwinByAccountRequest{Address: b.Address()})
		if err != nil {
			return 0, fmt.Errorf("read the node's new twin: %w", err)
		}
		return res.Twin.Id, nil
	case err != nil:
		return 0, fmt.Errorf("query the node's twin (account %s): %w", b.Address(), err)
	}
	if !slices.Equal(res.Twin.Relays, r.Relays) || !bytes.Equal(res.Twin.E2EKey, r.E2EKey) {
		if _, err := b.Send(ctx, &tftypes.MsgUpdateTwin{Creator: b.Address(), Relays: r.Relays, E2EKey: r.E2EKey}); err != nil {
			return 0, fmt.Errorf("update twin %d: %w", res.Twin.Id, err)
		}
	}
	return res.Twin.Id, nil
}

func ensureNode(ctx context.Context, c *chainclient.Client, b *chainclient.Broadcaster, twin uint64, r Registration) (tftypes.Node, error) {
	resources := tftypes.Resources{Cru: r.Resources.CRU, Mru: r.Resources.MRU, Sru: r.Resources.SRU, Hru: r.Resources.HRU}
	res, err := c.Tfgrid.NodeByTwin(ctx, &tftypes.QueryNodeByTwinRequest{TwinId: twin})
	switch {
	case status.Code(err) == codes.NotFound:
		create := &tftypes.MsgCreateNode{Creator: b.Address(), FarmId: r.FarmID, Resources: resources, Location: r.Location, LinkRate: r.LinkRate}
		if _, err := b.Send(ctx, create); err != nil {
			return tftypes.Node{}, fmt.Errorf("create the node in farm %d: %w", r.FarmID, err)
		}
		res, err = c.Tfgrid.NodeByTwin(ctx, &tftypes.QueryNodeByTwinRequest{TwinId: twin})
		if err != nil {
			return tftypes.Node{}, fmt.Errorf("read the new node of twin %d: %w", twin, err)
		}
		return res.Node, nil
	case err != nil:
		return tftypes.Node{}, fmt.Errorf("query the node of twin %d: %w", twin, err)
	}
	n := res.Node
	if n.FarmId != r.FarmID || n.Resources != resources || n.Location != r.Location || n.LinkRate != r.LinkRate {
		msg := &tftypes.MsgUpdateNode{Creator: b.Address(), NodeId: n.Id, FarmId: r.FarmID, Resources: resources,
			Location: r.Location, Interfaces: n.Interfaces, SecureBoot: n.SecureBoot, Virtualized: n.Virtualized,
			SerialNumber: n.SerialNumber, LinkRate: r.LinkRate}
		if _, err := b.Send(ctx, msg); err != nil {
			return tftypes.Node{}, fmt.Errorf("update node %d: %w", n.Id, err)
		}
	}
	return n, nil
}

// ReportUptime sends the node's uptime, counted from since, every period until ctx ends; a failed
// report is logged and the next period tries again.
func ReportUptime(ctx context.Context, b *chainclient.Broadcaster, period time.Duration, since time.Time, log *slog.Logger) {
	send := func() {
		now := time.Now()
		msg := &tftypes.MsgReportUptime{Creator: b.Address(), Uptime: uint64(now.Sub(since).Seconds()), TimestampHint: now.Unix()}
		if _, err := b.Send(ctx, msg); err != nil && ctx.Err() == nil {
			log.Warn("uptime report failed", "err", err)
		}
	}
	send()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			send()
		}
	}
}
