package gateway

import (
	"context"
	"net"
	"sync"
)

// meteredListener hands out metered client connections.
type meteredListener struct {
	net.Listener
	p *Proxy
}

func (l *meteredListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	mc := &meteredConn{Conn: c, p: l.p}
	l.p.track(mc)
	return mc, nil
}

// meteredConn counts the bytes a client sends (rx) and receives (tx) for the route that owns the
// connection. Bytes before a route claims it (the request head, the ClientHello) are held and go
// to the first owner; a connection no route claims is not counted for anyone.
type meteredConn struct {
	net.Conn
	p *Proxy

	mu                   sync.Mutex
	id                   string
	to                   *usage
	pendingRx, pendingTx uint64
	closed               bool
	closeOnce            sync.Once
}

func (c *meteredConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.count(uint64(n), 0)
	return n, err
}

func (c *meteredConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.count(0, uint64(n))
	return n, err
}

func (c *meteredConn) count(rx, tx uint64) {
	if rx == 0 && tx == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.to == nil {
		c.pendingRx += rx
		c.pendingTx += tx
		return
	}
	c.to.rx.Add(rx)
	c.to.tx.Add(tx)
}

func (c *meteredConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *meteredConn) owner() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// setOwner makes u the count of this connection, with what was held so far.
func (c *meteredConn) setOwner(id string, u *usage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id, c.to = id, u
	u.rx.Add(c.pendingRx)
	u.tx.Add(c.pendingTx)
	c.pendingRx, c.pendingTx = 0, 0
}

// CloseWrite half-closes a TCP connection (the client finished sending, the backend may still answer).
func (c *meteredConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

func (c *meteredConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		err = c.Conn.Close()
		c.p.release(c)
	})
	return err
}

type connKey struct{}

// withConn keeps the client connection in each request's context, for the handler to claim it.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func connOf(ctx context.Context) (*meteredConn, bool) {
	c, ok := ctx.Value(connKey{}).(*meteredConn)
	return c, ok
}
