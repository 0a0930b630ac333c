// Package cli is the command line of rmb-relay: flags, logging, the store, the chain lookup, the
// HTTP server and graceful shutdown.
package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/relay"
	"github.com/tfgrid/tfgrid/rmb/twins"
)

// ErrHelp is returned after -h printed the usage.
var ErrHelp = flag.ErrHelp

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Run runs the relay until ctx ends (SIGTERM/SIGINT in main), then shuts down gracefully.
// `rmb-relay e2e-key` instead prints the e2e public key derived from an account key.
func Run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "e2e-key" {
		return printE2EKey(args[1:], os.Stdout, stderr)
	}
	fs := flag.NewFlagSet("rmb-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		urls, fedAllow  listFlag
		listen          = fs.String("listen", "127.0.0.1:8080", "address to serve websocket, federation, /metrics and /healthz on")
		grpcAddr        = fs.String("grpc", "127.0.0.1:9090", "chain node gRPC address (twin lookups)")
		rpcURL          = fs.String("rpc", "http://127.0.0.1:26657", "chain node CometBFT RPC URL (twin events)")
		twinID          = fs.Uint64("twin-id", 0, "the relay's own twin id (signs federation posts; 0 = no federation)")
		keyFile         = fs.String("key-file", "", "file holding the relay twin's secp256k1 private key in hex (or env RMB_RELAY_KEY)")
		dataDir         = fs.String("data-dir", "rmb-relay-data", "directory of the embedded store (relay.db)")
		redisURL        = fs.String("redis", "", "redis://host:port/db: keep queues and sessions in Redis, shared with other relays (instead of the embedded store)")
		redisPrefix     = fs.String("redis-prefix", "rmb:", "prefix of the relay's Redis keys")
		maxEnvelope     = fs.Int("max-envelope-bytes", 1<<20, "largest envelope accepted")
		queueCount      = fs.Int("queue-max-envelopes", 10000, "envelopes kept per offline destination twin (all its sessions)")
		queueBytes      = fs.Int64("queue-max-bytes", 64<<20, "bytes kept per offline destination twin (all its sessions)")
		storeCount      = fs.Int("store-max-envelopes", 1000000, "envelopes kept in all (0 = unbounded)")
		storeBytes      = fs.Int64("store-max-bytes", 4<<30, "bytes kept in all (0 = unbounded)")
		queueTTL        = fs.Duration("max-queue-ttl", time.Hour, "longest an envelope is kept for an offline destination")
		rateMessages    = fs.Int("rate-messages", relay.DefaultRateMessages, "envelopes per source twin per window (0 = unlimited)")
		rateBytes       = fs.Int64("rate-bytes", relay.DefaultRateBytes, "bytes per source twin per window (0 = unlimited)")
		fedMessages     = fs.Int("federation-rate-messages", 0, fmt.Sprintf("envelopes per posting relay twin per window (0 = %d x --rate-messages)", relay.DefaultFederationRateFactor))
		fedBytes        = fs.Int64("federation-rate-bytes", 0, fmt.Sprintf("bytes per posting relay twin per window (0 = %d x --rate-bytes)", relay.DefaultFederationRateFactor))
		rateWindow      = fs.Duration("rate-window", time.Minute, "rate limit window")
		sweep           = fs.Duration("sweep-interval", 5*time.Second, "how often expired kept envelopes are dropped (and their senders told)")
		logFormat       = fs.String("log-format", "json", "json or text")
		logLevel        = fs.String("log-level", "info", "debug, info, warn or error")
		shutdownTimeout = fs.Duration("shutdown-timeout", 30*time.Second, "longest graceful shutdown")
		cacheTTL        = fs.Duration("twin-cache-ttl", 10*time.Minute, "twin cache TTL (events invalidate sooner)")
	)
	fs.Var(&urls, "url", "public URL of this relay as twins list it, ws://host:port or wss://host:port (repeatable; default ws://<listen>)")
	fs.Var(&fedAllow, "federation-allow", "relay twin id allowed to forward envelopes here (repeatable; default: any twin on chain)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: %v", *logLevel, err)
	}
	var handler slog.Handler
	switch *logFormat {
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("--log-format %q: want json or text", *logFormat)
	}
	log := slog.New(handler).With("service", "rmb-relay")

	if len(urls) == 0 {
		urls = listFlag{"ws://" + *listen}
	}
	var allow []uint64
	for _, s := range fedAllow {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			return fmt.Errorf("--federation-allow %q: want a twin id", s)
		}
		allow = append(allow, id)
	}
	for name, v := range map[string]int64{"--rate-messages": int64(*rateMessages), "--rate-bytes": *rateBytes,
		"--federation-rate-messages": int64(*fedMessages), "--federation-rate-bytes": *fedBytes,
		"--store-max-envelopes": int64(*storeCount), "--store-max-bytes": *storeBytes} {
		if v < 0 {
			return fmt.Errorf("%s %d: must not be negative", name, v)
		}
	}
	if *maxEnvelope < 1024 {
		return fmt.Errorf("--max-envelope-bytes %d: at least 1024", *maxEnvelope)
	}
	key, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	if key != nil && *twinID == 0 {
		return errors.New("--key-file (or RMB_RELAY_KEY) needs --twin-id")
	}
	if key == nil && *twinID != 0 {
		return errors.New("--twin-id needs the relay's key: --key-file or RMB_RELAY_KEY")
	}

	lookup, err := twins.Connect(ctx, *grpcAddr, *rpcURL, twins.Options{TTL: *cacheTTL, Logger: log})
	if err != nil {
		return err
	}
	defer lookup.Close()
	if key != nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		tw, err := lookup.Twin(cctx, *twinID)
		cancel()
		if err != nil {
			return fmt.Errorf("--twin-id %d: %w (is the chain at --grpc %s up?)", *twinID, err, *grpcAddr)
		}
		if !strings.EqualFold(hex.EncodeToString(tw.PubKey), hex.EncodeToString(key.PubKey().Bytes())) {
			return fmt.Errorf("--twin-id %d: its key on chain %x is not the key of --key-file (%x)", *twinID, tw.PubKey, key.PubKey().Bytes())
		}
	}

	limits := relay.Limits{MaxCount: *queueCount, MaxBytes: *queueBytes, MaxTotalCount: *storeCount, MaxTotalBytes: *storeBytes}
	var store relay.Store
	var bus relay.Bus
	if *redisURL != "" {
		rs, err := relay.OpenRedisStore(ctx, *redisURL, *redisPrefix, limits)
		if err != nil {
			return fmt.Errorf("--redis: %w", err)
		}
		store, bus = rs, rs
		log.Info("store: redis", "url", redactURL(*redisURL), "prefix", *redisPrefix)
	} else {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return fmt.Errorf("--data-dir %s: %w", *dataDir, err)
		}
		path := filepath.Join(*dataDir, "relay.db")
		bs, err := relay.OpenBoltStore(path, limits)
		if err != nil {
			return fmt.Errorf("--data-dir: %w", err)
		}
		store = bs
		log.Info("store: embedded", "path", path)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()

	r, err := relay.New(relay.Config{
		URLs: urls, TwinID: *twinID, Key: key, FederationAllow: allow,
		Lookup: lookup, Store: store, Bus: bus,
		MaxEnvelopeBytes: *maxEnvelope, MaxQueueTTL: *queueTTL,
		RateMessages: offIfZero(*rateMessages), RateBytes: offIfZero(*rateBytes), RateWindow: *rateWindow,
		FederationRateMessages: *fedMessages, FederationRateBytes: *fedBytes,
		ChainCheck:    lookup.Reachable,
		SweepInterval: *sweep, Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second}
	r.Start(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "urls", []string(urls))

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("shutdown requested")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil { // stops the listener; federation posts finish
		log.Warn("http shutdown", "err", err)
	}
	return r.Shutdown(sctx)
}

// offIfZero maps the flags' 0 (unlimited) to the library's "off" (negative); the library's 0 is its default.
func offIfZero[T int | int64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

func loadKey(path string) (*secp256k1.PrivKey, error) {
	var s, from string
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--key-file: %w", err)
		}
		s, from = strings.TrimSpace(string(b)), "--key-file "+path
	case os.Getenv("RMB_RELAY_KEY") != "":
		s, from = strings.TrimSpace(os.Getenv("RMB_RELAY_KEY")), "RMB_RELAY_KEY"
	default:
		return nil, nil
	}
	return parseKey(s, from)
}

func parseKey(s, from string) (*secp256k1.PrivKey, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%s: want 64 hex characters (a 32-byte secp256k1 private key)", from)
	}
	return &secp256k1.PrivKey{Key: b}, nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}

// printE2EKey: `rmb-relay e2e-key [--key-file F]` (or env RMB_RELAY_KEY, or the hex key on stdin)
// prints the hex 33-byte e2e public key derived from the account key (rmb.E2EPublicKey), the value
// for `tfgridd tx tfgrid create-twin --e2e-key`.
func printE2EKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rmb-relay e2e-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key-file", "", "file holding the account's secp256k1 private key in hex (default: RMB_RELAY_KEY, else stdin)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	if key == nil {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
		if err != nil {
			return err
		}
		if key, err = parseKey(string(b), "stdin"); err != nil {
			return err
		}
	}
	pub, err := rmb.E2EPublicKey(key)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, hex.EncodeToString(pub))
	return err
}
