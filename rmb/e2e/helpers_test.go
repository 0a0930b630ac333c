package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
	"github.com/tfgrid/tfgrid/rmb/types"
	"github.com/tfgrid/tfgrid/testnet"
)

func skipIfShort(t *testing.T) {
	if testing.Short() {
		t.Skip("rmb e2e: starts a real chain and relays; skipped with -short")
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("RMB_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startRelay runs relay name as a process with a fresh data dir (or dataDir) and extra flags.
func startRelay(t *testing.T, name, dataDir string, extra ...string) *testnet.Relay {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	args := []string{"--grpc", tn.chain.GRPC, "--rpc", tn.chain.RPC, "--data-dir", dataDir,
		"--log-format", "text", "--sweep-interval", "300ms"}
	if key, ok := tn.keys["relay"+name]; ok {
		kf := filepath.Join(dataDir, "relay.key")
		require.NoError(t, os.WriteFile(kf, []byte(hex.EncodeToString(key.Key)), 0o600))
		args = append(args, "--key-file", kf, "--twin-id", u(tn.twins["relay"+name]))
	}
	args = append(args, extra...)
	r := testnet.NewRelay(tn.relayBin, tn.ports[name], filepath.Join(t.TempDir(), "relay-"+name+".log"), args...)
	require.NoError(t, r.Start())
	t.Logf("relay %s: pid %d on %s", name, r.PID(), r.URL)
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("relay %s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("relay %s log:\n%s", name, r.LogTail(60))
		}
	})
	return r
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// lookup is a chain twin lookup (gRPC + cache + event watcher) for the test.
func lookup(t *testing.T) *twins.Lookup {
	t.Helper()
	l, err := twins.Connect(context.Background(), tn.chain.GRPC, tn.chain.RPC, twins.Options{Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	select {
	case <-l.Watcher().Subscribed():
	case <-time.After(10 * time.Second):
		t.Fatal("twin watcher did not subscribe to chain events in 10 s")
	}
	return l
}

// newPeer connects twin name to relays with handlers.
func newPeer(t *testing.T, l rmb.TwinLookup, name string, relays []string, handlers map[string]peer.Handler) *peer.Peer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := peer.New(ctx, tn.keys[name], tn.twins[name], relays, peer.Options{Lookup: l, Handlers: handlers,
		Logger: testLogger(), MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	require.NoError(t, err, "peer %s", name)
	t.Cleanup(func() { cancel(); p.Close() })
	return p
}

// echo answers with the request's payload plus who sent it and whether it came encrypted.
func echo(_ context.Context, req *peer.Request) (any, error) {
	var v map[string]any
	if err := req.Decode(&v); err != nil {
		return nil, err
	}
	v["encrypted"] = req.Encrypted
	v["from"] = req.Source.Twin
	return v, nil
}

var echoHandlers = map[string]peer.Handler{"echo": echo}

func call(p *peer.Peer, twin uint64, in any, ttl time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ttl)
	defer cancel()
	var out map[string]any
	err := p.Call(ctx, twin, "echo", in, &out)
	return out, err
}

// raw is a websocket of a twin that bypasses the SDK (to send hand-made envelopes).
type raw struct {
	t    *testing.T
	ws   *websocket.Conn
	name string
}

func dialRaw(t *testing.T, relayURL, name string) *raw {
	t.Helper()
	tok, err := rmb.NewToken(tn.keys[name], tn.twins[name], "", time.Minute, time.Now())
	require.NoError(t, err)
	ws, err := peer.Dial(context.Background(), relayURL, tok)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	return &raw{t: t, ws: ws, name: name}
}

// envelope builds a signed request by r's twin (with source src when non-zero).
func (r *raw) envelope(uid string, src rmb.Address, dst string, ttl uint64, payload []byte) []byte {
	if src.Twin == 0 {
		src = rmb.Address{Twin: tn.twins[r.name]}
	}
	env := &types.Envelope{Uid: uid, Timestamp: uint64(time.Now().Unix()), Expiration: ttl,
		Source: src.Proto(), Destination: &types.Address{Twin: tn.twins[dst]},
		Message: &types.Envelope_Request{Request: &types.Request{Command: "echo"}},
		Schema:  rmb.SchemaJSON, Payload: &types.Envelope_Plain{Plain: payload}}
	b, err := rmb.SignEnvelope(env, tn.keys[r.name])
	require.NoError(r.t, err)
	return b
}

func (r *raw) send(b []byte) { require.NoError(r.t, r.ws.WriteMessage(websocket.BinaryMessage, b)) }

func (r *raw) recv(within time.Duration) (*rmb.Header, *types.Envelope) {
	r.t.Helper()
	_ = r.ws.SetReadDeadline(time.Now().Add(within))
	_, b, err := r.ws.ReadMessage()
	require.NoError(r.t, err)
	h, env, err := rmb.DecodeEnvelope(b)
	require.NoError(r.t, err)
	return h, env
}

// expectError reads the next envelope and requires an error answer to uid with code.
func (r *raw) expectError(uid string, code rmb.Code, text string, within time.Duration) *rmb.Header {
	r.t.Helper()
	h, env := r.recv(within)
	require.Equal(r.t, uid, h.UID)
	require.Equal(r.t, rmb.KindError, h.Kind, "want an error envelope")
	require.Equal(r.t, uint32(code), env.GetError().GetCode(), "message: %s", env.GetError().GetMessage())
	require.Contains(r.t, env.GetError().GetMessage(), text)
	return h
}

// health reads a relay's /healthz.
func health(t *testing.T, r *testnet.Relay) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + r.Listen + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var h map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return h
}

func waitQueued(t *testing.T, r *testnet.Relay, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return health(t, r)["queued_envelopes"] == float64(n) }, 15*time.Second, 50*time.Millisecond,
		"relay never held %d queued envelopes (healthz %v)", n, health(t, r))
}

func relayURL(name string) string { return "ws://" + tn.ports[name] }
