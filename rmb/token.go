package rmb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb/types"
)

// Token limits.
const (
	MaxTokenTTL   = 60 * time.Second // expires_at - issued_at: short, and single-use at the relay
	TokenSkew     = 30 * time.Second // how far in the future issued_at may be (clock skew)
	MaxTokenBytes = 1024
)

// TokenError is why a connect token was refused; relays answer it as HTTP 401 with this text.
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return "invalid token: " + e.Reason }

func tokenErr(format string, args ...any) error {
	return &TokenError{Reason: fmt.Sprintf(format, args...)}
}

var b64 = base64.RawURLEncoding

// TokenNonceLen is the length of a token's random nonce.
const TokenNonceLen = 16

// NewToken builds a connect token for (twin, session) valid for ttl (≤ MaxTokenTTL, 60 s) from now:
// base64url(TokenClaims) "." base64url(signature over SHA-256 of the claim bytes). A random nonce
// makes every token different: relays take a token once, and any number of programs of one twin
// and session may connect within the same second.
func NewToken(key *secp256k1.PrivKey, twin uint64, session string, ttl time.Duration, now time.Time) (string, error) {
	if key == nil || len(key.Key) != 32 {
		return "", errors.New("new token: the private key must be 32 bytes")
	}
	if twin == 0 {
		return "", errors.New("new token: twin id is 0")
	}
	if err := CheckSession(session); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", fmt.Errorf("new token: ttl %s must be in (0, %s]", ttl, MaxTokenTTL)
	}
	nonce := make([]byte, TokenNonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	c := types.TokenClaims{TwinId: twin, Session: session, IssuedAt: now.Unix(), ExpiresAt: now.Add(ttl).Unix(), Nonce: nonce}
	return signedPair(key, &c)
}

type marshaler interface{ Marshal() ([]byte, error) }

func signedPair(key *secp256k1.PrivKey, m marshaler) (string, error) {
	claims, err := m.Marshal()
	if err != nil {
		return "", err
	}
	sig, err := key.Sign(claims)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(claims) + "." + b64.EncodeToString(sig), nil
}

// splitSigned decodes "base64url(claims).base64url(sig)".
func splitSigned(tok string) (claims, sig []byte, err error) {
	if len(tok) > MaxTokenBytes {
		return nil, nil, tokenErr("%d bytes, at most %d", len(tok), MaxTokenBytes)
	}
	c, s, ok := strings.Cut(tok, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, nil, tokenErr("want two base64url parts separated by one '.'")
	}
	claims, err = b64.DecodeString(c)
	if err != nil {
		return nil, nil, tokenErr("claims are not base64url (no padding): %v", err)
	}
	sig, err = b64.DecodeString(s)
	if err != nil {
		return nil, nil, tokenErr("signature is not base64url (no padding): %v", err)
	}
	if len(sig) != SignatureLen {
		return nil, nil, tokenErr("signature is %d bytes, want %d", len(sig), SignatureLen)
	}
	return claims, sig, nil
}

// ParseToken decodes a token and checks everything but the signature: the claims' encoding (strict:
// they must re-encode to the same bytes), the twin and session, and the times against now.
// It returns the claims and the signed bytes and signature for VerifyToken.
func ParseToken(tok string, now time.Time) (c types.TokenClaims, claims, sig []byte, err error) {
	claims, sig, err = splitSigned(tok)
	if err != nil {
		return c, nil, nil, err
	}
	if err := c.Unmarshal(claims); err != nil {
		return c, nil, nil, tokenErr("claims do not decode: %v", err)
	}
	if again, err := c.Marshal(); err != nil || !bytes.Equal(again, claims) {
		return c, nil, nil, tokenErr("claims are not in canonical encoding")
	}
	if c.TwinId == 0 {
		return c, nil, nil, tokenErr("twin_id is 0")
	}
	if len(c.Nonce) != TokenNonceLen {
		return c, nil, nil, tokenErr("nonce is %d bytes, want %d", len(c.Nonce), TokenNonceLen)
	}
	if err := CheckSession(c.Session); err != nil {
		return c, nil, nil, tokenErr("%v", err)
	}
	if c.ExpiresAt <= c.IssuedAt {
		return c, nil, nil, tokenErr("expires_at %d is not after issued_at %d", c.ExpiresAt, c.IssuedAt)
	}
	if c.ExpiresAt-c.IssuedAt > int64(MaxTokenTTL/time.Second) {
		return c, nil, nil, tokenErr("lifetime %d s (expires_at %d - issued_at %d) is over %d s",
			c.ExpiresAt-c.IssuedAt, c.ExpiresAt, c.IssuedAt, int64(MaxTokenTTL/time.Second))
	}
	if c.IssuedAt > now.Add(TokenSkew).Unix() {
		return c, nil, nil, tokenErr("issued_at %d is in the future (now %d)", c.IssuedAt, now.Unix())
	}
	if c.ExpiresAt <= now.Unix() {
		return c, nil, nil, tokenErr("expired at %d (now %d)", c.ExpiresAt, now.Unix())
	}
	return c, claims, sig, nil
}

// VerifyToken parses tok (ParseToken) and verifies its signature against the twin's key from lookup.
// A *TokenError is the token's fault (HTTP 401); any other error is the lookup's (HTTP 503).
func VerifyToken(ctx context.Context, tok string, lookup TwinLookup, now time.Time) (types.TokenClaims, error) {
	c, claims, sig, err := ParseToken(tok, now)
	if err != nil {
		return c, err
	}
	twin, err := lookup.Twin(ctx, c.TwinId)
	if errors.Is(err, ErrUnknownTwin) {
		return c, tokenErr("twin %d is not on the chain", c.TwinId)
	}
	if err != nil {
		return c, fmt.Errorf("look up twin %d: %w", c.TwinId, err)
	}
	if !VerifySignature(twin.Key, claims, sig) {
		return c, tokenErr("signature does not verify against twin %d's key", c.TwinId)
	}
	return c, nil
}

// FederationHeader is the HTTP header that authenticates a forwarded envelope.
const FederationHeader = "X-Rmb-Federation"

// MaxFederationSkew is how old (or early) a federation signature may be.
const MaxFederationSkew = 60 * time.Second

// NewFederationAuth signs the forwarding of body by the relay twin relayTwin.
func NewFederationAuth(key *secp256k1.PrivKey, relayTwin uint64, body []byte, now time.Time) (string, error) {
	sum := sha256Sum(body)
	return signedPair(key, &types.FederationClaims{RelayTwin: relayTwin, IssuedAt: now.Unix(), BodySha256: sum[:]})
}

// ParseFederationAuth checks the header's syntax, time and body digest (not the signature).
func ParseFederationAuth(header string, body []byte, now time.Time) (c types.FederationClaims, claims, sig []byte, err error) {
	claims, sig, err = splitSigned(header)
	if err != nil {
		return c, nil, nil, err
	}
	if err := c.Unmarshal(claims); err != nil {
		return c, nil, nil, tokenErr("federation claims do not decode: %v", err)
	}
	if c.RelayTwin == 0 {
		return c, nil, nil, tokenErr("federation relay_twin is 0")
	}
	if d := now.Unix() - c.IssuedAt; d > int64(MaxFederationSkew/time.Second) || -d > int64(MaxFederationSkew/time.Second) {
		return c, nil, nil, tokenErr("federation issued_at %d is more than %s from now (%d)", c.IssuedAt, MaxFederationSkew, now.Unix())
	}
	sum := sha256Sum(body)
	if !bytes.Equal(sum[:], c.BodySha256) {
		return c, nil, nil, tokenErr("federation body_sha256 does not match the body")
	}
	return c, claims, sig, nil
}
