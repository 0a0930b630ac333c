package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"time"
)

// httpRoute is a plain-HTTP route: a ReverseProxy over the route's backends, round-robin, with
// its own transport (dialling in the route's namespace).
type httpRoute struct {
	proxy     *httputil.ReverseProxy
	transport *http.Transport
}

func newHTTPRoute(rt *route, dial func(ctx context.Context, network, addr string) (net.Conn, error), log *slog.Logger) *httpRoute {
	tr := &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
		ResponseHeaderTimeout: time.Minute, ForceAttemptHTTP2: false}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := rt.targets[rt.next.Add(1)%uint64(len(rt.targets))]
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the backend sees the name it is served under
			pr.SetXForwarded()
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Debug("gateway backend failed", "route", rt.ID, "host", r.Host, "err", err)
			http.Error(w, fmt.Sprintf("gateway %s: no backend answered", rt.host), http.StatusBadGateway)
		},
	}
	return &httpRoute{proxy: rp, transport: tr}
}

// close drops the route's idle backend connections.
func (rt *route) close() {
	if rt.http != nil {
		rt.http.transport.CloseIdleConnections()
	}
}

// serveHTTP routes a request by its Host to the route's backends. A name not served here, or one
// that serves TLS only, is 404.
func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rt := p.lookup(r.Host)
	if rt == nil || rt.http == nil {
		http.Error(w, fmt.Sprintf("no gateway serves %q over HTTP on this node", r.Host), http.StatusNotFound)
		return
	}
	if c, ok := connOf(r.Context()); ok && !p.claim(c, rt.ID) {
		http.Error(w, "gateway closing", http.StatusServiceUnavailable)
		return
	}
	rt.http.proxy.ServeHTTP(w, r)
}
