package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

type msgServer struct {
	k *Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the billing module's Msg service backed by the keeper.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{k: k}
}

func (s msgServer) SetTftPrice(ctx context.Context, msg *types.MsgSetTftPrice) (*types.MsgSetTftPriceResponse, error) {
	return &types.MsgSetTftPriceResponse{}, s.k.SetTftPrice(ctx, msg)
}

func (s msgServer) ReportConsumption(ctx context.Context, msg *types.MsgReportConsumption) (*types.MsgReportConsumptionResponse, error) {
	return &types.MsgReportConsumptionResponse{}, s.k.ReportConsumption(ctx, msg)
}

func (s msgServer) SettleContract(ctx context.Context, msg *types.MsgSettleContract) (*types.MsgSettleContractResponse, error) {
	if _, _, err := s.k.load(ctx, msg.ContractId); err != nil {
		return nil, err
	}
	return &types.MsgSettleContractResponse{}, s.k.Settle(ctx, msg.ContractId)
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := sdk.ValidateAuthority(sdk.UnwrapSDKContext(ctx), s.k.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(s.k.addressCodec); err != nil {
		return nil, err
	}
	if err := s.k.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	// A smaller price_window drops the samples that fell out of it now, so the average and the exported
	// genesis (at most price_window samples) follow it.
	last, err := s.k.PriceSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	if last > 0 {
		if _, err := s.k.refreshAverage(ctx, last, msg.Params.PriceWindow); err != nil {
			return nil, err
		}
	}
	return &types.MsgUpdateParamsResponse{}, keeperutil.Emit(ctx, &types.EventParamsUpdated{Params: &msg.Params})
}
