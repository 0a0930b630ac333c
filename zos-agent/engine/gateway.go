package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend/gateway"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// ErrNoGateway: a gateway workload on a node without a gateway domain configured.
var ErrNoGateway = errors.New("this node has no gateway configured")

// Grant is what the chain grants a deployment: its contract's reserved public IPs (its ip
// workloads take them) and, by gateway name, the live name contract of the deployment's twin
// holding it (its gateway-name-proxy workloads serve under them).
type Grant struct {
	IPs   []ReservedIP
	Names map[string]uint64
}

// GatewayResult is a gateway-name-proxy workload's result data: the name it serves and the name
// contract that lets it.
type GatewayResult struct {
	FQDN         string `json:"fqdn"`
	NameContract uint64 `json:"name_contract"`
}

// gatewayObject is what the store keeps of a gateway workload: its route, and whether its name
// contract suspended it (in grace: the workload is paused for its name, not for its own contract).
type gatewayObject struct {
	Route     gateway.Route `json:"route"`
	Suspended bool          `json:"suspended,omitempty"`
}

// GatewayName is the name a gateway workload serves under (DNS names have no case; the chain's
// name contracts are lower case).
func GatewayName(g *deployment.GatewayNameProxy) string { return strings.ToLower(g.Name) }

// assignNames gives each new gateway-name-proxy of d its FQDN and the name contract the chain
// granted for its name, in its result data; one name served twice, on this node or in d, is
// refused.
func (e *Engine) assignNames(d *deployment.Deployment, current *deployment.Deployment, names map[string]uint64) error {
	served, err := e.servedNames(d.ContractID)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	if current != nil {
		for _, w := range current.Workloads {
			kept[w.Name] = w.Type == deployment.TypeGatewayNameProxy && w.Result.State != deployment.StateDeleted
		}
	}
	for i, w := range d.Workloads {
		if w.Type != deployment.TypeGatewayNameProxy {
			continue
		}
		if e.b.Gateway == nil {
			return fmt.Errorf("contract %d: workload %q: %w", d.ContractID, w.Name, ErrNoGateway)
		}
		g, err := decode[*deployment.GatewayNameProxy](w)
		if err != nil {
			return fmt.Errorf("contract %d: %w", d.ContractID, err)
		}
		name := GatewayName(g)
		if other, taken := served[name]; taken {
			return fmt.Errorf("contract %d: workload %q: name %q: %s is already served on this node by %s: %w",
				d.ContractID, w.Name, g.Name, e.b.Gateway.FQDN(name), other, gateway.ErrHostTaken)
		}
		served[name] = fmt.Sprintf("workload %q of this deployment", w.Name)
		if kept[w.Name] {
			continue
		}
		id, ok := names[name]
		if !ok {
			return fmt.Errorf("contract %d: workload %q: name %q: no name contract of twin %d checked for it", d.ContractID, w.Name, g.Name, d.TwinID)
		}
		d.Workloads[i].Result.Data = marshal(GatewayResult{FQDN: e.b.Gateway.FQDN(name), NameContract: id})
	}
	return nil
}

// servedNames are the gateway names other deployments' live gateway workloads hold on this node.
func (e *Engine) servedNames(except uint64) (map[string]string, error) {
	recs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, rec := range recs {
		if rec.Deployment.ContractID == except {
			continue
		}
		for _, w := range rec.Deployment.Workloads {
			if w.Type != deployment.TypeGatewayNameProxy || !holds(w.Result.State) {
				continue
			}
			if g, err := decode[*deployment.GatewayNameProxy](w); err == nil {
				out[GatewayName(g)] = fmt.Sprintf("contract %d", rec.Deployment.ContractID)
			}
		}
	}
	return out, nil
}

// gatewayRoute is the proxy route of a gateway workload of twin: its backends reached from the
// twin's network namespace when it names a network.
func gatewayRoute(twin uint64, id string, g *deployment.GatewayNameProxy) gateway.Route {
	r := gateway.Route{ID: id, Name: GatewayName(g), TLSPassthrough: g.TLSPassthrough, Backends: g.Backends}
	if g.Network != "" {
		r.NetNS = network.NetNSPath(uint32(twin), g.Network)
	}
	return r
}

// ensureGateway serves the gateway workload's name.
func (e *Engine) ensureGateway(twin uint64, id string, w deployment.Workload) (GatewayResult, gatewayObject, error) {
	if e.b.Gateway == nil {
		return GatewayResult{}, gatewayObject{}, ErrNoGateway
	}
	var granted GatewayResult
	if err := json.Unmarshal(w.Result.Data, &granted); err != nil || granted.NameContract == 0 {
		return GatewayResult{}, gatewayObject{}, fmt.Errorf("gateway %q: no name contract was granted at admission", w.Name)
	}
	g, err := decode[*deployment.GatewayNameProxy](w)
	if err != nil {
		return GatewayResult{}, gatewayObject{}, err
	}
	r := gatewayRoute(twin, id, g)
	if err := e.b.Gateway.Add(r); err != nil {
		return GatewayResult{}, gatewayObject{}, err
	}
	return granted, gatewayObject{Route: r}, nil
}

// unroute stops serving gateway workload id; forget: it is deleted, its traffic count goes too.
func (e *Engine) unroute(id string, forget bool) {
	switch {
	case e.b.Gateway == nil: // never served: the node has no gateway (any more)
	case forget:
		e.b.Gateway.Delete(id)
	default:
		e.b.Gateway.Remove(id)
	}
}

// PausedForName says whether workload name of rec is a gateway paused because its name contract
// is in grace (not because of the deployment's own contract).
func PausedForName(rec store.Record, name string) bool {
	var o gatewayObject
	return json.Unmarshal(rec.Objects[name], &o) == nil && o.Suspended
}

// NameContracts lists the name contracts the node's gateway workloads serve under, each with
// whether one of them is suspended for it (in grace) and whether one serves or is paused with
// its deployment.
func (e *Engine) NameContracts() (map[uint64]NameUse, error) {
	recs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	out := map[uint64]NameUse{}
	for _, rec := range recs {
		for _, w := range rec.Deployment.Workloads {
			var r GatewayResult
			if w.Type != deployment.TypeGatewayNameProxy || !running(w.Result.State) || json.Unmarshal(w.Result.Data, &r) != nil {
				continue
			}
			u := out[r.NameContract]
			if PausedForName(rec, w.Name) {
				u.Suspended = true
			} else {
				u.Live = true
			}
			out[r.NameContract] = u
		}
	}
	return out, nil
}

// NameUse is how the node's gateways use one name contract.
type NameUse struct {
	// Live: a gateway serves under it (or is paused with its deployment's contract).
	Live bool
	// Suspended: a gateway was suspended because the name contract is in grace.
	Suspended bool
}

// SuspendName queues removing the routes of every gateway serving under the name contract (it is
// in grace); RestoreName brings them back; RevokeName deletes them (the name contract is gone).
func (e *Engine) SuspendName(nameContract uint64) error {
	return e.enqueue(store.Job{Op: store.OpNameSuspend, NameContract: nameContract})
}

// RestoreName queues serving again the gateways SuspendName suspended.
func (e *Engine) RestoreName(nameContract uint64) error {
	return e.enqueue(store.Job{Op: store.OpNameRestore, NameContract: nameContract})
}

// RevokeName queues deleting the gateway workloads serving under the name contract.
func (e *Engine) RevokeName(nameContract uint64, reason string) error {
	return e.enqueue(store.Job{Op: store.OpNameRevoke, NameContract: nameContract, Reason: reason})
}

// nameJob applies a name contract's change to every gateway workload serving under it.
func (e *Engine) nameJob(op store.Op, nameContract uint64, reason string) error {
	recs, err := e.store.List()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		for _, w := range rec.Deployment.Workloads {
			var r GatewayResult
			if w.Type != deployment.TypeGatewayNameProxy || json.Unmarshal(w.Result.Data, &r) != nil || r.NameContract != nameContract {
				continue
			}
			if err := e.applyName(op, rec, w, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) applyName(op store.Op, rec store.Record, w deployment.Workload, reason string) error {
	d := &rec.Deployment
	id := WorkloadID(d.ContractID, w.Name)
	var r GatewayResult
	_ = json.Unmarshal(w.Result.Data, &r)
	switch {
	case op == store.OpNameRevoke && w.Result.State != deployment.StateDeleted:
		e.unroute(id, true)
		return e.setResult(d.ContractID, w.Name, result(deployment.StateDeleted, reason, w.Result.Data), nil)
	case op == store.OpNameSuspend && running(w.Result.State) && !PausedForName(rec, w.Name):
		e.unroute(id, false)
		g, err := decode[*deployment.GatewayNameProxy](w)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("name contract %d for %q is in its grace period: %s is not served", r.NameContract, GatewayName(g), r.FQDN)
		return e.setResult(d.ContractID, w.Name, result(deployment.StatePaused, msg, w.Result.Data),
			gatewayObject{Route: gatewayRoute(d.TwinID, id, g), Suspended: true})
	case op == store.OpNameRestore && PausedForName(rec, w.Name):
		if deploymentPaused(rec) {
			// The deployment's own contract is in grace: the route waits for its resume.
			var o gatewayObject
			_ = json.Unmarshal(rec.Objects[w.Name], &o)
			o.Suspended = false
			return e.setResult(d.ContractID, w.Name, result(deployment.StatePaused, "", w.Result.Data), o)
		}
		_, o, err := e.ensureGateway(d.TwinID, id, w)
		if err != nil {
			return e.setResult(d.ContractID, w.Name, result(deployment.StateError, "restore: "+err.Error(), w.Result.Data), nil)
		}
		return e.setResult(d.ContractID, w.Name, result(deployment.StateOk, "", w.Result.Data), o)
	}
	return nil
}

// deploymentPaused says whether a workload of rec other than a suspended gateway is paused: the
// deployment's contract is in grace.
func deploymentPaused(rec store.Record) bool {
	for _, w := range rec.Deployment.Workloads {
		if w.Result.State == deployment.StatePaused && !PausedForName(rec, w.Name) {
			return true
		}
	}
	return false
}

// GatewayUsage is a gateway workload's traffic count (cumulative: the proxy's counter).
type GatewayUsage struct {
	ID      string
	Traffic netusage.Counters
}

// GatewayTraffic lists, by contract, the traffic counts of the gateway workloads that run (ok or
// paused): the bytes their clients sent and received through the proxy.
func (e *Engine) GatewayTraffic() (map[uint64][]GatewayUsage, error) {
	out := map[uint64][]GatewayUsage{}
	if e.b.Gateway == nil {
		return out, nil
	}
	ids, err := e.gatewayIDs()
	if err != nil {
		return nil, err
	}
	for contract, list := range ids {
		for _, id := range list {
			if c, ok := e.b.Gateway.Traffic(id); ok {
				out[contract] = append(out[contract], GatewayUsage{ID: id, Traffic: c})
			}
		}
	}
	return out, nil
}

// SeedGatewayTraffic continues the gateway workloads' traffic counts from the readings stored
// with the last report (before Run, after a restart): the counts keep growing across restarts.
func (e *Engine) SeedGatewayTraffic(last map[string]netusage.Counters) error {
	if e.b.Gateway == nil {
		return nil
	}
	ids, err := e.gatewayIDs()
	if err != nil {
		return err
	}
	base := map[string]netusage.Counters{}
	for _, list := range ids {
		for _, id := range list {
			if c, ok := last[id]; ok {
				base[id] = c
			}
		}
	}
	e.b.Gateway.Seed(base)
	return nil
}

// gatewayIDs are the ids of the gateway workloads that run (ok or paused), by contract.
func (e *Engine) gatewayIDs() (map[uint64][]string, error) {
	recs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	out := map[uint64][]string{}
	for _, rec := range recs {
		for _, w := range rec.Deployment.Workloads {
			if w.Type == deployment.TypeGatewayNameProxy && running(w.Result.State) {
				c := rec.Deployment.ContractID
				out[c] = append(out[c], WorkloadID(c, w.Name))
			}
		}
	}
	return out, nil
}
