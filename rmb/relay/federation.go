package relay

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// fwdJob is an envelope to forward to the relays of twin.
type fwdJob struct {
	raw  []byte
	h    *rmb.Header
	twin uint64
	// stored is the job's entry in the store when it comes from a retry (acked once done).
	storedID string
}

type forwarder struct {
	r    *Relay
	jobs chan fwdJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	done bool
}

func newForwarder(r *Relay) *forwarder {
	return &forwarder{r: r, jobs: make(chan fwdJob, 4096)}
}

func (f *forwarder) start() {
	for range f.r.cfg.ForwardWorkers {
		f.wg.Add(1)
		go f.work()
	}
}

// enqueue hands a job to the workers; when they are busy (or stopped) it goes to the store.
func (f *forwarder) enqueue(j fwdJob) {
	f.mu.Lock()
	if !f.done {
		select {
		case f.jobs <- j:
			f.mu.Unlock()
			return
		default:
		}
	}
	f.mu.Unlock()
	f.park(j)
}

// park keeps a job in the store's forward queue for the retry loop.
func (f *forwarder) park(j fwdJob) {
	if j.storedID != "" {
		return // already there
	}
	r := f.r
	if err := r.keep(context.Background(), ForwardQueue(j.twin), j.h, j.raw); err != nil {
		r.log.Warn("cannot keep an envelope to forward", "twin", j.twin, "uid", j.h.UID, "err", err)
		r.sendErrorIfLive(context.Background(), j.h, rmb.CodeDestinationOffline,
			fmt.Sprintf("the relays of twin %d cannot be reached and the forward queue is full", j.twin))
	}
}

// stop ends the workers; jobs not yet posted go to the store.
func (f *forwarder) stop() {
	f.mu.Lock()
	if f.done {
		f.mu.Unlock()
		return
	}
	f.done = true
	close(f.jobs)
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *forwarder) work() {
	defer f.wg.Done()
	for j := range f.jobs {
		f.r.mu.Lock()
		closing := f.r.closing
		f.r.mu.Unlock()
		if closing {
			f.park(j)
			continue
		}
		f.forward(context.Background(), j)
	}
}

// CodeHeader carries the RMB error code of a federation post the receiving relay refused for good.
const CodeHeader = "X-Rmb-Code"

// errPermanent is a refusal by the remote relay (4xx): retrying will not help.
type errPermanent struct {
	status int
	code   rmb.Code // from CodeHeader, else derived from the status
	reason string
}

func (e *errPermanent) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.reason) }

// forward posts j to the destination twin's relays in order until one accepts it. It returns whether
// the job is finished (delivered or answered with an error).
func (f *forwarder) forward(ctx context.Context, j fwdJob) bool {
	r := f.r
	if j.h.Expired(time.Now()) {
		f.finish(ctx, j)
		r.sendErrorIfLive(ctx, j.h, rmb.CodeExpired, fmt.Sprintf("envelope %s expired before it could be forwarded", j.h.UID))
		return true
	}
	twin, err := r.cfg.Lookup.Twin(ctx, j.twin)
	if errors.Is(err, rmb.ErrUnknownTwin) {
		f.finish(ctx, j)
		r.refuse(ctx, j.h, fromRelay, rmb.CodeUnknownTwin, fmt.Sprintf("destination twin %d is not on the chain", j.twin))
		return true
	}
	if err == nil && r.isLocal(twin.Relays) {
		// the twin moved to this relay
		f.finish(ctx, j)
		r.route(ctx, j.raw, j.h, fromFederation)
		return true
	}
	var errs []string
	if err != nil {
		errs = append(errs, "twin lookup: "+err.Error())
	}
	for _, u := range twin.Relays {
		err := f.post(ctx, u, j.raw)
		if err == nil {
			r.m.forwarded.WithLabelValues("ok").Inc()
			f.finish(ctx, j)
			return true
		}
		var perm *errPermanent
		if errors.As(err, &perm) {
			r.m.forwarded.WithLabelValues("rejected").Inc()
			f.finish(ctx, j)
			r.refuse(ctx, j.h, fromRelay, perm.code, fmt.Sprintf("relay %s refused the envelope: %s", u, perm.reason))
			return true
		}
		errs = append(errs, u+": "+err.Error())
	}
	r.m.forwarded.WithLabelValues("failed").Inc()
	r.log.Warn("cannot forward envelope; will retry", "uid", j.h.UID, "twin", j.twin, "errors", strings.Join(errs, "; "))
	f.park(j)
	return false
}

func (f *forwarder) finish(ctx context.Context, j fwdJob) {
	if j.storedID != "" {
		if err := f.r.cfg.Store.Ack(ctx, ForwardQueue(j.twin), j.storedID); err != nil {
			f.r.log.Error("cannot remove a forwarded envelope", "twin", j.twin, "err", err)
		}
	}
}

// postURL turns a relay URL into the URL federation posts go to: http for ws, https for wss.
func postURL(relayURL string) (string, error) {
	n, err := tftypes.ParseRelayURL(relayURL)
	if err != nil {
		return "", err
	}
	return "http" + strings.TrimPrefix(n, "ws") + "/", nil
}

// statusCode is the RMB error code of a permanent refusal without CodeHeader.
func statusCode(status int) rmb.Code {
	switch status {
	case http.StatusGone:
		return rmb.CodeExpired
	case http.StatusRequestEntityTooLarge:
		return rmb.CodeTooLarge
	}
	return rmb.CodeDestinationOffline
}

func (f *forwarder) post(ctx context.Context, relayURL string, raw []byte) error {
	r := f.r
	target, err := postURL(relayURL)
	if err != nil {
		return err
	}
	auth, err := rmb.NewFederationAuth(r.cfg.Key, r.cfg.TwinID, raw, time.Now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set(rmb.FederationHeader, auth)
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	reason := strings.TrimSpace(string(body))
	code, _ := strconv.ParseUint(resp.Header.Get(CodeHeader), 10, 32)
	switch {
	case resp.StatusCode == http.StatusAccepted:
		return nil
	case resp.StatusCode == http.StatusConflict:
		return nil // a replay: an earlier try of this post got through
	case code != 0:
		return &errPermanent{status: resp.StatusCode, code: rmb.Code(code), reason: reason}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return &errPermanent{status: resp.StatusCode, code: statusCode(resp.StatusCode), reason: reason}
	default:
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
}

// retryForwards retries the parked forwards, oldest first per destination twin.
func (r *Relay) retryForwards(ctx context.Context) {
	if r.cfg.Key == nil {
		return
	}
	queues, err := r.cfg.Store.Queues(ctx, "f/")
	if err != nil {
		r.log.Error("cannot list forward queues", "err", err)
		return
	}
	for _, q := range queues {
		twin, err := strconv.ParseUint(strings.TrimPrefix(q, "f/"), 10, 64)
		if err != nil {
			continue
		}
		entries, err := r.cfg.Store.Peek(ctx, q, 64)
		if err != nil {
			continue
		}
		for _, e := range entries {
			h, err := rmb.ScanEnvelope(e.Data)
			if err != nil {
				_ = r.cfg.Store.Ack(ctx, q, e.ID)
				continue
			}
			if !r.fwd.forward(ctx, fwdJob{raw: e.Data, h: h, twin: twin, storedID: e.ID}) {
				break // that twin's relays are still unreachable
			}
		}
	}
}

// fedRefusal is why a federation post is refused: an HTTP status, a metrics result, the reason, and
// for refusals of the envelope itself the RMB code the forwarding relay sends back to the source.
type fedRefusal struct {
	status int
	result string
	reason string
	code   rmb.Code
}

func refusal(status int, result, format string, args ...any) *fedRefusal {
	return &fedRefusal{status: status, result: result, reason: fmt.Sprintf(format, args...)}
}

// serveFederation accepts an envelope forwarded by another relay.
func (r *Relay) serveFederation(w http.ResponseWriter, req *http.Request) {
	r.inflight.Add(1)
	defer r.inflight.Done()
	if f := r.federationPost(req); f != nil {
		r.m.fedReceived.WithLabelValues(f.result).Inc()
		r.log.Info("federation post refused", "remote", req.RemoteAddr, "status", f.status, "code", int(f.code), "reason", f.reason)
		if f.code != 0 {
			w.Header().Set(CodeHeader, strconv.Itoa(int(f.code)))
		}
		http.Error(w, f.reason, f.status)
		return
	}
	r.m.fedReceived.WithLabelValues("accepted").Inc()
	w.WriteHeader(http.StatusAccepted)
}

// federationPost checks a post (the relay's signature, its rate, the envelope, the poster's right to
// carry it, replay, the source's rate) and routes the envelope; nil means accepted.
func (r *Relay) federationPost(req *http.Request) *fedRefusal {
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if closing {
		return refusal(http.StatusServiceUnavailable, "bad", "relay shutting down")
	}
	raw, err := io.ReadAll(io.LimitReader(req.Body, int64(r.cfg.MaxEnvelopeBytes)+1))
	if err != nil {
		return refusal(http.StatusBadRequest, "bad", "cannot read the body: %v", err)
	}
	if len(raw) > r.cfg.MaxEnvelopeBytes {
		return refusal(http.StatusRequestEntityTooLarge, "bad", "envelope is larger than %d bytes", r.cfg.MaxEnvelopeBytes)
	}
	claims, poster, f := r.authenticatePoster(req, raw)
	if f != nil {
		return f
	}
	if !r.fedLimit.allow(claims.RelayTwin, len(raw), time.Now()) {
		return refusal(http.StatusTooManyRequests, "limited", "relay twin %d exceeded %d envelopes or %d bytes per %s",
			claims.RelayTwin, r.fedLimit.messages, r.fedLimit.bytes, r.fedLimit.window)
	}
	h, err := rmb.ScanEnvelope(raw)
	if err != nil {
		return refusal(http.StatusBadRequest, "bad", "%v", err)
	}
	if h.Expired(time.Now()) {
		return refusal(http.StatusGone, "bad", "envelope %s expired at %d", h.UID, h.Timestamp+h.Expiration)
	}
	if f := r.authorizePoster(req.Context(), claims.RelayTwin, poster, h, raw); f != nil {
		return f
	}
	fresh, err := r.cfg.Store.Remember(req.Context(), "fed/"+hex.EncodeToString(claims.BodySha256), "", 2*rmb.MaxFederationSkew+time.Second, false)
	if err != nil {
		return refusal(http.StatusServiceUnavailable, "bad", "cannot record the post: %v", err)
	}
	if !fresh {
		return refusal(http.StatusConflict, "replay", "replay: this envelope (body sha256 %x) was already posted here", claims.BodySha256)
	}
	if h.Source.Twin != 0 && !r.limiter.allow(h.Source.Twin, len(raw), time.Now()) {
		f := refusal(http.StatusTooManyRequests, "limited", "twin %d exceeded %d envelopes or %d bytes per %s",
			h.Source.Twin, r.limiter.messages, r.limiter.bytes, r.limiter.window)
		f.code = rmb.CodeRateLimited
		return f
	}
	r.m.received.WithLabelValues("federation").Inc()
	r.m.receivedBytes.Add(float64(len(raw)))
	if res := r.route(req.Context(), raw, h, fromFederation); res.code != 0 {
		return &fedRefusal{status: http.StatusNotFound, result: "bad", reason: res.reason, code: res.code}
	}
	return nil
}

// authenticatePoster checks the federation header: signed by the relay twin it names, for this
// body, recently, by a twin allowed here. It returns the claims and the poster's twin.
func (r *Relay) authenticatePoster(req *http.Request, raw []byte) (types.FederationClaims, rmb.Twin, *fedRefusal) {
	auth := req.Header.Get(rmb.FederationHeader)
	if auth == "" {
		return types.FederationClaims{}, rmb.Twin{}, refusal(http.StatusUnauthorized, "unauthorized",
			"missing %s header: federation posts must be signed by the forwarding relay's twin", rmb.FederationHeader)
	}
	claims, signed, sig, err := rmb.ParseFederationAuth(auth, raw, time.Now())
	if err != nil {
		return claims, rmb.Twin{}, refusal(http.StatusUnauthorized, "unauthorized", "%v", err)
	}
	if len(r.cfg.FederationAllow) > 0 && !slices.Contains(r.cfg.FederationAllow, claims.RelayTwin) {
		return claims, rmb.Twin{}, refusal(http.StatusUnauthorized, "unauthorized", "relay twin %d is not allowed to forward here", claims.RelayTwin)
	}
	poster, err := r.cfg.Lookup.Twin(req.Context(), claims.RelayTwin)
	if errors.Is(err, rmb.ErrUnknownTwin) {
		return claims, poster, refusal(http.StatusUnauthorized, "unauthorized", "relay twin %d is not on the chain", claims.RelayTwin)
	}
	if err != nil {
		return claims, poster, refusal(http.StatusServiceUnavailable, "bad", "cannot look up relay twin %d: %v", claims.RelayTwin, err)
	}
	if !rmb.VerifySignature(poster.Key, signed, sig) {
		return claims, poster, refusal(http.StatusUnauthorized, "unauthorized", "federation signature does not verify against relay twin %d's key", claims.RelayTwin)
	}
	return claims, poster, nil
}

// authorizePoster checks that the posting relay may carry h: it is a relay of h's source (a URL the
// poster twin registers is in the source twin's relays) and the envelope is signed by the source,
// or, for a relay error (source twin 0), it is the relay of the destination of an envelope this
// relay forwarded (answered at most once). Checking the signature here (peers check it again) keeps
// a twin that merely lists the same relay from posting envelopes in another twin's name.
func (r *Relay) authorizePoster(ctx context.Context, posterID uint64, poster rmb.Twin, h *rmb.Header, raw []byte) *fedRefusal {
	urls := relaySet(poster.Relays)
	if len(urls) == 0 {
		return refusal(http.StatusForbidden, "unauthorized", "relay twin %d registers no relay URL: only relays forward envelopes", posterID)
	}
	if h.Source.Twin == 0 {
		if h.Kind != rmb.KindError {
			return refusal(http.StatusForbidden, "unauthorized", "envelope %s: only relay errors come from twin 0", h.UID)
		}
		v, ok, err := r.cfg.Store.Recall(ctx, forwardKey(h.Destination, h.UID), true)
		if err != nil {
			return refusal(http.StatusServiceUnavailable, "bad", "cannot read forwarded envelopes: %v", err)
		}
		if !ok {
			return refusal(http.StatusForbidden, "unauthorized", "this relay forwarded no envelope %s from %s (or it was answered): only the destination's relay may answer it with a relay error", h.UID, h.Destination)
		}
		dst, _ := strconv.ParseUint(v, 10, 64)
		_, f := r.requireRelayOf(ctx, posterID, urls, dst, fmt.Sprintf("twin %d, the destination of envelope %s", dst, h.UID))
		return f
	}
	src, f := r.requireRelayOf(ctx, posterID, urls, h.Source.Twin, fmt.Sprintf("source twin %d", h.Source.Twin))
	if f != nil {
		return f
	}
	if err := rmb.VerifyEnvelope(h, raw, src.Key); err != nil {
		return refusal(http.StatusForbidden, "unauthorized", "%s", rmb.CodeOfMessage(err))
	}
	return nil
}

// requireRelayOf looks twin (described by who) up and refuses unless it lists one of the poster's
// relay URLs.
func (r *Relay) requireRelayOf(ctx context.Context, posterID uint64, urls map[string]bool, twinID uint64, who string) (rmb.Twin, *fedRefusal) {
	twin, err := r.cfg.Lookup.Twin(ctx, twinID)
	if errors.Is(err, rmb.ErrUnknownTwin) {
		f := refusal(http.StatusNotFound, "bad", "%s is not on the chain", who)
		f.code = rmb.CodeUnknownTwin
		return twin, f
	}
	if err != nil {
		return twin, refusal(http.StatusServiceUnavailable, "bad", "cannot look up twin %d: %v", twinID, err)
	}
	if !sharesRelay(twin.Relays, urls) {
		return twin, refusal(http.StatusForbidden, "unauthorized", "relay twin %d is not a relay of %s (its relays: %v)", posterID, who, twin.Relays)
	}
	return twin, nil
}
