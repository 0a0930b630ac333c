package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	"github.com/cosmos/cosmos-sdk/x/authz"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/app"
	"github.com/tfgrid/tfgrid/app/apptesting"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// contractMsgTypes are the contract messages a twin delegates in these tests.
var contractMsgTypes = []string{
	sdk.MsgTypeURL(&sctypes.MsgCreateNodeContract{}),
	sdk.MsgTypeURL(&sctypes.MsgUpdateNodeContract{}),
	sdk.MsgTypeURL(&sctypes.MsgCancelContract{}),
}

// authzWorld is a chain with a granter twin and one node (in a farm with two public IPs) to deploy on.
type authzWorld struct {
	chain   *apptesting.Chain
	granter apptesting.Account
	twinID  uint64
	nodeID  uint64
	deposit sdkmath.Int
}

func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	chain := apptesting.NewChain(t, 4)
	granter, farmer, nodeAcc := chain.Accounts[0], chain.Accounts[1], chain.Accounts[2]
	for _, acc := range []apptesting.Account{granter, farmer, nodeAcc} {
		requireOK(t, chain.DeliverTx(acc, &types.MsgCreateTwin{Creator: acc.String(), Relays: []string{"wss://relay.grid.tf"}}))
	}
	twinOf := func(acc apptesting.Account) uint64 {
		twin, err := chain.App.TfgridKeeper.TwinOfAccount(chain.Ctx, acc.String())
		require.NoError(t, err)
		return twin.Id
	}
	requireOK(t, chain.DeliverTx(farmer, &types.MsgCreateFarm{Creator: farmer.String(), Name: "authz-farm", PublicIps: []types.PublicIPInput{
		{Ip: "185.206.122.33/24", Gateway: "185.206.122.1"},
		{Ip: "185.206.122.34/24", Gateway: "185.206.122.1"},
	}}))
	requireOK(t, chain.DeliverTx(farmer, &types.MsgAllowNodeTwin{Creator: farmer.String(), FarmId: 1, TwinId: twinOf(nodeAcc)}))
	requireOK(t, chain.DeliverTx(nodeAcc, &types.MsgCreateNode{
		Creator:   nodeAcc.String(),
		FarmId:    1,
		Resources: types.Resources{Cru: 8, Sru: 512 * types.GiB, Mru: 16 * types.GiB},
		Location:  types.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
	}))
	node, err := chain.App.TfgridKeeper.NodeOfAccount(chain.Ctx, nodeAcc.String())
	require.NoError(t, err)
	params, err := chain.App.SmartcontractKeeper.Params.Get(chain.Ctx)
	require.NoError(t, err)
	require.True(t, params.ContractDeposit.IsPositive(), "the test checks where the deposit comes from")
	return &authzWorld{chain: chain, granter: granter, twinID: twinOf(granter), nodeID: node.Id, deposit: params.ContractDeposit}
}

func (w *authzWorld) balance(addr sdk.AccAddress) sdkmath.Int {
	return w.chain.App.BankKeeper.GetBalance(w.chain.Ctx, addr, app.BondDenom).Amount
}

// contractIDs lists the live contracts of the granter's twin.
func (w *authzWorld) contractIDs(t *testing.T) []uint64 {
	t.Helper()
	var ids []uint64
	err := w.chain.App.SmartcontractKeeper.ContractsByTwin.Walk(w.chain.Ctx, collections.NewPrefixedPairRange[uint64, uint64](w.twinID),
		func(key collections.Pair[uint64, uint64]) (bool, error) {
			ids = append(ids, key.K2())
			return false, nil
		})
	require.NoError(t, err)
	return ids
}

func (w *authzWorld) grants(grantee sdk.AccAddress) []sdk.Msg {
	msgs := make([]sdk.Msg, 0, len(contractMsgTypes))
	for _, typeURL := range contractMsgTypes {
		grant, err := authz.NewMsgGrant(w.granter.Address, grantee, authz.NewGenericAuthorization(typeURL), nil)
		require.NoError(w.chain.T, err)
		msgs = append(msgs, grant)
	}
	return msgs
}

func (w *authzWorld) exec(grantee sdk.AccAddress, msgs ...sdk.Msg) *authz.MsgExec {
	exec := authz.NewMsgExec(grantee, msgs)
	return &exec
}

// typedEvents returns the events of type T in a tx result.
func typedEvents[T any, PT interface {
	*T
	proto.Message
}](t *testing.T, res *abci.ExecTxResult) []*T {
	t.Helper()
	var out []*T
	name := proto.MessageName(PT(new(T)))
	for _, ev := range res.Events {
		if ev.Type != name {
			continue
		}
		msg, err := sdk.ParseTypedEvent(ev)
		require.NoError(t, err)
		out = append(out, msg.(PT))
	}
	return out
}

// billed is what billing took from a contract owner in a tx: the payments of the settlements it ran
// (updating and cancelling a contract settle it first).
func billed(t *testing.T, res *abci.ExecTxResult) sdkmath.Int {
	t.Helper()
	total := sdkmath.ZeroInt()
	for _, p := range typedEvents[billingtypes.EventContractSettled](t, res) {
		n, ok := sdkmath.NewIntFromString(p.Paid)
		require.True(t, ok, p.Paid)
		total = total.Add(n)
	}
	return total
}

func deploymentHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// lifecycle runs create → update → cancel of a contract owned by the granter's twin, each message sent
// by the grantee inside a MsgExec delivered by deliver, and checks owner, IPs and money at every step:
// the deposit and the billed usage are the granter's, the grantee pays nothing.
func (w *authzWorld) lifecycle(t *testing.T, grantee sdk.AccAddress, deliver func(msg sdk.Msg) *abci.ExecTxResult) {
	t.Helper()
	chain, k := w.chain, w.chain.App.SmartcontractKeeper
	granterBefore, granteeBefore := w.balance(w.granter.Address), w.balance(grantee)

	create := &sctypes.MsgCreateNodeContract{
		Creator: w.granter.String(), NodeId: w.nodeID, DeploymentHash: deploymentHash("v1"),
		DeploymentData: []byte("encrypted deployment"), PublicIpsCount: 1,
	}
	requireOK(t, deliver(w.exec(grantee, create)))
	ids := w.contractIDs(t)
	require.Len(t, ids, 1)
	c, err := k.GetContract(chain.Ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, w.twinID, c.TwinId, "the contract belongs to the granter's twin")
	require.Equal(t, w.nodeID, c.GetNodeContract().NodeId)
	require.Len(t, c.GetNodeContract().PublicIps, 1)
	require.Equal(t, granterBefore.Sub(w.deposit), w.balance(w.granter.Address), "the deposit comes from the granter")
	require.Equal(t, granteeBefore, w.balance(grantee), "the grantee pays nothing")
	ip, err := chain.App.TfgridKeeper.GetPublicIP(chain.Ctx, c.GetNodeContract().PublicIps[0].Ip)
	require.NoError(t, err)
	require.Equal(t, c.Id, ip.ContractId)

	update := &sctypes.MsgUpdateNodeContract{Creator: w.granter.String(), ContractId: c.Id, DeploymentHash: deploymentHash("v2"), DeploymentData: []byte("v2")}
	res := deliver(w.exec(grantee, update))
	requireOK(t, res)
	c, err = k.GetContract(chain.Ctx, c.Id)
	require.NoError(t, err)
	require.Equal(t, deploymentHash("v2"), c.GetNodeContract().DeploymentHash)
	usage := billed(t, res)

	res = deliver(w.exec(grantee, &sctypes.MsgCancelContract{Creator: w.granter.String(), ContractId: c.Id}))
	requireOK(t, res)
	_, err = k.GetContract(chain.Ctx, c.Id)
	require.ErrorIs(t, err, sctypes.ErrContractNotFound)
	tomb, err := k.Tombstones.Get(chain.Ctx, c.Id)
	require.NoError(t, err)
	require.Equal(t, sctypes.DeleteCauseCanceledByUser, tomb.DeleteCause)
	released := typedEvents[sctypes.EventContractDepositReleased](t, res)
	require.Len(t, released, 1)
	require.Equal(t, sctypes.EventContractDepositReleased{ContractId: c.Id, Amount: w.deposit.String(), Recipient: w.granter.String()}, *released[0],
		"the deposit goes back to the granter")
	usage = usage.Add(billed(t, res))
	require.True(t, usage.IsPositive(), "the contract's public IP was billed")
	require.Equal(t, granterBefore.Sub(usage), w.balance(w.granter.Address), "the granter got its deposit back and paid the usage")
	require.Equal(t, granteeBefore, w.balance(grantee), "the grantee pays nothing")
	ip, err = chain.App.TfgridKeeper.GetPublicIP(chain.Ctx, ip.Ip)
	require.NoError(t, err)
	require.Zero(t, ip.ContractId, "the IP is free again")
	require.NoError(t, k.CheckInvariants(chain.Ctx))
}

// TestAuthzContractMessages: a twin grants a colleague's account the right to create, update and cancel
// its node contracts; the colleague's MsgExec acts as the twin. Without a grant, for a message that was
// not granted, or after revocation, MsgExec fails and changes nothing.
func TestAuthzContractMessages(t *testing.T) {
	w := newAuthzWorld(t)
	chain, granter, grantee := w.chain, w.granter, w.chain.Accounts[3]
	deliver := func(msg sdk.Msg) *abci.ExecTxResult { return chain.DeliverTx(grantee, msg) }
	create := func(label string) *sctypes.MsgCreateNodeContract {
		return &sctypes.MsgCreateNodeContract{Creator: granter.String(), NodeId: w.nodeID, DeploymentHash: deploymentHash(label)}
	}

	// No grant: the grantee cannot act for the granter, and signing the inner message itself is no help.
	requireErr(t, deliver(w.exec(grantee.Address, create("no-grant"))), authz.ErrNoAuthorizationFound)
	require.NotZero(t, chain.DeliverTx(grantee, create("direct")).Code, "a message whose creator is someone else needs that account's signature")
	require.Empty(t, w.contractIDs(t))

	requireOK(t, chain.DeliverTx(granter, w.grants(grantee.Address)...))
	w.lifecycle(t, grantee.Address, deliver)

	// Only the granted message types: a name contract was not granted.
	requireErr(t, deliver(w.exec(grantee.Address, &sctypes.MsgCreateNameContract{Creator: granter.String(), Name: "granted-not"})),
		authz.ErrNoAuthorizationFound)

	// The grant only lends the granter's own rights: the granter's twin may not cancel the grantee's contract,
	// so neither may the grantee acting as the granter.
	requireOK(t, chain.DeliverTx(grantee, &types.MsgCreateTwin{Creator: grantee.String()}))
	requireOK(t, chain.DeliverTx(grantee, &sctypes.MsgCreateNameContract{Creator: grantee.String(), Name: "grantee-own"}))
	own, err := chain.App.SmartcontractKeeper.NameContractByName.Get(chain.Ctx, "grantee-own")
	require.NoError(t, err)
	requireErr(t, deliver(w.exec(grantee.Address, &sctypes.MsgCancelContract{Creator: granter.String(), ContractId: own})), sctypes.ErrNotContractOwner)

	// Revoked: the grantee cannot create any more; the other grants still work until revoked too.
	revoke := authz.NewMsgRevoke(granter.Address, grantee.Address, contractMsgTypes[0])
	requireOK(t, chain.DeliverTx(granter, &revoke))
	requireErr(t, deliver(w.exec(grantee.Address, create("revoked"))), authz.ErrNoAuthorizationFound)
	require.Empty(t, w.contractIDs(t))
	requireOK(t, chain.DeliverTx(granter, create("by-owner")))
	ids := w.contractIDs(t)
	require.Len(t, ids, 1)
	for _, typeURL := range contractMsgTypes[1:] {
		revoke := authz.NewMsgRevoke(granter.Address, grantee.Address, typeURL)
		requireOK(t, chain.DeliverTx(granter, &revoke))
	}
	requireErr(t, deliver(w.exec(grantee.Address, &sctypes.MsgCancelContract{Creator: granter.String(), ContractId: ids[0]})), authz.ErrNoAuthorizationFound)
	require.Equal(t, ids, w.contractIDs(t))
	require.NoError(t, chain.App.SmartcontractKeeper.CheckInvariants(chain.Ctx))
}

// TestAuthzMultisigGrantee: the grantee is a 2-of-3 Cosmos multisig account shared by three people. A
// MsgExec signed by two of them acts for the granter; signed by one it is rejected by the ante handler
// and changes nothing. Both SIGN_MODE_DIRECT and LEGACY_AMINO_JSON multisig signatures work in v0.54.
func TestAuthzMultisigGrantee(t *testing.T) {
	for _, mode := range []signing.SignMode{signing.SignMode_SIGN_MODE_DIRECT, signing.SignMode_SIGN_MODE_LEGACY_AMINO_JSON} {
		t.Run(mode.String(), func(t *testing.T) {
			w := newAuthzWorld(t)
			chain, granter := w.chain, w.granter
			ms := apptesting.NewMultisig(2,
				apptesting.NewAccount("ops-alice"), apptesting.NewAccount("ops-bob"), apptesting.NewAccount("ops-carol"))

			// Fund the multisig account so it exists on chain, and grant it the contract messages.
			fund := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(10_000_000)))
			requireOK(t, chain.DeliverTx(chain.Accounts[3], banktypes.NewMsgSend(chain.Accounts[3].Address, ms.Address, fund)))
			requireOK(t, chain.DeliverTx(granter, w.grants(ms.Address)...))

			// One signature of three: rejected before any message runs, the sequence does not move.
			_, seqBefore := chain.AccountState(ms.Address)
			create := &sctypes.MsgCreateNodeContract{Creator: granter.String(), NodeId: w.nodeID, DeploymentHash: deploymentHash("one-of-three")}
			res := chain.NextBlock(chain.SignMultisigTx(ms, mode, []int{1}, w.exec(ms.Address, create)))[0]
			requireErr(t, res, sdkerrors.ErrUnauthorized)
			require.Contains(t, res.Log, "signature")
			_, seqAfter := chain.AccountState(ms.Address)
			require.Equal(t, seqBefore, seqAfter)
			require.Empty(t, w.contractIDs(t))

			// A wrong key among two signatures is rejected too: Bob's bit with Alice's signature in it.
			forged := chain.SignMultisigTx(apptesting.Multisig{PubKey: ms.PubKey, Address: ms.Address,
				Keys: []apptesting.Account{ms.Keys[0], ms.Keys[0], ms.Keys[2]}}, mode, []int{1, 2}, w.exec(ms.Address, create))
			requireErr(t, chain.NextBlock(forged)[0], sdkerrors.ErrUnauthorized)
			require.Empty(t, w.contractIDs(t))

			// Two of three, different pairs for different steps: the whole lifecycle works.
			pairs := [][]int{{0, 1}, {1, 2}, {0, 2}}
			step := 0
			w.lifecycle(t, ms.Address, func(msg sdk.Msg) *abci.ExecTxResult {
				signers := pairs[step%len(pairs)]
				step++
				return chain.NextBlock(chain.SignMultisigTx(ms, mode, signers, msg))[0]
			})
			// All three may sign as well.
			requireOK(t, chain.NextBlock(chain.SignMultisigTx(ms, mode, []int{0, 1, 2}, w.exec(ms.Address,
				&sctypes.MsgCreateNodeContract{Creator: granter.String(), NodeId: w.nodeID, DeploymentHash: deploymentHash("all-three")})))[0])
			require.Len(t, w.contractIDs(t), 1)

			// The chain recorded the multisig key as the account's key; with it the account cannot have a twin
			// of its own (a twin needs a secp256k1 key), which is why it acts through a twin's grant.
			acc := chain.App.AccountKeeper.GetAccount(chain.Ctx, ms.Address)
			require.True(t, ms.PubKey.Equals(acc.GetPubKey()))
			requireErr(t, chain.NextBlock(chain.SignMultisigTx(ms, mode, []int{0, 1}, &types.MsgCreateTwin{Creator: ms.String()}))[0],
				types.ErrInvalidPubKey)
		})
	}
}
