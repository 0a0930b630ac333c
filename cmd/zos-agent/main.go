// zos-agent is the node agent: `run` is the daemon; `image import` fills the local image store;
// `check` reports which workload backends the machine supports.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tfgrid/tfgrid/zos-agent/agent"
	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/config"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{Use: "zos-agent", Short: "tfgrid node agent", SilenceUsage: true}
	var dataDir string
	root.PersistentFlags().StringVar(&dataDir, "data-dir", "", "the agent's data directory (images, containers, disks)")

	imageCmd := &cobra.Command{Use: "image", Short: "manage the local image store"}
	var name string
	importCmd := &cobra.Command{
		Use:   "import FILE",
		Short: "import an OCI image layout (directory or tar) or a rootfs tarball",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" {
				return fmt.Errorf("--data-dir is required")
			}
			store, err := image.Open(dataDir)
			if err != nil {
				return err
			}
			img, err := store.Import(args[0], name)
			if err != nil {
				return err
			}
			return printJSON(cmd, img)
		},
	}
	importCmd.Flags().StringVar(&name, "name", "", "name the image can be referenced by (besides its digest)")
	imageCmd.AddCommand(importCmd)

	checkCmd := &cobra.Command{
		Use:   "check",
		Short: "report which workload backends this machine supports and what is missing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report := backend.Check()
			if err := printJSON(cmd, report); err != nil {
				return err
			}
			return report.Require(backend.Containers, backend.Images, backend.Disks)
		},
	}
	root.AddCommand(imageCmd, checkCmd, runCmd())
	return root
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// runCmd runs the daemon until SIGINT or SIGTERM. It has its own --data-dir (a config key).
func runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run the node agent: register the node, serve deployments over RMB, follow the chain, report",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
				return fmt.Errorf("log_level: %w", err)
			}
			log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return agent.Run(ctx, cfg, log)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}
