package relay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/relay"
	"github.com/tfgrid/tfgrid/rmb/types"
)

func call(t *testing.T, p *peer.Peer, twin uint64, cmd string, in any, ttl time.Duration) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ttl)
	defer cancel()
	var out map[string]any
	err := p.Call(ctx, twin, cmd, in, &out)
	return out, err
}

// Two peers on one relay: encrypted request and response, many concurrent calls multiplexed by uid,
// unknown command (9), handler error (10).
func TestCallThroughRelay(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", nil)
	a, b := w.twin(true, r.url), w.twin(true, r.url)
	pa, pb := w.peer(a, []string{r.url}, ""), w.peer(b, []string{r.url}, "")
	pb.Serve("echo", echo)
	pb.Serve("fail", func(context.Context, *peer.Request) (any, error) { return nil, errors.New("disk full") })

	out, err := call(t, pa, b.id, "echo", map[string]any{"n": 1}, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, true, out["encrypted"])
	require.EqualValues(t, a.id, out["from"])

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := call(t, pa, b.id, "echo", map[string]any{"n": i}, 10*time.Second)
			if !(err == nil && out["n"] == float64(i)) {
				t.Errorf("call %d: %v %v", i, out, err)
			}
		}()
	}
	wg.Wait()

	_, err = call(t, pa, b.id, "nope", nil, 5*time.Second)
	require.Equal(t, rmb.CodeUnknownCommand, rmb.CodeOf(err), "%v", err)
	_, err = call(t, pa, b.id, "fail", nil, 5*time.Second)
	require.Equal(t, rmb.CodeHandlerError, rmb.CodeOf(err), "%v", err)
	require.ErrorContains(t, err, "disk full")

	// A sender without an e2e key encrypts with an ephemeral key; a receiver without one gets plain.
	c := w.twin(false, r.url)
	pc := w.peer(c, []string{r.url}, "")
	pc.Serve("echo", echo)
	out, err = call(t, pc, b.id, "echo", map[string]any{}, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, true, out["encrypted"])
	out, err = call(t, pa, c.id, "echo", map[string]any{}, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, false, out["encrypted"])

	code, body := httpStatus(t, "http"+strings.TrimPrefix(r.url, "ws")+"/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, body, `rmb_relay_envelopes_delivered_total{path="direct"}`)
	code, body = httpStatus(t, "http"+strings.TrimPrefix(r.url, "ws")+"/healthz")
	require.Equal(t, 200, code)
	require.Contains(t, body, `"connections":3`)
}

// The destination is offline: the request waits in the store and is delivered when it connects; a
// relay restart in between loses nothing.
func TestOfflineDeliveryAcrossRestart(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	r := w.startRelay(dir, nil)
	url := r.url
	a, b := w.twin(true, url), w.twin(true, url)
	ca := dialRaw(t, url, a, "")
	ca.send(ca.request("q1", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, []byte(`{"x":"kept"}`)))
	require.Eventually(t, func() bool {
		_, n, _, _ := r.store.Stats(context.Background())
		return n == 1
	}, 5*time.Second, 20*time.Millisecond)
	r.stop()

	// Same store file, new relay on another port (the twins' relay list is not consulted for local twins).
	r2 := w.startRelay(dir, func(c *relay.Config) { c.URLs = append(c.URLs, url) })
	cb := dialRaw(t, r2.url, b, "")
	h, env, _ := cb.recv()
	require.Equal(t, "q1", h.UID)
	require.Equal(t, `{"x":"kept"}`, string(env.GetPlain()))
	require.Eventually(t, func() bool {
		_, n, _, _ := r2.store.Stats(context.Background())
		return n == 0
	}, 5*time.Second, 20*time.Millisecond, "delivered entries are removed")
}

// Relay checks: wrong source (5), too large (6), expired (3), fail-fast offline (8), and a queued
// envelope that expires is answered with 3 by the sweeper.
func TestRelayRefusals(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", func(c *relay.Config) { c.MaxEnvelopeBytes = 2048 })
	a, b, other := w.twin(false, r.url), w.twin(false, r.url), w.twin(false, r.url)
	ca := dialRaw(t, r.url, a, "s1")
	me := rmb.Address{Twin: a.id, Session: "s1"}

	expect := func(uid string, code rmb.Code, text string) {
		t.Helper()
		h, env, _ := ca.recv()
		require.Equal(t, uid, h.UID)
		require.Equal(t, rmb.KindError, h.Kind)
		require.Zero(t, h.Source.Twin, "relay errors come from twin 0")
		require.Equal(t, uint32(code), env.GetError().GetCode(), env.GetError().GetMessage())
		require.Contains(t, env.GetError().GetMessage(), text)
	}
	ca.send(ca.request("w1", rmb.Address{Twin: other.id}, rmb.Address{Twin: b.id}, 60, nil))
	expect("w1", rmb.CodeWrongSource, fmt.Sprintf("source %d is not this connection's session %d:s1", other.id, a.id))
	ca.send(ca.request("w2", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, nil))
	expect("w2", rmb.CodeWrongSource, "is not this connection's session")
	ca.send(ca.request("big", me, rmb.Address{Twin: b.id}, 60, bytes.Repeat([]byte("x"), 3000)))
	expect("big", rmb.CodeTooLarge, "the relay accepts at most 2048")
	old := ca.request("old", me, rmb.Address{Twin: b.id}, 60, nil)
	env := &types.Envelope{Uid: "old", Timestamp: uint64(time.Now().Add(-time.Hour).Unix()), Expiration: 60, Source: me.Proto(),
		Destination: &types.Address{Twin: b.id}, Message: &types.Envelope_Request{Request: &types.Request{Command: "x"}}}
	old, err := rmb.SignEnvelope(env, a.key)
	require.NoError(t, err)
	ca.send(old)
	expect("old", rmb.CodeExpired, "expired at")
	env = &types.Envelope{Uid: "ff", Tags: "fail-fast", Timestamp: uint64(time.Now().Unix()), Expiration: 60, Source: me.Proto(),
		Destination: &types.Address{Twin: b.id}, Message: &types.Envelope_Request{Request: &types.Request{Command: "x"}}}
	ff, err := rmb.SignEnvelope(env, a.key)
	require.NoError(t, err)
	ca.send(ff)
	expect("ff", rmb.CodeDestinationOffline, "not connected (fail-fast)")
	ca.send(ca.request("unknown", me, rmb.Address{Twin: 999}, 60, nil))
	expect("unknown", rmb.CodeUnknownTwin, "twin 999 is not on the chain")

	// kept for the offline destination, then expired by the sweeper
	ca.send(ca.request("short", me, rmb.Address{Twin: b.id}, 1, nil))
	expect("short", rmb.CodeExpired, "expired before")
}

func TestRateLimit(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", func(c *relay.Config) { c.RateMessages = 3; c.RateWindow = time.Minute })
	a, b := w.twin(false, r.url), w.twin(false, r.url)
	pa, pb := w.peer(a, []string{r.url}, ""), w.peer(b, []string{r.url}, "")
	pb.Serve("echo", echo)
	var limited int
	for range 5 {
		_, err := call(t, pa, b.id, "echo", map[string]any{}, 5*time.Second)
		if rmb.CodeOf(err) == rmb.CodeRateLimited {
			limited++
			require.ErrorContains(t, err, fmt.Sprintf("twin %d exceeded 3 envelopes", a.id))
		} else {
			require.NoError(t, err)
		}
	}
	require.Equal(t, 2, limited)
}

func TestTokenRefused(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", nil)
	a := w.twin(false, r.url)
	mallory := w.twin(false)
	forged, err := rmb.NewToken(mallory.key, a.id, "", time.Minute, time.Now())
	require.NoError(t, err)
	_, err = peer.Dial(context.Background(), r.url, forged)
	var de *peer.DialError
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusUnauthorized, de.Status)
	require.Contains(t, de.Reason, fmt.Sprintf("signature does not verify against twin %d's key", a.id))

	expired, err := rmb.NewToken(a.key, a.id, "", time.Second, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	_, err = peer.Dial(context.Background(), r.url, expired)
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusUnauthorized, de.Status)
	require.Contains(t, de.Reason, "expired at")

	_, err = peer.New(context.Background(), mallory.key, a.id, []string{r.url}, peer.Options{Lookup: w.lookup, Logger: logger(t)})
	require.ErrorContains(t, err, "HTTP 401")
}

// A second connection of the same (twin, session) evicts the first; other sessions coexist.
func TestSessionEviction(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", nil)
	a, b := w.twin(false, r.url), w.twin(false, r.url)
	first := dialRaw(t, r.url, b, "")
	second := dialRaw(t, r.url, b, "")
	other := dialRaw(t, r.url, b, "x")
	_ = first.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := first.ws.ReadMessage()
	require.ErrorContains(t, err, "evicted")
	ca := dialRaw(t, r.url, a, "")
	ca.send(ca.request("e1", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, nil))
	h, _, _ := second.recv()
	require.Equal(t, "e1", h.UID)
	ca.send(ca.request("e2", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id, Session: "x"}, 60, nil))
	h, _, _ = other.recv()
	require.Equal(t, "e2", h.UID)
}

// The receiving peer refuses a tampered envelope (1) and an undecryptable cipher (4).
func TestReceiverRefusesTampering(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", nil)
	a, b := w.twin(false, r.url), w.twin(true, r.url)
	pb := w.peer(b, []string{r.url}, "")
	pb.Serve("echo", echo)
	ca := dialRaw(t, r.url, a, "")
	raw := ca.request("t1", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, []byte(`{"amount":1}`))
	i := bytes.Index(raw, []byte(`"amount":1`))
	raw[i+len(`"amount":`)] = '9'
	ca.send(raw)
	h, env, _ := ca.recv()
	require.Equal(t, "t1", h.UID)
	require.Equal(t, b.id, h.Source.Twin, "the receiving peer answers, signed")
	require.Equal(t, uint32(rmb.CodeInvalidSignature), env.GetError().GetCode(), env.GetError().GetMessage())

	env = &types.Envelope{Uid: "t2", Timestamp: uint64(time.Now().Unix()), Expiration: 60, Source: &types.Address{Twin: a.id},
		Destination: &types.Address{Twin: b.id}, Message: &types.Envelope_Request{Request: &types.Request{Command: "echo"}},
		Payload: &types.Envelope_Cipher{Cipher: bytes.Repeat([]byte{7}, 40)}, EphemeralKey: a.key.PubKey().Bytes()}
	bad, err := rmb.SignEnvelope(env, a.key)
	require.NoError(t, err)
	ca.send(bad)
	h, env, _ = ca.recv()
	require.Equal(t, "t2", h.UID)
	require.Equal(t, uint32(rmb.CodeCannotDecrypt), env.GetError().GetCode(), env.GetError().GetMessage())
}

// Two relays: a twin on relay B is reached from relay A by an authenticated POST; an unsigned or
// forged post is refused with 401.
func TestFederation(t *testing.T) {
	w := newWorld(t)
	relayA, relayB := w.twin(false), w.twin(false)
	ra := w.startRelay("", func(c *relay.Config) { c.TwinID, c.Key = relayA.id, relayA.key })
	rb := w.startRelay("", func(c *relay.Config) { c.TwinID, c.Key = relayB.id, relayB.key })
	w.setRelays(relayA, ra.url) // a relay's twin lists its own URL: that is how other relays know it
	w.setRelays(relayB, rb.url)
	a, b := w.twin(true, ra.url), w.twin(true, rb.url)
	pa, pb := w.peer(a, []string{ra.url}, ""), w.peer(b, []string{rb.url}, "")
	pb.Serve("echo", echo)
	out, err := call(t, pa, b.id, "echo", map[string]any{"via": "federation"}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "federation", out["via"])
	require.Equal(t, true, out["encrypted"])

	// B offline: A forwards, B keeps it; B's peer connects later.
	c := w.twin(false, rb.url)
	done := make(chan error, 1)
	go func() { _, err := call(t, pa, c.id, "echo", map[string]any{}, 10*time.Second); done <- err }()
	time.Sleep(500 * time.Millisecond)
	w.peer(c, []string{rb.url}, "", "echo")
	require.NoError(t, <-done)

	post := func(hdr string) (int, string) {
		raw := signed(t, a, "fed", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id})
		code, body, _ := postWithHeader(t, rb, raw, hdr)
		return code, body
	}
	code, body := post("")
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, body, "missing X-Rmb-Federation")
	forged, err := rmb.NewFederationAuth(a.key, relayA.id, []byte("whatever"), time.Now())
	require.NoError(t, err)
	code, body = post(forged)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, body, "body_sha256")
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }
