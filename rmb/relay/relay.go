// Package relay is the RMB relay server: a websocket endpoint for peers authenticated by twin tokens,
// routing of envelopes between sessions, an offline queue that survives restarts, federation with
// other relays over authenticated HTTP POST, rate limits, /metrics and /healthz. cmd/rmb-relay is its
// thin main; rmb/README.md is the specification.
package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Default rate limits per source twin and window, on unless configured off (a negative value).
const (
	DefaultRateMessages = 1000
	DefaultRateBytes    = 64 << 20
	// DefaultFederationRateFactor: a relay posting here may send this many times a twin's limits.
	DefaultFederationRateFactor = 20
)

// Config configures a Relay. Lookup and Store are required.
type Config struct {
	// URLs are this relay's public URLs (ws://host:port, wss://host:port) as twins list them; an
	// envelope for a twin that lists none of them is forwarded to the twin's relays. Relays sharing a
	// Redis store list the same URLs.
	URLs []string
	// TwinID and Key are the relay's own twin and account key; they sign forwarded envelopes. Without
	// them the relay does not forward (it keeps such envelopes for the destination instead).
	TwinID uint64
	Key    *secp256k1.PrivKey
	// FederationAllow, when not empty, is the list of relay twins allowed to post envelopes here.
	FederationAllow []uint64
	// ChainCheck tells whether the chain answers; /healthz is 503 "degraded" while it fails.
	ChainCheck func(context.Context) error

	Lookup rmb.TwinLookup
	Store  Store
	Bus    Bus // set when the store is shared by several relays (Redis)

	MaxEnvelopeBytes int           // default 1 MiB
	MaxQueueTTL      time.Duration // kept envelopes live at most this long (default 1 h)
	RateMessages     int           // per source twin per RateWindow (0: DefaultRateMessages, < 0: no limit)
	RateBytes        int64         // per source twin per RateWindow (0: DefaultRateBytes, < 0: no limit)
	RateWindow       time.Duration // default 1 min
	// FederationRateMessages and FederationRateBytes bound the posts of one relay twin per RateWindow
	// (0: DefaultFederationRateFactor times the twin limits, < 0: no limit).
	FederationRateMessages int
	FederationRateBytes    int64
	SweepInterval          time.Duration // how often expired envelopes are dropped (default 5 s)
	RetryInterval          time.Duration // how often failed forwards are retried (default 5 s)
	PingInterval           time.Duration // websocket pings to peers (default 20 s; read deadline 3x)
	SendBuffer             int           // envelopes buffered per connection (default 1024)
	ForwardWorkers         int           // concurrent federation posts (default 8)
	HTTPClient             *http.Client  // for federation (default: 5 s timeout)

	Logger   *slog.Logger
	Registry prometheus.Registerer // default: a new registry served at /metrics
}

// Relay routes envelopes. Serve its Handler; call Start before and Shutdown after.
type Relay struct {
	cfg      Config
	log      *slog.Logger
	m        *metrics
	gatherer prometheus.Gatherer
	limiter  *rateLimiter // per source twin
	fedLimit *rateLimiter // per posting relay twin
	ownURLs  map[string]bool
	instance string
	fwd      *forwarder

	mu       sync.Mutex
	sessions map[string]*conn
	nextID   uint64
	closing  bool

	conns    sync.WaitGroup // connection goroutines
	loops    sync.WaitGroup // sweeper, retry loop, bus subscription
	cancel   context.CancelFunc
	ctx      context.Context
	stopped  atomic.Bool
	inflight sync.WaitGroup // federation posts being handled
}

// New validates cfg and builds a relay.
func New(cfg Config) (*Relay, error) {
	if cfg.Lookup == nil {
		return nil, errors.New("relay: Lookup is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("relay: Store is required")
	}
	if cfg.Key != nil && cfg.TwinID == 0 {
		return nil, errors.New("relay: a Key needs the relay's TwinID")
	}
	if cfg.MaxEnvelopeBytes <= 0 {
		cfg.MaxEnvelopeBytes = 1 << 20
	}
	cfg.RateMessages = rateDefault(cfg.RateMessages, DefaultRateMessages)
	cfg.RateBytes = rateDefault(cfg.RateBytes, DefaultRateBytes)
	cfg.FederationRateMessages = rateDefault(cfg.FederationRateMessages, DefaultFederationRateFactor*cfg.RateMessages)
	cfg.FederationRateBytes = rateDefault(cfg.FederationRateBytes, DefaultFederationRateFactor*cfg.RateBytes)
	if cfg.MaxQueueTTL <= 0 {
		cfg.MaxQueueTTL = time.Hour
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Second
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 5 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = 1024
	}
	if cfg.ForwardWorkers <= 0 {
		cfg.ForwardWorkers = 8
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	reg := cfg.Registry
	var gatherer prometheus.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, gatherer = r, r
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		gatherer = g
	} else {
		gatherer = prometheus.DefaultGatherer
	}
	own := map[string]bool{}
	for _, u := range cfg.URLs {
		n, err := tftypes.ParseRelayURL(u)
		if err != nil {
			return nil, fmt.Errorf("relay: own URL: %w", err)
		}
		own[n] = true
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	r := &Relay{
		cfg:      cfg,
		log:      cfg.Logger,
		m:        newMetrics(reg),
		gatherer: gatherer,
		limiter:  newRateLimiter(cfg.RateMessages, cfg.RateBytes, cfg.RateWindow),
		fedLimit: newRateLimiter(cfg.FederationRateMessages, cfg.FederationRateBytes, cfg.RateWindow),
		ownURLs:  own,
		instance: hex.EncodeToString(id[:]),
		sessions: map[string]*conn{},
	}
	r.fwd = newForwarder(r)
	return r, nil
}

// rateDefault resolves a configured limit: 0 is def, a negative value is off (0).
func rateDefault[T int | int64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// relaySet is the normal forms of the valid URLs among urls (tftypes.ParseRelayURL).
func relaySet(urls []string) map[string]bool {
	set := make(map[string]bool, len(urls))
	for _, u := range urls {
		if n, err := tftypes.ParseRelayURL(u); err == nil {
			set[n] = true
		}
	}
	return set
}

// sharesRelay tells whether a twin listing relays names one of the URLs in set.
func sharesRelay(relays []string, set map[string]bool) bool {
	for n := range relaySet(relays) {
		if set[n] {
			return true
		}
	}
	return false
}

// Start runs the background loops (expiry sweeper, forward retries, bus subscription) until Shutdown.
func (r *Relay) Start(ctx context.Context) {
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.fwd.start()
	r.loops.Add(2)
	go r.every(r.cfg.SweepInterval, r.sweep)
	go r.every(r.cfg.RetryInterval, r.retryForwards)
	if r.cfg.Bus != nil {
		r.loops.Add(1)
		go func() {
			defer r.loops.Done()
			for r.ctx.Err() == nil {
				err := r.cfg.Bus.Subscribe(r.ctx, r.onBusNotify, r.onBusConnected)
				if r.ctx.Err() != nil {
					return
				}
				r.log.Warn("relay bus subscription ended; resubscribing", "err", err)
				select {
				case <-time.After(time.Second):
				case <-r.ctx.Done():
				}
			}
		}()
	}
	r.log.Info("relay started", "instance", r.instance, "urls", r.cfg.URLs, "twin", r.cfg.TwinID,
		"max_envelope_bytes", r.cfg.MaxEnvelopeBytes, "rate_messages", r.cfg.RateMessages, "rate_bytes", r.cfg.RateBytes)
}

func (r *Relay) every(d time.Duration, f func(context.Context)) {
	defer r.loops.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			f(r.ctx)
		}
	}
}

// Shutdown stops the relay without losing what it accepted: connections are closed (envelopes still
// buffered for them go to the store), federation posts in flight finish, and pending forwards are
// kept in the store. The HTTP server must have stopped accepting requests first. It does not close
// the store.
func (r *Relay) Shutdown(ctx context.Context) error {
	if !r.stopped.CompareAndSwap(false, true) {
		return nil
	}
	r.mu.Lock()
	r.closing = true
	conns := make([]*conn, 0, len(r.sessions))
	for _, c := range r.sessions {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	r.log.Info("relay shutting down", "connections", len(conns))
	for _, c := range conns {
		c.close("relay shutting down")
	}
	done := make(chan struct{})
	go func() {
		r.conns.Wait()
		r.inflight.Wait()
		r.fwd.stop() // pending forwards go to the store
		if r.cancel != nil {
			r.cancel()
		}
		r.loops.Wait()
		close(done)
	}()
	select {
	case <-done:
		r.log.Info("relay stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("relay shutdown: %w", ctx.Err())
	}
}

// Handler serves GET / (websocket), POST / (federation), /metrics and /healthz.
func (r *Relay) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", r.healthz)
	mux.HandleFunc("GET /{$}", r.serveWS)
	mux.HandleFunc("POST /{$}", r.serveFederation)
	return mux
}

func (r *Relay) healthz(w http.ResponseWriter, req *http.Request) {
	queues, entries, bytes, err := r.cfg.Store.Stats(req.Context())
	r.mu.Lock()
	n, closing := len(r.sessions), r.closing
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if err != nil || closing {
		w.WriteHeader(http.StatusServiceUnavailable)
		reason := "shutting down"
		if err != nil {
			reason = "store: " + err.Error()
		}
		fmt.Fprintf(w, `{"status":"unavailable","reason":%q}`+"\n", reason)
		return
	}
	chain := "not checked"
	if r.cfg.ChainCheck != nil {
		ctx, cancel := context.WithTimeout(req.Context(), 3*time.Second)
		err := r.cfg.ChainCheck(ctx)
		cancel()
		if err != nil {
			// Without the chain no token, destination or federation post can be checked.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"status":"degraded","reason":%q,"connections":%d}`+"\n", "chain unreachable: "+err.Error(), n)
			return
		}
		chain = "ok"
	}
	fmt.Fprintf(w, `{"status":"ok","chain":%q,"connections":%d,"queues":%d,"queued_envelopes":%d,"queued_bytes":%d}`+"\n", chain, n, queues, entries, bytes)
}

// ---------------------------------------------------------------------------------------------
// Routing.

// origin tells where an envelope came from.
type origin int

const (
	fromPeer origin = iota
	fromFederation
	fromRelay // an error the relay generated
)

// routeResult is what happened to an envelope handed to route.
type routeResult struct {
	code   rmb.Code // non-zero: refused with this code
	reason string
}

// route delivers raw (scanned as h) to its destination: the local connection, else the store, else
// another relay. It answers failures with an error envelope to the source (for peer envelopes) and
// returns them (for federation). An envelope from federation is only kept for a twin of this relay.
func (r *Relay) route(ctx context.Context, raw []byte, h *rmb.Header, from origin) routeResult {
	q := rmb.Address(h.Destination)
	key := SessionQueue(q.Twin, q.Session)
	if c := r.session(key); c != nil && c.send(raw) {
		return routeResult{}
	}
	local := true
	twin, err := r.cfg.Lookup.Twin(ctx, q.Twin)
	switch {
	case errors.Is(err, rmb.ErrUnknownTwin):
		return r.refuse(ctx, h, from, rmb.CodeUnknownTwin, fmt.Sprintf("destination twin %d is not on the chain", q.Twin))
	case err != nil:
		r.log.Warn("twin lookup failed; keeping the envelope here", "twin", q.Twin, "uid", h.UID, "err", err)
	default:
		local = r.isLocal(twin.Relays)
		if !local && from == fromFederation {
			return r.refuse(ctx, h, from, rmb.CodeDestinationOffline, fmt.Sprintf("destination twin %d does not list this relay", q.Twin))
		}
		if !local && r.cfg.Key == nil {
			r.log.Debug("no relay key: keeping an envelope for a twin of other relays", "twin", q.Twin, "uid", h.UID)
			local = true
		}
	}
	if !local {
		r.rememberForward(ctx, h)
		r.fwd.enqueue(fwdJob{raw: raw, h: h, twin: q.Twin})
		return routeResult{}
	}
	if q.Session != "" && !r.connectedRecently(ctx, q) {
		return r.refuse(ctx, h, from, rmb.CodeDestinationOffline, fmt.Sprintf("destination session %s has not connected in the last %s", q, r.cfg.MaxQueueTTL))
	}
	if h.HasTag(rmb.TagFailFast) && !r.sharedOnline() {
		return r.refuse(ctx, h, from, rmb.CodeDestinationOffline, fmt.Sprintf("destination %s is not connected (fail-fast)", q))
	}
	if err := r.keep(ctx, key, h, raw); err != nil {
		if errors.Is(err, ErrQueueFull) {
			return r.refuse(ctx, h, from, rmb.CodeDestinationOffline, fmt.Sprintf("destination %s is offline and its queue is full", q))
		}
		r.log.Error("cannot keep envelope", "queue", key, "uid", h.UID, "err", err)
		return r.refuse(ctx, h, from, rmb.CodeDestinationOffline, fmt.Sprintf("destination %s is offline and the relay cannot keep the envelope", q))
	}
	return routeResult{}
}

// Keys of what the relay remembers in its store.
func connectedKey(a rmb.Address) string { return "conn/" + a.String() }

func forwardKey(source rmb.Address, uid string) string { return "fwd/" + source.String() + "/" + uid }

// markConnected records that a session connected, so envelopes for it may be queued for a while.
func (r *Relay) markConnected(ctx context.Context, a rmb.Address) {
	if _, err := r.cfg.Store.Remember(ctx, connectedKey(a), "", r.cfg.MaxQueueTTL, true); err != nil {
		r.log.Warn("cannot record a connected session", "session", a, "err", err)
	}
}

// connectedRecently tells whether session a connected within MaxQueueTTL: only then is it queued
// for, so a sender cannot open queues under invented session names.
func (r *Relay) connectedRecently(ctx context.Context, a rmb.Address) bool {
	_, ok, err := r.cfg.Store.Recall(ctx, connectedKey(a), false)
	if err != nil {
		r.log.Warn("cannot read connected sessions", "session", a, "err", err)
	}
	return ok
}

// rememberForward records (source, uid) → destination twin of a forwarded envelope, so that the
// destination's relay may answer it with a relay error (twin 0) until it has surely expired.
func (r *Relay) rememberForward(ctx context.Context, h *rmb.Header) {
	if h.Source.Twin == 0 || h.Kind == rmb.KindError {
		return // nobody answers errors
	}
	ttl := min(time.Until(h.Deadline()), r.cfg.MaxQueueTTL) + errorTTL + time.Minute
	if _, err := r.cfg.Store.Remember(ctx, forwardKey(h.Source, h.UID), strconv.FormatUint(h.Destination.Twin, 10), ttl, true); err != nil {
		r.log.Warn("cannot record a forwarded envelope", "uid", h.UID, "err", err)
	}
}

// sharedOnline: with a shared store another relay may hold the session, so fail-fast cannot tell.
func (r *Relay) sharedOnline() bool { return r.cfg.Bus != nil }

func (r *Relay) isLocal(relays []string) bool {
	if len(relays) == 0 {
		return true // the twin names no relay: it can only be reached by connecting somewhere, maybe here
	}
	r.mu.Lock()
	own := r.ownURLs
	r.mu.Unlock()
	return sharesRelay(relays, own)
}

// keep stores raw in queue key and wakes whoever holds that session.
func (r *Relay) keep(ctx context.Context, key string, h *rmb.Header, raw []byte) error {
	deadline := h.Deadline().Unix()
	if max := time.Now().Add(r.cfg.MaxQueueTTL).Unix(); deadline > max {
		deadline = max
	}
	if err := r.cfg.Store.Push(ctx, key, deadline, raw); err != nil {
		return err
	}
	r.m.queued.Inc()
	r.wake(ctx, key)
	return nil
}

// wake tells the local connection of key (and, with a bus, the other relays) that its queue has entries.
func (r *Relay) wake(ctx context.Context, key string) {
	if c := r.session(key); c != nil {
		c.wake()
	}
	if r.cfg.Bus != nil {
		if err := r.cfg.Bus.Notify(ctx, key); err != nil {
			r.log.Warn("bus notify failed", "queue", key, "err", err)
		}
	}
}

func (r *Relay) session(key string) *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[key]
}

// refuse answers h's source with an error envelope (never for errors: no error loops).
func (r *Relay) refuse(ctx context.Context, h *rmb.Header, from origin, code rmb.Code, msg string) routeResult {
	r.m.errors.WithLabelValues(strconv.Itoa(int(code))).Inc()
	r.log.Info("envelope refused", "uid", h.UID, "source", h.Source, "destination", h.Destination, "code", int(code), "reason", msg)
	if from == fromPeer || from == fromRelay {
		r.sendError(ctx, h, code, msg)
	}
	return routeResult{code: code, reason: msg}
}

// sendError routes an unsigned error envelope (source twin 0) for h to h's source.
func (r *Relay) sendError(ctx context.Context, h *rmb.Header, code rmb.Code, msg string) {
	if h.Kind == rmb.KindError || h.Source.Twin == 0 {
		return
	}
	raw, eh := ErrorEnvelope(h, code, msg, time.Now())
	if eh == nil {
		return
	}
	r.route(ctx, raw, eh, fromRelay)
}

// errorTTL is the time to live of the relay's error envelopes.
const errorTTL = 300 * time.Second

// ErrorEnvelope builds the relay's unsigned error answer to h (source twin 0, TTL 300 s).
func ErrorEnvelope(h *rmb.Header, code rmb.Code, msg string, now time.Time) ([]byte, *rmb.Header) {
	env := types.Envelope{
		Uid:         h.UID,
		Timestamp:   uint64(now.Unix()),
		Expiration:  uint64(errorTTL / time.Second),
		Source:      &types.Address{},
		Destination: h.Source.Proto(),
		Message:     &types.Envelope_Error{Error: &types.Error{Code: uint32(code), Message: msg}},
	}
	raw, err := env.Marshal()
	if err != nil {
		return nil, nil
	}
	eh, err := rmb.ScanEnvelope(raw)
	if err != nil {
		return nil, nil
	}
	return raw, eh
}

// sweep drops expired kept envelopes and tells their senders (error 3).
func (r *Relay) sweep(ctx context.Context) {
	for {
		gone, err := r.cfg.Store.Expire(ctx, time.Now().Unix(), 1000)
		if err != nil {
			r.log.Error("expiry sweep failed", "err", err)
			return
		}
		for _, e := range gone {
			r.m.expired.Inc()
			h, err := rmb.ScanEnvelope(e.Data)
			if err != nil {
				continue
			}
			r.log.Info("kept envelope expired", "queue", e.Queue, "uid", h.UID, "source", h.Source)
			r.sendErrorIfLive(ctx, h, rmb.CodeExpired, fmt.Sprintf("envelope %s expired before %s connected", h.UID, h.Destination))
		}
		if len(gone) < 1000 {
			return
		}
	}
}

func (r *Relay) sendErrorIfLive(ctx context.Context, h *rmb.Header, code rmb.Code, msg string) {
	r.m.errors.WithLabelValues(strconv.Itoa(int(code))).Inc()
	r.sendError(ctx, h, code, msg)
}

// ---------------------------------------------------------------------------------------------
// Sessions.

func (r *Relay) register(c *conn) bool {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return false
	}
	r.nextID++
	c.id = r.nextID
	old := r.sessions[c.key]
	r.sessions[c.key] = c
	r.conns.Add(2) // reader and writer
	r.mu.Unlock()
	r.m.connections.Inc()
	if old != nil {
		r.m.evictions.Inc()
		old.close("evicted: the same twin and session connected again")
	}
	if r.cfg.Bus != nil {
		if err := r.cfg.Bus.Connected(context.Background(), c.key, r.instance); err != nil {
			r.log.Warn("bus: cannot announce the connection", "queue", c.key, "err", err)
		}
	}
	return true
}

func (r *Relay) unregister(c *conn) {
	r.mu.Lock()
	if r.sessions[c.key] == c {
		delete(r.sessions, c.key)
	}
	r.mu.Unlock()
}

func (r *Relay) onBusNotify(q string) {
	if c := r.session(q); c != nil {
		c.wake()
	}
}

func (r *Relay) onBusConnected(q, instance string) {
	if instance == r.instance {
		return
	}
	if c := r.session(q); c != nil {
		r.m.evictions.Inc()
		c.close("evicted: the same twin and session connected to another relay")
	}
}
