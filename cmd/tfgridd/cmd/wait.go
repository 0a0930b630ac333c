package cmd

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
)

const (
	flagWait        = "wait"
	flagWaitTimeout = "wait-timeout"
	flagTimeout     = "timeout"

	defaultWaitTimeout = time.Minute
	// waitPollInterval is how often the node is asked for the tx: a fraction of a block, cheap for
	// the node (one indexed lookup).
	waitPollInterval = 200 * time.Millisecond
)

// waitTxCmd is `tfgridd query wait-tx [HASH]`. Unlike the SDK's command of that name, which
// subscribes to the tx's event and can miss a tx committed before it subscribed, it polls the node
// for the tx by hash until it is in a block or the timeout passes.
func waitTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wait-tx [hash]",
		Short: "Wait until a transaction is in a block and print its result",
		Long: "Polls the node for the transaction until it is in a block, then prints its result.\n" +
			"The hash is the argument, or is read from the output of a tx command piped in (JSON or text).\n" +
			"Exits 1 when the transaction failed in its block (its codespace, code and log are printed)\n" +
			"or is not in a block by --timeout.",
		Example: "  tfgridd query wait-tx 5C1E...\n" +
			"  tfgridd tx tfgrid create-twin --from alice -y -o json | tfgridd query wait-tx",
		Args:         cobra.MaximumNArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			timeout, err := cmd.Flags().GetDuration(flagTimeout)
			if err != nil {
				return err
			}
			var hash string
			if len(args) == 1 {
				hash, err = parseTxHash(args[0])
			} else {
				var in []byte
				if in, err = io.ReadAll(cmd.InOrStdin()); err == nil {
					hash, err = txHashFromOutput(in)
				}
			}
			if err != nil {
				return err
			}
			res, err := waitForTx(cmd.Context(), clientCtx, hash, timeout)
			if err != nil {
				return err
			}
			if err := clientCtx.PrintProto(res); err != nil {
				return err
			}
			return txFailure(res)
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	cmd.Flags().Duration(flagTimeout, defaultWaitTimeout, "how long to wait for the transaction to be in a block")
	return cmd
}

// parseTxHash checks that s is a tx hash (64 hex digits) and returns it upper-case, as the node
// prints hashes.
func parseTxHash(s string) (string, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
		return "", fmt.Errorf("tx hash %q: want 64 hex digits", s)
	}
	return strings.ToUpper(s), nil
}

// txHashFromOutput finds the txhash in a tx command's output, JSON or text.
func txHashFromOutput(out []byte) (string, error) {
	var res struct {
		TxHash string `json:"txhash"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err == nil && res.TxHash != "" {
		return parseTxHash(res.TxHash)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "txhash:"); ok {
			return parseTxHash(v)
		}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return "", errors.New("no tx hash: give it as the argument or pipe a tx command's output in")
	}
	return "", fmt.Errorf("no txhash in the input (%d bytes): pipe in the output of a tx command", len(out))
}

// waitForTx polls the node until the tx is in a block and returns its result. It never gives up
// before the timeout: a node that is briefly unreachable or has not indexed the tx yet is asked again.
func waitForTx(ctx context.Context, clientCtx client.Context, hash string, timeout time.Duration) (*sdk.TxResponse, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	clientCtx = clientCtx.WithCmdContext(ctx)
	tick := time.NewTicker(waitPollInterval)
	defer tick.Stop()
	var lastErr error // the last answer before the deadline cut a request short
	for {
		res, err := authtx.QueryTx(clientCtx, hash)
		if err == nil {
			return res, nil
		}
		if ctx.Err() == nil || lastErr == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if strings.Contains(lastErr.Error(), "not found") {
				return nil, fmt.Errorf("tx %s is not in a block after %s (it may still be in the mempool, or was dropped)", hash, timeout)
			}
			return nil, fmt.Errorf("tx %s: no answer from the node in %s: %w", hash, timeout, lastErr)
		case <-tick.C:
		}
	}
}

// txFailure is the error of a tx that failed in its block, nil for a successful one.
func txFailure(res *sdk.TxResponse) error {
	if res.Code == 0 {
		return nil
	}
	return fmt.Errorf("tx %s failed in block %d: codespace %s code %d: %s", res.TxHash, res.Height, res.Codespace, res.Code, res.RawLog)
}

// addWaitFlag gives a message command --wait: after broadcasting, wait until the tx is in a block,
// print the committed result instead of the broadcast receipt, and exit 1 if the tx failed there.
func addWaitFlag(cmd *cobra.Command) {
	cmd.Flags().Bool(flagWait, false, "wait until the tx is in a block, print its result and exit 1 if it failed there")
	cmd.Flags().Duration(flagWaitTimeout, defaultWaitTimeout, "with --wait: how long to wait for the tx to be in a block")
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		wait, _ := cmd.Flags().GetBool(flagWait)
		if !wait || !broadcasts(cmd) {
			return run(cmd, args)
		}
		return runAndWait(cmd, args, run)
	}
}

// broadcasts tells whether the command will broadcast (not --generate-only, --offline or --dry-run).
func broadcasts(cmd *cobra.Command) bool {
	for _, name := range []string{flags.FlagGenerateOnly, flags.FlagOffline, flags.FlagDryRun} {
		if set, err := cmd.Flags().GetBool(name); err == nil && set {
			return false
		}
	}
	return true
}

// runAndWait runs the command with its broadcast receipt captured (in JSON, whatever --output says),
// then waits for the tx and prints its committed result in the requested format.
func runAndWait(cmd *cobra.Command, args []string, run func(*cobra.Command, []string) error) error {
	format, _ := cmd.Flags().GetString(flags.FlagOutput)
	if err := cmd.Flags().Set(flags.FlagOutput, flags.OutputFormatJSON); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	skipConfirm, _ := cmd.Flags().GetBool(flags.FlagSkipConfirmation)
	receipt := &lastWrite{passThrough: !skipConfirm, out: out}
	// Autocli's commands print to cmd.OutOrStdout(), the SDK's own (bank send, ...) to the client
	// context's output.
	cmd.SetOut(receipt)
	if err := client.SetCmdClientContext(cmd, client.GetClientContextFromCmd(cmd).WithOutput(receipt)); err != nil {
		return err
	}
	err := run(cmd, args)
	cmd.SetOut(out)
	if err != nil {
		return err
	}
	var broadcast struct {
		TxHash    string `json:"txhash"`
		Code      uint32 `json:"code"`
		Codespace string `json:"codespace"`
		RawLog    string `json:"raw_log"`
	}
	if err := json.Unmarshal(receipt.last, &broadcast); err != nil || broadcast.TxHash == "" {
		// Nothing was broadcast (the user declined at the confirmation prompt).
		return nil
	}
	if broadcast.Code != 0 { // refused by CheckTx: it never reaches a block
		return fmt.Errorf("tx %s refused by the node: codespace %s code %d: %s", broadcast.TxHash, broadcast.Codespace, broadcast.Code, broadcast.RawLog)
	}
	clientCtx, err := client.GetClientQueryContext(cmd)
	if err != nil {
		return err
	}
	timeout, err := cmd.Flags().GetDuration(flagWaitTimeout)
	if err != nil {
		return err
	}
	res, err := waitForTx(cmd.Context(), clientCtx, strings.ToUpper(broadcast.TxHash), timeout)
	if err != nil {
		return err
	}
	if err := clientCtx.WithOutput(out).WithOutputFormat(format).PrintProto(res); err != nil {
		return err
	}
	return txFailure(res)
}

// lastWrite keeps the last non-blank write (the broadcast receipt is the command's last output,
// in one write). With passThrough, every write also goes out, so an interactive user sees the tx before
// confirming it.
type lastWrite struct {
	passThrough bool
	out         io.Writer
	last        []byte
}

func (w *lastWrite) Write(p []byte) (int, error) {
	if len(bytes.TrimSpace(p)) > 0 { // the SDK writes a document, then its newline apart
		w.last = bytes.Clone(p)
	}
	if w.passThrough {
		return w.out.Write(p)
	}
	return len(p), nil
}
