package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/tfgrid/tfgrid/tfclient/deploy"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

const (
	flagGRPC        = "chain-grpc"
	flagRPC         = "chain-rpc"
	flagRelay       = "relay"
	flagRMBTTL      = "rmb-ttl"
	flagNodeID      = "node"
	flagPublicIPs   = "public-ips"
	flagMaxCost     = "max-cost"
	flagKeepOnError = "keep-on-error"
	flagDryRun      = "dry-run"
	flagOutput      = "output"
	flagContract    = "contract"
	flagRedeploy    = "redeploy"
)

// deploymentCommand is `tfgridd deployment`: the user's whole flow over tfclient/deploy.
func deploymentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deployment",
		Short: "Deploy workloads on a node: contract, encrypted backup on chain, RMB to the node, progress",
		Long: `Deployments are JSON files (zos-agent/deployment/README.md). deploy checks the file as the node will,
signs it, creates the node contract reserving what it needs (the file encrypted to your own key is
the contract's deployment data), sends it to the node over RMB and follows every workload to ok.`,
		RunE: client.ValidateCmd,
	}
	cmd.AddCommand(deploymentHashCmd(), deploymentDeployCmd(), deploymentGetCmd(), deploymentChangesCmd(),
		deploymentListCmd(), deploymentUpdateCmd(), deploymentSignCmd(), deploymentRecoverCmd(), deploymentCancelCmd())
	for _, sub := range cmd.Commands() {
		sub.SilenceUsage = true // a failure prints its error, not the usage
	}
	return cmd
}

// addClientFlags adds the key and endpoint flags of a command that talks to the chain and nodes.
func addClientFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String(flags.FlagFrom, "", "name or address of the key that acts (its twin owns the deployments)")
	f.String(flags.FlagKeyringBackend, flags.DefaultKeyringBackend, "keyring backend (os|file|kwallet|pass|test|memory)")
	f.String(flags.FlagKeyringDir, "", "keyring directory (default: --home)")
	f.String(flags.FlagChainID, "", "chain id (default: client.toml's)")
	f.String(flagGRPC, "127.0.0.1:9090", "chain gRPC host:port")
	f.String(flagRPC, "", "CometBFT RPC URL (default: client.toml's node, else tcp://127.0.0.1:26657)")
	f.StringSlice(flagRelay, nil, "RMB relay URLs (default: the relays registered on your twin)")
	f.Duration(flagRMBTTL, 30*time.Second, "how long a node has to answer one RMB request before it is called offline")
	_ = cmd.MarkFlagRequired(flags.FlagFrom)
}

// newDeployClient builds the library client from the command's flags and keyring.
func newDeployClient(cmd *cobra.Command) (*deploy.Client, error) {
	clientCtx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return nil, err
	}
	if clientCtx.FromName == "" {
		return nil, fmt.Errorf("--from: no key given")
	}
	key, err := accountPrivKey(clientCtx.Keyring, clientCtx.FromName)
	if err != nil {
		return nil, err
	}
	f := cmd.Flags()
	grpcAddr, _ := f.GetString(flagGRPC)
	rpc, _ := f.GetString(flagRPC)
	if rpc == "" {
		rpc = clientCtx.NodeURI
	}
	if rpc == "" {
		rpc = "tcp://127.0.0.1:26657"
	}
	relays, _ := f.GetStringSlice(flagRelay)
	ttl, _ := f.GetDuration(flagRMBTTL)
	if clientCtx.ChainID == "" {
		return nil, fmt.Errorf("--chain-id: not given and not in client.toml")
	}
	return deploy.New(cmd.Context(), deploy.Config{GRPC: grpcAddr, RPC: rpc, ChainID: clientCtx.ChainID, Key: key, Relays: relays, CallTTL: ttl})
}

// withDeployClient runs fn with a connected client and closes it.
func withDeployClient(fn func(cmd *cobra.Command, c *deploy.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := newDeployClient(cmd)
		if err != nil {
			return err
		}
		defer c.Close()
		return fn(cmd, c, args)
	}
}

func parseContractID(arg string) (uint64, error) {
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("contract id %q: want a positive integer", arg)
	}
	return id, nil
}

func deploymentHashCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hash FILE",
		Short: "Print the canonical hash of a deployment file (what the contract stores and signatures sign)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			h, err := deployment.HashJSON(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), h)
			return nil
		},
	}
}

// addDeployFlags adds the flags of deploy and recover --redeploy.
func addDeployFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	addNodeIDFlag(cmd, "the node to deploy on")
	f.Int(flagPublicIPs, -1, "public IPv4 addresses the contract reserves from the node's farm (default: the file's ip workloads with v4)")
	f.Uint64(flagMaxCost, 0, "spending cap of the contract in utft per hour (0: none)")
	f.Bool(flagKeepOnError, false, "keep the contract when the node refuses the deployment or a workload fails")
	f.Duration(flagTimeout, 5*time.Minute, "how long to wait for every workload to be ok")
	f.Bool(flagDryRun, false, "check and price the deployment, send nothing")
}

// addNodeIDFlag adds --node, a node id here; TFGRIDD_NODE (an RPC URL elsewhere) does not set it.
func addNodeIDFlag(cmd *cobra.Command, usage string) {
	cmd.Flags().Uint64(flagNodeID, 0, usage)
	_ = cmd.Flags().SetAnnotation(flagNodeID, noEnvAnnotation, []string{"true"})
}

func deployOptions(cmd *cobra.Command) deploy.Options {
	f := cmd.Flags()
	maxCost, _ := f.GetUint64(flagMaxCost)
	keep, _ := f.GetBool(flagKeepOnError)
	timeout, _ := f.GetDuration(flagTimeout)
	return deploy.Options{MaxUTFTPerHour: maxCost, KeepOnError: keep, Timeout: timeout, Progress: newProgress(cmd.ErrOrStderr()).show}
}

func deploymentDeployCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy FILE --node N --from KEY",
		Short: "Check, sign, reserve and deploy a deployment file on a node, and follow it until it runs",
		Long: `deploy checks the file as the node will, fills twin_id with your twin, signs it, and shows the
reservation and its hourly price. It then creates the node contract (reservation, --max-cost cap,
--public-ips, the file encrypted to your key), sends the deployment to the node over RMB and shows
each workload's state until all are ok. A refusal or a failed workload cancels the contract again
(deposit returned) unless --keep-on-error. A multi-signature deployment needs its co-signers'
signatures in the file first (tfgridd deployment sign).`,
		Args: cobra.ExactArgs(1),
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, args []string) error {
			file, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return deployFile(cmd, c, file)
		}),
	}
	addClientFlags(cmd)
	addDeployFlags(cmd)
	return cmd
}

// deployFile prepares, shows and deploys a file on --node.
func deployFile(cmd *cobra.Command, c *deploy.Client, file []byte) error {
	node, _ := cmd.Flags().GetUint64(flagNodeID)
	if node == 0 {
		return fmt.Errorf("--node: the node id to deploy on is required")
	}
	ips, _ := cmd.Flags().GetInt(flagPublicIPs)
	plan, err := c.Prepare(cmd.Context(), file, node, ips)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	r := plan.Reserve
	fmt.Fprintf(out, "deployment %s (twin %d) on node %d\n", plan.Doc.Hash(), c.Twin.Id, node)
	fmt.Fprintf(out, "reserves: %d CPU, %s memory, %s SSD, %s HDD, %d public IP(s)\n", r.CRU, bytesOf(r.MRU), bytesOf(r.SRU), bytesOf(r.HRU), plan.PublicIPs)
	fmt.Fprintf(out, "price: %s utft per hour (before discounts); deposit %s utft, returned when the contract ends\n", plan.HourlyUTFT, plan.Deposit)
	if dry, _ := cmd.Flags().GetBool(flagDryRun); dry {
		fmt.Fprintln(out, "dry run: nothing sent")
		return nil
	}
	id, d, err := c.Deploy(cmd.Context(), plan, deployOptions(cmd))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "contract %d: deployed on node %d\n", id, node)
	printWorkloads(out, d)
	return nil
}

func bytesOf(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// printWorkloads lists each workload's state and result data.
func printWorkloads(out io.Writer, d *deployment.Deployment) {
	for _, w := range d.Workloads {
		line := fmt.Sprintf("  %-16s %-10s %s", w.Name, w.Type, w.Result.State)
		if w.Result.Message != "" {
			line += ": " + w.Result.Message
		}
		if len(w.Result.Data) > 0 && string(w.Result.Data) != "null" && string(w.Result.Data) != "{}" {
			line += " " + string(w.Result.Data)
		}
		fmt.Fprintln(out, line)
	}
}

// progress shows workload states: one rewritten line on a terminal, a line per change otherwise.
type progress struct {
	out  io.Writer
	tty  bool
	last map[string]deployment.ResultState
}

func newProgress(out io.Writer) *progress {
	f, ok := out.(*os.File)
	return &progress{out: out, tty: ok && term.IsTerminal(int(f.Fd())), last: map[string]deployment.ResultState{}}
}

func (p *progress) show(ws []deployment.Workload) {
	if p.tty {
		var parts []string
		ok, failed := 0, false
		for _, w := range ws {
			parts = append(parts, fmt.Sprintf("%s:%s", w.Name, stateOf(w)))
			ok += boolInt(w.Result.State == deployment.StateOk)
			failed = failed || w.Result.State == deployment.StateError
		}
		fmt.Fprintf(p.out, "\r\033[K[%d/%d ok] %s", ok, len(ws), strings.Join(parts, " "))
		if ok == len(ws) || failed { // the last update: what follows starts on its own line
			fmt.Fprintln(p.out)
		}
		return
	}
	for _, w := range ws {
		s := stateOf(w)
		if p.last[w.Name] == s {
			continue
		}
		p.last[w.Name] = s
		line := fmt.Sprintf("workload %s (%s): %s", w.Name, w.Type, s)
		if w.Result.Message != "" {
			line += ": " + w.Result.Message
		}
		fmt.Fprintln(p.out, line)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stateOf names a workload not yet reported as init.
func stateOf(w deployment.Workload) deployment.ResultState {
	if w.Result.State == "" {
		return deployment.StateInit
	}
	return w.Result.State
}

func printJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}

func deploymentGetCmd() *cobra.Command {
	return nodeReadCmd("get CONTRACT_ID --from KEY", "Show a deployment as its node has it (JSON, with each workload's result)",
		func(ctx context.Context, c *deploy.Client, node, id uint64) (any, error) { return c.Get(ctx, node, id) })
}

func deploymentChangesCmd() *cobra.Command {
	return nodeReadCmd("changes CONTRACT_ID --from KEY", "Show the history of a deployment's workloads on its node (JSON)",
		func(ctx context.Context, c *deploy.Client, node, id uint64) (any, error) {
			return c.Changes(ctx, node, id)
		})
}

// nodeReadCmd is a command that asks a contract's node for something about its deployment and
// prints it as JSON.
func nodeReadCmd(use, short string, read func(ctx context.Context, c *deploy.Client, node, id uint64) (any, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, args []string) error {
			id, err := parseContractID(args[0])
			if err != nil {
				return err
			}
			node, err := c.NodeOf(cmd.Context(), id)
			if err != nil {
				return err
			}
			v, err := read(cmd.Context(), c, node, id)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), v)
		}),
	}
	addClientFlags(cmd)
	return cmd
}

func deploymentListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list --node N --from KEY",
		Short: "List your live deployments on a node (JSON)",
		Args:  cobra.NoArgs,
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, _ []string) error {
			node, _ := cmd.Flags().GetUint64(flagNodeID)
			if node == 0 {
				return fmt.Errorf("--node: the node id is required")
			}
			list, err := c.List(cmd.Context(), node)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), list)
		}),
	}
	addClientFlags(cmd)
	addNodeIDFlag(cmd, "the node to ask")
	return cmd
}

func deploymentUpdateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update FILE --from KEY [--contract ID]",
		Short: "Replace a deployment with a new version of its file and follow it",
		Long: `update makes FILE the next version of the deployment of --contract (default: the file's
contract_id): version + 1, new and changed workloads at the new version, unchanged ones as they
were. It updates the contract's hash, reservation and encrypted data, then the node.`,
		Args: cobra.ExactArgs(1),
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, args []string) error {
			file, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			id, _ := cmd.Flags().GetUint64(flagContract)
			if id == 0 {
				doc, err := deploy.ParseFile(file)
				if err != nil {
					return err
				}
				id = doc.Deployment.ContractID
			}
			if id == 0 {
				return fmt.Errorf("--contract: not given and the file's contract_id is 0")
			}
			d, err := c.Update(cmd.Context(), id, file, deployOptions(cmd))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "contract %d: updated to version %d\n", id, d.Version)
			printWorkloads(cmd.OutOrStdout(), d)
			return nil
		}),
	}
	addClientFlags(cmd)
	f := cmd.Flags()
	f.Uint64(flagContract, 0, "the contract whose deployment is replaced")
	f.Uint64(flagMaxCost, 0, "new spending cap in utft per hour (0: keep the contract's)")
	f.Duration(flagTimeout, 5*time.Minute, "how long to wait for every workload to be ok")
	return cmd
}

func deploymentSignCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sign FILE --from KEY",
		Short: "Add your twin's signature to a deployment file (co-signing a multi-signature deployment)",
		Long: `sign adds your twin's signature over the deployment hash to signature_requirement.signatures and
writes the file back (or to --output). Signing again replaces your signature with the same one. A
file whose twin_id is 0 gets your twin as its owner: the owner signs first, then the co-signers.`,
		Args: cobra.ExactArgs(1),
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, args []string) error {
			file, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			signed, err := c.Sign(file)
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString(flagOutput)
			if out == "" {
				out = args[0]
			}
			if err := os.WriteFile(out, signed, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: signed by twin %d\n", out, c.Twin.Id)
			return nil
		}),
	}
	addClientFlags(cmd)
	cmd.Flags().String(flagOutput, "", "write the signed file here (default: FILE itself)")
	return cmd
}

func deploymentRecoverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recover CONTRACT_ID --from KEY [--output FILE] [--redeploy --node M]",
		Short: "Decrypt a contract's deployment data from the chain: the file you deployed, byte for byte",
		Args:  cobra.ExactArgs(1),
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, args []string) error {
			id, err := parseContractID(args[0])
			if err != nil {
				return err
			}
			file, err := c.Recover(cmd.Context(), id)
			if err != nil {
				return err
			}
			if redeploy, _ := cmd.Flags().GetBool(flagRedeploy); redeploy {
				return deployFile(cmd, c, file)
			}
			if out, _ := cmd.Flags().GetString(flagOutput); out != "" {
				return os.WriteFile(out, file, 0o600)
			}
			_, err = cmd.OutOrStdout().Write(file)
			return err
		}),
	}
	addClientFlags(cmd)
	addDeployFlags(cmd)
	cmd.Flags().String(flagOutput, "", "write the file here (default: standard output)")
	cmd.Flags().Bool(flagRedeploy, false, "deploy the recovered file again on --node")
	return cmd
}

func deploymentCancelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel CONTRACT_ID --from KEY",
		Short: "Cancel a deployment's contract: the node tears it down, its IPs are freed, the deposit returns",
		Args:  cobra.ExactArgs(1),
		RunE: withDeployClient(func(cmd *cobra.Command, c *deploy.Client, args []string) error {
			id, err := parseContractID(args[0])
			if err != nil {
				return err
			}
			if err := c.Cancel(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "contract %d cancelled\n", id)
			return nil
		}),
	}
	addClientFlags(cmd)
	return cmd
}
