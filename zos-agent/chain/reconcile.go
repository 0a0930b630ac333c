package chain

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/types/query"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// nodeContractsPage is how many contracts one node-contracts query returns.
const nodeContractsPage = 200

// step is what reconciliation does with one local deployment.
type step int

const (
	stepNone step = iota
	stepPause
	stepResume
	stepDelete
	// stepConfirm: the contract is not among the node's live contracts; only a query of the
	// contract itself may confirm that it is gone.
	stepConfirm
)

// workloadStates says which states a deployment's workloads are in.
type workloadStates struct{ running, paused bool }

// statesOf says which states rec's workloads are in for its own contract: a gateway paused for
// its name contract does not count (the name contract's reconciliation resumes it).
func statesOf(rec store.Record) workloadStates {
	var s workloadStates
	for _, wl := range rec.Deployment.Workloads {
		s.running = s.running || wl.Result.State == deployment.StateOk
		s.paused = s.paused || wl.Result.State == deployment.StatePaused && !engine.PausedForName(rec, wl.Name)
	}
	return s
}

// decide is the reconciliation rule for one deployment, given its contract's state when known
// (listed among the node's live contracts, or confirmed by a query of the contract): deleted → torn
// down; in grace → paused; created again → resumed. An unknown state is never a reason to tear down.
func decide(local workloadStates, state sctypes.ContractState, known bool) step {
	switch {
	case !known:
		return stepConfirm
	case state == sctypes.ContractStateDeleted:
		return stepDelete
	case state == sctypes.ContractStateGracePeriod && local.running:
		return stepPause
	case state == sctypes.ContractStateCreated && local.paused:
		return stepResume
	}
	return stepNone
}

// Reconcile compares every local deployment with the node's live contracts on chain (one paginated
// node-contracts listing per round). A deployment whose contract is not listed is torn down only
// when a query of that contract confirms it is deleted; a failed listing or query changes nothing
// until the next round.
func (w *Watcher) Reconcile(ctx context.Context) {
	w.reconcileNames(ctx)
	active, err := w.Engine.Active()
	if err != nil {
		w.Log.Error("reconcile: list deployments", "err", err)
		return
	}
	if len(active) == 0 {
		return
	}
	live, err := w.liveContracts(ctx)
	if err != nil {
		w.Log.Warn("reconcile: node contracts query failed; nothing changes", "err", err)
		return
	}
	for id, rec := range active {
		local := statesOf(rec)
		state, listed := live[id]
		s := decide(local, state, listed)
		if s == stepConfirm {
			var known bool
			if state, known = w.contractState(ctx, id); !known {
				continue
			}
			s = decide(local, state, true)
		}
		if err := w.apply(id, s); err != nil {
			w.Log.Error("reconcile", "contract", id, "err", err)
		}
	}
}

// liveContracts lists the node's live contracts (created or in grace) with their states.
func (w *Watcher) liveContracts(ctx context.Context) (map[uint64]sctypes.ContractState, error) {
	live := map[uint64]sctypes.ContractState{}
	page := &query.PageRequest{Limit: nodeContractsPage}
	for {
		res, err := w.Client.Contracts.NodeContracts(ctx, &sctypes.QueryNodeContractsRequest{NodeId: w.NodeID, Pagination: page})
		if err != nil {
			return nil, fmt.Errorf("node %d contracts: %w", w.NodeID, err)
		}
		for _, c := range res.Contracts {
			live[c.Id] = c.State
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return live, nil
		}
		page = &query.PageRequest{Key: res.Pagination.NextKey, Limit: nodeContractsPage}
	}
}

// contractState queries one contract: a contract the chain does not know is deleted; false when
// the query failed.
func (w *Watcher) contractState(ctx context.Context, id uint64) (sctypes.ContractState, bool) {
	res, err := w.Client.Contracts.Contract(ctx, &sctypes.QueryContractRequest{Id: id})
	switch {
	case status.Code(err) == codes.NotFound:
		return sctypes.ContractStateDeleted, true
	case err != nil:
		w.Log.Warn("reconcile: contract query failed; nothing changes", "contract", id, "err", err)
		return 0, false
	}
	return res.Contract.State, true
}

// nameStep is the reconciliation rule for the gateways serving under one name contract, given the
// contract's confirmed state: gone → revoked; in grace → suspended; created → restored.
func nameStep(use engine.NameUse, state sctypes.ContractState) step {
	switch {
	case state == sctypes.ContractStateDeleted:
		return stepDelete
	case state == sctypes.ContractStateGracePeriod && use.Live:
		return stepPause
	case state == sctypes.ContractStateCreated && use.Suspended:
		return stepResume
	}
	return stepNone
}

// reconcileNames compares the name contracts the node's gateways serve under with their state on
// chain, one query per name contract; a failed query changes nothing.
func (w *Watcher) reconcileNames(ctx context.Context) {
	names, err := w.Engine.NameContracts()
	if err != nil {
		w.Log.Error("reconcile: list name contracts", "err", err)
		return
	}
	for id, use := range names {
		state, known := w.contractState(ctx, id)
		if !known {
			continue
		}
		switch nameStep(use, state) {
		case stepDelete:
			err = w.Engine.RevokeName(id, revokedReason(id, "not active on chain"))
		case stepPause:
			err = w.Engine.SuspendName(id)
		case stepResume:
			err = w.Engine.RestoreName(id)
		}
		if err != nil {
			w.Log.Error("reconcile name contract", "contract", id, "err", err)
		}
	}
}

func (w *Watcher) apply(id uint64, s step) error {
	switch s {
	case stepDelete:
		return w.Engine.Delete(id, "contract not active on chain")
	case stepPause:
		return w.Engine.Pause(id)
	case stepResume:
		return w.Engine.Resume(id)
	}
	return nil
}
