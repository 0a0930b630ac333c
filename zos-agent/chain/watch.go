package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/chainclient"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// Deployments is what the watcher and reporter need of the engine.
type Deployments interface {
	Active() (map[uint64]store.Record, error)
	Allocations() (map[uint64]deployment.Capacity, error)
	Delete(contract uint64, reason string) error
	Pause(contract uint64) error
	Resume(contract uint64) error
	// NameContracts are the name contracts gateway workloads serve under; SuspendName,
	// RestoreName and RevokeName act on those gateways (name contract in grace, back, gone).
	NameContracts() (map[uint64]engine.NameUse, error)
	SuspendName(nameContract uint64) error
	RestoreName(nameContract uint64) error
	RevokeName(nameContract uint64, reason string) error
}

// Watcher follows the contracts of this node's deployments: events of every block from the last
// processed height on, and a periodic reconciliation with each contract's state. It acts only on
// a state the chain confirmed: a failed query never tears anything down.
type Watcher struct {
	Client          *chainclient.Client
	NodeID          uint64
	Store           *store.Store
	Engine          Deployments
	BlockTime       time.Duration
	ReconcilePeriod time.Duration
	Log             *slog.Logger

	lastBlock atomic.Int64 // unix time the last block was handled
}

// Healthy reports whether a block was handled within 5 block times.
func (w *Watcher) Healthy() bool {
	return time.Since(time.Unix(w.lastBlock.Load(), 0)) < 5*w.BlockTime+10*time.Second
}

// Run follows the chain until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	go w.reconcileLoop(ctx)
	for ctx.Err() == nil {
		height, err := w.Store.Height()
		if err != nil {
			w.Log.Error("read processed height", "err", err)
			return
		}
		from := int64(0)
		if height > 0 {
			from = height + 1
		}
		err = w.Client.FollowBlocks(ctx, chainclient.FollowOptions{From: from, BlockTime: w.BlockTime, Log: w.Log}, w.handleBlock)
		if ctx.Err() == nil {
			w.Log.Warn("following the chain stopped; again in a second", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (w *Watcher) handleBlock(b chainclient.Block) error {
	active, err := w.Engine.Active()
	if err != nil {
		return err
	}
	names, err := w.Engine.NameContracts()
	if err != nil {
		return err
	}
	for _, ev := range b.Events {
		msg, err := sdk.ParseTypedEvent(ev)
		if err != nil {
			continue
		}
		// named: a name contract the node's gateways serve under (contract ids are unique across
		// kinds, so a node contract is never one)
		_, named := names[contractOf(msg)]
		switch e := msg.(type) {
		case *sctypes.EventContractCanceled:
			if _, ok := active[e.ContractId]; ok && e.NodeId == w.NodeID {
				err = w.Engine.Delete(e.ContractId, "contract canceled on chain: "+e.Cause.String())
			}
			if named {
				err = errors.Join(err, w.Engine.RevokeName(e.ContractId, revokedReason(e.ContractId, e.Cause.String())))
			}
		case *sctypes.EventContractGracePeriodStarted:
			if _, ok := active[e.ContractId]; ok && e.NodeId == w.NodeID {
				err = w.Engine.Pause(e.ContractId)
			}
			if named {
				err = errors.Join(err, w.Engine.SuspendName(e.ContractId))
			}
		case *sctypes.EventContractGracePeriodEnded:
			if _, ok := active[e.ContractId]; ok && e.NodeId == w.NodeID {
				err = w.Engine.Resume(e.ContractId)
			}
			if named {
				err = errors.Join(err, w.Engine.RestoreName(e.ContractId))
			}
		}
		if err != nil {
			return err
		}
	}
	w.lastBlock.Store(time.Now().Unix())
	return w.Store.SetHeight(b.Height)
}

// contractOf is the contract an event of a contract's state names (0 for other events).
func contractOf(msg any) uint64 {
	switch e := msg.(type) {
	case *sctypes.EventContractCanceled:
		return e.ContractId
	case *sctypes.EventContractGracePeriodStarted:
		return e.ContractId
	case *sctypes.EventContractGracePeriodEnded:
		return e.ContractId
	}
	return 0
}

// revokedReason is the result message of a gateway whose name contract is gone.
func revokedReason(nameContract uint64, cause string) string {
	return fmt.Sprintf("name contract %d canceled on chain (%s): the name is no longer served", nameContract, cause)
}

func (w *Watcher) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(w.ReconcilePeriod)
	defer t.Stop()
	for {
		w.Reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
