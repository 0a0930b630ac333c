package rmb

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb/types"
)

func TestToken(t *testing.T) {
	ctx := context.Background()
	key := secp256k1.GenPrivKey()
	lookup := NewMemoryLookup(twinOf(t, 7, key))
	now := time.Unix(1_800_000_000, 0)

	tok, err := NewToken(key, 7, "cli", time.Minute, now)
	require.NoError(t, err)
	c, err := VerifyToken(ctx, tok, lookup, now.Add(30*time.Second))
	require.NoError(t, err)
	require.Equal(t, uint64(7), c.TwinId)
	require.Equal(t, "cli", c.Session)

	refused := func(tok string, at time.Time, reason string) {
		t.Helper()
		_, err := VerifyToken(ctx, tok, lookup, at)
		var te *TokenError
		require.ErrorAs(t, err, &te)
		require.Contains(t, te.Reason, reason)
	}
	refused(tok, now.Add(time.Minute), "expired")
	refused(tok, now.Add(-time.Hour), "in the future")
	forged, err := NewToken(secp256k1.GenPrivKey(), 7, "cli", time.Minute, now)
	require.NoError(t, err)
	refused(forged, now, "does not verify against twin 7")
	unknown, err := NewToken(key, 8, "", time.Minute, now)
	require.NoError(t, err)
	refused(unknown, now, "twin 8 is not on the chain")

	// A lifetime over 60 s, signed by the right key: refused.
	long := types.TokenClaims{TwinId: 7, IssuedAt: now.Unix(), ExpiresAt: now.Unix() + 61, Nonce: make([]byte, TokenNonceLen)}
	s, err := signedPair(key, &long)
	require.NoError(t, err)
	refused(s, now, "over 60 s")

	_, err = NewToken(key, 7, "", 61*time.Second, now)
	require.Error(t, err)
	for _, bad := range []string{"", ".", "abc", "a.b.c", tok + "x", "!!!." + strings.Split(tok, ".")[1]} {
		refused(bad, now, "")
	}
}

// Tokens are all different, even many in one second for one (twin, session), and all valid; a
// token without its nonce is refused.
func TestTokensAreUnique(t *testing.T) {
	key := secp256k1.GenPrivKey()
	lookup := NewMemoryLookup(twinOf(t, 7, key))
	now := time.Unix(1_800_000_000, 0)
	seen := map[string]bool{}
	for range 100 {
		tok, err := NewToken(key, 7, "s", time.Minute, now)
		require.NoError(t, err)
		require.False(t, seen[tok], "a token repeated")
		seen[tok] = true
		_, err = VerifyToken(context.Background(), tok, lookup, now)
		require.NoError(t, err)
	}
	c := types.TokenClaims{TwinId: 7, Session: "s", IssuedAt: now.Unix(), ExpiresAt: now.Unix() + 60}
	tok, err := signedPair(key, &c)
	require.NoError(t, err)
	_, err = VerifyToken(context.Background(), tok, lookup, now)
	require.ErrorContains(t, err, "nonce is 0 bytes, want 16")
}

func TestFederationAuth(t *testing.T) {
	key := secp256k1.GenPrivKey()
	now := time.Unix(1_800_000_000, 0)
	body := []byte("envelope bytes")
	h, err := NewFederationAuth(key, 9, body, now)
	require.NoError(t, err)
	c, claims, sig, err := ParseFederationAuth(h, body, now.Add(10*time.Second))
	require.NoError(t, err)
	require.Equal(t, uint64(9), c.RelayTwin)
	require.True(t, VerifySignature(twinOf(t, 9, key).Key, claims, sig))
	_, _, _, err = ParseFederationAuth(h, []byte("other body"), now)
	require.ErrorContains(t, err, "body_sha256")
	_, _, _, err = ParseFederationAuth(h, body, now.Add(2*time.Minute))
	require.ErrorContains(t, err, "issued_at")
}

// FuzzParseToken: the token parser never panics; an accepted token re-encodes to itself.
func FuzzParseToken(f *testing.F) {
	key := secp256k1.GenPrivKey()
	now := time.Unix(1_800_000_000, 0)
	tok, _ := NewToken(key, 7, "s", time.Minute, now)
	f.Add(tok)
	f.Add("")
	f.Add("a.b")
	f.Add("CAcSAXM." + strings.Repeat("A", 86))
	f.Fuzz(func(t *testing.T, tok string) {
		c, claims, sig, err := ParseToken(tok, now)
		if err != nil {
			return
		}
		again, err := c.Marshal()
		require.NoError(t, err)
		require.Equal(t, claims, again)
		require.Len(t, sig, 64)
		require.LessOrEqual(t, c.ExpiresAt-c.IssuedAt, int64(MaxTokenTTL/time.Second))
	})
}
