package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/stretchr/testify/require"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func workload(name, typ string, data any) deployment.Workload {
	raw, _ := json.Marshal(data)
	return deployment.Workload{Name: name, Type: typ, Data: raw}
}

// fillScript writes past the volume, then keeps the machine running.
const fillScript = `dd if=/dev/zero of=/data/fill bs=1M count=100; echo filled; sleep 3600`

// machineDeployment is a container with a volume mounted at /data, owned by user, on the user's
// network "net".
func (g *grid) machineDeployment(owner string, volume, memory uint64, flist string) deployment.Deployment {
	twin := g.users[owner].twin
	return deployment.Deployment{TwinID: twin,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: twin, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{
			workload("vol", deployment.TypeVolume, deployment.Volume{Size: volume}),
			workload("vm", deployment.TypeZMachine, deployment.ZMachine{FList: flist,
				Network:         g.onNetwork(),
				ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: memory},
				Mounts:          []deployment.MachineMount{{Name: "vol", Mountpoint: "/data"}},
				Entrypoint:      "/bin/sh -c '" + fillScript + "'"}),
			privateNetwork(twin),
		}}
}

// privateNetwork is twin's network "net": the same spec in each of its deployments, so they
// share one network on the node (its WireGuard port derived from the twin, unique on the node).
func privateNetwork(twin uint64) deployment.Workload {
	key := sha256.Sum256([]byte(fmt.Sprintf("wireguard key of twin %d", twin)))
	return workload("net", deployment.TypeNetwork, deployment.Network{IPRange: "10.1.0.0/16", Subnet: "10.1.3.0/24",
		WireGuardPrivateKey: base64.StdEncoding.EncodeToString(key[:]), WireGuardListenPort: uint16(20000 + twin)})
}

// onNetwork puts a machine on the network "net" at an address no other machine of the test has.
func (g *grid) onNetwork() deployment.MachineNetwork {
	g.seqMu.Lock()
	g.seq++
	ip := fmt.Sprintf("10.1.3.%d", 2+g.seq%250)
	g.seqMu.Unlock()
	return deployment.MachineNetwork{Interfaces: []deployment.MachineInterface{{Network: "net", IP: ip}}}
}

// multisig is alice's deployment that needs 2 of alice, bob and carol.
func (g *grid) multisig() deployment.Deployment {
	d := g.machineDeployment("alice", 16*mib, 256*mib, "busybox")
	d.SignatureRequirement = deployment.SignatureRequirement{WeightRequired: 2, Requests: []deployment.SignatureRequest{
		{TwinID: g.users["alice"].twin, Weight: 1}, {TwinID: g.users["bob"].twin, Weight: 1}, {TwinID: g.users["carol"].twin, Weight: 1}}}
	d.Workloads[1] = workload("vm", deployment.TypeZMachine, deployment.ZMachine{FList: "busybox",
		Network:         g.onNetwork(),
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib}, Entrypoint: "sleep 3600"})
	return d
}

// contract creates a node contract of u reserving reserve and returns its id.
func (g *grid) contract(t *testing.T, u *user, node uint64, hash string, ips uint32, reserve deployment.Capacity) uint64 {
	id, err := g.createContract(u, node, hash, ips, reserve)
	require.NoError(t, err)
	return id
}

func (g *grid) createContract(u *user, node uint64, hash string, ips uint32, reserve deployment.Capacity) (uint64, error) {
	res, err := u.bc.Send(context.Background(), &sctypes.MsgCreateNodeContract{Creator: u.bc.Address(), NodeId: node, DeploymentHash: hash,
		PublicIpsCount: ips, Resources: tftypes.Resources{Cru: reserve.CRU, Mru: reserve.MRU, Sru: reserve.SRU, Hru: reserve.HRU}})
	if err != nil {
		return 0, fmt.Errorf("%s: create contract: %w", u.name, err)
	}
	return createdContract(u, res)
}

// createdContract is the id of the contract a transaction of u created.
func createdContract(u *user, res *sdk.TxResponse) (uint64, error) {
	for _, ev := range res.Events {
		if ev.Type == "tfgrid.smartcontract.v1.EventContractCreated" {
			for _, a := range ev.Attributes {
				if a.Key == "contract_id" {
					return strconv.ParseUint(strings.Trim(a.Value, `"`), 10, 64)
				}
			}
		}
	}
	return 0, fmt.Errorf("%s: no contract id in %v", u.name, res.Events)
}

// signed is d under contract id, signed by the given users.
func (g *grid) signed(t *testing.T, d deployment.Deployment, id uint64, signers ...string) []byte {
	raw, err := g.sign(d, id, signers...)
	require.NoError(t, err)
	return raw
}

func (g *grid) sign(d deployment.Deployment, id uint64, signers ...string) ([]byte, error) {
	d.ContractID = id
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	doc, err := deployment.Parse(raw)
	if err != nil {
		return nil, err
	}
	for _, s := range signers {
		if doc, err = deployment.SignDocument(doc, g.users[s].twin, g.users[s].key); err != nil {
			return nil, err
		}
	}
	return doc.Bytes(), nil
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
	raw, id, err := g.prepare(d, owner, node, ips, reserve, extra...)
	require.NoError(t, err)
	return raw, id
}

// prepare is preparedReserving that returns its error (safe outside the test's goroutine).
func (g *grid) prepare(d deployment.Deployment, owner string, node uint64, ips uint32,
	reserve deployment.Capacity, extra ...string,
) ([]byte, uint64, error) {
	g.seqMu.Lock()
	g.seq++ // a node takes one contract per deployment hash: make each deployment unique
	d.Description = fmt.Sprintf("deployment %d", g.seq)
	g.seqMu.Unlock()
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, 0, err
	}
	hash, err := deployment.HashJSON(raw)
	if err != nil {
		return nil, 0, err
	}
	id, err := g.createContract(g.users[owner], node, hash, ips, reserve)
	if err != nil {
		return nil, 0, err
	}
	signed, err := g.sign(d, id, append([]string{owner}, extra...)...)
	return signed, id, err
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

func readTrimmed(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("read %s: %v", path, err)
		return ""
	}
	return strings.TrimSpace(string(b))
}

// mounted reports whether something is mounted at dir.
func mounted(t *testing.T, dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// drain sends everything but keep utft of a user's account to the farmer (a settlement between
// reading the balance and sending it is retried).
func (g *grid) drain(t *testing.T, name string, keep int64) {
	u := g.users[name]
	var err error
	for range 5 {
		var res *banktypes.QueryBalanceResponse
		res, err = g.client.Bank.Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: u.bc.Address(), Denom: "utft"})
		require.NoError(t, err)
		amount := res.Balance.Amount.SubRaw(keep)
		if !amount.IsPositive() {
			return
		}
		_, err = u.bc.Send(context.Background(), &banktypes.MsgSend{FromAddress: u.bc.Address(), ToAddress: g.users["farmer"].bc.Address(),
			Amount: sdk.NewCoins(sdk.NewCoin("utft", amount))})
		if err == nil {
			return
		}
	}
	require.NoError(t, err, "drain %s", name)
}

// waitContract waits until a contract is in state.
func (g *grid) waitContract(t *testing.T, id uint64, state sctypes.ContractState) {
	require.Eventually(t, func() bool {
		res, err := g.client.Contracts.Contract(context.Background(), &sctypes.QueryContractRequest{Id: id})
		return err == nil && res.Contract.State == state
	}, 30*time.Second, 200*time.Millisecond, "contract %d not %s", id, state)
}

// cgroupsPath is the cgroup of the agent's container id (scoped by the agent's data directory).
func (g *grid) cgroupsPath(t *testing.T, id string) string {
	drv, err := container.New(g.dataDir)
	require.NoError(t, err)
	return drv.CgroupsPath(id)
}

// cancelAndWait cancels the contract and waits until the agent tore the deployment down.
func (g *grid) cancelAndWait(t *testing.T, owner string, id uint64) {
	u := g.users[owner]
	_, err := u.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: u.bc.Address(), ContractId: id})
	require.NoError(t, err)
	g.waitState(t, owner, id, deployment.StateDeleted)
}
