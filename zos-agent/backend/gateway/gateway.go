// Package gateway is the node's web gateway: <name>.<node's gateway domain> reverse-proxied to a
// workload's backends. Plain HTTP is routed by its Host header through net/http/httputil's
// ReverseProxy; TLS is passed through untouched to the backend named by the ClientHello's SNI
// (read by crypto/tls). Routes come and go at runtime; the bytes each route's clients send and
// receive are counted for the consumption reports' nru.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
)

var (
	// ErrInvalidSpec: a bad configuration or route, the field and value named.
	ErrInvalidSpec = errors.New("invalid gateway spec")
	// ErrHostTaken: another workload already serves the name on this node.
	ErrHostTaken = errors.New("the name is already served on this node")
)

// Config is where the gateway listens and which domain it serves.
type Config struct {
	// Domain is the node's gateway domain: a route for name serves name.Domain.
	Domain string
	// HTTPAddr is the plain-HTTP listener (host:port).
	HTTPAddr string
	// TLSAddr is the TLS-passthrough listener (host:port); empty: none.
	TLSAddr string
	// NetNS is the path of the network namespace the listeners live in ("" is the agent's).
	NetNS  string
	Logger *slog.Logger
}

var (
	domainLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	routeName   = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)
)

// ValidateDomain checks a gateway domain: two or more lower-case DNS labels, at most 253 bytes.
func ValidateDomain(domain string) error {
	labels := strings.Split(domain, ".")
	if len(domain) > 253 || len(labels) < 2 {
		return fmt.Errorf("domain %q: %w: want a lower-case domain name of two or more labels", domain, ErrInvalidSpec)
	}
	for _, l := range labels {
		if !domainLabel.MatchString(l) {
			return fmt.Errorf("domain %q: %w: label %q is not a lower-case DNS label", domain, ErrInvalidSpec, l)
		}
	}
	return nil
}

// Route is one workload's name and where its traffic goes.
type Route struct {
	// ID is the workload's id; traffic is counted by it.
	ID string
	// Name is the label under the node's domain (lower case).
	Name string
	// TLSPassthrough: the route serves TLS on the TLS listener, forwarded untouched to backends
	// of the form ip:port; otherwise plain HTTP to backends of the form http://ip[:port].
	TLSPassthrough bool
	Backends       []string
	// NetNS is the path of the network namespace the backends are dialled from ("" is the agent's):
	// a twin's private network reaches its machines' private addresses.
	NetNS string
}

// route is a Route being served.
type route struct {
	Route
	host    string
	targets []*url.URL       // HTTP backends
	addrs   []netip.AddrPort // passthrough backends
	next    atomic.Uint64    // round-robin position
	http    *httpRoute       // nil for passthrough
}

// usage is a route's traffic since the proxy started (plus the base it was seeded with).
type usage struct{ rx, tx atomic.Uint64 }

// Proxy serves the routes.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	http     *http.Server
	httpAddr net.Addr
	tls      net.Listener

	mu     sync.Mutex
	byHost map[string]*route
	byID   map[string]*route
	usage  map[string]*usage
	conns  map[string]map[*meteredConn]struct{} // open client connections by route id ("": none yet)
	closed bool
	wg     sync.WaitGroup
}

// New validates cfg, opens the listeners in cfg.NetNS and starts serving (no routes yet).
func New(cfg Config) (*Proxy, error) {
	if err := ValidateDomain(cfg.Domain); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger, byHost: map[string]*route{}, byID: map[string]*route{},
		usage: map[string]*usage{}, conns: map[string]map[*meteredConn]struct{}{}}
	httpLn, err := p.listen("http", cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	p.httpAddr = httpLn.Addr()
	if cfg.TLSAddr != "" {
		if p.tls, err = p.listen("tls", cfg.TLSAddr); err != nil {
			httpLn.Close()
			return nil, err
		}
	}
	p.http = &http.Server{Handler: http.HandlerFunc(p.serveHTTP), ConnContext: withConn,
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.http.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("gateway http listener stopped", "err", err)
		}
	}()
	if p.tls != nil {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.acceptTLS() }()
	}
	return p, nil
}

// listen opens a TCP listener in the configured namespace; accepted connections are metered.
func (p *Proxy) listen(kind, addr string) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("%s listen address %q: %w: want host:port", kind, addr, ErrInvalidSpec)
	}
	var l net.Listener
	err := netnsutil.Do(p.cfg.NetNS, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gateway %s listener on %s: %w", kind, addr, err)
	}
	return &meteredListener{Listener: l, p: p}, nil
}

// HTTPAddr is the HTTP listener's address (a port 0 in the config resolved).
func (p *Proxy) HTTPAddr() net.Addr { return p.httpAddr }

// TLSAddr is the TLS listener's address; nil without one.
func (p *Proxy) TLSAddr() net.Addr {
	if p.tls == nil {
		return nil
	}
	return p.tls.Addr()
}

// Domain is the node's gateway domain.
func (p *Proxy) Domain() string { return p.cfg.Domain }

// FQDN is the name a route for name serves.
func (p *Proxy) FQDN(name string) string { return strings.ToLower(name) + "." + p.cfg.Domain }

// Close stops the listeners and every connection. Routes and counters go with the proxy.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	var open []*meteredConn
	for _, cs := range p.conns {
		for c := range cs {
			open = append(open, c)
		}
	}
	p.mu.Unlock()
	err := p.http.Close()
	if p.tls != nil {
		err = errors.Join(err, p.tls.Close())
	}
	for _, c := range open {
		c.Close()
	}
	p.wg.Wait()
	return err
}

// Add serves r (replacing the route of the same id). A name another workload serves is refused
// with ErrHostTaken; a bad field with ErrInvalidSpec naming it.
func (p *Proxy) Add(r Route) error {
	rt, err := p.compile(r)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if other, ok := p.byHost[rt.host]; ok && other.ID != r.ID {
		p.mu.Unlock()
		return fmt.Errorf("route %s: %s: %w (by workload %s)", r.ID, rt.host, ErrHostTaken, other.ID)
	}
	old := p.byID[r.ID]
	if old != nil {
		delete(p.byHost, old.host)
	}
	p.byID[r.ID] = rt
	p.byHost[rt.host] = rt
	if p.usage[r.ID] == nil {
		p.usage[r.ID] = &usage{}
	}
	p.mu.Unlock()
	if old != nil {
		old.close()
	}
	return nil
}

// compile checks a route and prepares what serving it needs.
func (p *Proxy) compile(r Route) (*route, error) {
	if err := backend.ValidateID(r.ID); err != nil {
		return nil, fmt.Errorf("route: %w: %w", ErrInvalidSpec, err)
	}
	if !routeName.MatchString(r.Name) {
		return nil, fmt.Errorf("route %s: name %q: %w: want 1 to 63 of a-z, 0-9, _, -", r.ID, r.Name, ErrInvalidSpec)
	}
	if len(r.Backends) == 0 {
		return nil, fmt.Errorf("route %s: backends: %w: at least one needed", r.ID, ErrInvalidSpec)
	}
	rt := &route{Route: r, host: p.FQDN(r.Name)}
	for i, b := range r.Backends {
		if r.TLSPassthrough {
			ap, err := netip.ParseAddrPort(b)
			if err != nil {
				return nil, fmt.Errorf("route %s: backends[%d] %q: %w: want ip:port", r.ID, i, b, ErrInvalidSpec)
			}
			rt.addrs = append(rt.addrs, ap)
			continue
		}
		u, err := url.Parse(b)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("route %s: backends[%d] %q: %w: want http://ip[:port]", r.ID, i, b, ErrInvalidSpec)
		}
		rt.targets = append(rt.targets, u)
	}
	if !r.TLSPassthrough {
		rt.http = newHTTPRoute(rt, p.dialer(r.NetNS), p.log)
	}
	return rt, nil
}

// Remove stops serving route id and closes its open connections; its traffic count stays (the
// route may come back), and so does a count not yet reported. Removing what is not served is no
// error.
func (p *Proxy) Remove(id string) {
	p.mu.Lock()
	rt := p.byID[id]
	if rt != nil {
		delete(p.byID, id)
		delete(p.byHost, rt.host)
	}
	var open []*meteredConn
	for c := range p.conns[id] {
		open = append(open, c)
	}
	p.mu.Unlock()
	if rt != nil {
		rt.close()
	}
	for _, c := range open {
		c.Close()
	}
}

// Delete removes route id and forgets its traffic count (the workload is gone).
func (p *Proxy) Delete(id string) {
	p.Remove(id)
	p.mu.Lock()
	delete(p.usage, id)
	p.mu.Unlock()
}

// Routes are the routes served now.
func (p *Proxy) Routes() []Route {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Route, 0, len(p.byID))
	for _, rt := range p.byID {
		out = append(out, rt.Route)
	}
	return out
}

// Seed starts the traffic counts of workloads from earlier readings (those persisted with the
// last report, after a restart), so the counters keep growing across restarts and the bytes
// since that report are counted in full.
func (p *Proxy) Seed(base map[string]netusage.Counters) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range base {
		u := p.usage[id]
		if u == nil {
			u = &usage{}
			p.usage[id] = u
		}
		u.rx.Store(c.RxBytes)
		u.tx.Store(c.TxBytes)
	}
}

// Traffic is route id's count: bytes its clients sent (RxBytes) and received (TxBytes), since the
// proxy started or was seeded. Unknown ids have none.
func (p *Proxy) Traffic(id string) (netusage.Counters, bool) {
	p.mu.Lock()
	u := p.usage[id]
	p.mu.Unlock()
	if u == nil {
		return netusage.Counters{}, false
	}
	return netusage.Counters{RxBytes: u.rx.Load(), TxBytes: u.tx.Load()}, true
}

// lookup finds the route serving host (a Host header or an SNI: port, case and a final dot
// ignored).
func (p *Proxy) lookup(host string) *route {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byHost[host]
}

// claim makes route id the owner of a client connection: its bytes, those read before the route
// was known included, count for id, and removing id closes it.
func (p *Proxy) claim(c *meteredConn, id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.usage[id]
	if u == nil || p.closed || c.isClosed() {
		return false
	}
	delete(p.conns[c.owner()], c)
	if p.conns[id] == nil {
		p.conns[id] = map[*meteredConn]struct{}{}
	}
	p.conns[id][c] = struct{}{}
	c.setOwner(id, u)
	return true
}

// track records a new client connection, owned by no route yet (Close closes it).
func (p *Proxy) track(c *meteredConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[""] == nil {
		p.conns[""] = map[*meteredConn]struct{}{}
	}
	p.conns[""][c] = struct{}{}
}

// release forgets a closed connection.
func (p *Proxy) release(c *meteredConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := c.owner()
	delete(p.conns[id], c)
	if len(p.conns[id]) == 0 {
		delete(p.conns, id)
	}
}

// backendDialTimeout bounds connecting to one backend.
const backendDialTimeout = 10 * time.Second

// dialer connects to backends from the network namespace at ns ("" is the agent's): the socket is
// made inside it, so it reaches what that namespace routes to.
func (p *Proxy) dialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := netnsutil.Do(ns, func() (err error) {
			d := net.Dialer{Timeout: backendDialTimeout}
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}
