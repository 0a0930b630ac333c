// Command rmb-relay is the RMB relay server (rmb/relay). See rmb/README.md for the flags and protocol.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tfgrid/tfgrid/rmb/relay/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := cli.Run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, cli.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "rmb-relay:", err)
		os.Exit(1)
	}
}
