// Package api serves the node's RMB commands: zos.deployment.deploy, update, get, list, changes
// and delete (refused), zos.statistics.get, zos.system.version and zos.network.list_wg_ports,
// list_private_ips, list_public_ips and public_config_get. Deploy and update answer only
// after every check, and a refusal stores nothing.
package api

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// ContractChecker checks a deployment against its contract on chain.
type ContractChecker interface {
	// Check returns what the chain grants the deployment: the public IPs its contract holds, the
	// name contracts its gateways serve under.
	Check(ctx context.Context, doc *deployment.Document) (engine.Grant, error)
}

// API holds what the handlers need.
type API struct {
	Engine   *engine.Engine
	Store    *store.Store
	Checker  ContractChecker
	Backends backend.Report
	Network  Network
	Version  string
}

// ErrDeleteDisabled: deployments end when their contract does.
var ErrDeleteDisabled = errors.New("deletion over RMB is disabled: cancel the contract instead")

// Handlers are the RMB commands by name.
func (a *API) Handlers() map[string]peer.Handler {
	handlers := map[string]peer.Handler{
		"zos.deployment.deploy":  a.deploy,
		"zos.deployment.update":  a.update,
		"zos.deployment.get":     a.get,
		"zos.deployment.list":    a.list,
		"zos.deployment.changes": a.changes,
		"zos.deployment.delete": func(context.Context, *peer.Request) (any, error) {
			return nil, ErrDeleteDisabled
		},
		"zos.statistics.get": a.statistics,
		"zos.system.version": func(context.Context, *peer.Request) (any, error) {
			return map[string]string{"zos": a.Version}, nil
		},
	}
	maps.Copy(handlers, a.networkHandlers())
	return handlers
}

// accept reads and checks a deployment sent by the request's twin: the document rules, the
// sender, then the contract on chain.
func (a *API) accept(ctx context.Context, req *peer.Request) (*deployment.Document, engine.Grant, error) {
	doc, err := deployment.Parse(req.Payload)
	if err != nil {
		return nil, engine.Grant{}, err
	}
	d := &doc.Deployment
	if err := d.Validate(); err != nil {
		return nil, engine.Grant{}, fmt.Errorf("contract %d: %w", d.ContractID, err)
	}
	if d.TwinID != req.Source.Twin {
		return nil, engine.Grant{}, fmt.Errorf("contract %d: twin_id %d is not the sender twin %d", d.ContractID, d.TwinID, req.Source.Twin)
	}
	grant, err := a.Checker.Check(ctx, doc)
	if err != nil {
		return nil, engine.Grant{}, err
	}
	return doc, grant, nil
}

func (a *API) deploy(ctx context.Context, req *peer.Request) (any, error) {
	doc, grant, err := a.accept(ctx, req)
	if err != nil {
		return nil, err
	}
	return nil, a.Engine.Deploy(doc.Deployment, grant)
}

func (a *API) update(ctx context.Context, req *peer.Request) (any, error) {
	doc, grant, err := a.accept(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := a.own(doc.Deployment.ContractID, req.Source.Twin); err != nil {
		return nil, err
	}
	return nil, a.Engine.Update(doc.Deployment, grant)
}

// ContractRequest names a deployment by its contract.
type ContractRequest struct {
	ContractID uint64 `json:"contract_id"`
}

// own loads a deployment of the caller; another twin's is "not found", as if it did not exist.
func (a *API) own(contract, twin uint64) error {
	rec, err := a.Store.Get(contract)
	if err == nil && rec.Deployment.TwinID != twin {
		err = fmt.Errorf("contract %d: %w for twin %d", contract, store.ErrNotFound, twin)
	}
	return err
}

func (a *API) contractOf(req *peer.Request) (uint64, error) {
	var r ContractRequest
	if err := req.Decode(&r); err != nil {
		return 0, err
	}
	if err := a.own(r.ContractID, req.Source.Twin); err != nil {
		return 0, err
	}
	return r.ContractID, nil
}

func (a *API) get(_ context.Context, req *peer.Request) (any, error) {
	contract, err := a.contractOf(req)
	if err != nil {
		return nil, err
	}
	rec, err := a.Store.Get(contract)
	if err != nil {
		return nil, err
	}
	return rec.Deployment, nil
}

func (a *API) changes(_ context.Context, req *peer.Request) (any, error) {
	contract, err := a.contractOf(req)
	if err != nil {
		return nil, err
	}
	return a.Store.Changes(contract)
}

// list returns the caller's deployments that still hold something.
func (a *API) list(_ context.Context, req *peer.Request) (any, error) {
	recs, err := a.Store.ListByTwin(req.Source.Twin)
	if err != nil {
		return nil, err
	}
	out := []deployment.Deployment{}
	for _, rec := range recs {
		if rec.Active() {
			out = append(out, rec.Deployment)
		}
	}
	return out, nil
}

// Statistics is what zos.statistics.get returns: the engine's counts and the backends this
// machine supports.
type Statistics struct {
	engine.Statistics
	Backends backend.Report `json:"backends"`
}

func (a *API) statistics(context.Context, *peer.Request) (any, error) {
	st, err := a.Engine.Statistics()
	if err != nil {
		return nil, err
	}
	return Statistics{Statistics: st, Backends: a.Backends}, nil
}
