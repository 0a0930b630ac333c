package tfgrid

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// AutoCLIOptions describes the module's CLI: `tfgridd tx tfgrid ...` and `tfgridd query tfgrid ...`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "CreateTwin",
					Use:       "create-twin",
					Short:     "Register the signer's twin",
					Long:      "Registers the twin of the --from account. Its public key is the account's secp256k1 key.\n--relays lists up to 4 RMB relay URLs (ws://host[:port] or wss://host[:port]); --e2e-key is an optional 33-byte compressed secp256k1 key (hex or base64).",
					Example:   "tfgridd tx tfgrid create-twin --relays ws://127.0.0.1:8080 --from alice",
					FlagOptions: map[string]*autocliv1.FlagOptions{
						"e2e_key": {Name: "e2e-key", Usage: "33-byte compressed secp256k1 key for end-to-end encryption (hex or base64), derived from the account key"},
						"relays":  {Usage: "RMB relay URLs that reach the twin: ws://host[:port] or wss://host[:port], at most 4"},
					},
				},
				{
					RpcMethod: "UpdateTwin",
					Use:       "update-twin",
					Short:     "Replace the relays and e2e key of the signer's twin",
					Example:   "tfgridd tx tfgrid update-twin --relays wss://relay.example.org --from alice",
					FlagOptions: map[string]*autocliv1.FlagOptions{
						"e2e_key": {Name: "e2e-key", Usage: "33-byte compressed secp256k1 key for end-to-end encryption (hex or base64), derived from the account key"},
						"relays":  {Usage: "RMB relay URLs that reach the twin: ws://host[:port] or wss://host[:port], at most 4"},
					},
				},
				{
					RpcMethod:      "CreateFarm",
					Use:            "create-farm [name]",
					Short:          "Register a farm owned by the signer's twin",
					Long:           "Name: 3-40 of [A-Za-z0-9_-], unique. Each --public-ips is a JSON object {\"ip\":\"CIDR\",\"gateway\":\"IPv4\"}.",
					Example:        "tfgridd tx tfgrid create-farm myfarm --public-ips '{\"ip\":\"185.206.122.33/24\",\"gateway\":\"185.206.122.1\"}' --from farmer",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "name"}},
				},
				{
					RpcMethod:      "UpdateFarm",
					Use:            "update-farm [farm_id] [name]",
					Short:          "Rename a farm (farmer only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "name"}},
				},
				{
					RpcMethod:      "AddFarmIp",
					Use:            "add-farm-ip [farm_id] [ip] [gateway]",
					Short:          "Add a public IP to a farm (farmer only)",
					Long:           "IP is a CIDR (address/prefix); GATEWAY a public IPv4 inside it.",
					Example:        "tfgridd tx tfgrid add-farm-ip 1 185.206.122.34/24 185.206.122.1 --from farmer",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "ip"}, {ProtoField: "gateway"}},
				},
				{
					RpcMethod:      "RemoveFarmIp",
					Use:            "remove-farm-ip [farm_id] [ip]",
					Short:          "Remove a free public IP from a farm (farmer only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "ip"}},
				},
				{
					RpcMethod:      "AllowNodeTwin",
					Use:            "allow-node-twin [farm_id] [twin_id]",
					Short:          "Let a node twin register into a farm (farmer only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "twin_id"}},
				},
				{
					RpcMethod:      "DisallowNodeTwin",
					Use:            "disallow-node-twin [farm_id] [twin_id]",
					Short:          "Withdraw a node twin's permission to register (farmer only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "twin_id"}},
				},
				{
					RpcMethod:      "SetFarmOpenRegistration",
					Use:            "set-farm-open-registration [farm_id] [open]",
					Short:          "Open a farm to any node twin, or close it (farmer only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "open"}},
				},
				{
					RpcMethod:      "CreateNode",
					Use:            "create-node [farm_id]",
					Short:          "Register the signer's twin as a node of a farm",
					Long:           "The farm must be open or have allowed the signer's twin. Resources are bytes (cru a CPU count): cru >= 1, mru >= 2 GiB, sru or hru >= 100 GiB, each within the max_node_* params. --link-rate is the bytes per second the node moves over its public network (at most max_link_rate): it bounds the network use it may report.\n--resources {\"cru\":N,\"sru\":B,\"hru\":B,\"mru\":B}; --location {\"city\":..,\"country\":..,\"latitude\":\"..\",\"longitude\":\"..\"}; each --interfaces {\"name\":..,\"mac\":..,\"ips\":[..]}.",
					Example:        "tfgridd tx tfgrid create-node 1 --resources '{\"cru\":8,\"sru\":512000000000,\"hru\":0,\"mru\":17179869184}' --location '{\"city\":\"Ghent\",\"country\":\"Belgium\",\"latitude\":\"51.05\",\"longitude\":\"3.72\"}' --from node1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}},
				},
				{
					RpcMethod:      "UpdateNode",
					Use:            "update-node [node_id]",
					Short:          "Update a node's description (node twin only)",
					Long:           "Takes the same flags as create-node; a different --farm-id moves the node.",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "SetNodePublicConfig",
					Use:            "set-node-public-config [node_id]",
					Short:          "Set or clear a node's public config (farmer only)",
					Long:           "--public-config {\"ipv4\":CIDR,\"gw4\":IP,\"ipv6\":CIDR,\"gw6\":IP,\"domain\":..}; without it the config is cleared.",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "DeleteNode",
					Use:            "delete-node [node_id]",
					Short:          "Remove a node (node twin or farmer)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "ReportUptime",
					Use:            "report-uptime [uptime] [timestamp_hint]",
					Short:          "Report the signer node's uptime",
					Long:           "UPTIME in seconds; TIMESTAMP_HINT is the node's unix time, within timestamp_drift of block time.",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "uptime"}, {ProtoField: "timestamp_hint"}},
				},
				{
					RpcMethod:      "ChangePowerState",
					Use:            "change-power-state [state]",
					Short:          "Report the signer node's power state (up or down)",
					Example:        "tfgridd tx tfgrid change-power-state down --from node1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "state"}},
				},
				{
					RpcMethod:      "ChangePowerTarget",
					Use:            "change-power-target [node_id] [target]",
					Short:          "Set a node's power target, up or down (farmer only)",
					Long:           "Down is refused while the node has live contracts.",
					Example:        "tfgridd tx tfgrid change-power-target 7 down --from farmer",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "target"}},
				},
				{
					RpcMethod:   "CreatePricingPolicy",
					Use:         "create-pricing-policy",
					Short:       "Propose a new pricing policy (governance)",
					GovProposal: true,
				},
				{
					RpcMethod:   "UpdatePricingPolicy",
					Use:         "update-pricing-policy",
					Short:       "Propose a pricing policy change (governance)",
					GovProposal: true,
				},
				{
					RpcMethod:   "CreateFarmingPolicy",
					Use:         "create-farming-policy",
					Short:       "Propose a new farming policy (governance)",
					GovProposal: true,
				},
				{
					RpcMethod:   "UpdateFarmingPolicy",
					Use:         "update-farming-policy",
					Short:       "Propose a farming policy change (governance)",
					GovProposal: true,
				},
				{
					RpcMethod:      "AttachPolicyToFarm",
					Use:            "attach-policy-to-farm [farm_id]",
					Short:          "Propose attaching a farming policy to a farm (governance)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}},
					GovProposal:    true,
				},
				{
					RpcMethod:      "SetFarmCertification",
					Use:            "set-farm-certification [farm_id] [certification]",
					Short:          "Propose a farm certification (governance)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "certification"}},
					GovProposal:    true,
				},
				{
					RpcMethod:      "SetFarmDedicated",
					Use:            "set-farm-dedicated [farm_id] [dedicated]",
					Short:          "Propose marking a farm dedicated or not (governance)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "farm_id"}, {ProtoField: "dedicated"}},
					GovProposal:    true,
				},
				{
					RpcMethod:      "SetNodeCertification",
					Use:            "set-node-certification [node_id] [certification]",
					Short:          "Set a node's certification (authority or a node certifier)",
					Example:        "tfgridd tx tfgrid set-node-certification 7 certified --from certifier",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "certification"}},
				},
				{
					RpcMethod:   "UpdateParams",
					Use:         "update-params",
					Short:       "Propose new registry params (governance)",
					GovProposal: true,
				},
			},
		},
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			// `nodes` is hand-written (client/cli): its size flags take units (8GiB), which autocli's
			// uint64 flags cannot; autocli adds every other query to it.
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Params",
					Use:       "params",
					Short:     "Show the registry's params",
				},
				{
					RpcMethod:      "Twin",
					Use:            "twin [id]",
					Short:          "Show a twin by id",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod:      "TwinByAccount",
					Use:            "twin-by-account [address]",
					Short:          "Show the twin of an account",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{
					RpcMethod: "Twins",
					Use:       "twins",
					Short:     "List twins",
				},
				{
					RpcMethod:      "Farm",
					Use:            "farm [id]",
					Short:          "Show a farm by id",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod:      "FarmByName",
					Use:            "farm-by-name [name]",
					Short:          "Show a farm by name",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "name"}},
				},
				{
					RpcMethod: "Farms",
					Use:       "farms",
					Short:     "List farms",
				},
				{
					RpcMethod:      "FarmsByTwin",
					Use:            "farms-by-twin [twin_id]",
					Short:          "List a twin's farms, in id order",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "twin_id"}},
				},
				{
					RpcMethod:      "FarmPublicIps",
					Use:            "farm-public-ips [id]",
					Short:          "List a farm's public IPs and the contracts holding them (--free-only: the free ones)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod:      "FarmAllowedNodeTwins",
					Use:            "farm-allowed-node-twins [id]",
					Short:          "List the node twins allowed to register into a farm",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod:      "Node",
					Use:            "node [id]",
					Short:          "Show a node by id",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod:      "NodeByTwin",
					Use:            "node-by-twin [twin_id]",
					Short:          "Show the node registered by a twin",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "twin_id"}},
				},
				{
					RpcMethod: "Nodes",
					Skip:      true, // client/cli.NodesCmd
				},
				{
					RpcMethod:      "PricingPolicy",
					Use:            "pricing-policy [id]",
					Short:          "Show a pricing policy by id",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "PricingPolicies",
					Use:       "pricing-policies",
					Short:     "List pricing policies",
				},
				{
					RpcMethod:      "FarmingPolicy",
					Use:            "farming-policy [id]",
					Short:          "Show a farming policy by id",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "FarmingPolicies",
					Use:       "farming-policies",
					Short:     "List farming policies",
				},
			},
		},
	}
}
