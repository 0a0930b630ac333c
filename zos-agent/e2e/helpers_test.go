package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func workload(name, typ string, data any) deployment.Workload {
	raw, _ := json.Marshal(data)
	return deployment.Workload{Name: name, Type: typ, Data: raw}
}

// fillScript writes past the volume, then keeps the machine running.
const fillScript = `dd if=/dev/zero of=/data/fill bs=1M count=100; echo filled; sleep 3600`

// machineDeployment is a container with a volume mounted at /data, owned by user.
func (g *grid) machineDeployment(owner string, volume, memory uint64, flist string) deployment.Deployment {
	twin := g.users[owner].twin
	return deployment.Deployment{TwinID: twin,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: twin, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{
			workload("vol", deployment.TypeVolume, deployment.Volume{Size: volume}),
			workload("vm", deployment.TypeZMachine, deployment.ZMachine{FList: flist,
				Network:         deployment.MachineNetwork{Interfaces: []deployment.MachineInterface{{Network: "net", IP: "10.1.3.2"}}},
				ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: memory},
				Mounts:          []deployment.MachineMount{{Name: "vol", Mountpoint: "/data"}},
				Entrypoint:      "/bin/sh -c '" + fillScript + "'"}),
		}}
}

// multisig is alice's deployment that needs 2 of alice, bob and carol.
func (g *grid) multisig() deployment.Deployment {
	d := g.machineDeployment("alice", 16*mib, 256*mib, "busybox")
	d.SignatureRequirement = deployment.SignatureRequirement{WeightRequired: 2, Requests: []deployment.SignatureRequest{
		{TwinID: g.users["alice"].twin, Weight: 1}, {TwinID: g.users["bob"].twin, Weight: 1}, {TwinID: g.users["carol"].twin, Weight: 1}}}
	d.Workloads[1] = workload("vm", deployment.TypeZMachine, deployment.ZMachine{FList: "busybox",
		Network:         deployment.MachineNetwork{Interfaces: []deployment.MachineInterface{{Network: "net", IP: "10.1.3.2"}}},
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib}, Entrypoint: "sleep 3600"})
	return d
}

func hashOf(t *testing.T, d deployment.Deployment) string {
	raw, err := json.Marshal(d)
	require.NoError(t, err)
	h, err := deployment.HashJSON(raw)
	require.NoError(t, err)
	return h
}

// contract creates a node contract of u reserving reserve and returns its id.
func (g *grid) contract(t *testing.T, u *user, node uint64, hash string, ips uint32, reserve deployment.Capacity) uint64 {
	res, err := u.bc.Send(context.Background(), &sctypes.MsgCreateNodeContract{Creator: u.bc.Address(), NodeId: node, DeploymentHash: hash,
		PublicIpsCount: ips, Resources: tftypes.Resources{Cru: reserve.CRU, Mru: reserve.MRU, Sru: reserve.SRU, Hru: reserve.HRU}})
	require.NoError(t, err)
	for _, ev := range res.Events {
		if ev.Type == "tfgrid.smartcontract.v1.EventContractCreated" {
			for _, a := range ev.Attributes {
				if a.Key == "contract_id" {
					var id uint64
					require.NoError(t, json.Unmarshal([]byte(strings.Trim(a.Value, `"`)), &id))
					return id
				}
			}
		}
	}
	t.Fatalf("no contract id in %v", res.Events)
	return 0
}

// signed is d under contract id, signed by the given users.
func (g *grid) signed(t *testing.T, d deployment.Deployment, id uint64, signers ...string) []byte {
	d.ContractID = id
	raw, err := json.Marshal(d)
	require.NoError(t, err)
	doc, err := deployment.Parse(raw)
	require.NoError(t, err)
	for _, s := range signers {
		doc, err = deployment.SignDocument(doc, g.users[s].twin, g.users[s].key)
		require.NoError(t, err)
	}
	return doc.Bytes()
}

// capacityOf is what d needs: what its contract reserves.
func capacityOf(t *testing.T, d deployment.Deployment) deployment.Capacity {
	c, err := d.Capacity()
	require.NoError(t, err)
	return c
}

// prepared creates owner's contract for d on node, reserving what d needs, and returns d signed by
// the owner and extra.
func (g *grid) prepared(t *testing.T, d deployment.Deployment, owner string, node uint64, ips uint32, extra ...string) ([]byte, uint64) {
	return g.preparedReserving(t, d, owner, node, ips, capacityOf(t, d), extra...)
}

// preparedReserving is prepared with the contract reserving reserve.
func (g *grid) preparedReserving(t *testing.T, d deployment.Deployment, owner string, node uint64, ips uint32,
	reserve deployment.Capacity, extra ...string,
) ([]byte, uint64) {
	g.seq++ // a node takes one contract per deployment hash: make each deployment unique
	d.Description = fmt.Sprintf("deployment %d", g.seq)
	id := g.contract(t, g.users[owner], node, hashOf(t, d), ips, reserve)
	return g.signed(t, d, id, append([]string{owner}, extra...)...), id
}

// deploy creates the contract and sends the deployment; it returns the contract id.
func (g *grid) deploy(t *testing.T, owner string, d deployment.Deployment, signers ...string) uint64 {
	raw, id := g.prepared(t, d, owner, g.node, 0, signers[1:]...)
	require.NoError(t, g.peer[owner].Call(context.Background(), g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil))
	return id
}

// waitState waits until every workload of the deployment is in state.
func (g *grid) waitState(t *testing.T, owner string, id uint64, state deployment.ResultState) deployment.Deployment {
	var d deployment.Deployment
	require.Eventually(t, func() bool {
		if err := g.peer[owner].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": id}, &d); err != nil {
			return false
		}
		for _, w := range d.Workloads {
			if w.Result.State != state {
				return false
			}
		}
		return len(d.Workloads) > 0
	}, 30*time.Second, 200*time.Millisecond, "contract %d: workloads not all %s: %+v", id, state, d.Workloads)
	return d
}
