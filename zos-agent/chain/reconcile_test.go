package chain

import (
	"testing"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
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
