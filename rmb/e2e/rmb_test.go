package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/internal/redistest"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/types"
	"github.com/tfgrid/tfgrid/testnet"
)

// Request/response between two peers whose twins are on chain, through a relay process, end-to-end
// encrypted both ways; many concurrent calls; unknown command and handler errors.
func TestRequestResponse(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	l := lookup(t)
	alice := newPeer(t, l, "alice", []string{relayURL(relayA)}, nil)
	newPeer(t, l, "bob", []string{relayURL(relayA)}, map[string]peer.Handler{
		"echo": echo,
		"fail": func(context.Context, *peer.Request) (any, error) { return nil, fmt.Errorf("no capacity on node") },
	})
	out, err := call(alice, tn.twins["bob"], map[string]any{"hello": "bob"}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "bob", out["hello"])
	require.Equal(t, true, out["encrypted"], "bob has an e2e key on chain: the request travels encrypted")
	require.EqualValues(t, tn.twins["alice"], out["from"])

	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			out, err := call(alice, tn.twins["bob"], map[string]any{"i": i}, 20*time.Second)
			if err == nil && out["i"] != float64(i) {
				err = fmt.Errorf("call %d got the answer of another call: %v", i, out)
			}
			errs <- err
		}()
	}
	for range 40 {
		require.NoError(t, <-errs)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = alice.Call(ctx, tn.twins["bob"], "fail", map[string]any{}, nil)
	require.Equal(t, rmb.CodeHandlerError, rmb.CodeOf(err), "%v", err)
	require.ErrorContains(t, err, "no capacity on node")
	err = alice.Call(ctx, tn.twins["bob"], "nope", map[string]any{}, nil)
	require.Equal(t, rmb.CodeUnknownCommand, rmb.CodeOf(err), "%v", err)
}

// The destination is offline: the encrypted request is kept by the relay (and cannot be read in its
// store), survives the relay being killed (SIGKILL) and restarted, and is delivered when the
// destination connects; the caller, reconnected by the SDK, gets the answer.
func TestOfflineDeliverySurvivesRelayCrash(t *testing.T) {
	skipIfShort(t)
	data := t.TempDir()
	relay := startRelay(t, relayA, data)
	l := lookup(t)
	alice := newPeer(t, l, "alice", []string{relayURL(relayA)}, nil)

	secret := fmt.Sprintf("secret-%d", time.Now().UnixNano())
	visible := fmt.Sprintf("visible-%d", time.Now().UnixNano())
	answer := make(chan error, 1)
	go func() {
		out, err := call(alice, tn.twins["carol"], map[string]any{"secret": secret}, 60*time.Second)
		if err == nil && (out["secret"] != secret || out["encrypted"] != true) {
			err = fmt.Errorf("unexpected answer %v", out)
		}
		answer <- err
	}()
	// ivan has no e2e key: a request to him travels in plain (the control of the store check below).
	go func() { _, _ = call(alice, tn.twins["ivan"], map[string]any{"note": visible}, 60*time.Second) }()
	waitQueued(t, relay, 2)

	relay.Kill() // a crash: nothing graceful happens
	db, err := os.ReadFile(filepath.Join(data, "relay.db"))
	require.NoError(t, err)
	require.True(t, bytes.Contains(db, []byte(visible)), "the plain control payload is in the store file")
	require.False(t, bytes.Contains(db, []byte(secret)), "the encrypted payload is unreadable in the relay's store")
	require.NotContains(t, relay.LogTail(1000), secret)

	require.NoError(t, relay.Start())
	waitQueued(t, relay, 2)
	newPeer(t, l, "carol", []string{relayURL(relayA)}, echoHandlers)
	select {
	case err := <-answer:
		require.NoError(t, err)
	case <-time.After(40 * time.Second):
		t.Fatal("no answer from carol after the relay restart")
	}
}

// A graceful stop (SIGTERM) keeps every accepted envelope: 100 envelopes kept for an offline twin are
// all delivered after the restart.
func TestGracefulRestartKeepsQueue(t *testing.T) {
	skipIfShort(t)
	data := t.TempDir()
	relay := startRelay(t, relayA, data)
	a := dialRaw(t, relayURL(relayA), "alice")
	for i := range 100 {
		a.send(a.envelope(fmt.Sprintf("g%d", i), rmb.Address{}, "carol", 120, []byte(`{}`)))
	}
	waitQueued(t, relay, 100)
	require.NoError(t, relay.Stop())
	require.NoError(t, relay.Start())
	c := dialRaw(t, relayURL(relayA), "carol")
	for i := range 100 {
		h, _ := c.recv(10 * time.Second)
		require.Equal(t, fmt.Sprintf("g%d", i), h.UID, "in order")
	}
	waitQueued(t, relay, 0)
}

// Expiry: an envelope already expired is refused at once, one that expires while kept for an
// offline destination is answered by the relay's sweeper; both with code 3 to the sender.
func TestExpiredErrorToSender(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	a := dialRaw(t, relayURL(relayA), "alice")
	env := &types.Envelope{Uid: "late", Timestamp: uint64(time.Now().Add(-time.Hour).Unix()), Expiration: 10,
		Source: &types.Address{Twin: tn.twins["alice"]}, Destination: &types.Address{Twin: tn.twins["carol"]},
		Message: &types.Envelope_Request{Request: &types.Request{Command: "echo"}}}
	b, err := rmb.SignEnvelope(env, tn.keys["alice"])
	require.NoError(t, err)
	a.send(b)
	h := a.expectError("late", rmb.CodeExpired, "expired at", 5*time.Second)
	require.Zero(t, h.Source.Twin, "relay errors come from twin 0")

	a.send(a.envelope("short", rmb.Address{}, "carol", 1, []byte(`{}`)))
	a.expectError("short", rmb.CodeExpired, "expired before", 10*time.Second)
}

// Tokens: forged (another key), expired, too long-lived and unknown-twin tokens are refused with
// HTTP 401 and the reason.
func TestTokensRefused(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	url := relayURL(relayA)
	alice := tn.twins["alice"]
	refused := func(tok, reason string) {
		t.Helper()
		_, err := peer.Dial(context.Background(), url, tok)
		var de *peer.DialError
		require.ErrorAs(t, err, &de)
		require.Equal(t, http.StatusUnauthorized, de.Status, "%v", err)
		require.Contains(t, de.Reason, reason)
	}
	forged, err := rmb.NewToken(tn.keys["bob"], alice, "", time.Minute, time.Now())
	require.NoError(t, err)
	refused(forged, fmt.Sprintf("signature does not verify against twin %d's key", alice))
	expired, err := rmb.NewToken(tn.keys["alice"], alice, "", 10*time.Second, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	refused(expired, "expired at")
	unknown, err := rmb.NewToken(tn.keys["alice"], 999999, "", time.Minute, time.Now())
	require.NoError(t, err)
	refused(unknown, "twin 999999 is not on the chain")
	refused("bm90LWEtdG9rZW4.AAAA", "signature is 3 bytes")

	resp, err := http.Get("http://" + tn.ports[relayA] + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain GET: not a websocket")

	ok, err := rmb.NewToken(tn.keys["alice"], alice, "cli", time.Minute, time.Now())
	require.NoError(t, err)
	ws, err := peer.Dial(context.Background(), url, ok)
	require.NoError(t, err, "a good token is accepted")
	ws.Close()
	// ... once: whoever saw it (a log, a proxy) cannot connect as alice with it
	refused(ok, "this token was already used")

	// a token in the URL is refused, however good
	inURL, err := rmb.NewToken(tn.keys["alice"], alice, "url", time.Minute, time.Now())
	require.NoError(t, err)
	_, resp, err = websocket.DefaultDialer.Dial(url+"/?token="+inURL, nil)
	require.Error(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, string(body), "a token in the URL is refused")
}

// A peer sending with another twin's source is refused by the relay (5); a tampered payload is
// refused by the receiving peer (1), an undecryptable one too (4).
func TestSourceAndTampering(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	l := lookup(t)
	newPeer(t, l, "bob", []string{relayURL(relayA)}, echoHandlers)
	a := dialRaw(t, relayURL(relayA), "alice")

	a.send(a.envelope("spoof", rmb.Address{Twin: tn.twins["carol"]}, "bob", 60, []byte(`{}`)))
	a.expectError("spoof", rmb.CodeWrongSource, fmt.Sprintf("source %d is not this connection's session %d", tn.twins["carol"], tn.twins["alice"]), 5*time.Second)

	b := a.envelope("tamper", rmb.Address{}, "bob", 60, []byte(`{"amount":1}`))
	i := bytes.Index(b, []byte(`"amount":1`))
	b[i+len(`"amount":`)] = '9'
	a.send(b)
	h := a.expectError("tamper", rmb.CodeInvalidSignature, "signature does not verify", 5*time.Second)
	require.Equal(t, tn.twins["bob"], h.Source.Twin, "the receiving peer refused it")

	env := &types.Envelope{Uid: "garbled", Timestamp: uint64(time.Now().Unix()), Expiration: 60,
		Source: &types.Address{Twin: tn.twins["alice"]}, Destination: &types.Address{Twin: tn.twins["bob"]},
		Message: &types.Envelope_Request{Request: &types.Request{Command: "echo"}},
		Payload: &types.Envelope_Cipher{Cipher: bytes.Repeat([]byte{1}, 48)}, EphemeralKey: tn.keys["alice"].PubKey().Bytes()}
	g, err := rmb.SignEnvelope(env, tn.keys["alice"])
	require.NoError(t, err)
	a.send(g)
	a.expectError("garbled", rmb.CodeCannotDecrypt, "authentication failed", 5*time.Second)
}

// Per-twin rate limit: past 5 envelopes a minute, the relay answers 7.
func TestRateLimit(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "", "--rate-messages", "5", "--rate-window", "1m")
	l := lookup(t)
	newPeer(t, l, "bob", []string{relayURL(relayA)}, echoHandlers)
	erin := newPeer(t, l, "erin", []string{relayURL(relayA)}, nil)
	limited := 0
	for i := range 8 {
		_, err := call(erin, tn.twins["bob"], map[string]any{"i": i}, 10*time.Second)
		if rmb.CodeOf(err) == rmb.CodeRateLimited {
			limited++
			require.ErrorContains(t, err, fmt.Sprintf("twin %d exceeded 5 envelopes", tn.twins["erin"]))
			continue
		}
		require.NoError(t, err)
	}
	require.Equal(t, 3, limited)
}

// Two relays federate: alice on relay A calls frank, whose twin lists relay B; A forwards by an HTTP
// POST signed with its own twin key, B checks it against the chain. Unsigned posts are refused.
func TestFederation(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	startRelay(t, relayB, "")
	l := lookup(t)
	alice := newPeer(t, l, "alice", []string{relayURL(relayA)}, nil)
	newPeer(t, l, "frank", []string{relayURL(relayB)}, echoHandlers)
	out, err := call(alice, tn.twins["frank"], map[string]any{"via": "two relays"}, 15*time.Second)
	require.NoError(t, err)
	require.Equal(t, "two relays", out["via"])
	require.Equal(t, true, out["encrypted"])

	a := dialRaw(t, relayURL(relayA), "alice")
	body := a.envelope("direct-post", rmb.Address{}, "frank", 60, []byte(`{}`))
	resp, err := http.Post("http://"+tn.ports[relayB]+"/", "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	msg := new(bytes.Buffer)
	_, _ = msg.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, msg.String(), "must be signed by the forwarding relay's twin")

	// signed by a twin key, but not the one named as relay twin
	auth, err := rmb.NewFederationAuth(tn.keys["alice"], tn.twins["relayA"], body, time.Now())
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, "http://"+tn.ports[relayB]+"/", bytes.NewReader(body))
	req.Header.Set(rmb.FederationHeader, auth)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	msg.Reset()
	_, _ = msg.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, msg.String(), fmt.Sprintf("does not verify against relay twin %d's key", tn.twins["relayA"]))

	post := func(poster string, body []byte) (int, string) {
		t.Helper()
		auth, err := rmb.NewFederationAuth(tn.keys[poster], tn.twins[poster], body, time.Now())
		require.NoError(t, err)
		req, _ := http.NewRequest(http.MethodPost, "http://"+tn.ports[relayB]+"/", bytes.NewReader(body))
		req.Header.Set(rmb.FederationHeader, auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// relay A's own post is accepted once; the same body again is a replay
	legit := a.envelope("fed-once", rmb.Address{}, "frank", 60, []byte(`{}`))
	code, reason := post("relayA", legit)
	require.Equal(t, http.StatusAccepted, code, reason)
	code, reason = post("relayA", legit)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, reason, "replay")
	// a plain user (who lists relay A too) posting in another twin's name: the signature is checked
	spoof := a.envelope("spoofed", rmb.Address{Twin: tn.twins["bob"]}, "frank", 60, []byte(`{}`))
	code, reason = post("alice", spoof)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, reason, fmt.Sprintf("signature does not verify against twin %d's key", tn.twins["bob"]))
	// ... and for a source that does not list relay A at all
	toA := a.envelope("not-mine", rmb.Address{Twin: tn.twins["frank"]}, "frank", 60, []byte(`{}`))
	code, reason = post("relayA", toA)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, reason, fmt.Sprintf("relay twin %d is not a relay of source twin %d", tn.twins["relayA"], tn.twins["frank"]))
	// an unsigned "relay error" about nothing relay B forwarded
	fake, err := (&types.Envelope{Uid: "fake-error", Timestamp: uint64(time.Now().Unix()), Expiration: 60,
		Source: &types.Address{}, Destination: &types.Address{Twin: tn.twins["frank"]},
		Message: &types.Envelope_Error{Error: &types.Error{Code: 8, Message: "fake"}}}).Marshal()
	require.NoError(t, err)
	code, reason = post("relayA", fake)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, reason, "this relay forwarded no envelope fake-error")
}

// /healthz reports the chain: "ok" with a reachable node, 503 "degraded" with the reason without one.
func TestHealthReportsChain(t *testing.T) {
	skipIfShort(t)
	r := startRelay(t, relayA, "")
	require.Equal(t, "ok", health(t, r)["chain"])

	ports, err := testnet.FreePorts(2)
	require.NoError(t, err)
	dead := testnet.NewRelay(tn.relayBin, tn.ports[relayB], filepath.Join(t.TempDir(), "relay-dead.log"),
		"--grpc", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--rpc", fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		"--data-dir", t.TempDir(), "--log-format", "text")
	require.NoError(t, dead.Launch())
	t.Cleanup(func() { _ = dead.Stop() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + dead.Listen + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), `"status":"degraded"`) &&
			strings.Contains(string(b), "chain unreachable")
	}, 20*time.Second, 100*time.Millisecond, "a relay without a chain is degraded; log:\n%s", dead.LogTail(20))
}

// Two relay processes share one Redis: hank's twin lists relay R1, but he is connected to R2.
// Requests from gina (on R1) reach him live, and one kept while he is offline is delivered when he
// connects to R2.
func TestRedisSharedRelays(t *testing.T) {
	skipIfShort(t)
	redis := redistest.Start(t)
	cluster := []string{"--redis", redis.URL, "--url", relayURL(relayR1), "--url", relayURL(relayR2)}
	r1 := startRelay(t, relayR1, "", cluster...)
	startRelay(t, relayR2, "", cluster...)
	l := lookup(t)
	gina := newPeer(t, l, "gina", []string{relayURL(relayR1)}, nil)

	answer := make(chan error, 1)
	go func() { _, err := call(gina, tn.twins["hank"], map[string]any{"n": 1}, 30*time.Second); answer <- err }()
	waitQueued(t, r1, 1)
	newPeer(t, l, "hank", []string{relayURL(relayR2)}, echoHandlers)
	require.NoError(t, <-answer)

	for i := range 5 {
		out, err := call(gina, tn.twins["hank"], map[string]any{"i": i}, 10*time.Second)
		require.NoError(t, err)
		require.Equal(t, float64(i), out["i"])
		require.Equal(t, true, out["encrypted"])
	}
}

// A twin that registers an e2e key on chain is seen by its callers without a restart: the chain
// event invalidates their cached twin, and the next request is encrypted.
func TestE2EKeyChangeSeenWithoutRestart(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	l := lookup(t)
	if tw, err := l.Twin(context.Background(), tn.twins["dave"]); err == nil && len(tw.E2EKey) > 0 { // a repeated run (-count)
		require.NoError(t, tn.chain.UpdateTwin("dave", []string{relayURL(relayA)}, nil))
		l.Invalidate(tn.twins["dave"])
	}
	bob := newPeer(t, l, "bob", []string{relayURL(relayA)}, nil)
	newPeer(t, l, "dave", []string{relayURL(relayA)}, echoHandlers)
	out, err := call(bob, tn.twins["dave"], map[string]any{}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, false, out["encrypted"], "dave has no e2e key yet")

	key, err := rmb.E2EPublicKey(tn.keys["dave"])
	require.NoError(t, err)
	_, events := l.Watcher().Stats()
	require.NoError(t, tn.chain.UpdateTwin("dave", []string{relayURL(relayA)}, key))
	require.Eventually(t, func() bool { _, n := l.Watcher().Stats(); return n > events }, 10*time.Second, 50*time.Millisecond,
		"the twin-updated event reached the watcher")
	out, err = call(bob, tn.twins["dave"], map[string]any{}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, true, out["encrypted"], "bob saw dave's new e2e key without a restart")
	require.True(t, strings.Contains(fmt.Sprint(out["from"]), u(tn.twins["bob"])))
}

// Two separate programs built on rmb/peer (rmb-peer serve and rmb-peer call) exchange a signed,
// encrypted request and response through a relay process, with their twins on the chain.
func TestTwoPrograms(t *testing.T) {
	skipIfShort(t)
	startRelay(t, relayA, "")
	dir := t.TempDir()
	keyFile := func(name string) string {
		p := filepath.Join(dir, name+".key")
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("%x", tn.keys[name].Key)), 0o600))
		return p
	}
	common := func(name string) []string {
		return []string{"--key-file", keyFile(name), "--twin-id", u(tn.twins[name]), "--relay", relayURL(relayA),
			"--grpc", tn.chain.GRPC, "--rpc", tn.chain.RPC}
	}
	serve := exec.Command(tn.peerBin, append([]string{"serve"}, common("bob")...)...)
	var served bytes.Buffer
	serve.Stdout = &served
	serve.Stderr = os.Stderr
	serve.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, serve.Start())
	t.Cleanup(func() { _ = serve.Process.Signal(syscall.SIGTERM); _ = serve.Wait() })

	var out []byte
	require.Eventually(t, func() bool { // until the server is connected
		cmd := exec.Command(tn.peerBin, append(append([]string{"call"}, common("alice")...),
			"--to", u(tn.twins["bob"]), "--command", "echo", "--timeout", "5s", `{"order":"deploy"}`)...)
		var err error
		out, err = cmd.Output()
		return err == nil
	}, 30*time.Second, 500*time.Millisecond)
	require.JSONEq(t, fmt.Sprintf(`{"order":"deploy","_from":%d,"_encrypted":true}`, tn.twins["alice"]), string(out))
	require.NoError(t, serve.Process.Signal(syscall.SIGTERM))
	require.NoError(t, serve.Wait(), "rmb-peer serve exits cleanly on SIGTERM")
	require.Contains(t, served.String(), `"encrypted":true`)
}

// The twin-event subscription survives a node restart: the watcher subscribes again by itself,
// fetches the blocks it missed, and sees the next twin update. (Runs last: it restarts the chain.)
func TestWatcherReconnectsAfterNodeRestart(t *testing.T) {
	skipIfShort(t)
	l := lookup(t)
	before, _ := l.Watcher().Stats()
	_, err := l.Twin(context.Background(), tn.twins["erin"])
	require.NoError(t, err)
	require.NoError(t, tn.chain.Restart())
	require.Eventually(t, func() bool { n, _ := l.Watcher().Stats(); return n > before }, 60*time.Second, 100*time.Millisecond,
		"the watcher subscribed again after the node restart")
	<-l.Watcher().Subscribed()
	_, events := l.Watcher().Stats()
	key, err := rmb.E2EPublicKey(tn.keys["erin"])
	require.NoError(t, err)
	require.NoError(t, tn.chain.UpdateTwin("erin", []string{relayURL(relayA)}, key))
	require.Eventually(t, func() bool { _, n := l.Watcher().Stats(); return n > events }, 15*time.Second, 50*time.Millisecond)
	tw, err := l.Twin(context.Background(), tn.twins["erin"])
	require.NoError(t, err)
	require.Equal(t, key, tw.E2EKey, "the lookup returns the updated twin")
}
