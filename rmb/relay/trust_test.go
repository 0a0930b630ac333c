package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/relay"
	"github.com/tfgrid/tfgrid/rmb/types"
)

// setRelays replaces the relays a twin lists on the (memory) chain.
func (w *world) setRelays(id identity, relays ...string) {
	tw, err := rmb.NewTwin(id.id, id.key.PubKey().Bytes(), relays, nil)
	require.NoError(w.t, err)
	w.lookup.Set(tw)
}

// fedPost is one POST / to tr signed by poster (as relay twin poster.id) with body.
func fedPost(t *testing.T, tr *testRelay, poster identity, body []byte) (int, string, string) {
	t.Helper()
	auth, err := rmb.NewFederationAuth(poster.key, poster.id, body, time.Now())
	require.NoError(t, err)
	return postWithHeader(t, tr, body, auth)
}

// postWithHeader is one POST / to tr with body and the federation header hdr (none when empty). It
// returns the status, the body and the X-Rmb-Code header.
func postWithHeader(t *testing.T, tr *testRelay, body []byte, hdr string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http"+strings.TrimPrefix(tr.url, "ws")+"/", bytes.NewReader(body))
	require.NoError(t, err)
	if hdr != "" {
		req.Header.Set(rmb.FederationHeader, hdr)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := new(bytes.Buffer)
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, strings.TrimSpace(buf.String()), resp.Header.Get(relay.CodeHeader)
}

// signed builds a signed request from src (signed by key's owner) to dst.
func signed(t *testing.T, signer identity, uid string, src, dst rmb.Address) []byte {
	c := &rawConn{t: t, id: signer}
	return c.request(uid, src, dst, 60, []byte(`{}`))
}

// Federation posts are accepted only from a relay of the envelope's source (its URL is in the
// source twin's relays), for a destination on the chain and served here, at most once per body, and
// within the per-source rate limit. Each refusal is one of the attacks seen with the old relay.
func TestFederationTrust(t *testing.T) {
	w := newWorld(t)
	recvTwin, posterTwin := w.twin(false), w.twin(false)
	rcv := w.startRelay("", func(c *relay.Config) {
		c.TwinID, c.Key = recvTwin.id, recvTwin.key
		c.RateMessages = 20
	})
	w.setRelays(recvTwin, rcv.url)
	posterURL := "ws://relay-p.example.org:8080"
	w.setRelays(posterTwin, posterURL)
	src := w.twin(false, posterURL) // a twin of the posting relay
	other := w.twin(false, "ws://elsewhere.example.org:8080")
	user := w.twin(false) // a plain user with no relay
	dst := w.twin(false, rcv.url)
	cd := dialRaw(t, rcv.url, dst, "")

	// the legitimate post
	good := signed(t, src, "ok", rmb.Address{Twin: src.id}, rmb.Address{Twin: dst.id})
	code, body, _ := fedPost(t, rcv, posterTwin, good)
	require.Equal(t, http.StatusAccepted, code, body)
	h, _, _ := cd.recv()
	require.Equal(t, "ok", h.UID)

	// replay of the same body: refused, not delivered twice
	code, body, _ = fedPost(t, rcv, posterTwin, good)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body, "replay")

	// a plain user posting its own envelope: not a relay of anyone
	mine := signed(t, user, "user", rmb.Address{Twin: user.id}, rmb.Address{Twin: dst.id})
	code, body, _ = fedPost(t, rcv, user, mine)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, fmt.Sprintf("relay twin %d registers no relay URL", user.id))

	// a relay posting for a source that does not list it (spoofed source, bad signature)
	spoof := signed(t, user, "spoof", rmb.Address{Twin: other.id}, rmb.Address{Twin: dst.id})
	code, body, _ = fedPost(t, rcv, posterTwin, spoof)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, fmt.Sprintf("relay twin %d is not a relay of source twin %d", posterTwin.id, other.id))

	// a twin listing the same relay cannot post in another twin's name: the signature is checked
	neighbour := w.twin(false, posterURL)
	forged := signed(t, neighbour, "forged", rmb.Address{Twin: src.id}, rmb.Address{Twin: dst.id})
	code, body, _ = fedPost(t, rcv, neighbour, forged)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "signature does not verify against twin")

	// an unsigned twin-0 "relay error" for a request this relay never forwarded
	errEnv := &types.Envelope{Uid: "never-sent", Timestamp: uint64(time.Now().Unix()), Expiration: 60,
		Source: &types.Address{}, Destination: &types.Address{Twin: dst.id},
		Message: &types.Envelope_Error{Error: &types.Error{Code: 8, Message: "fake"}}}
	fake, err := errEnv.Marshal()
	require.NoError(t, err)
	code, body, _ = fedPost(t, rcv, posterTwin, fake)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "this relay forwarded no envelope never-sent")

	// a destination that is not on the chain
	ghost := signed(t, src, "ghost", rmb.Address{Twin: src.id}, rmb.Address{Twin: 999})
	code, body, rc := fedPost(t, rcv, posterTwin, ghost)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "2", rc)
	require.Contains(t, body, "destination twin 999 is not on the chain")

	// per-source rate limit: 20 a minute, of which "ok" and "ghost" used two (the replay none)
	limited := 0
	for i := range 25 {
		e := signed(t, src, "r"+strconv.Itoa(i), rmb.Address{Twin: src.id}, rmb.Address{Twin: dst.id})
		code, body, rc := fedPost(t, rcv, posterTwin, e)
		if code == http.StatusTooManyRequests {
			limited++
			require.Equal(t, "7", rc)
			require.Contains(t, body, fmt.Sprintf("twin %d exceeded 20 envelopes", src.id))
			continue
		}
		require.Equal(t, http.StatusAccepted, code, body)
	}
	require.Equal(t, 7, limited)
}

// A relay that forwarded an envelope accepts the twin-0 error about it from the destination's relay:
// here the destination stays offline and its relay answers error 3 when the envelope expires.
func TestFederatedRelayErrorReachesSender(t *testing.T) {
	w := newWorld(t)
	relayA, relayB := w.twin(false), w.twin(false)
	ra := w.startRelay("", func(c *relay.Config) { c.TwinID, c.Key = relayA.id, relayA.key })
	rb := w.startRelay("", func(c *relay.Config) { c.TwinID, c.Key = relayB.id, relayB.key })
	w.setRelays(relayA, ra.url)
	w.setRelays(relayB, rb.url)
	a, b := w.twin(false, ra.url), w.twin(false, rb.url)
	ca := dialRaw(t, ra.url, a, "")
	ca.send(ca.request("short", rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 2, nil))
	h, env, _ := ca.recv()
	require.Equal(t, "short", h.UID)
	require.Zero(t, h.Source.Twin)
	require.Equal(t, uint32(rmb.CodeExpired), env.GetError().GetCode(), env.GetError().GetMessage())
}

// Queue bounds hold per destination twin across its sessions, and a session that never connected is
// not queued for at all (8): 80 sessions × 900 KB no longer fit in one twin's bound.
func TestQueueBoundPerTwinAndSessions(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", nil) // bounds: 100 envelopes, 1 MiB per twin
	a, b := w.twin(false, r.url), w.twin(false, r.url)
	ca := dialRaw(t, r.url, a, "")
	me := rmb.Address{Twin: a.id}

	ca.send(ca.request("nosession", me, rmb.Address{Twin: b.id, Session: "never"}, 60, nil))
	h, env, _ := ca.recv()
	require.Equal(t, "nosession", h.UID)
	require.Equal(t, uint32(rmb.CodeDestinationOffline), env.GetError().GetCode())
	require.Contains(t, env.GetError().GetMessage(), fmt.Sprintf("session %d:never has not connected", b.id))

	// sessions that connected once may be queued for, but all of them share b's bound
	for i := range 3 {
		s := "s" + strconv.Itoa(i)
		dialRaw(t, r.url, b, s).ws.Close()
	}
	payload := bytes.Repeat([]byte("x"), 400<<10)
	for i := range 3 {
		ca.send(ca.request("big"+strconv.Itoa(i), me, rmb.Address{Twin: b.id, Session: "s" + strconv.Itoa(i)}, 60, payload))
	}
	h, env, _ = ca.recv()
	require.Equal(t, "big2", h.UID)
	require.Equal(t, uint32(rmb.CodeDestinationOffline), env.GetError().GetCode())
	require.Contains(t, env.GetError().GetMessage(), "queue is full")
}

// Envelopes kept for a twin go to one connection only, even when the twin reconnects (evicting the
// first connection) while they are being delivered.
func TestQueuedDeliveredOnce(t *testing.T) {
	w := newWorld(t)
	store, err := relay.OpenBoltStore(t.TempDir()+"/r.db", relay.Limits{MaxCount: 1000, MaxBytes: 64 << 20})
	require.NoError(t, err)
	r := w.startRelayWith(store, nil)
	a, b := w.twin(false, r.url), w.twin(false, r.url)
	ca := dialRaw(t, r.url, a, "")
	const n = 400
	for i := range n {
		ca.send(ca.request("q"+strconv.Itoa(i), rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, bytes.Repeat([]byte("y"), 2000)))
	}
	require.Eventually(t, func() bool { _, k, _, _ := store.Stats(context.Background()); return k == n }, 10*time.Second, 20*time.Millisecond)

	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		c := dialRaw(t, r.url, b, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
				_, raw, err := c.ws.ReadMessage()
				if err != nil {
					return
				}
				h, err := rmb.ScanEnvelope(raw)
				if err == nil {
					mu.Lock()
					seen[h.UID]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for uid, k := range seen {
		require.Equal(t, 1, k, "envelope %s delivered %d times", uid, k)
	}
	_, left, _, err := store.Stats(context.Background())
	require.NoError(t, err)
	require.Equal(t, n, len(seen)+left, "every envelope is delivered once or still kept")
}

// A connect token is single-use and travels in a header, never in the URL.
func TestTokenSingleUseAndNotInURL(t *testing.T) {
	w := newWorld(t)
	r := w.startRelay("", nil)
	a := w.twin(false, r.url)
	tok, err := rmb.NewToken(a.key, a.id, "", time.Minute, time.Now())
	require.NoError(t, err)
	ws, err := peer.Dial(context.Background(), r.url, tok)
	require.NoError(t, err)
	defer ws.Close()
	_, err = peer.Dial(context.Background(), r.url, tok)
	var de *peer.DialError
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusUnauthorized, de.Status)
	require.Contains(t, de.Reason, "token was already used")

	fresh, err := rmb.NewToken(a.key, a.id, "", time.Minute, time.Now())
	require.NoError(t, err)
	_, resp, err := websocket.DefaultDialer.Dial(r.url+"/?token="+fresh, nil)
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp.Body.Close()

	// the websocket subprotocol carries it too (for clients that cannot set headers)
	fresh, err = rmb.NewToken(a.key, a.id, "sub", time.Minute, time.Now())
	require.NoError(t, err)
	d := websocket.Dialer{Subprotocols: []string{relay.Subprotocol, relay.TokenSubprotocolPrefix + fresh}}
	ws2, resp, err := d.Dial(r.url+"/", nil)
	require.NoError(t, err)
	defer ws2.Close()
	require.Equal(t, relay.Subprotocol, resp.Header.Get("Sec-WebSocket-Protocol"))
}

// A relay rate-limits by default, and /healthz reports an unreachable chain as 503 degraded.
func TestDefaultRateLimitAndHealth(t *testing.T) {
	w := newWorld(t)
	chainDown := false
	var mu sync.Mutex
	r := w.startRelay("", func(c *relay.Config) {
		c.ChainCheck = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if chainDown {
				return fmt.Errorf("dial tcp 127.0.0.1:9090: connection refused")
			}
			return nil
		}
	})
	a, b := w.twin(false, r.url), w.twin(false, r.url)
	ca, cb := dialRaw(t, r.url, a, ""), dialRaw(t, r.url, b, "")
	go func() {
		for {
			if _, _, err := cb.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := range relay.DefaultRateMessages + 1 {
		ca.send(ca.request("m"+strconv.Itoa(i), rmb.Address{Twin: a.id}, rmb.Address{Twin: b.id}, 60, nil))
	}
	h, env, _ := ca.recv()
	require.Equal(t, "m"+strconv.Itoa(relay.DefaultRateMessages), h.UID)
	require.Equal(t, uint32(rmb.CodeRateLimited), env.GetError().GetCode())

	hz := "http" + strings.TrimPrefix(r.url, "ws") + "/healthz"
	code, body := httpStatus(t, hz)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"chain":"ok"`)
	mu.Lock()
	chainDown = true
	mu.Unlock()
	code, body = httpStatus(t, hz)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, `"status":"degraded"`)
	require.Contains(t, body, "chain unreachable: dial tcp 127.0.0.1:9090: connection refused")
}

// The relay reads relay URLs with the chain's parser: what a twin cannot register, a relay cannot
// claim as its own URL either.
func TestRelayURLsUseChainParser(t *testing.T) {
	w := newWorld(t)
	store, err := relay.OpenBoltStore(t.TempDir()+"/r.db", relay.Limits{})
	require.NoError(t, err)
	defer store.Close()
	_, err = relay.New(relay.Config{URLs: []string{"ws://relay.example.org:8080/"}, Lookup: w.lookup, Store: store})
	require.ErrorContains(t, err, `relay URL "ws://relay.example.org:8080/": path not allowed`)
	_, err = relay.New(relay.Config{URLs: []string{"ws://relay.example.org:0"}, Lookup: w.lookup, Store: store})
	require.ErrorContains(t, err, "port")
}
