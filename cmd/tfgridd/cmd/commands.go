package cmd

import (
	"errors"
	"fmt"

	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cobra"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/debug"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/pruning"
	"github.com/cosmos/cosmos-sdk/client/snapshot"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	authcmd "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"

	"github.com/tfgrid/tfgrid/app"
)

// initCometBFTConfig returns the CometBFT defaults written by `init`.
func initCometBFTConfig() *cmtcfg.Config {
	return cmtcfg.DefaultConfig()
}

// initAppConfig returns the app.toml template and defaults: fees in utft
// (zero by default) and the REST API enabled on localhost:1317.
func initAppConfig() (string, any) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = "0" + app.BondDenom
	cfg.API.Enable = true
	cfg.API.Address = serverconfig.DefaultAPIAddress // tcp://localhost:1317
	return serverconfig.DefaultConfigTemplate, *cfg
}

func initRootCmd(rootCmd *cobra.Command, tempApp *app.App) {
	txConfig := tempApp.TxConfig()
	basicManager := tempApp.BasicModuleManager

	rootCmd.AddCommand(
		initCmd(tempApp),
		debug.Cmd(),
		pruning.Cmd(newApp, app.DefaultNodeHome),
		snapshot.Cmd(newApp),
	)

	// start (on app.OpenDB: goleveldb caches sized for the grid's state), comet, export, version,
	// rollback, module-hash-by-height
	server.AddCommandsWithStartCmdOptions(rootCmd, app.DefaultNodeHome, newApp, appExport, server.StartCmdOptions{DBOpener: app.OpenDB})
	rootCmd.AddCommand(server.ModuleHashByHeightQuery(newApp))

	genesisCmd := genutilcli.Commands(txConfig, basicManager, app.DefaultNodeHome)
	genesisCmd.AddCommand(server.ExportCmd(appExport, app.DefaultNodeHome))

	rootCmd.AddCommand(
		server.StatusCommand(),
		genesisCmd,
		queryCommand(),
		txCommand(),
		keys.Commands(),
		deploymentCommand(),
	)
}

// initCmd is the SDK's init with tfgrid's default genesis and, when no chain
// id is given, the local chain id tfgrid-local-1.
func initCmd(tempApp *app.App) *cobra.Command {
	cmd := genutilcli.InitCmd(tempApp.BasicModuleManager, app.DefaultNodeHome)
	cmd.Flags().Lookup(flags.FlagChainID).Usage = fmt.Sprintf("genesis file chain-id (default %q)", app.DefaultChainID)
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !cmd.Flags().Changed(flags.FlagChainID) && client.GetClientContextFromCmd(cmd).ChainID == "" {
			if err := cmd.Flags().Set(flags.FlagChainID, app.DefaultChainID); err != nil {
				return err
			}
		}
		return run(cmd, args)
	}
	return cmd
}

// queryCommand is `tfgridd query`; autocli adds every module's queries.
func queryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "query",
		Aliases:                    []string{"q"},
		Short:                      "Querying subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		waitTxCmd(),
		server.QueryBlockCmd(),
		server.QueryBlocksCmd(),
		server.QueryBlockResultsCmd(),
		authcmd.QueryTxsByEventsCmd(),
		authcmd.QueryTxCmd(),
	)
	return cmd
}

// txCommand is `tfgridd tx`; autocli adds every module's messages.
func txCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "tx",
		Short:                      "Transactions subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		authcmd.GetSignCommand(),
		authcmd.GetSignBatchCommand(),
		authcmd.GetMultiSignCommand(),
		authcmd.GetMultiSignBatchCmd(),
		authcmd.GetValidateSignaturesCommand(),
		authcmd.GetBroadcastCommand(),
		authcmd.GetEncodeCommand(),
		authcmd.GetDecodeCommand(),
		authcmd.GetSimulateCmd(),
	)
	return cmd
}

// newApp is the server's AppCreator.
func newApp(logger log.Logger, db dbm.DB, appOpts servertypes.AppOptions) servertypes.Application {
	return app.NewApp(logger, db, true, appOpts, server.DefaultBaseappOptions(appOpts)...)
}

// appExport is the server's AppExporter (`tfgridd export`).
func appExport(
	logger log.Logger,
	db dbm.DB,
	height int64,
	forZeroHeight bool,
	jailAllowedAddrs []string,
	appOpts servertypes.AppOptions,
	modulesToExport []string,
) (servertypes.ExportedApp, error) {
	if appOpts == nil {
		return servertypes.ExportedApp{}, errors.New("app options are required to export")
	}

	loadLatest := height == -1
	tfApp := app.NewApp(logger, db, loadLatest, appOpts)
	if !loadLatest {
		if err := tfApp.LoadHeight(height); err != nil {
			return servertypes.ExportedApp{}, err
		}
	}
	return tfApp.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}
