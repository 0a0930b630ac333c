package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
)

const domain = "gw.example.test"

func newProxy(t *testing.T, ns string) *Proxy {
	t.Helper()
	p, err := New(Config{Domain: domain, HTTPAddr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", NetNS: ns})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// exchange sends raw to addr (from the namespace ns) and returns everything the server sent back.
func exchange(t *testing.T, ns string, addr net.Addr, raw string) string {
	t.Helper()
	ap := netip.MustParseAddrPort(addr.String())
	out, err := backendtest.Exchange(ns, netip.Addr{}, ap, raw, 5*time.Second)
	require.NoError(t, err)
	return out
}

func get(host string) string {
	return "GET /hello HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
}

// echoBackend answers with the Host and X-Forwarded-For it saw.
func echoBackend(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s saw host=%s path=%s xff=%s", name, r.Host, r.URL.Path, r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestHTTPRoutesByHost(t *testing.T) {
	p := newProxy(t, "")
	a, b := echoBackend(t, "a"), echoBackend(t, "b")
	require.NoError(t, p.Add(Route{ID: "1-gw", Name: "app", Backends: []string{a.URL}}))
	require.NoError(t, p.Add(Route{ID: "2-gw", Name: "other", Backends: []string{b.URL}}))

	out := exchange(t, "", p.HTTPAddr(), get("app."+domain))
	require.Contains(t, out, "200 OK")
	require.Contains(t, out, "a saw host=app."+domain+" path=/hello xff=127.0.0.1")
	out = exchange(t, "", p.HTTPAddr(), get("OTHER."+domain+".:80"))
	require.Contains(t, out, "b saw host=OTHER."+domain, "case, port and final dot do not matter")

	out = exchange(t, "", p.HTTPAddr(), get("nosuch."+domain))
	require.Contains(t, out, "404 Not Found")
	require.Contains(t, out, `no gateway serves "nosuch.`+domain+`"`)

	t.Run("bytes are counted per route, request and response", func(t *testing.T) {
		before, _ := p.Traffic("1-gw")
		req := get("app." + domain)
		out := exchange(t, "", p.HTTPAddr(), req)
		require.Eventually(t, func() bool {
			now, _ := p.Traffic("1-gw")
			return now.RxBytes-before.RxBytes == uint64(len(req)) && now.TxBytes-before.TxBytes == uint64(len(out))
		}, 2*time.Second, 10*time.Millisecond)
		unrouted, ok := p.Traffic("nosuch")
		require.False(t, ok)
		require.Zero(t, unrouted)
	})

	t.Run("round robin over backends, a dead one answers 502", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		deadURL := dead.URL
		dead.Close()
		require.NoError(t, p.Add(Route{ID: "3-gw", Name: "rr", Backends: []string{a.URL, b.URL, deadURL}}))
		seen := map[string]int{}
		for range 6 {
			out := exchange(t, "", p.HTTPAddr(), get("rr."+domain))
			switch {
			case strings.Contains(out, "a saw"):
				seen["a"]++
			case strings.Contains(out, "b saw"):
				seen["b"]++
			case strings.Contains(out, "502 Bad Gateway"):
				seen["dead"]++
			}
		}
		require.Equal(t, map[string]int{"a": 2, "b": 2, "dead": 2}, seen)
	})

	t.Run("removed route", func(t *testing.T) {
		p.Remove("2-gw")
		out := exchange(t, "", p.HTTPAddr(), get("other."+domain))
		require.Contains(t, out, "404 Not Found")
		_, kept := p.Traffic("2-gw")
		require.True(t, kept, "a removed route keeps its count until deleted")
		p.Delete("2-gw")
		_, kept = p.Traffic("2-gw")
		require.False(t, kept)
	})
}

func TestRouteRefusals(t *testing.T) {
	p := newProxy(t, "")
	require.NoError(t, p.Add(Route{ID: "1-gw", Name: "taken", Backends: []string{"http://10.0.0.1"}}))
	err := p.Add(Route{ID: "2-gw", Name: "taken", Backends: []string{"http://10.0.0.2"}})
	require.ErrorIs(t, err, ErrHostTaken)
	require.ErrorContains(t, err, "taken."+domain)
	require.ErrorContains(t, err, "1-gw")
	require.NoError(t, p.Add(Route{ID: "1-gw", Name: "taken", Backends: []string{"http://10.0.0.3"}}), "the same workload may replace its route")

	for _, tc := range []struct {
		r    Route
		want string
	}{
		{Route{ID: "Bad", Name: "x", Backends: []string{"http://10.0.0.1"}}, `id "Bad"`},
		{Route{ID: "4-gw", Name: "no.dots", Backends: []string{"http://10.0.0.1"}}, `name "no.dots"`},
		{Route{ID: "4-gw", Name: "x"}, "backends"},
		{Route{ID: "4-gw", Name: "x", Backends: []string{"10.0.0.1:80"}}, `backends[0] "10.0.0.1:80"`},
		{Route{ID: "4-gw", Name: "x", TLSPassthrough: true, Backends: []string{"http://10.0.0.1"}}, `backends[0] "http://10.0.0.1": invalid gateway spec: want ip:port`},
	} {
		err := p.Add(tc.r)
		require.ErrorIs(t, err, ErrInvalidSpec, "%+v", tc.r)
		require.ErrorContains(t, err, tc.want)
	}
	require.Len(t, p.Routes(), 1, "refusals add nothing")

	for _, cfg := range []Config{
		{Domain: "single", HTTPAddr: "127.0.0.1:0"},
		{Domain: "UPPER.example", HTTPAddr: "127.0.0.1:0"},
		{Domain: domain, HTTPAddr: "no-port"},
		{Domain: domain, HTTPAddr: "127.0.0.1:0", TLSAddr: "bad"},
	} {
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrInvalidSpec, "%+v", cfg)
	}
}

func TestTLSPassthroughBySNI(t *testing.T) {
	p := newProxy(t, "")
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tls backend saw host=%s", r.Host)
	}))
	t.Cleanup(backend.Close)
	require.NoError(t, p.Add(Route{ID: "1-secure", Name: "secure", TLSPassthrough: true, Backends: []string{backend.Listener.Addr().String()}}))
	plain := echoBackend(t, "plain")
	require.NoError(t, p.Add(Route{ID: "2-plain", Name: "plain", Backends: []string{plain.URL}}))

	dial := func(sni string) (*tls.Conn, error) {
		d := &net.Dialer{Timeout: 3 * time.Second}
		return tls.DialWithDialer(d, "tcp", p.TLSAddr().String(), &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	}
	c, err := dial("secure." + domain)
	require.NoError(t, err)
	cert := c.ConnectionState().PeerCertificates[0]
	require.Equal(t, backend.Certificate().Raw, cert.Raw, "the backend's own certificate: TLS is not terminated at the gateway")
	_, err = io.WriteString(c, get("secure."+domain))
	require.NoError(t, err)
	body, err := io.ReadAll(c)
	require.NoError(t, err)
	require.Contains(t, string(body), "tls backend saw host=secure."+domain)
	c.Close()
	require.Eventually(t, func() bool {
		u, _ := p.Traffic("1-secure")
		return u.RxBytes > uint64(len(get(""))) && u.TxBytes > uint64(len(body))
	}, 2*time.Second, 10*time.Millisecond, "the encrypted bytes both ways are counted")

	for _, sni := range []string{"plain." + domain, "nosuch." + domain} {
		_, err := dial(sni)
		require.Error(t, err, "%s is not a passthrough route: the connection is closed", sni)
	}
	out := exchange(t, "", p.HTTPAddr(), get("secure."+domain))
	require.Contains(t, out, "404 Not Found", "a passthrough route serves TLS only")

	t.Run("removal closes open connections", func(t *testing.T) {
		c, err := dial("secure." + domain)
		require.NoError(t, err)
		defer c.Close()
		p.Remove("1-secure")
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = c.Read(make([]byte, 1))
		require.Error(t, err)
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection was closed by the removal, not left open: %v", err)
		_, err = dial("secure." + domain)
		require.Error(t, err)
	})
}

func TestSeedContinuesCounts(t *testing.T) {
	p := newProxy(t, "")
	a := echoBackend(t, "a")
	p.Seed(map[string]netusage.Counters{"1-gw": {RxBytes: 1000, TxBytes: 5000}})
	require.NoError(t, p.Add(Route{ID: "1-gw", Name: "app", Backends: []string{a.URL}}))
	req := get("app." + domain)
	out := exchange(t, "", p.HTTPAddr(), req)
	require.Eventually(t, func() bool {
		u, _ := p.Traffic("1-gw")
		return u == netusage.Counters{RxBytes: 1000 + uint64(len(req)), TxBytes: 5000 + uint64(len(out))}
	}, 2*time.Second, 10*time.Millisecond)
}

// TestNamespaces: the listeners in one namespace (the node's public side), the backend in
// another (a twin's private network) that only the route's dialler enters.
func TestNamespaces(t *testing.T) {
	backendtest.RequireRoot(t)
	public, private := backendtest.NetNS(t, "gwpub"), backendtest.NetNS(t, "gwpriv")
	var l net.Listener
	require.NoError(t, netnsutil.Do(private, func() (err error) {
		l, err = net.Listen("tcp", "127.0.0.1:8080")
		return err
	}))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private backend")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	p := newProxy(t, public)
	require.NoError(t, p.Add(Route{ID: "1-gw", Name: "app", Backends: []string{"http://127.0.0.1:8080"}, NetNS: private}))
	require.Contains(t, exchange(t, public, p.HTTPAddr(), get("app."+domain)), "private backend")

	require.NoError(t, p.Add(Route{ID: "2-gw", Name: "wrongns", Backends: []string{"http://127.0.0.1:8080"}}))
	require.Contains(t, exchange(t, public, p.HTTPAddr(), get("wrongns."+domain)), "502 Bad Gateway",
		"from the agent's namespace the private backend is not there")
}

// TestCloseEndsEveryConnection: a client that never sends its ClientHello, and one served by a
// route, are both cut when the proxy closes; connections closed normally are forgotten.
func TestCloseEndsEveryConnection(t *testing.T) {
	p, err := New(Config{Domain: domain, HTTPAddr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	a := echoBackend(t, "a")
	require.NoError(t, p.Add(Route{ID: "1-gw", Name: "app", Backends: []string{a.URL}}))
	exchange(t, "", p.HTTPAddr(), get("app."+domain))
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns[""]) == 0 && len(p.conns["1-gw"]) == 0
	}, 2*time.Second, 10*time.Millisecond, "closed connections are forgotten")

	silent, err := net.Dial("tcp", p.TLSAddr().String())
	require.NoError(t, err)
	defer silent.Close()
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns[""]) == 1
	}, 2*time.Second, 10*time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(helloTimeout / 2):
		t.Fatal("Close waited for a client that sends nothing")
	}
	_ = silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = silent.Read(make([]byte, 1))
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the silent client's connection was closed: %v", err)
}
