package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/tfgrid/tfgrid/app"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestRunwayDrainOnChain runs the runway schedule on the whole app, where bank's send restriction and
// staking's hooks are wired as in app/keepers.go: a twin with a million TFT has its contract settled
// max_settlement_interval apart; once it sends or delegates its funds away, the contract is settled
// in that very block's EndBlock and enters grace, instead of running unpaid until its next settlement.
func TestRunwayDrainOnChain(t *testing.T) {
	const interval, maxInterval = 10, 3600
	for _, tc := range []struct {
		name  string
		drain func(w *authzWorld, amount sdkmath.Int) sdk.Msg
	}{
		{"bank send", func(w *authzWorld, amount sdkmath.Int) sdk.Msg {
			return banktypes.NewMsgSend(w.granter.Address, w.chain.Accounts[3].Address, sdk.NewCoins(sdk.NewCoin(app.BondDenom, amount)))
		}},
		{"delegation", func(w *authzWorld, amount sdkmath.Int) sdk.Msg {
			vals, err := w.chain.App.StakingKeeper.GetAllValidators(w.chain.Ctx)
			require.NoError(w.chain.T, err)
			return stakingtypes.NewMsgDelegate(w.granter.String(), vals[0].OperatorAddress, sdk.NewCoin(app.BondDenom, amount))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newAuthzWorld(t)
			chain, bk := w.chain, w.chain.App.BillingKeeper
			params, err := bk.Params.Get(chain.Ctx)
			require.NoError(t, err)
			params.SettlementInterval, params.MaxSettlementInterval = interval, maxInterval
			update := &billingtypes.MsgUpdateParams{Authority: chain.App.Authority(), Params: params}
			_, err = chain.App.MsgServiceRouter().Handler(update)(chain.Ctx, update)
			require.NoError(t, err)

			requireOK(t, chain.DeliverTx(w.granter, &sctypes.MsgCreateNodeContract{
				Creator: w.granter.String(), NodeId: w.nodeID, DeploymentHash: deploymentHash("vm"), DeploymentData: []byte("vm"), PublicIpsCount: 1,
				Resources: types.Resources{Cru: 2, Mru: 4 * types.GiB, Sru: 50 * types.GiB},
			}))
			ids := w.contractIDs(t)
			require.Len(t, ids, 1)
			billing := func() billingtypes.ContractBilling {
				b, err := bk.Contracts.Get(chain.Ctx, ids[0])
				require.NoError(t, err)
				return b
			}
			created := billing().LastSettled
			for billing().LastSettled == created {
				chain.NextBlock()
			}
			scheduled := billing()
			require.Equal(t, scheduled.LastSettled+maxInterval, scheduled.NextDue, "a million TFT: the longest spacing")

			// What is left pays less than the IP's few seconds since the last settlement.
			left := sdkmath.NewInt(100)
			requireOK(t, chain.DeliverTx(w.granter, tc.drain(w, w.balance(w.granter.Address).Sub(left))))
			drained := billing()
			require.Greater(t, drained.LastSettled, scheduled.LastSettled, "settled in the drain's own block")
			require.Less(t, drained.LastSettled, scheduled.NextDue)
			c, err := chain.App.SmartcontractKeeper.GetContract(chain.Ctx, ids[0])
			require.NoError(t, err)
			require.Equal(t, sctypes.ContractStateGracePeriod, c.State, "the drained twin's contract is in grace at once")
			marked, err := bk.FundsShortTwins.Has(chain.Ctx, w.twinID)
			require.NoError(t, err)
			require.False(t, marked)
			require.NoError(t, bk.CheckInvariants(chain.Ctx))
		})
	}
}
