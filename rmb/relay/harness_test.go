package relay_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/relay"
	"github.com/tfgrid/tfgrid/rmb/types"
)

// identity is a twin of the in-process tests: a key and its twin in the shared lookup.
type identity struct {
	id  uint64
	key *secp256k1.PrivKey
}

type world struct {
	t      *testing.T
	lookup *rmb.MemoryLookup
	next   uint64
}

func newWorld(t *testing.T) *world { return &world{t: t, lookup: rmb.NewMemoryLookup(), next: 1} }

// twin registers a new twin reachable at relays, with its derived e2e key when e2e is set.
func (w *world) twin(e2e bool, relays ...string) identity {
	key := secp256k1.GenPrivKey()
	var e2eKey []byte
	if e2e {
		var err error
		e2eKey, err = rmb.E2EPublicKey(key)
		require.NoError(w.t, err)
	}
	tw, err := rmb.NewTwin(w.next, key.PubKey().Bytes(), relays, e2eKey)
	require.NoError(w.t, err)
	w.lookup.Set(tw)
	w.next++
	return identity{id: tw.ID, key: key}
}

func logger(t *testing.T) *slog.Logger {
	if os.Getenv("RMB_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testRelay struct {
	*relay.Relay
	srv   *httptest.Server
	url   string
	store relay.Store
	path  string
}

// startRelay runs a relay on a loopback port with a bbolt store in dir (a fresh one when dir is "").
func (w *world) startRelay(dir string, mutate func(*relay.Config)) *testRelay {
	t := w.t
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "relay.db")
	store, err := relay.OpenBoltStore(path, relay.Limits{MaxCount: 100, MaxBytes: 1 << 20})
	require.NoError(t, err)
	tr := w.startRelayWith(store, mutate)
	tr.path = path
	return tr
}

// setURLs restarts nothing: it only records the relay cluster's URLs for a new relay config (tests
// that need them build the relay after knowing every URL).
func (tr *testRelay) setURLs(t *testing.T, w *world, urls []string) {
	tr.Relay.SetURLsForTest(urls)
}

// startRelayWith runs a relay on a loopback port over store.
func (w *world) startRelayWith(store relay.Store, mutate func(*relay.Config)) *testRelay {
	t := w.t
	srv := httptest.NewUnstartedServer(nil)
	url := "ws://" + srv.Listener.Addr().String()
	cfg := relay.Config{URLs: []string{url}, Lookup: w.lookup, Store: store, Logger: logger(t),
		SweepInterval: 200 * time.Millisecond, RetryInterval: 200 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := relay.New(cfg)
	require.NoError(t, err)
	srv.Config.Handler = r.Handler()
	srv.Start()
	r.Start(context.Background())
	tr := &testRelay{Relay: r, srv: srv, url: url, store: store}
	t.Cleanup(tr.stop)
	return tr
}

func (tr *testRelay) stop() {
	if tr.srv == nil {
		return
	}
	tr.srv.Config.SetKeepAlivesEnabled(false)
	tr.srv.Listener.Close()
	_ = tr.Relay.Shutdown(context.Background())
	tr.srv.CloseClientConnections()
	tr.srv.Close()
	_ = tr.store.Close()
	tr.srv = nil
}

func (w *world) peer(id identity, relays []string, session string, handlers ...string) *peer.Peer {
	t := w.t
	ctx, cancel := context.WithCancel(context.Background())
	hs := map[string]peer.Handler{}
	for _, h := range handlers {
		hs[h] = echo
	}
	p, err := peer.New(ctx, id.key, id.id, relays, peer.Options{Lookup: w.lookup, Session: session, Logger: logger(t), Handlers: hs,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); p.Close() })
	return p
}

// rawConn is a websocket to a relay that bypasses the SDK, to send hand-made envelopes.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
	id identity
	s  string
}

func dialRaw(t *testing.T, url string, id identity, session string) *rawConn {
	tok, err := rmb.NewToken(id.key, id.id, session, time.Minute, time.Now())
	require.NoError(t, err)
	ws, err := peer.Dial(context.Background(), url, tok)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	return &rawConn{t: t, ws: ws, id: id, s: session}
}

func (c *rawConn) send(raw []byte) {
	require.NoError(c.t, c.ws.WriteMessage(websocket.BinaryMessage, raw))
}

// recv reads the next envelope (within 5 s).
func (c *rawConn) recv() (*rmb.Header, *types.Envelope, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, raw, err := c.ws.ReadMessage()
	require.NoError(c.t, err)
	h, env, err := rmb.DecodeEnvelope(raw)
	require.NoError(c.t, err)
	return h, env, raw
}

// request builds a signed plain request from c's identity.
func (c *rawConn) request(uid string, src, dst rmb.Address, ttl uint64, payload []byte) []byte {
	env := &types.Envelope{Uid: uid, Timestamp: uint64(time.Now().Unix()), Expiration: ttl,
		Source: src.Proto(), Destination: dst.Proto(),
		Message: &types.Envelope_Request{Request: &types.Request{Command: "echo"}},
		Schema:  rmb.SchemaJSON, Payload: &types.Envelope_Plain{Plain: payload}}
	raw, err := rmb.SignEnvelope(env, c.id.key)
	require.NoError(c.t, err)
	return raw
}

func echo(_ context.Context, req *peer.Request) (any, error) {
	var v map[string]any
	if err := req.Decode(&v); err != nil {
		return nil, err
	}
	v["encrypted"] = req.Encrypted
	v["from"] = req.Source.Twin
	return v, nil
}

func httpStatus(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}
