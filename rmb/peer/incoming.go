package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/types"
)

// dispatch hands an incoming envelope to a worker: signature checks and decryption run on up to
// GOMAXPROCS envelopes at once, not on the connection's reader.
func (p *Peer) dispatch(raw []byte) {
	select {
	case p.work <- raw:
	case <-p.ctx.Done():
	}
}

func (p *Peer) worker() {
	defer p.wg.Done()
	for {
		select {
		case raw := <-p.work:
			p.incoming(raw)
		case <-p.ctx.Done():
			return
		}
	}
}

// incoming handles one envelope from a relay: verify, decrypt, then answer a request or complete a call.
func (p *Peer) incoming(raw []byte) {
	h, env, err := rmb.DecodeEnvelope(raw)
	if err != nil {
		p.log.Warn("dropping an undecodable envelope", "err", err)
		return
	}
	if h.Destination.Twin != p.addr.Twin {
		p.log.Warn("dropping an envelope for another twin", "uid", h.UID, "destination", h.Destination)
		return
	}
	if h.Source.Twin == 0 {
		// The relay's own error answers are unsigned; they only ever complete a call of ours.
		if h.Kind == rmb.KindError {
			p.complete(h, reply{err: &rmb.Error{Code: rmb.Code(env.GetError().GetCode()), Message: env.GetError().GetMessage()}}, true)
		}
		return
	}
	ctx, cancel := context.WithDeadline(p.ctx, h.Deadline())
	fail := func(code rmb.Code, format string, args ...any) {
		defer cancel()
		msg := fmt.Sprintf(format, args...)
		p.log.Info("refusing an incoming envelope", "uid", h.UID, "source", h.Source, "kind", h.Kind, "code", int(code), "reason", msg)
		if h.Kind == rmb.KindRequest {
			p.replyError(h, code, msg)
		}
	}
	twin, err := p.opts.Lookup.Twin(ctx, h.Source.Twin)
	if errors.Is(err, rmb.ErrUnknownTwin) {
		fail(rmb.CodeUnknownTwin, "source twin %d is not on the chain", h.Source.Twin)
		return
	}
	if err != nil {
		cancel()
		p.log.Warn("cannot look up the source twin; dropping", "uid", h.UID, "source", h.Source, "err", err)
		return
	}
	if err := rmb.VerifyEnvelope(h, raw, twin.Key); err != nil {
		fail(rmb.CodeInvalidSignature, "%s", rmb.CodeOfMessage(err))
		return
	}
	if h.Expired(time.Now()) {
		fail(rmb.CodeExpired, "envelope %s expired at %d", h.UID, h.Timestamp+h.Expiration)
		return
	}
	if h.Timestamp > uint64(time.Now().Add(time.Minute).Unix()) {
		fail(rmb.CodeExpired, "envelope %s has a timestamp %d in the future", h.UID, h.Timestamp)
		return
	}
	if !p.seen.first(h.Source.Twin, h.UID, h.Deadline(), time.Now()) {
		cancel()
		p.log.Info("dropping a replayed envelope (this source and uid were already handled)", "uid", h.UID, "source", h.Source, "kind", h.Kind)
		return
	}
	payload, encrypted, err := p.open(ctx, h, env, twin)
	if err != nil {
		fail(rmb.CodeCannotDecrypt, "%s", rmb.CodeOfMessage(err))
		return
	}
	switch h.Kind {
	case rmb.KindRequest:
		p.mu.Lock()
		handler := p.handlers[h.Command]
		p.mu.Unlock()
		if handler == nil {
			fail(rmb.CodeUnknownCommand, "twin %d serves no command %q", p.addr.Twin, h.Command)
			return
		}
		req := &Request{UID: h.UID, Source: h.Source, Command: h.Command, Payload: payload, Encrypted: encrypted}
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			cancel()
			return
		}
		go func() {
			defer func() { <-p.sem }()
			defer cancel()
			p.handle(ctx, h, handler, req)
		}()
	case rmb.KindResponse:
		cancel()
		p.complete(h, reply{payload: payload}, false)
	case rmb.KindError:
		cancel()
		p.complete(h, reply{err: &rmb.Error{Code: rmb.Code(env.GetError().GetCode()), Message: env.GetError().GetMessage()}}, false)
	}
}

// open returns the plain payload, decrypting a cipher with our e2e key and the sender's (or the
// envelope's ephemeral) public key.
func (p *Peer) open(ctx context.Context, h *rmb.Header, env *types.Envelope, twin rmb.Twin) ([]byte, bool, error) {
	if !h.HasCipher {
		return env.GetPlain(), false, nil
	}
	aad := rmb.AAD(h.UID, h.Source, h.Destination)
	if len(env.EphemeralKey) != 0 {
		pub, err := rmb.ParsePubKey(env.EphemeralKey)
		if err != nil {
			return nil, true, rmb.Errorf(rmb.CodeCannotDecrypt, "ephemeral_key: %v", err)
		}
		aead, err := rmb.SharedAEAD(p.e2e, pub)
		if err != nil {
			return nil, true, rmb.Errorf(rmb.CodeCannotDecrypt, "%v", err)
		}
		pt, err := rmb.Open(aead, aad, env.GetCipher())
		return pt, true, err
	}
	for attempt := 0; ; attempt++ {
		if len(twin.E2EKey) == 0 {
			return nil, true, rmb.Errorf(rmb.CodeCannotDecrypt, "sender twin %d has no e2e_key and the envelope no ephemeral_key", h.Source.Twin)
		}
		pub, err := rmb.ParsePubKey(twin.E2EKey)
		if err != nil {
			return nil, true, rmb.Errorf(rmb.CodeCannotDecrypt, "sender e2e_key: %v", err)
		}
		aead, err := p.aead(twin.E2EKey, pub)
		if err != nil {
			return nil, true, rmb.Errorf(rmb.CodeCannotDecrypt, "%v", err)
		}
		pt, err := rmb.Open(aead, aad, env.GetCipher())
		if err == nil || attempt > 0 {
			return pt, true, err
		}
		// The sender may have changed its e2e key since we cached its twin: read it again once.
		inv, ok := p.opts.Lookup.(rmb.Invalidator)
		if !ok {
			return nil, true, err
		}
		inv.Invalidate(h.Source.Twin)
		fresh, lerr := p.opts.Lookup.Twin(ctx, h.Source.Twin)
		if lerr != nil || bytes.Equal(fresh.E2EKey, twin.E2EKey) {
			return nil, true, err
		}
		twin = fresh
	}
}

func (p *Peer) handle(ctx context.Context, h *rmb.Header, handler Handler, req *Request) {
	result, err := func() (res any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("handler of %q panicked: %v", req.Command, r)
			}
		}()
		return handler(ctx, req)
	}()
	if err != nil {
		var re *rmb.Error
		if errors.As(err, &re) {
			p.replyError(h, re.Code, re.Message)
		} else {
			p.replyError(h, rmb.CodeHandlerError, err.Error())
		}
		return
	}
	body, err := json.Marshal(result)
	if err != nil {
		p.replyError(h, rmb.CodeHandlerError, "encode the response: "+err.Error())
		return
	}
	p.reply(h, &types.Envelope_Response{Response: &types.Response{}}, body)
}

func (p *Peer) replyError(h *rmb.Header, code rmb.Code, msg string) {
	p.reply(h, &types.Envelope_Error{Error: &types.Error{Code: uint32(code), Message: msg}}, nil)
}

// reply answers the request h with the rest of its TTL.
func (p *Peer) reply(h *rmb.Header, msg any, payload []byte) {
	ctx, cancel := context.WithDeadline(p.ctx, h.Deadline())
	defer cancel()
	raw, err := p.Envelope(ctx, h.UID, h.Source, msg, payload)
	if err != nil {
		p.log.Warn("cannot build a reply", "uid", h.UID, "destination", h.Source, "err", err)
		return
	}
	if err := p.SendRaw(ctx, raw); err != nil {
		p.log.Warn("cannot send a reply", "uid", h.UID, "destination", h.Source, "err", err)
	}
}

// complete hands an answer to the call waiting for its uid. An answer must come from the called twin,
// or from a relay (fromRelay) as an error.
func (p *Peer) complete(h *rmb.Header, r reply, fromRelay bool) {
	p.mu.Lock()
	pc := p.pending[h.UID]
	if pc != nil && (fromRelay || pc.dst.Twin == h.Source.Twin) {
		delete(p.pending, h.UID)
	} else {
		pc = nil
	}
	p.mu.Unlock()
	if pc == nil {
		p.log.Debug("dropping an answer nobody waits for", "uid", h.UID, "source", h.Source)
		return
	}
	pc.ch <- r
}
