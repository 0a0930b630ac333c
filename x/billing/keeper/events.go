package keeper

import (
	"context"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// settledEventType is the ABCI event type of EventContractSettled.
var settledEventType = proto.MessageName(&types.EventContractSettled{})

// emitSettled emits EventContractSettled, one per settlement, exactly as EmitTypedEvent would but
// without its round trip through jsonpb and encoding/json, which cost a fifth of a settlement: the
// attributes are the fields in name order, each value JSON (64-bit integers as strings, the enum by
// name; every value is digits or an enum name, so quoting needs no escapes).
// TestSettledEventIsTheTypedEvent holds it to sdk.TypedEventToEvent and sdk.ParseTypedEvent (a field
// added to the event and missing here fails its zero-value case).
func emitSettled(ctx context.Context, e *types.EventContractSettled) {
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(settledEvent(e))
}

func settledEvent(e *types.EventContractSettled) sdk.Event {
	u := func(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }
	i := func(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }
	s := func(v string) string { return strconv.Quote(v) }
	return sdk.Event{Type: settledEventType, Attributes: []abci.EventAttribute{
		{Key: "amount", Value: s(e.Amount)},
		{Key: "contract_id", Value: u(e.ContractId)},
		{Key: "discount_level", Value: s(e.DiscountLevel.String())},
		{Key: "farm_id", Value: u(e.FarmId)},
		{Key: "farmer_amount", Value: s(e.FarmerAmount)},
		{Key: "foundation_amount", Value: s(e.FoundationAmount)},
		{Key: "paid", Value: s(e.Paid)},
		{Key: "period_end", Value: i(e.PeriodEnd)},
		{Key: "period_start", Value: i(e.PeriodStart)},
		{Key: "staking_amount", Value: s(e.StakingAmount)},
	}}
}
