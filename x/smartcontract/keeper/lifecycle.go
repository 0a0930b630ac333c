package keeper

import (
	"context"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// insertContract stores a new live contract and every index entry it needs. With removeContract it is
// the only code that writes the indexes. The twin_contract_history entry it writes outlives the
// contract: removeContract keeps it for the tombstone.
func (k *Keeper) insertContract(ctx context.Context, c types.Contract) error {
	if err := k.Contracts.Set(ctx, c.Id, c); err != nil {
		return err
	}
	if err := k.ContractsByTwin.Set(ctx, collections.Join(c.TwinId, c.Id)); err != nil {
		return err
	}
	if err := k.TwinContractHistory.Set(ctx, collections.Join(c.TwinId, c.Id)); err != nil {
		return err
	}
	if err := k.indexGrace(ctx, c); err != nil {
		return err
	}
	switch kind := c.Kind.(type) {
	case *types.Contract_NodeContract:
		nc := kind.NodeContract
		if err := k.moveReservation(ctx, nc.NodeId, tfgridtypes.Resources{}, nc.Resources); err != nil {
			return err
		}
		if err := k.NodeContractsByNodeTwin.Set(ctx, collections.Join3(nc.NodeId, c.TwinId, c.Id)); err != nil {
			return err
		}
		return k.ContractByNodeHash.Set(ctx, collections.Join(nc.NodeId, nc.DeploymentHash), c.Id)
	case *types.Contract_NameContract:
		return k.NameContractByName.Set(ctx, kind.NameContract.Name, c.Id)
	case *types.Contract_RentContract:
		return k.RentContractByNode.Set(ctx, kind.RentContract.NodeId, c.Id)
	}
	return types.ErrInvalidContractState.Wrapf("contract %d has no kind", c.Id)
}

// removeContract closes a live contract on any path: it lets billing settle it, frees its public IPs,
// drops it from every index, releases its deposit, leaves a tombstone and announces the cancellation,
// all in the caller's transaction.
func (k *Keeper) removeContract(ctx context.Context, c types.Contract, cause types.DeleteCause) error {
	if k.hooks != nil {
		if err := k.hooks.BeforeContractDeleted(ctx, c, cause); err != nil {
			return err
		}
	}
	if err := k.dropIndexes(ctx, c); err != nil {
		return err
	}
	if err := k.releaseDeposit(ctx, c, cause == types.DeleteCauseOutOfFunds); err != nil {
		return err
	}
	if err := k.Contracts.Remove(ctx, c.Id); err != nil {
		return err
	}
	tomb := types.Tombstone{
		Id: c.Id, TwinId: c.TwinId, NodeId: c.NodeID(), Kind: c.ContractKind(),
		DeleteCause: cause, DeletedAt: keeperutil.BlockTime(ctx), CreatedAt: c.CreatedAt,
	}
	if err := k.Tombstones.Set(ctx, c.Id, tomb); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventContractCanceled{
		ContractId: c.Id, NodeId: tomb.NodeId, TwinId: c.TwinId, Cause: cause, Kind: tomb.Kind,
	})
}

// dropIndexes removes every index entry of a contract and frees a node contract's IPs and reservation.
func (k *Keeper) dropIndexes(ctx context.Context, c types.Contract) error {
	if err := k.ContractsByTwin.Remove(ctx, collections.Join(c.TwinId, c.Id)); err != nil {
		return err
	}
	if err := k.ContractsInGrace.Remove(ctx, c.Id); err != nil {
		return err
	}
	switch kind := c.Kind.(type) {
	case *types.Contract_NodeContract:
		nc := kind.NodeContract
		if err := k.releaseIPs(ctx, c.Id, nc); err != nil {
			return err
		}
		if err := k.moveReservation(ctx, nc.NodeId, nc.Resources, tfgridtypes.Resources{}); err != nil {
			return err
		}
		if err := k.NodeContractsByNodeTwin.Remove(ctx, collections.Join3(nc.NodeId, c.TwinId, c.Id)); err != nil {
			return err
		}
		return k.ContractByNodeHash.Remove(ctx, collections.Join(nc.NodeId, nc.DeploymentHash))
	case *types.Contract_NameContract:
		return k.NameContractByName.Remove(ctx, kind.NameContract.Name)
	case *types.Contract_RentContract:
		return k.RentContractByNode.Remove(ctx, kind.RentContract.NodeId)
	}
	return nil
}

// lockDeposit moves the contract deposit from the owner's account into the module account.
func (k *Keeper) lockDeposit(ctx context.Context, owner sdk.AccAddress, amount sdkmath.Int) error {
	if !amount.IsPositive() {
		return nil
	}
	return k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, sdk.NewCoins(sdk.NewCoin(k.denom, amount)))
}

// releaseDeposit returns a contract's deposit to its owner, or gives it to the foundation when the
// contract ran out of funds.
func (k *Keeper) releaseDeposit(ctx context.Context, c types.Contract, forfeit bool) error {
	if !c.Deposit.IsPositive() {
		return nil
	}
	recipient, err := k.depositRecipient(ctx, c.TwinId, forfeit)
	if err != nil {
		return err
	}
	addr, err := k.addressCodec.StringToBytes(recipient)
	if err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, addr, sdk.NewCoins(sdk.NewCoin(k.denom, c.Deposit))); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventContractDepositReleased{
		ContractId: c.Id, Amount: c.Deposit.String(), Recipient: recipient, Forfeited: forfeit,
	})
}

// depositRecipient is the owner's account, or the default pricing policy's foundation account.
func (k *Keeper) depositRecipient(ctx context.Context, twinID uint64, forfeit bool) (string, error) {
	if forfeit {
		policy, err := k.registry.GetPricingPolicy(ctx, defaultPricingPolicyID)
		return policy.FoundationAccount, err
	}
	twin, err := k.registry.GetTwin(ctx, twinID)
	return twin.Account, err
}

// defaultPricingPolicyID names the policy whose foundation account receives forfeited deposits.
const defaultPricingPolicyID = 1
