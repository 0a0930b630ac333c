// Package cmd holds the commands of tfgridd.
package cmd

import (
	"fmt"
	"os"
	"strings"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/server"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/app"
)

// EnvPrefix prefixes the environment variables that stand in for flags: TFGRIDD_HOME for --home.
const EnvPrefix = "TFGRIDD"

// appOptions is a minimal servertypes.AppOptions backed by a map.
type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

// NewRootCmd returns the root command of tfgridd.
func NewRootCmd() *cobra.Command {
	app.SetupSDKConfig()

	// A throw-away app instance gives the codecs, the basic manager and the
	// autocli options without duplicating any wiring.
	tempApp := app.NewApp(log.NewNopLogger(), dbm.NewMemDB(), false, appOptions{flags.FlagHome: app.DefaultNodeHome})
	defer tempApp.Close()

	initClientCtx := client.Context{}.
		WithCodec(tempApp.AppCodec()).
		WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).
		WithLegacyAmino(tempApp.LegacyAmino()).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(app.DefaultNodeHome).
		WithViper(EnvPrefix)

	rootCmd := &cobra.Command{
		Use:           "tfgridd",
		Short:         "tfgrid chain daemon: a decentralized IT-capacity grid",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())

			if err := flagsFromEnv(cmd); err != nil {
				return err
			}
			if err := defaultGasAuto(cmd); err != nil {
				return err
			}
			clientCtx := initClientCtx.WithCmdContext(cmd.Context())
			clientCtx, err := client.ReadPersistentCommandFlags(clientCtx, cmd.Flags())
			if err != nil {
				return err
			}
			clientCtx, err = config.ReadFromClientConfig(clientCtx)
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(clientCtx, cmd); err != nil {
				return err
			}

			appTemplate, appConfig := initAppConfig()
			return server.InterceptConfigsPreRunHandler(cmd, appTemplate, appConfig, initCometBFTConfig())
		},
	}

	initRootCmd(rootCmd, tempApp)

	autoCliOpts := tempApp.AutoCliOpts()
	autoCliOpts.ClientCtx = initClientCtx
	// `query node ...` and `query comet ...` (node status, blocks, validator set).
	nodeCmds := nodeservice.NewNodeCommands()
	autoCliOpts.ModuleOptions[nodeCmds.Name()] = nodeCmds.AutoCLIOptions()
	cometCmds := cmtservice.NewCometBFTCommands()
	autoCliOpts.ModuleOptions[cometCmds.Name()] = cometCmds.AutoCLIOptions()

	if err := autoCliOpts.EnhanceRootCommand(rootCmd); err != nil {
		panic(err)
	}
	markGasAuto(rootCmd)
	deriveE2EKeyByDefault(rootCmd)

	return rootCmd
}

// defaultGasAdjustment scales the simulated gas of a tx whose --gas defaulted to auto. A tx that
// touches a contract settles it first, and the simulation runs at the last block's time, when the
// contract may have nothing to pay yet while the tx, one block later, pays (three transfers): its
// gas can be 1.5× the simulation's.
const defaultGasAdjustment = "2"

// flagsFromEnv sets every flag the command line left out from its TFGRIDD_* variable, if set:
// --home from TFGRIDD_HOME, --chain-id from TFGRIDD_CHAIN_ID, --keyring-backend from
// TFGRIDD_KEYRING_BACKEND. (The SDK reads the environment only for client.toml's keys, and only
// once it has found the home.)
func flagsFromEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if _, noEnv := f.Annotations[noEnvAnnotation]; f.Changed || err != nil || noEnv {
			return
		}
		name := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if setErr := cmd.Flags().Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, setErr)
			}
		}
	})
	return err
}

// noEnvAnnotation marks a flag that no TFGRIDD_* variable sets: `deployment --node` is a node id,
// while TFGRIDD_NODE is the RPC URL of every other command.
const noEnvAnnotation = "tfgrid/no-env"

// gasAutoAnnotation marks the message commands (`tfgridd tx <module> <msg>`) whose --gas defaults to
// auto; the other tx commands (sign, broadcast, ...) and gentx keep the SDK's default.
const gasAutoAnnotation = "tfgrid/gas-auto"

// defaultGasAuto makes a message command simulate its tx to set the gas limit unless the user gave
// --gas or signs without asking a node (--offline, --generate-only). A message the chain would
// refuse then fails before it is broadcast, with the chain's registered error and a non-zero exit,
// instead of being committed as a failed tx after the CLI exited 0.
func defaultGasAuto(cmd *cobra.Command) error {
	fs := cmd.Flags()
	gas := fs.Lookup(flags.FlagGas)
	if cmd.Annotations[gasAutoAnnotation] == "" || gas == nil || gas.Changed {
		return nil
	}
	for _, name := range []string{flags.FlagOffline, flags.FlagGenerateOnly} {
		if set, err := fs.GetBool(name); err == nil && set {
			return nil
		}
	}
	return gas.Value.Set(flags.GasFlagAuto)
}

// markGasAuto marks every message command under `tfgridd tx` for defaultGasAuto, sets its
// --gas-adjustment default and says in its help what --gas now defaults to.
func markGasAuto(root *cobra.Command) {
	for _, tx := range root.Commands() {
		if tx.Name() != "tx" {
			continue
		}
		for _, module := range tx.Commands() {
			for _, msg := range module.Commands() {
				markMsgCommand(msg)
			}
		}
	}
}

func markMsgCommand(cmd *cobra.Command) {
	gas := cmd.LocalFlags().Lookup(flags.FlagGas)
	if gas == nil {
		return
	}
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[gasAutoAnnotation] = "true"
	addWaitFlag(cmd)
	gas.DefValue = flags.GasFlagAuto
	gas.Usage = fmt.Sprintf("gas limit of the tx: %q simulates it first (a tx the chain would refuse then fails here, "+
		"with its error and exit code 1) and multiplies the estimate by --gas-adjustment; or a number. "+
		"With --offline or --generate-only the default is %d", flags.GasFlagAuto, flags.DefaultGasLimit)
	if adj := cmd.LocalFlags().Lookup(flags.FlagGasAdjustment); adj != nil {
		if err := adj.Value.Set(defaultGasAdjustment); err == nil {
			adj.DefValue = defaultGasAdjustment
		}
	}
}
