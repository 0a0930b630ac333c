package peer_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
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

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type twin struct {
	id  uint64
	key *secp256k1.PrivKey
}

func newTwin(t *testing.T, l *rmb.MemoryLookup, id uint64, relays ...string) twin {
	k := secp256k1.GenPrivKey()
	e2e, err := rmb.E2EPublicKey(k)
	require.NoError(t, err)
	tw, err := rmb.NewTwin(id, k.PubKey().Bytes(), relays, e2e)
	require.NoError(t, err)
	l.Set(tw)
	return twin{id: id, key: k}
}

// runRelay serves a relay on addr ("127.0.0.1:0" for a new port) until the returned stop is called.
func runRelay(t *testing.T, addr string, l rmb.TwinLookup) (url string, stop func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port of a stopped relay may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err)
	store, err := relay.OpenBoltStore(t.TempDir()+"/r.db", relay.Limits{MaxCount: 100, MaxBytes: 1 << 20})
	require.NoError(t, err)
	r, err := relay.New(relay.Config{URLs: []string{"ws://" + ln.Addr().String()}, Lookup: l, Store: store, Logger: quiet})
	require.NoError(t, err)
	srv := &http.Server{Handler: r.Handler()}
	r.Start(context.Background())
	go func() { _ = srv.Serve(ln) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = srv.Close()
		_ = r.Shutdown(context.Background())
		_ = store.Close()
	}
	t.Cleanup(stop)
	return "ws://" + ln.Addr().String(), stop
}

func start(t *testing.T, tw twin, relays []string, l rmb.TwinLookup, handlers map[string]peer.Handler) *peer.Peer {
	t.Helper()
	p, err := peer.New(context.Background(), tw.key, tw.id, relays, peer.Options{Lookup: l, Logger: quiet, Handlers: handlers,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, PingInterval: 100 * time.Millisecond, PongTimeout: 400 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func echo(_ context.Context, r *peer.Request) (any, error) {
	var v any
	return v, r.Decode(&v)
}

func call(p *peer.Peer, to uint64, cmd string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out any
	return p.Call(ctx, to, cmd, map[string]int{"x": 1}, &out)
}

// A relay restart: the peers reconnect by themselves (backoff) and calls work again.
func TestReconnectAfterRelayRestart(t *testing.T) {
	l := rmb.NewMemoryLookup()
	url, stop := runRelay(t, "127.0.0.1:0", l)
	a, b := newTwin(t, l, 1, url), newTwin(t, l, 2, url)
	pa := start(t, a, []string{url}, l, nil)
	pb := start(t, b, []string{url}, l, map[string]peer.Handler{"echo": echo})
	require.NoError(t, call(pa, b.id, "echo"))

	stop()
	require.Eventually(t, func() bool { return pa.Connected() == 0 && pb.Connected() == 0 }, 5*time.Second, 10*time.Millisecond)
	runRelay(t, url[len("ws://"):], l)
	require.Eventually(t, func() bool { return pa.Connected() == 1 && pb.Connected() == 1 }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, call(pa, b.id, "echo"))
}

// A peer on two relays keeps working when one of them goes away.
func TestTwoRelays(t *testing.T) {
	l := rmb.NewMemoryLookup()
	url1, stop1 := runRelay(t, "127.0.0.1:0", l)
	url2, _ := runRelay(t, "127.0.0.1:0", l)
	// both twins list both relays; the relays have no key, so each keeps what it cannot deliver
	a, b := newTwin(t, l, 1, url1, url2), newTwin(t, l, 2, url1, url2)
	pa := start(t, a, []string{url1, url2}, l, nil)
	start(t, b, []string{url1, url2}, l, map[string]peer.Handler{"echo": echo})
	require.Eventually(t, func() bool { return pa.Connected() == 2 }, 5*time.Second, 10*time.Millisecond)
	for range 10 {
		require.NoError(t, call(pa, b.id, "echo"))
	}
	stop1()
	require.Eventually(t, func() bool { return pa.Connected() == 1 }, 5*time.Second, 10*time.Millisecond)
	for range 10 {
		require.NoError(t, call(pa, b.id, "echo"))
	}
}

// A relay that accepts the websocket but never answers pings is left after PongTimeout, and the
// peer dials again.
func TestPingTimeoutReconnects(t *testing.T) {
	l := rmb.NewMemoryLookup()
	var dials atomic.Int32
	up := websocket.Upgrader{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		dials.Add(1)
		time.Sleep(3 * time.Second) // never reads: pings are not answered
		ws.Close()
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	a := newTwin(t, l, 1, "ws://"+ln.Addr().String())
	start(t, a, []string{"ws://" + ln.Addr().String()}, l, nil)
	require.Eventually(t, func() bool { return dials.Load() >= 2 }, 5*time.Second, 20*time.Millisecond, "the peer gave up on the silent relay and dialled again")
}

// Local failures and handler panics are reported with their codes.
func TestErrors(t *testing.T) {
	l := rmb.NewMemoryLookup()
	url, _ := runRelay(t, "127.0.0.1:0", l)
	a, b := newTwin(t, l, 1, url), newTwin(t, l, 2, url)
	pa := start(t, a, []string{url}, l, nil)
	start(t, b, []string{url}, l, map[string]peer.Handler{
		"panic": func(context.Context, *peer.Request) (any, error) { panic("boom") },
		"coded": func(context.Context, *peer.Request) (any, error) {
			return nil, rmb.Errorf(rmb.CodeUnknownTwin, "no such node")
		},
	})
	err := call(pa, 99, "echo")
	require.Equal(t, rmb.CodeUnknownTwin, rmb.CodeOf(err), "%v", err)
	err = call(pa, b.id, "panic")
	require.Equal(t, rmb.CodeHandlerError, rmb.CodeOf(err))
	require.ErrorContains(t, err, "panicked: boom")
	err = call(pa, b.id, "coded")
	require.Equal(t, rmb.CodeUnknownTwin, rmb.CodeOf(err))
	require.ErrorContains(t, err, "no such node")

	// nobody answers within the call's TTL: the context error, naming the call
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c := newTwin(t, l, 3, url) // never connects; its request waits in the relay's queue
	err = pa.Call(ctx, c.id, "echo", nil, nil)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	require.ErrorContains(t, err, "no answer")

	_, err = peer.New(context.Background(), secp256k1.GenPrivKey(), a.id, []string{url}, peer.Options{Lookup: l, Logger: quiet})
	require.ErrorContains(t, err, "HTTP 401")
	require.ErrorContains(t, err, "signature does not verify against twin 1's key")
	_, err = peer.New(context.Background(), a.key, a.id, []string{"http://x"}, peer.Options{Lookup: l, Logger: quiet})
	require.ErrorContains(t, err, "not a ws:// or wss:// URL")
	_, err = peer.New(context.Background(), a.key, a.id, []string{url}, peer.Options{Logger: quiet})
	require.ErrorContains(t, err, "Options.Lookup is required")
}

// The same signed request delivered twice (a replay by a relay or a re-delivery) runs its handler
// once: the peer drops a (source twin, uid) it has already seen until the envelope's deadline.
func TestReplayedRequestRunsOnce(t *testing.T) {
	l := rmb.NewMemoryLookup()
	url, _ := runRelay(t, "127.0.0.1:0", l)
	a, b := newTwin(t, l, 1, url), newTwin(t, l, 2, url)
	var runs atomic.Int32
	start(t, b, []string{url}, l, map[string]peer.Handler{"count": func(context.Context, *peer.Request) (any, error) {
		runs.Add(1)
		return nil, nil
	}})
	tok, err := rmb.NewToken(a.key, a.id, "", time.Minute, time.Now())
	require.NoError(t, err)
	ws, err := peer.Dial(context.Background(), url, tok)
	require.NoError(t, err)
	defer ws.Close()
	env := &types.Envelope{Uid: "once", Timestamp: uint64(time.Now().Unix()), Expiration: 60,
		Source: &types.Address{Twin: a.id}, Destination: &types.Address{Twin: b.id},
		Message: &types.Envelope_Request{Request: &types.Request{Command: "count"}},
		Schema:  rmb.SchemaJSON, Payload: &types.Envelope_Plain{Plain: []byte(`{}`)}}
	raw, err := rmb.SignEnvelope(env, a.key)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, raw))
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = ws.ReadMessage() // the one response
	require.NoError(t, err)
	_ = ws.SetReadDeadline(time.Now().Add(time.Second))
	_, _, err = ws.ReadMessage()
	require.Error(t, err, "no second response")
	require.EqualValues(t, 1, runs.Load())
}
