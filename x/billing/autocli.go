package billing

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// AutoCLIOptions describes the module's CLI: `tfgridd tx billing ...` and `tfgridd query billing ...`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod:      "SetTftPrice",
					Use:            "set-tft-price [price_musd]",
					Short:          "Submit a TFT price sample in mUSD per TFT (price feeders only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "price_musd"}},
				},
				{
					RpcMethod: "ReportConsumption",
					Use:       "report-consumption",
					Short:     "Report contract usage from the signer's node (fee-free within the node's hourly allowance)",
					Long:      "Each --reports is a JSON object {\"contract_id\":N,\"timestamp\":UNIX,\"window\":S,\"cru\":N,\"sru\":B,\"hru\":B,\"mru\":B,\"nru\":B}.",
				},
				{
					RpcMethod:      "SettleContract",
					Use:            "settle-contract [contract_id]",
					Short:          "Settle a contract now (anyone; e.g. after a top-up, to leave grace)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "contract_id"}},
				},
				{
					RpcMethod:   "UpdateParams",
					Use:         "update-params",
					Short:       "Propose new billing params (governance)",
					GovProposal: true,
				},
			},
		},
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the billing params"},
				{RpcMethod: "Price", Use: "price", Short: "Show the TFT price billing uses (mUSD per TFT)"},
				{
					RpcMethod: "Contract", Use: "contract [id]",
					Short:          "Show a contract's billing: next settlement, overdraft, grace deadline, hourly cost",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "TwinCosts", Use: "twin-costs [id]",
					Short:          "Show what a twin's contracts cost per hour and when its balance runs out",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
			},
		},
	}
}
