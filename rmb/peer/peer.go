// Package peer is the Go SDK of RMB: a twin's connection to one or more relays, with signed,
// end-to-end encrypted requests (Call) and handlers for incoming requests (Serve).
//
//	p, err := peer.New(ctx, key, twinID, []string{"ws://127.0.0.1:8080"}, peer.Options{Lookup: lookup})
//	p.Serve("echo", func(ctx context.Context, req *peer.Request) (any, error) { ... })
//	err = p.Call(ctx, otherTwin, "echo", in, &out)
package peer

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/types"
)

// Options tune a Peer. Lookup is required.
type Options struct {
	// Session is this peer's session ("" is the twin's default session). Two peers of one twin need
	// different sessions: a relay keeps one connection per (twin, session).
	Session string
	// Lookup finds twins (keys, e2e keys); use rmb/twins for the chain with a cache.
	Lookup rmb.TwinLookup
	// E2EKey overrides the end-to-end key (default: derived from key, rmb.DeriveE2EKey).
	E2EKey *secp256k1.PrivKey
	// Handlers serve incoming requests from the first connection on (Serve adds more later; requests
	// that arrive before their handler is registered are answered with error 9).
	Handlers map[string]Handler
	// Plain disables encryption of outgoing payloads (incoming ones are still decrypted).
	Plain              bool
	Logger             *slog.Logger
	PingInterval       time.Duration // default 20 s
	PongTimeout        time.Duration // reconnect when nothing is heard for this long (default 40 s)
	MinBackoff         time.Duration // default 200 ms
	MaxBackoff         time.Duration // default 30 s
	TokenTTL           time.Duration // default and at most rmb.MaxTokenTTL (60 s)
	DefaultTTL         time.Duration // TTL of calls whose context has no deadline (default 300 s)
	DialTimeout        time.Duration // default 10 s
	HandlerConcurrency int           // requests handled at once (default 64)
}

// Request is an incoming request, after its signature was verified and its payload decrypted.
type Request struct {
	UID       string
	Source    rmb.Address
	Command   string
	Payload   []byte // JSON
	Encrypted bool   // the payload arrived end-to-end encrypted
}

// Decode unmarshals the JSON payload into v.
func (r *Request) Decode(v any) error {
	if err := json.Unmarshal(r.Payload, v); err != nil {
		return fmt.Errorf("request %s %q from %s: payload: %w", r.UID, r.Command, r.Source, err)
	}
	return nil
}

// Handler serves one command. Its result is sent back as JSON; an error is sent back as error code 10
// (or the code of an *rmb.Error).
type Handler func(ctx context.Context, req *Request) (any, error)

// Peer is a twin's endpoint on RMB.
type Peer struct {
	key    *secp256k1.PrivKey
	e2e    *secp256k1.PrivKey
	e2ePub []byte
	addr   rmb.Address
	opts   Options
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  []*relayConn
	rr     atomic.Uint64
	sem    chan struct{}
	seen   *replayCache

	mu       sync.Mutex
	pending  map[string]*pendingCall
	handlers map[string]Handler
	aeads    map[string]cipher.AEAD // by the other side's e2e public key
	changed  chan struct{}          // closed and replaced when a relay connects
	work     chan []byte            // incoming envelopes for the workers
}

type pendingCall struct {
	dst rmb.Address
	ch  chan reply
}

type reply struct {
	err     error
	payload []byte
}

// New starts a peer of twinID with its account key, connected to relays. It returns once at least
// one relay accepted the connection, or fails with every relay's reason (a refused token answers
// HTTP 401 with the relay's reason). Afterwards each relay connection is kept alive (pings) and
// re-established with backoff until ctx ends or Close is called.
func New(ctx context.Context, key *secp256k1.PrivKey, twinID uint64, relays []string, opts Options) (*Peer, error) {
	if key == nil || len(key.Key) != 32 {
		return nil, errors.New("peer: the account key must be a 32-byte secp256k1 private key")
	}
	if twinID == 0 {
		return nil, errors.New("peer: twinID is 0")
	}
	if len(relays) == 0 {
		return nil, errors.New("peer: no relay URL")
	}
	if opts.Lookup == nil {
		return nil, errors.New("peer: Options.Lookup is required")
	}
	if err := rmb.CheckSession(opts.Session); err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	setDefault(&opts.PingInterval, 20*time.Second)
	setDefault(&opts.PongTimeout, 40*time.Second)
	setDefault(&opts.MinBackoff, 200*time.Millisecond)
	setDefault(&opts.MaxBackoff, 30*time.Second)
	setDefault(&opts.TokenTTL, 60*time.Second)
	setDefault(&opts.DefaultTTL, 300*time.Second)
	setDefault(&opts.DialTimeout, 10*time.Second)
	if opts.TokenTTL > rmb.MaxTokenTTL {
		return nil, fmt.Errorf("peer: TokenTTL %s is over %s", opts.TokenTTL, rmb.MaxTokenTTL)
	}
	if opts.HandlerConcurrency <= 0 {
		opts.HandlerConcurrency = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e2e := opts.E2EKey
	if e2e == nil {
		var err error
		if e2e, err = rmb.DeriveE2EKey(key); err != nil {
			return nil, fmt.Errorf("peer: %w", err)
		}
	}
	p := &Peer{
		key: key, e2e: e2e, e2ePub: e2e.PubKey().Bytes(),
		addr: rmb.Address{Twin: twinID, Session: opts.Session},
		opts: opts, log: opts.Logger.With("twin", twinID, "session", opts.Session),
		sem:      make(chan struct{}, opts.HandlerConcurrency),
		seen:     newReplayCache(maxReplayEntries),
		pending:  map[string]*pendingCall{},
		handlers: map[string]Handler{},
		aeads:    map[string]cipher.AEAD{},
		changed:  make(chan struct{}),
	}
	for cmd, h := range opts.Handlers {
		p.handlers[cmd] = h
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.work = make(chan []byte, 256)
	for range max(2, runtime.GOMAXPROCS(0)) {
		p.wg.Add(1)
		go p.worker()
	}
	if me, err := opts.Lookup.Twin(ctx, twinID); err == nil && len(me.E2EKey) != 0 && !bytes.Equal(me.E2EKey, p.e2ePub) {
		p.log.Warn("the twin's e2e_key on chain is not this peer's e2e key: encrypted requests to it will fail",
			"chain_e2e_key", hex.EncodeToString(me.E2EKey), "peer_e2e_key", hex.EncodeToString(p.e2ePub))
	}
	first := make(chan error, len(relays))
	for _, u := range relays {
		c := &relayConn{p: p, url: u}
		p.conns = append(p.conns, c)
		p.wg.Add(1)
		go c.run(first)
	}
	var errs []error
	for range relays {
		select {
		case err := <-first:
			if err == nil {
				return p, nil
			}
			errs = append(errs, err)
		case <-ctx.Done():
			p.Close()
			return nil, fmt.Errorf("peer: %w", ctx.Err())
		}
	}
	p.Close()
	return nil, fmt.Errorf("peer: no relay accepted the connection: %w", errors.Join(errs...))
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Address is this peer's (twin, session).
func (p *Peer) Address() rmb.Address { return p.addr }

// E2EPublicKey is the public e2e key this peer decrypts with (register it as the twin's e2e_key).
func (p *Peer) E2EPublicKey() []byte { return bytes.Clone(p.e2ePub) }

// Close disconnects from every relay and fails pending calls.
func (p *Peer) Close() error {
	p.cancel()
	for _, c := range p.conns {
		c.closeSocket()
	}
	p.wg.Wait()
	p.mu.Lock()
	for uid, pc := range p.pending {
		delete(p.pending, uid)
		pc.ch <- reply{err: errors.New("peer closed")}
	}
	p.mu.Unlock()
	return nil
}

// Serve registers the handler of a command (replacing any previous one).
func (p *Peer) Serve(command string, h Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[command] = h
}

// Connected is the number of relays this peer is connected to now.
func (p *Peer) Connected() int {
	n := 0
	for _, c := range p.conns {
		if c.current() != nil {
			n++
		}
	}
	return n
}

// Call sends a request for command to twin's default session and decodes the JSON response into
// resp (which may be nil). Its TTL is the context's deadline (Options.DefaultTTL without one). A
// refusal by the relay or the destination is an *rmb.Error.
func (p *Peer) Call(ctx context.Context, twin uint64, command string, req, resp any) error {
	return p.CallAddress(ctx, rmb.Address{Twin: twin}, command, req, resp)
}

// CallAddress is Call to a given (twin, session).
func (p *Peer) CallAddress(ctx context.Context, dst rmb.Address, command string, req, resp any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.opts.DefaultTTL)
		defer cancel()
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("call %s %q: encode request: %w", dst, command, err)
	}
	uid := newUID()
	raw, err := p.Envelope(ctx, uid, dst, &types.Envelope_Request{Request: &types.Request{Command: command}}, payload)
	if err != nil {
		return fmt.Errorf("call %s %q: %w", dst, command, err)
	}
	pc := &pendingCall{dst: dst, ch: make(chan reply, 1)}
	p.mu.Lock()
	p.pending[uid] = pc
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, uid)
		p.mu.Unlock()
	}()
	if err := p.SendRaw(ctx, raw); err != nil {
		return fmt.Errorf("call %s %q: %w", dst, command, err)
	}
	select {
	case r := <-pc.ch:
		if r.err != nil {
			return r.err
		}
		if resp != nil && len(r.payload) > 0 {
			if err := json.Unmarshal(r.payload, resp); err != nil {
				return fmt.Errorf("call %s %q: decode response: %w", dst, command, err)
			}
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("call %s %q (uid %s): no answer: %w", dst, command, uid, ctx.Err())
	}
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ttlOf is the whole seconds left before ctx's deadline, at least 1.
func ttlOf(ctx context.Context, def time.Duration) uint64 {
	d := def
	if dl, ok := ctx.Deadline(); ok {
		d = time.Until(dl)
	}
	s := uint64((d + time.Second - 1) / time.Second)
	if s == 0 {
		s = 1
	}
	return s
}

// Envelope builds the signed wire bytes of an envelope from this peer to dst, encrypting payload
// when dst's twin has an e2e key (and Options.Plain is off).
func (p *Peer) Envelope(ctx context.Context, uid string, dst rmb.Address, msg any, payload []byte) ([]byte, error) {
	env := &types.Envelope{
		Uid:         uid,
		Timestamp:   uint64(time.Now().Unix()),
		Expiration:  ttlOf(ctx, p.opts.DefaultTTL),
		Source:      p.addr.Proto(),
		Destination: dst.Proto(),
		Schema:      rmb.SchemaJSON,
	}
	switch m := msg.(type) {
	case *types.Envelope_Request:
		env.Message = m
	case *types.Envelope_Response:
		env.Message = m
	case *types.Envelope_Error:
		env.Message = m
	default:
		return nil, fmt.Errorf("envelope: unknown message %T", msg)
	}
	if err := p.seal(ctx, env, dst, payload); err != nil {
		return nil, err
	}
	return rmb.SignEnvelope(env, p.key)
}

func (p *Peer) seal(ctx context.Context, env *types.Envelope, dst rmb.Address, payload []byte) error {
	if p.opts.Plain {
		env.Payload = &types.Envelope_Plain{Plain: payload}
		return nil
	}
	twin, err := p.opts.Lookup.Twin(ctx, dst.Twin)
	if errors.Is(err, rmb.ErrUnknownTwin) {
		return rmb.Errorf(rmb.CodeUnknownTwin, "destination twin %d is not on the chain", dst.Twin)
	}
	if err != nil {
		return fmt.Errorf("look up destination twin %d: %w", dst.Twin, err)
	}
	if len(twin.E2EKey) == 0 {
		env.Payload = &types.Envelope_Plain{Plain: payload}
		return nil
	}
	theirs, err := rmb.ParsePubKey(twin.E2EKey)
	if err != nil {
		return fmt.Errorf("twin %d e2e_key: %w", dst.Twin, err)
	}
	aad := rmb.AAD(env.Uid, p.addr, dst)
	// Our own e2e key is usable when the chain publishes it (else the receiver cannot know it).
	if me, err := p.opts.Lookup.Twin(ctx, p.addr.Twin); err == nil && bytes.Equal(me.E2EKey, p.e2ePub) {
		aead, err := p.aead(twin.E2EKey, theirs)
		if err != nil {
			return err
		}
		ct, err := rmb.Seal(aead, aad, payload)
		if err != nil {
			return err
		}
		env.Payload = &types.Envelope_Cipher{Cipher: ct}
		return nil
	}
	ct, eph, err := rmb.SealEphemeral(theirs, aad, payload)
	if err != nil {
		return err
	}
	env.Payload = &types.Envelope_Cipher{Cipher: ct}
	env.EphemeralKey = eph
	return nil
}

// aead returns the (cached) AEAD shared between our e2e key and theirs.
func (p *Peer) aead(theirRaw []byte, theirs *rmb.PubKey) (cipher.AEAD, error) {
	k := string(theirRaw)
	p.mu.Lock()
	a, ok := p.aeads[k]
	p.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := rmb.SharedAEAD(p.e2e, theirs)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if len(p.aeads) > 4096 {
		clear(p.aeads)
	}
	p.aeads[k] = a
	p.mu.Unlock()
	return a, nil
}

// SendRaw sends wire bytes through a connected relay, waiting for one while ctx allows.
func (p *Peer) SendRaw(ctx context.Context, raw []byte) error {
	for {
		n := len(p.conns)
		start := int(p.rr.Add(1))
		var lastErr error
		for i := range n {
			c := p.conns[(start+i)%n]
			ws := c.current()
			if ws == nil {
				continue
			}
			if err := c.write(ws, raw); err != nil {
				lastErr = err
				continue
			}
			return nil
		}
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("send: %w (last error: %v)", ctx.Err(), lastErr)
			}
			return fmt.Errorf("send: no relay connected: %w", ctx.Err())
		case <-p.ctx.Done():
			return errors.New("send: peer closed")
		case <-time.After(time.Second):
		}
	}
}

func (p *Peer) signalConnected() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}
