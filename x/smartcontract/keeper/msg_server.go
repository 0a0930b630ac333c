package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

type msgServer struct {
	k *Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the contract module's Msg service backed by the keeper.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{k: k}
}

func (s msgServer) CreateNodeContract(ctx context.Context, msg *types.MsgCreateNodeContract) (*types.MsgCreateNodeContractResponse, error) {
	id, err := s.k.CreateNodeContract(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateNodeContractResponse{ContractId: id}, nil
}

func (s msgServer) UpdateNodeContract(ctx context.Context, msg *types.MsgUpdateNodeContract) (*types.MsgUpdateNodeContractResponse, error) {
	return &types.MsgUpdateNodeContractResponse{}, s.k.UpdateNodeContract(ctx, msg)
}

func (s msgServer) CancelContract(ctx context.Context, msg *types.MsgCancelContract) (*types.MsgCancelContractResponse, error) {
	return &types.MsgCancelContractResponse{}, s.k.CancelContract(ctx, msg)
}

func (s msgServer) CreateNameContract(ctx context.Context, msg *types.MsgCreateNameContract) (*types.MsgCreateNameContractResponse, error) {
	id, err := s.k.CreateNameContract(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateNameContractResponse{ContractId: id}, nil
}

func (s msgServer) CreateRentContract(ctx context.Context, msg *types.MsgCreateRentContract) (*types.MsgCreateRentContractResponse, error) {
	id, err := s.k.CreateRentContract(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateRentContractResponse{ContractId: id}, nil
}

func (s msgServer) SetDedicatedNodeExtraFee(ctx context.Context, msg *types.MsgSetDedicatedNodeExtraFee) (*types.MsgSetDedicatedNodeExtraFeeResponse, error) {
	return &types.MsgSetDedicatedNodeExtraFeeResponse{}, s.k.SetDedicatedNodeExtraFee(ctx, msg)
}

func (s msgServer) CancelContractByAuthority(ctx context.Context, msg *types.MsgCancelContractByAuthority) (*types.MsgCancelContractByAuthorityResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgCancelContractByAuthorityResponse{}, s.k.CancelContractByAuthority(ctx, msg.ContractId)
}

func (s msgServer) ForceResetFarmIp(ctx context.Context, msg *types.MsgForceResetFarmIp) (*types.MsgForceResetFarmIpResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgForceResetFarmIpResponse{}, s.k.ForceResetFarmIP(ctx, msg.FarmId, msg.Ip)
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, keeperutil.Emit(ctx, &types.EventParamsUpdated{Params: &msg.Params})
}

// checkAuthority accepts only the governance authority.
func (k *Keeper) checkAuthority(ctx context.Context, signer string) error {
	return sdk.ValidateAuthority(sdk.UnwrapSDKContext(ctx), k.authority, signer)
}
