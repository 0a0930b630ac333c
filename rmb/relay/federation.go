package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tfgrid/tfgrid/rmb"
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

// errPermanent is a refusal by the remote relay (4xx): retrying will not help.
type errPermanent struct {
	status int
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
			code := rmb.CodeDestinationOffline
			switch perm.status {
			case http.StatusGone:
				code = rmb.CodeExpired
			case http.StatusRequestEntityTooLarge:
				code = rmb.CodeTooLarge
			}
			r.refuse(ctx, j.h, fromRelay, code, fmt.Sprintf("relay %s refused the envelope: %s", u, perm.reason))
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
	u, err := url.Parse(relayURL)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("relay URL %q: scheme must be ws or wss", relayURL)
	}
	u.Path, u.RawQuery, u.Fragment = "/", "", ""
	return u.String(), nil
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
	switch {
	case resp.StatusCode == http.StatusAccepted:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return &errPermanent{status: resp.StatusCode, reason: strings.TrimSpace(string(body))}
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

// serveFederation accepts an envelope forwarded by another relay.
func (r *Relay) serveFederation(w http.ResponseWriter, req *http.Request) {
	r.inflight.Add(1)
	defer r.inflight.Done()
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if closing {
		http.Error(w, "relay shutting down", http.StatusServiceUnavailable)
		return
	}
	fail := func(status int, result, reason string) {
		r.m.fedReceived.WithLabelValues(result).Inc()
		r.log.Info("federation post refused", "remote", req.RemoteAddr, "status", status, "reason", reason)
		http.Error(w, reason, status)
	}
	raw, err := io.ReadAll(io.LimitReader(req.Body, int64(r.cfg.MaxEnvelopeBytes)+1))
	if err != nil {
		fail(http.StatusBadRequest, "bad", "cannot read the body: "+err.Error())
		return
	}
	if len(raw) > r.cfg.MaxEnvelopeBytes {
		fail(http.StatusRequestEntityTooLarge, "bad", fmt.Sprintf("envelope is larger than %d bytes", r.cfg.MaxEnvelopeBytes))
		return
	}
	auth := req.Header.Get(rmb.FederationHeader)
	if auth == "" {
		fail(http.StatusUnauthorized, "unauthorized", "missing "+rmb.FederationHeader+" header: federation posts must be signed by the forwarding relay's twin")
		return
	}
	claims, signed, sig, err := rmb.ParseFederationAuth(auth, raw, time.Now())
	if err != nil {
		fail(http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	if len(r.cfg.FederationAllow) > 0 && !slices.Contains(r.cfg.FederationAllow, claims.RelayTwin) {
		fail(http.StatusUnauthorized, "unauthorized", fmt.Sprintf("relay twin %d is not allowed to forward here", claims.RelayTwin))
		return
	}
	relayTwin, err := r.cfg.Lookup.Twin(req.Context(), claims.RelayTwin)
	if errors.Is(err, rmb.ErrUnknownTwin) {
		fail(http.StatusUnauthorized, "unauthorized", fmt.Sprintf("relay twin %d is not on the chain", claims.RelayTwin))
		return
	}
	if err != nil {
		fail(http.StatusServiceUnavailable, "bad", fmt.Sprintf("cannot look up relay twin %d: %v", claims.RelayTwin, err))
		return
	}
	if !rmb.VerifySignature(relayTwin.Key, signed, sig) {
		fail(http.StatusUnauthorized, "unauthorized", fmt.Sprintf("federation signature does not verify against relay twin %d's key", claims.RelayTwin))
		return
	}
	h, err := rmb.ScanEnvelope(raw)
	if err != nil {
		fail(http.StatusBadRequest, "bad", err.Error())
		return
	}
	if h.Expired(time.Now()) {
		fail(http.StatusGone, "bad", fmt.Sprintf("envelope %s expired at %d", h.UID, h.Timestamp+h.Expiration))
		return
	}
	r.m.received.WithLabelValues("federation").Inc()
	r.m.receivedBytes.Add(float64(len(raw)))
	res := r.route(req.Context(), raw, h, fromFederation)
	if res.code != 0 {
		fail(http.StatusNotFound, "bad", res.reason)
		return
	}
	r.m.fedReceived.WithLabelValues("accepted").Inc()
	w.WriteHeader(http.StatusAccepted)
}
