package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tfgrid/tfgrid/rmb"
)

// relayConn keeps one relay connection alive.
type relayConn struct {
	p   *Peer
	url string

	mu  sync.Mutex
	ws  *websocket.Conn
	wmu sync.Mutex // one writer at a time
}

func (c *relayConn) current() *websocket.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws
}

func (c *relayConn) closeSocket() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		_ = c.ws.Close()
	}
}

func (c *relayConn) write(ws *websocket.Conn, raw []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.BinaryMessage, raw); err != nil {
		_ = ws.Close() // the reader notices and reconnects
		return fmt.Errorf("relay %s: %w", c.url, err)
	}
	return nil
}

// DialError is a failed connection attempt; Status is the HTTP status when the relay answered.
type DialError struct {
	URL    string
	Status int
	Reason string
}

func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("relay %s refused the connection: HTTP %d: %s", e.URL, e.Status, e.Reason)
	}
	return fmt.Sprintf("relay %s: %s", e.URL, e.Reason)
}

// Dial opens an authenticated websocket to a relay with a connect token (rmb.NewToken), sent as
// "Authorization: Bearer <token>". Relays accept a token once: make a new one for every Dial.
func Dial(ctx context.Context, relayURL, token string) (*websocket.Conn, error) {
	u, err := url.Parse(relayURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, &DialError{URL: relayURL, Reason: "not a ws:// or wss:// URL"}
	}
	u.Path, u.RawQuery, u.Fragment = "/", "", ""
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	ws, resp, err := d.DialContext(ctx, u.String(), http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		de := &DialError{URL: relayURL, Reason: err.Error()}
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			de.Status, de.Reason = resp.StatusCode, strings.TrimSpace(string(body))
		}
		return nil, de
	}
	return ws, nil
}

// run connects, serves the connection, and reconnects with exponential backoff (with jitter) until
// the peer closes. The result of the first attempt goes to first.
func (c *relayConn) run(first chan<- error) {
	p := c.p
	defer p.wg.Done()
	backoff := p.opts.MinBackoff
	for attempt := 0; p.ctx.Err() == nil; attempt++ {
		ws, err := c.dial()
		if attempt == 0 {
			first <- err
		}
		if err != nil {
			p.log.Warn("relay connection failed", "relay", c.url, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			case <-p.ctx.Done():
				return
			}
			backoff = min(2*backoff, p.opts.MaxBackoff)
			continue
		}
		if attempt > 0 {
			p.log.Info("relay reconnected", "relay", c.url, "attempt", attempt)
		}
		started := time.Now()
		c.serve(ws)
		if time.Since(started) > 10*time.Second {
			backoff = p.opts.MinBackoff
		}
		if p.ctx.Err() == nil {
			p.log.Info("relay connection lost; reconnecting", "relay", c.url)
		}
	}
}

func (c *relayConn) dial() (*websocket.Conn, error) {
	p := c.p
	tok, err := rmb.NewToken(p.key, p.addr.Twin, p.addr.Session, p.opts.TokenTTL, time.Now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.DialTimeout)
	defer cancel()
	return Dial(ctx, c.url, tok)
}

// serve reads from ws until it fails; it pings every PingInterval and gives up when nothing was heard
// for PongTimeout.
func (c *relayConn) serve(ws *websocket.Conn) {
	p := c.p
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	p.signalConnected()
	defer func() {
		c.mu.Lock()
		c.ws = nil
		c.mu.Unlock()
		_ = ws.Close()
	}()
	_ = ws.SetReadDeadline(time.Now().Add(p.opts.PongTimeout))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(p.opts.PongTimeout)) })
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(p.opts.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-p.ctx.Done():
				_ = ws.Close()
				return
			case <-t.C:
				if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
					_ = ws.Close()
					return
				}
			}
		}
	}()
	for {
		typ, raw, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				p.log.Info("relay closed the connection", "relay", c.url, "code", ce.Code, "reason", ce.Text)
			}
			return
		}
		_ = ws.SetReadDeadline(time.Now().Add(p.opts.PongTimeout))
		if typ != websocket.BinaryMessage {
			continue
		}
		p.dispatch(raw)
	}
}
