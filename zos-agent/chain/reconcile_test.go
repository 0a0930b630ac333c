package chain

import (
	"encoding/json"
	"testing"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

func TestDecide(t *testing.T) {
	running, paused := workloadStates{running: true}, workloadStates{paused: true}
	failed := workloadStates{} // e.g. every workload in error
	cases := []struct {
		name  string
		local workloadStates
		state sctypes.ContractState
		known bool
		want  step
	}{
		{"not listed: ask the contract itself", running, 0, false, stepConfirm},
		{"not listed, paused: ask the contract itself", paused, 0, false, stepConfirm},
		{"deleted", running, sctypes.ContractStateDeleted, true, stepDelete},
		{"deleted while paused", paused, sctypes.ContractStateDeleted, true, stepDelete},
		{"deleted with nothing running", failed, sctypes.ContractStateDeleted, true, stepDelete},
		{"grace while running", running, sctypes.ContractStateGracePeriod, true, stepPause},
		{"grace, already paused", paused, sctypes.ContractStateGracePeriod, true, stepNone},
		{"grace, nothing running", failed, sctypes.ContractStateGracePeriod, true, stepNone},
		{"created while paused", paused, sctypes.ContractStateCreated, true, stepResume},
		{"created and running", running, sctypes.ContractStateCreated, true, stepNone},
		{"created, nothing running", failed, sctypes.ContractStateCreated, true, stepNone},
		{"both running and paused workloads, grace", workloadStates{running: true, paused: true}, sctypes.ContractStateGracePeriod, true, stepPause},
		{"both running and paused workloads, created", workloadStates{running: true, paused: true}, sctypes.ContractStateCreated, true, stepResume},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := decide(c.local, c.state, c.known); got != c.want {
				t.Fatalf("decide(%+v, %s, %v) = %d, want %d", c.local, c.state, c.known, got, c.want)
			}
		})
	}
}

func TestNameStep(t *testing.T) {
	live, suspended := engine.NameUse{Live: true}, engine.NameUse{Suspended: true}
	both := engine.NameUse{Live: true, Suspended: true}
	for _, c := range []struct {
		name  string
		use   engine.NameUse
		state sctypes.ContractState
		want  step
	}{
		{"gone while served", live, sctypes.ContractStateDeleted, stepDelete},
		{"gone while suspended", suspended, sctypes.ContractStateDeleted, stepDelete},
		{"grace while served", live, sctypes.ContractStateGracePeriod, stepPause},
		{"grace, already suspended", suspended, sctypes.ContractStateGracePeriod, stepNone},
		{"grace, one served one suspended", both, sctypes.ContractStateGracePeriod, stepPause},
		{"created, suspended", suspended, sctypes.ContractStateCreated, stepResume},
		{"created, served", live, sctypes.ContractStateCreated, stepNone},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := nameStep(c.use, c.state); got != c.want {
				t.Fatalf("nameStep(%+v, %s) = %d, want %d", c.use, c.state, got, c.want)
			}
		})
	}
}

// A gateway paused for its name contract is not its deployment being paused: the deployment's
// reconciliation must not try to resume it every round.
func TestStatesOfIgnoresGatewaysPausedForTheirName(t *testing.T) {
	rec := store.Record{Deployment: deployment.Deployment{Workloads: []deployment.Workload{
		{Name: "vm", Type: deployment.TypeZMachine, Result: deployment.Result{State: deployment.StateOk}},
		{Name: "gw", Type: deployment.TypeGatewayNameProxy, Result: deployment.Result{State: deployment.StatePaused}},
	}}, Objects: map[string]json.RawMessage{"gw": json.RawMessage(`{"suspended":true}`)}}
	if got := statesOf(rec); got != (workloadStates{running: true}) {
		t.Fatalf("statesOf = %+v, want running only", got)
	}
	rec.Objects["gw"] = json.RawMessage(`{}`)
	if got := statesOf(rec); got != (workloadStates{running: true, paused: true}) {
		t.Fatalf("statesOf = %+v, want running and paused", got)
	}
}
