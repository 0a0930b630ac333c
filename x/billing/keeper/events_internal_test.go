package keeper

import (
	"math"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// The hand-built EventContractSettled is byte for byte what EmitTypedEvent makes, and parses back
// (sdk.ParseTypedEvent, which chainclient and the simulation use) to the same event.
func TestSettledEventIsTheTypedEvent(t *testing.T) {
	for name, e := range map[string]*types.EventContractSettled{
		"zero values": {},
		"worked example": {
			ContractId: 7, PeriodStart: 1_750_000_000, PeriodEnd: 1_750_003_600, Amount: "3388800",
			DiscountLevel: types.DiscountLevelDefault, Paid: "3388800", FarmId: 3,
			FarmerAmount: "1694400", FoundationAmount: "1355520", StakingAmount: "338880",
		},
		"name contract, partly paid": {
			ContractId: 1, PeriodStart: 100, PeriodEnd: 101, Amount: "55", DiscountLevel: types.DiscountLevelNone,
			Paid: "50", FarmerAmount: "0", FoundationAmount: "45", StakingAmount: "5",
		},
		"extremes": {
			ContractId: math.MaxUint64, PeriodStart: math.MinInt64, PeriodEnd: math.MaxInt64,
			Amount: "123456789012345678901234567890", DiscountLevel: types.DiscountLevelGold, Paid: "0",
			FarmId: math.MaxUint64, FarmerAmount: "0", FoundationAmount: "0", StakingAmount: "0",
		},
		"silver":      {DiscountLevel: types.DiscountLevelSilver},
		"bronze":      {DiscountLevel: types.DiscountLevelBronze},
		"unspecified": {DiscountLevel: types.DiscountLevelUnspecified},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := sdk.TypedEventToEvent(e)
			require.NoError(t, err)
			got := settledEvent(e)
			require.Equal(t, want, got)
			parsed, err := sdk.ParseTypedEvent(abci.Event(got))
			require.NoError(t, err)
			require.Equal(t, e, parsed)
		})
	}
}
