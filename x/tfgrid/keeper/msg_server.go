package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

type msgServer struct {
	k *Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the registry's Msg service backed by the keeper.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{k: k}
}

func (s msgServer) CreateTwin(ctx context.Context, msg *types.MsgCreateTwin) (*types.MsgCreateTwinResponse, error) {
	id, err := s.k.CreateTwin(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateTwinResponse{TwinId: id}, nil
}

func (s msgServer) UpdateTwin(ctx context.Context, msg *types.MsgUpdateTwin) (*types.MsgUpdateTwinResponse, error) {
	return &types.MsgUpdateTwinResponse{}, s.k.UpdateTwin(ctx, msg)
}

func (s msgServer) CreateFarm(ctx context.Context, msg *types.MsgCreateFarm) (*types.MsgCreateFarmResponse, error) {
	id, err := s.k.CreateFarm(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateFarmResponse{FarmId: id}, nil
}

func (s msgServer) UpdateFarm(ctx context.Context, msg *types.MsgUpdateFarm) (*types.MsgUpdateFarmResponse, error) {
	return &types.MsgUpdateFarmResponse{}, s.k.UpdateFarm(ctx, msg)
}

func (s msgServer) AddFarmIp(ctx context.Context, msg *types.MsgAddFarmIp) (*types.MsgAddFarmIpResponse, error) {
	return &types.MsgAddFarmIpResponse{}, s.k.AddFarmIP(ctx, msg)
}

func (s msgServer) RemoveFarmIp(ctx context.Context, msg *types.MsgRemoveFarmIp) (*types.MsgRemoveFarmIpResponse, error) {
	return &types.MsgRemoveFarmIpResponse{}, s.k.RemoveFarmIP(ctx, msg)
}

func (s msgServer) AllowNodeTwin(ctx context.Context, msg *types.MsgAllowNodeTwin) (*types.MsgAllowNodeTwinResponse, error) {
	return &types.MsgAllowNodeTwinResponse{}, s.k.AllowNodeTwin(ctx, msg)
}

func (s msgServer) DisallowNodeTwin(ctx context.Context, msg *types.MsgDisallowNodeTwin) (*types.MsgDisallowNodeTwinResponse, error) {
	return &types.MsgDisallowNodeTwinResponse{}, s.k.DisallowNodeTwin(ctx, msg)
}

func (s msgServer) SetFarmOpenRegistration(ctx context.Context, msg *types.MsgSetFarmOpenRegistration) (*types.MsgSetFarmOpenRegistrationResponse, error) {
	return &types.MsgSetFarmOpenRegistrationResponse{}, s.k.SetFarmOpenRegistration(ctx, msg)
}

func (s msgServer) CreateNode(ctx context.Context, msg *types.MsgCreateNode) (*types.MsgCreateNodeResponse, error) {
	id, err := s.k.CreateNode(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateNodeResponse{NodeId: id}, nil
}

func (s msgServer) UpdateNode(ctx context.Context, msg *types.MsgUpdateNode) (*types.MsgUpdateNodeResponse, error) {
	return &types.MsgUpdateNodeResponse{}, s.k.UpdateNode(ctx, msg)
}

func (s msgServer) SetNodePublicConfig(ctx context.Context, msg *types.MsgSetNodePublicConfig) (*types.MsgSetNodePublicConfigResponse, error) {
	return &types.MsgSetNodePublicConfigResponse{}, s.k.SetNodePublicConfig(ctx, msg)
}

func (s msgServer) DeleteNode(ctx context.Context, msg *types.MsgDeleteNode) (*types.MsgDeleteNodeResponse, error) {
	return &types.MsgDeleteNodeResponse{}, s.k.DeleteNode(ctx, msg)
}

func (s msgServer) ReportUptime(ctx context.Context, msg *types.MsgReportUptime) (*types.MsgReportUptimeResponse, error) {
	return &types.MsgReportUptimeResponse{}, s.k.ReportUptime(ctx, msg)
}

func (s msgServer) ChangePowerState(ctx context.Context, msg *types.MsgChangePowerState) (*types.MsgChangePowerStateResponse, error) {
	return &types.MsgChangePowerStateResponse{}, s.k.ChangePowerState(ctx, msg)
}

func (s msgServer) ChangePowerTarget(ctx context.Context, msg *types.MsgChangePowerTarget) (*types.MsgChangePowerTargetResponse, error) {
	return &types.MsgChangePowerTargetResponse{}, s.k.ChangePowerTarget(ctx, msg)
}

func (s msgServer) CreatePricingPolicy(ctx context.Context, msg *types.MsgCreatePricingPolicy) (*types.MsgCreatePricingPolicyResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	id, err := s.k.CreatePricingPolicy(ctx, msg.Policy)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreatePricingPolicyResponse{PricingPolicyId: id}, nil
}

func (s msgServer) UpdatePricingPolicy(ctx context.Context, msg *types.MsgUpdatePricingPolicy) (*types.MsgUpdatePricingPolicyResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgUpdatePricingPolicyResponse{}, s.k.UpdatePricingPolicy(ctx, msg.Policy)
}

func (s msgServer) CreateFarmingPolicy(ctx context.Context, msg *types.MsgCreateFarmingPolicy) (*types.MsgCreateFarmingPolicyResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	id, err := s.k.CreateFarmingPolicy(ctx, msg.Policy)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateFarmingPolicyResponse{FarmingPolicyId: id}, nil
}

func (s msgServer) UpdateFarmingPolicy(ctx context.Context, msg *types.MsgUpdateFarmingPolicy) (*types.MsgUpdateFarmingPolicyResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgUpdateFarmingPolicyResponse{}, s.k.UpdateFarmingPolicy(ctx, msg.Policy)
}

func (s msgServer) AttachPolicyToFarm(ctx context.Context, msg *types.MsgAttachPolicyToFarm) (*types.MsgAttachPolicyToFarmResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgAttachPolicyToFarmResponse{}, s.k.AttachPolicyToFarm(ctx, msg.FarmId, msg.Limits)
}

func (s msgServer) SetFarmCertification(ctx context.Context, msg *types.MsgSetFarmCertification) (*types.MsgSetFarmCertificationResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgSetFarmCertificationResponse{}, s.k.SetFarmCertification(ctx, msg.FarmId, msg.Certification)
}

func (s msgServer) SetFarmDedicated(ctx context.Context, msg *types.MsgSetFarmDedicated) (*types.MsgSetFarmDedicatedResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgSetFarmDedicatedResponse{}, s.k.SetFarmDedicated(ctx, msg.FarmId, msg.Dedicated)
}

func (s msgServer) SetNodeCertification(ctx context.Context, msg *types.MsgSetNodeCertification) (*types.MsgSetNodeCertificationResponse, error) {
	if err := s.k.checkCertifier(ctx, msg.Signer); err != nil {
		return nil, err
	}
	return &types.MsgSetNodeCertificationResponse{}, s.k.SetNodeCertification(ctx, msg.NodeId, msg.Certification)
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := s.k.checkAuthority(ctx, msg.Authority); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, s.k.SetParams(ctx, msg.Params)
}

// checkAuthority accepts only the governance authority.
func (k *Keeper) checkAuthority(ctx context.Context, signer string) error {
	return sdk.ValidateAuthority(sdk.UnwrapSDKContext(ctx), k.authority, signer)
}
