package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// helloTimeout bounds how long a client may take to send its ClientHello.
const helloTimeout = 10 * time.Second

func (p *Proxy) acceptTLS() {
	for {
		c, err := p.tls.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log.Error("gateway tls listener stopped", "err", err)
			}
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.passthrough(c.(*meteredConn))
		}()
	}
}

// passthrough reads the ClientHello's server name, then joins the client to a backend of the
// passthrough route serving it: the ClientHello first, then both directions untouched until
// either side ends.
func (p *Proxy) passthrough(client *meteredConn) {
	defer client.Close()
	var hello bytes.Buffer
	_ = client.SetReadDeadline(time.Now().Add(helloTimeout))
	sni, err := serverName(io.TeeReader(client, &hello))
	_ = client.SetReadDeadline(time.Time{})
	if err != nil {
		p.log.Debug("gateway tls: no server name", "from", client.RemoteAddr(), "err", err)
		return
	}
	rt := p.lookup(sni)
	if rt == nil || rt.http != nil || !p.claim(client, rt.ID) {
		p.log.Debug("gateway tls: no passthrough route", "sni", sni)
		return
	}
	backend, err := p.dialPassthrough(rt)
	if err != nil {
		p.log.Debug("gateway tls: backend", "route", rt.ID, "err", err)
		return
	}
	defer backend.Close()
	if _, err := backend.Write(hello.Bytes()); err != nil {
		return
	}
	pipe(client, backend)
}

// dialPassthrough connects to the route's backends round-robin, trying each once.
func (p *Proxy) dialPassthrough(rt *route) (net.Conn, error) {
	dial := p.dialer(rt.NetNS)
	start := rt.next.Add(1)
	var errs []error
	for i := range uint64(len(rt.addrs)) {
		addr := rt.addrs[(start+i)%uint64(len(rt.addrs))]
		c, err := dial(context.Background(), "tcp", addr.String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("route %s: no backend reachable: %w", rt.ID, errors.Join(errs...))
}

// pipe copies both ways until both directions ended; an error on either side ends both.
func pipe(client *meteredConn, backend net.Conn) {
	done := make(chan error, 2)
	cp := func(dst, src net.Conn) {
		_, err := io.Copy(dst, src)
		if err == nil {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				err = cw.CloseWrite()
			}
		}
		if err != nil {
			client.Close()
			backend.Close()
		}
		done <- err
	}
	go cp(backend, client)
	go cp(client, backend)
	<-done
	<-done
}

// errHelloRead stops the handshake once the ClientHello is read.
var errHelloRead = errors.New("client hello read")

// serverName reads a TLS ClientHello from r with crypto/tls and returns its SNI. The handshake is
// aborted as soon as the hello is parsed; nothing is written back.
func serverName(r io.Reader) (string, error) {
	var name string
	var got bool
	err := tls.Server(helloConn{r}, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name, got = h.ServerName, true
			return nil, errHelloRead
		},
	}).Handshake()
	switch {
	case !got:
		return "", fmt.Errorf("not a TLS ClientHello: %w", err)
	case name == "":
		return "", errors.New("the ClientHello names no server (SNI)")
	}
	return name, nil
}

// helloConn is a read-only net.Conn over the client's first bytes, for crypto/tls to parse the
// ClientHello from; what the handshake would write goes nowhere.
type helloConn struct{ r io.Reader }

func (c helloConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c helloConn) Write(b []byte) (int, error)      { return 0, io.ErrClosedPipe }
func (c helloConn) Close() error                     { return nil }
func (c helloConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c helloConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c helloConn) SetDeadline(time.Time) error      { return nil }
func (c helloConn) SetReadDeadline(time.Time) error  { return nil }
func (c helloConn) SetWriteDeadline(time.Time) error { return nil }
