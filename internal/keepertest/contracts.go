package keepertest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/runtime"

	"github.com/tfgrid/tfgrid/x/smartcontract"
	sckeeper "github.com/tfgrid/tfgrid/x/smartcontract/keeper"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// Contracts is the contracts layer: the scene with the real x/smartcontract keeper on its
// multi-store, set as the registry's hooks like app/keepers.go.
type Contracts struct {
	*Scene
	SC    *sckeeper.Keeper
	SCMsg sctypes.MsgServer
}

// NewContracts builds the scene and the contract keeper on fresh stores, with stores and codec
// entries for the layers above among opts (all of which go down to the scene), without loading any
// genesis.
func NewContracts(t *testing.T, opts ...Option) *Contracts {
	t.Helper()
	s := NewScene(t, append([]Option{Layer{StoreKey: sctypes.StoreKey, Module: smartcontract.AppModule{}}}, opts...)...)
	sc := sckeeper.NewKeeper(runtime.NewKVStoreService(s.Keys[sctypes.StoreKey]), s.Cdc, s.AC, s.Authority, Denom, s.Grid, s.Bank)
	s.Grid.SetHooks(sc)
	return &Contracts{Scene: s, SC: sc, SCMsg: sckeeper.NewMsgServerImpl(sc)}
}

// LoadDefaultGenesis loads the registry's and the contract module's default geneses.
func (c *Contracts) LoadDefaultGenesis() {
	c.T.Helper()
	c.Scene.LoadDefaultGenesis()
	require.NoError(c.T, c.SC.InitGenesis(c.Ctx, *sctypes.DefaultGenesis()))
}

// NodeContractMsg creates a node contract of u on the node for a named test deployment, renting ips
// of the farm's public IPs and reserving nothing.
func NodeContractMsg(u User, nodeID uint64, deployment string, ips uint32) *sctypes.MsgCreateNodeContract {
	return &sctypes.MsgCreateNodeContract{
		Creator: u.Acc, NodeId: nodeID, DeploymentHash: Hash(deployment), DeploymentData: []byte("data of " + deployment), PublicIpsCount: ips,
	}
}

// CreateNodeContract sends msg and returns the new contract's id.
func (c *Contracts) CreateNodeContract(msg *sctypes.MsgCreateNodeContract) (uint64, error) {
	res, err := c.SCMsg.CreateNodeContract(c.Ctx, msg)
	if err != nil {
		return 0, err
	}
	return res.ContractId, nil
}

// NodeContract creates the node contract of NodeContractMsg, which must succeed.
func (c *Contracts) NodeContract(u User, nodeID uint64, deployment string, ips uint32) uint64 {
	c.T.Helper()
	id, err := c.CreateNodeContract(NodeContractMsg(u, nodeID, deployment, ips))
	require.NoError(c.T, err)
	return id
}

// NameContract creates a name contract, which must succeed.
func (c *Contracts) NameContract(u User, name string) uint64 {
	c.T.Helper()
	res, err := c.SCMsg.CreateNameContract(c.Ctx, &sctypes.MsgCreateNameContract{Creator: u.Acc, Name: name})
	require.NoError(c.T, err)
	return res.ContractId
}

// RentContract creates a rent contract of the node, which must succeed.
func (c *Contracts) RentContract(u User, nodeID uint64) uint64 {
	c.T.Helper()
	res, err := c.SCMsg.CreateRentContract(c.Ctx, &sctypes.MsgCreateRentContract{Creator: u.Acc, NodeId: nodeID})
	require.NoError(c.T, err)
	return res.ContractId
}

// Cancel has u cancel the contract.
func (c *Contracts) Cancel(u User, id uint64) error {
	_, err := c.SCMsg.CancelContract(c.Ctx, &sctypes.MsgCancelContract{Creator: u.Acc, ContractId: id})
	return err
}

// Contract loads a live contract.
func (c *Contracts) Contract(id uint64) sctypes.Contract {
	c.T.Helper()
	contract, err := c.SC.GetContract(c.Ctx, id)
	require.NoError(c.T, err)
	return contract
}
