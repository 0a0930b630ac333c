package relay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tfgrid/tfgrid/rmb"
)

const writeTimeout = 10 * time.Second

// How a peer presents its connect token: "Authorization: Bearer TOKEN", or (for clients that cannot
// set headers) the websocket subprotocols Subprotocol and TokenSubprotocolPrefix+TOKEN. Never in the
// URL, which proxies and servers log.
const (
	Subprotocol            = "rmb.v1"
	TokenSubprotocolPrefix = "rmb-token."
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  64 << 10,
	WriteBufferSize: 64 << 10,
	Subprotocols:    []string{Subprotocol},                    // selected when offered; the token protocol never is
	CheckOrigin:     func(*http.Request) bool { return true }, // peers are programs; auth is the token
}

// tokenOf returns the connect token of an upgrade request, or why there is none.
func tokenOf(req *http.Request) (string, string) {
	if req.URL.Query().Has("token") {
		return "", "a token in the URL is refused (URLs get logged): send it as \"Authorization: Bearer <token>\" or the websocket subprotocol " + TokenSubprotocolPrefix + "<token>"
	}
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
		return strings.TrimSpace(tok), ""
	}
	for _, p := range websocket.Subprotocols(req) {
		if tok, ok := strings.CutPrefix(p, TokenSubprotocolPrefix); ok && tok != "" {
			return tok, ""
		}
	}
	return "", "missing token: send it as \"Authorization: Bearer <token>\" or the websocket subprotocol " + TokenSubprotocolPrefix + "<token>"
}

// conn is one authenticated peer connection, the only one of its (twin, session).
type conn struct {
	r    *Relay
	ws   *websocket.Conn
	addr rmb.Address
	key  string // its queue
	id   uint64

	direct chan []byte   // envelopes routed to it while connected
	notify chan struct{} // its queue in the store has entries
	done   chan struct{} // closed by close
	once   sync.Once
	mu     sync.Mutex // guards closed and sends into direct
	closed bool
	reason string
}

// serveWS authenticates the token and runs the connection.
func (r *Relay) serveWS(w http.ResponseWriter, req *http.Request) {
	if !websocket.IsWebSocketUpgrade(req) {
		http.Error(w, "this endpoint is a websocket: connect with ?token=<connect token>", http.StatusBadRequest)
		return
	}
	tok, missing := tokenOf(req)
	if missing != "" {
		r.m.refusedTokens.Inc()
		r.log.Info("connection refused", "remote", req.RemoteAddr, "reason", missing)
		http.Error(w, missing, http.StatusUnauthorized)
		return
	}
	claims, err := rmb.VerifyToken(req.Context(), tok, r.cfg.Lookup, time.Now())
	if err == nil {
		err = r.useToken(req.Context(), tok, claims.ExpiresAt)
	}
	if err != nil {
		var te *rmb.TokenError
		if errors.As(err, &te) {
			r.m.refusedTokens.Inc()
			r.log.Info("connection refused", "remote", req.RemoteAddr, "twin", claims.TwinId, "reason", te.Reason)
			http.Error(w, te.Error(), http.StatusUnauthorized)
			return
		}
		r.log.Warn("cannot check token", "remote", req.RemoteAddr, "twin", claims.TwinId, "err", err)
		http.Error(w, "cannot check the token now: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	r.markConnected(req.Context(), rmb.Address{Twin: claims.TwinId, Session: claims.Session})
	ws, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		return // the upgrader answered
	}
	addr := rmb.Address{Twin: claims.TwinId, Session: claims.Session}
	c := &conn{
		r: r, ws: ws, addr: addr, key: SessionQueue(addr.Twin, addr.Session),
		direct: make(chan []byte, r.cfg.SendBuffer),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	if !r.register(c) {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "relay shutting down"), time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	r.log.Info("peer connected", "twin", addr.Twin, "session", addr.Session, "conn", c.id, "remote", req.RemoteAddr)
	c.wake() // deliver what was kept for it
	go c.writeLoop()
	go c.readLoop()
}

// useToken spends a verified token: the relay keeps its hash until it expires, so a token seen once
// (in a log, a proxy) cannot connect again.
func (r *Relay) useToken(ctx context.Context, tok string, expiresAt int64) error {
	sum := sha256.Sum256([]byte(tok))
	ttl := time.Until(time.Unix(expiresAt, 0)) + time.Second
	fresh, err := r.cfg.Store.Remember(ctx, "tok/"+hex.EncodeToString(sum[:]), "", ttl, false)
	if err != nil {
		return fmt.Errorf("record the token: %w", err)
	}
	if !fresh {
		return &rmb.TokenError{Reason: "this token was already used: make a new token for every connection"}
	}
	return nil
}

// send hands raw to the connection's writer; false if it is closed or its buffer is full.
func (c *conn) send(raw []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	select {
	case c.direct <- raw:
		return true
	default:
		return false
	}
}

func (c *conn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *conn) close(reason string) {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.reason = reason
		c.mu.Unlock()
		close(c.done)
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(time.Second))
		// The writer closes the socket once it has stopped; the reader then fails and ends.
	})
}

// readLoop reads envelopes from the peer and routes them.
func (c *conn) readLoop() {
	r := c.r
	defer r.conns.Done()
	defer c.close("read ended")
	c.ws.SetReadLimit(int64(2*r.cfg.MaxEnvelopeBytes + 64<<10))
	deadline := 3 * r.cfg.PingInterval
	_ = c.ws.SetReadDeadline(time.Now().Add(deadline))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(deadline)) })
	c.ws.SetPingHandler(func(data string) error {
		_ = c.ws.SetReadDeadline(time.Now().Add(deadline))
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	ctx := context.Background()
	for {
		typ, raw, err := c.ws.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !c.isClosed() {
				r.log.Info("peer connection ended", "twin", c.addr.Twin, "session", c.addr.Session, "conn", c.id, "err", err)
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(deadline))
		if typ != websocket.BinaryMessage {
			c.close("only binary frames carry envelopes")
			return
		}
		r.m.received.WithLabelValues("ws").Inc()
		r.m.receivedBytes.Add(float64(len(raw)))
		h, err := rmb.ScanEnvelope(raw)
		if err != nil {
			r.log.Info("closing connection: bad envelope", "twin", c.addr.Twin, "session", c.addr.Session, "err", err)
			c.close(truncate(err.Error(), 120))
			return
		}
		c.handle(ctx, raw, h)
	}
}

// handle applies the checks of an envelope from this peer and routes it.
func (c *conn) handle(ctx context.Context, raw []byte, h *rmb.Header) {
	r := c.r
	if len(raw) > r.cfg.MaxEnvelopeBytes {
		// the error goes to the connection's own address: the source may be anything
		h.Source = c.addr
		r.refuse(ctx, h, fromPeer, rmb.CodeTooLarge, fmt.Sprintf("envelope is %d bytes, the relay accepts at most %d", len(raw), r.cfg.MaxEnvelopeBytes))
		return
	}
	if h.Source != c.addr {
		claimed := h.Source
		h.Source = c.addr
		r.refuse(ctx, h, fromPeer, rmb.CodeWrongSource, fmt.Sprintf("source %s is not this connection's session %s", claimed, c.addr))
		return
	}
	if h.Expired(time.Now()) {
		r.refuse(ctx, h, fromPeer, rmb.CodeExpired, fmt.Sprintf("envelope %s expired at %d (timestamp %d + expiration %d)",
			h.UID, h.Timestamp+h.Expiration, h.Timestamp, h.Expiration))
		return
	}
	if !r.limiter.allow(c.addr.Twin, len(raw), time.Now()) {
		r.refuse(ctx, h, fromPeer, rmb.CodeRateLimited, fmt.Sprintf("twin %d exceeded %d envelopes or %d bytes per %s",
			c.addr.Twin, r.limiter.messages, r.limiter.bytes, r.limiter.window))
		return
	}
	r.route(ctx, raw, h, fromPeer)
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// writeLoop writes direct envelopes and the session's kept ones, and pings. When it ends, whatever is
// still buffered goes back to the store.
func (c *conn) writeLoop() {
	r := c.r
	defer r.conns.Done()
	ping := time.NewTicker(r.cfg.PingInterval)
	defer ping.Stop()
	defer func() {
		c.close("write ended")
		_ = c.ws.Close()
		r.unregister(c)
		r.m.connections.Dec()
		c.requeue()
		r.log.Info("peer disconnected", "twin", c.addr.Twin, "session", c.addr.Session, "conn", c.id, "reason", c.reason)
	}()
	for {
		select {
		case <-c.done:
			return
		case raw := <-c.direct:
			if err := c.write(raw); err != nil {
				c.keepBack(raw)
				return
			}
			r.m.delivered.WithLabelValues("direct").Inc()
		case <-c.notify:
			if err := c.drain(); err != nil {
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				return
			}
		}
	}
}

func (c *conn) write(raw []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.ws.WriteMessage(websocket.BinaryMessage, raw); err != nil {
		return err
	}
	c.r.m.deliveredBytes.Add(float64(len(raw)))
	return nil
}

// drain writes the session's kept envelopes, oldest first. Each batch is taken out of the store
// before it is written (so another connection of the session never gets it too); what cannot be
// written goes back to the store.
func (c *conn) drain() error {
	r := c.r
	ctx := context.Background()
	for {
		select {
		case <-c.done:
			return errors.New("closed")
		default:
		}
		entries, err := r.cfg.Store.Take(ctx, c.key, 64)
		if err != nil {
			r.log.Error("cannot read kept envelopes", "queue", c.key, "err", err)
			return nil // keep the connection; the next wake retries
		}
		if len(entries) == 0 {
			return nil
		}
		now := time.Now().Unix()
		for i, e := range entries {
			if e.Deadline < now {
				if h, err := rmb.ScanEnvelope(e.Data); err == nil { // the sweeper would drop it; tell the sender now
					r.m.expired.Inc()
					r.sendErrorIfLive(ctx, h, rmb.CodeExpired, fmt.Sprintf("envelope %s expired before %s connected", h.UID, h.Destination))
				}
				continue
			}
			if err := c.write(e.Data); err != nil {
				for _, rest := range entries[i:] {
					c.keepBack(rest.Data)
				}
				return err
			}
			r.m.delivered.WithLabelValues("queue").Inc()
		}
	}
}

// requeue moves envelopes still buffered for a closed connection to the store.
func (c *conn) requeue() {
	for {
		select {
		case raw := <-c.direct:
			c.keepBack(raw)
		default:
			return
		}
	}
}

func (c *conn) keepBack(raw []byte) {
	r := c.r
	h, err := rmb.ScanEnvelope(raw)
	if err != nil {
		return
	}
	if err := r.keep(context.Background(), c.key, h, raw); err != nil {
		r.log.Warn("cannot keep an undelivered envelope", "queue", c.key, "uid", h.UID, "err", err)
		r.sendErrorIfLive(context.Background(), h, rmb.CodeDestinationOffline, fmt.Sprintf("destination %s disconnected and its queue is full", h.Destination))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
