package smartcontract

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// AutoCLIOptions describes the module's CLI: `tfgridd tx smartcontract ...` and `tfgridd query smartcontract ...`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "CreateNodeContract",
					Use:       "create-node-contract [node_id] [deployment_hash]",
					Short:     "Reserve capacity on a node for a deployment",
					Long: "DEPLOYMENT_HASH is the 64-char lowercase hex SHA-256 of the deployment. --public-ips-count reserves " +
						"that many free public IPs of the node's farm (all or none). --data-file stores opaque (encrypted) " +
						"deployment data: a file path, or hex/base64. The contract deposit is locked until the contract ends.\n" +
						"--resources {\"cru\":N,\"sru\":B,\"hru\":B,\"mru\":B} is the capacity reserved (bytes, cru a CPU count): it must fit in " +
						"the node's free capacity, billing never charges for more, and the node refuses a deployment that needs more. " +
						"--max-utft-per-hour caps what one settlement charges per hour settled (0: no cap).",
					Example: "tfgridd tx smartcontract create-node-contract 1 $(sha256sum deployment.json | cut -c1-64) " +
						"--resources '{\"cru\":2,\"mru\":4294967296,\"sru\":53687091200}' --max-utft-per-hour 2000000 " +
						"--public-ips-count 1 --data-file deployment.enc --from alice",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "deployment_hash"}},
					FlagOptions: map[string]*autocliv1.FlagOptions{
						"deployment_data": {Name: "data-file", Usage: "deployment data: a file path, or hex or base64"},
					},
				},
				{
					RpcMethod:      "UpdateNodeContract",
					Use:            "update-node-contract [contract_id] [deployment_hash]",
					Short:          "Replace a node contract's deployment hash, data, reservation and spending cap (owner, not in grace)",
					Long:           "--resources and --max-utft-per-hour replace the contract's (omitted: zero); the new reservation must fit in the node's free capacity plus the old one.",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "contract_id"}, {ProtoField: "deployment_hash"}},
					FlagOptions: map[string]*autocliv1.FlagOptions{
						"deployment_data": {Name: "data-file", Usage: "deployment data: a file path, or hex or base64"},
					},
				},
				{
					RpcMethod:      "CancelContract",
					Use:            "cancel-contract [contract_id]",
					Short:          "Cancel a contract (its owner, or the node's twin for a node contract)",
					Long:           "Frees the contract's public IPs and returns its deposit. A rent contract cannot be cancelled while node contracts run on its node.",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "contract_id"}},
				},
				{
					RpcMethod:      "CreateNameContract",
					Use:            "create-name-contract [name]",
					Short:          "Reserve a unique gateway name (3-64 of [a-z0-9_-])",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "name"}},
				},
				{
					RpcMethod:      "CreateRentContract",
					Use:            "create-rent-contract [node_id]",
					Short:          "Rent a whole node",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "SetDedicatedNodeExtraFee",
					Use:            "set-dedicated-node-extra-fee [node_id] [extra_fee]",
					Short:          "Set a node's extra monthly rent fee in mUSD (farmer; > 0 makes the node dedicated)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "extra_fee"}},
				},
				{
					RpcMethod:      "CancelContractByAuthority",
					Use:            "cancel-contract-by-authority [contract_id]",
					Short:          "Propose cancelling a contract (governance)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "contract_id"}},
					GovProposal:    true,
				},
				{
					RpcMethod:      "ForceResetFarmIp",
					Use:            "force-reset-farm-ip [farm_id] [ip]",
					Short:          "Propose freeing a farm IP held by a contract that no longer lives (governance)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "ip"}},
					GovProposal:    true,
				},
				{
					RpcMethod:   "UpdateParams",
					Use:         "update-params",
					Short:       "Propose new contract params (governance)",
					GovProposal: true,
				},
			},
		},
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the contract module's params"},
				{
					RpcMethod: "Contract", Use: "contract [id]", Short: "Show a contract; a deleted one shows state deleted and its cause",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "ContractsByTwin", Use: "contracts-by-twin [twin_id]", Short: "List a twin's live contracts (--include-deleted: and its deleted ones), in id order",
					Long:           "--include-deleted also lists the twin's deleted contracts among the live ones: state deleted, their delete cause and real created_at.",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "twin_id"}},
				},
				{
					RpcMethod: "ContractByName", Use: "contract-by-name [name]", Short: "Show the name contract holding a name",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "name"}},
				},
				{
					RpcMethod: "NodeContracts", Use: "node-contracts [node_id]", Short: "List a node's live node contracts",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod: "NodeRentContract", Use: "node-rent-contract [node_id]", Short: "Show a node's rent contract",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod: "NodeContractByHash", Use: "node-contract-by-hash [node_id] [hash]", Short: "Show the node contract of a deployment hash on a node",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "hash"}},
				},
				{RpcMethod: "NameContracts", Use: "name-contracts", Short: "List the live name contracts, in name order"},
				{RpcMethod: "RentContracts", Use: "rent-contracts", Short: "List the live rent contracts, in node id order"},
				{RpcMethod: "ContractsInGrace", Use: "contracts-in-grace", Short: "List the live contracts in their grace period, in id order"},
			},
		},
	}
}
