// Command tfgridd is the tfgrid chain daemon and CLI.
package main

import (
	"fmt"
	"os"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/tfgrid/tfgrid/app"
	"github.com/tfgrid/tfgrid/cmd/tfgridd/cmd"
)

func main() {
	app.SetupSDKConfig()

	rootCmd := cmd.NewRootCmd()
	// Every flag can also come from the environment: TFGRIDD_HOME, TFGRIDD_NODE, TFGRIDD_CHAIN_ID, ...
	if err := svrcmd.Execute(rootCmd, cmd.EnvPrefix, app.DefaultNodeHome); err != nil {
		fmt.Fprintln(rootCmd.OutOrStderr(), err)
		os.Exit(1)
	}
}
