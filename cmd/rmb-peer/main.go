// Command rmb-peer is a small RMB client built on rmb/peer, for operators and tests:
//
//	rmb-peer serve --key-file K --twin-id N --relay ws://127.0.0.1:8080 [--command echo]
//	    answers every request for the commands with its own payload plus {"_from", "_encrypted"},
//	    printing one JSON line per request on stdout, until SIGTERM.
//	rmb-peer call --key-file K --twin-id N --relay ws://127.0.0.1:8080 --to TWIN --command echo '{"hi":1}'
//	    sends one request and prints the JSON response (exit 1 with the error, e.g. "rmb error 9 ...").
//
// Both look twins up on the chain (--grpc, --rpc). The key file holds the account's secp256k1 private
// key in hex (`tfgridd keys export NAME --unarmored-hex --unsafe --yes`).
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "rmb-peer:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "call") {
		return errors.New("usage: rmb-peer serve|call [flags] (see -h of each)")
	}
	mode := args[0]
	fs := flag.NewFlagSet("rmb-peer "+mode, flag.ContinueOnError)
	var relays, commands listFlag
	keyFile := fs.String("key-file", "", "file holding the account's secp256k1 private key in hex (required)")
	twinID := fs.Uint64("twin-id", 0, "this peer's twin id (required)")
	session := fs.String("session", "", "this peer's session")
	grpcAddr := fs.String("grpc", "127.0.0.1:9090", "chain gRPC address")
	rpcURL := fs.String("rpc", "http://127.0.0.1:26657", "chain CometBFT RPC URL")
	to := fs.Uint64("to", 0, "call: destination twin")
	timeout := fs.Duration("timeout", 30*time.Second, "call: time to live of the request")
	verbose := fs.Bool("v", false, "log to stderr")
	fs.Var(&relays, "relay", "relay URL (repeatable, required)")
	fs.Var(&commands, "command", "serve: commands to answer (repeatable, default echo); call: the command")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *keyFile == "" || *twinID == 0 || len(relays) == 0 {
		return errors.New("--key-file, --twin-id and --relay are required")
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("--key-file: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		return fmt.Errorf("--key-file %s: want 64 hex characters", *keyFile)
	}
	key := &secp256k1.PrivKey{Key: raw}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	lookup, err := twins.Connect(ctx, *grpcAddr, *rpcURL, twins.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer lookup.Close()

	opts := peer.Options{Lookup: lookup, Session: *session, Logger: logger}
	if mode == "serve" {
		if len(commands) == 0 {
			commands = listFlag{"echo"}
		}
		out := json.NewEncoder(os.Stdout)
		opts.Handlers = map[string]peer.Handler{}
		for _, c := range commands {
			opts.Handlers[c] = func(_ context.Context, r *peer.Request) (any, error) {
				var v map[string]any
				if err := r.Decode(&v); err != nil {
					return nil, err
				}
				_ = out.Encode(map[string]any{"uid": r.UID, "command": r.Command, "from": r.Source.Twin, "encrypted": r.Encrypted, "payload": v})
				v["_from"], v["_encrypted"] = r.Source.Twin, r.Encrypted
				return v, nil
			}
		}
	}
	p, err := peer.New(ctx, key, *twinID, relays, opts)
	if err != nil {
		return err
	}
	defer p.Close()
	if mode == "serve" {
		fmt.Fprintf(os.Stderr, "rmb-peer: twin %d serving %v through %v\n", *twinID, []string(commands), []string(relays))
		<-ctx.Done()
		return nil
	}
	if *to == 0 || len(commands) != 1 || fs.NArg() != 1 {
		return errors.New("call needs --to TWIN, one --command and the JSON request as the argument")
	}
	var req, resp any
	if err := json.Unmarshal([]byte(fs.Arg(0)), &req); err != nil {
		return fmt.Errorf("request %q is not JSON: %w", fs.Arg(0), err)
	}
	cctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := p.Call(cctx, *to, commands[0], req, &resp); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(resp)
}
