package rmb

import (
	"bytes"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"
)

func TestDeriveE2EKey(t *testing.T) {
	acc := &secp256k1.PrivKey{Key: bytes.Repeat([]byte{1}, 32)}
	k1, err := DeriveE2EKey(acc)
	require.NoError(t, err)
	k2, err := DeriveE2EKey(acc)
	require.NoError(t, err)
	require.Equal(t, k1.Key, k2.Key, "deterministic: one mnemonic restores both keys")
	require.NotEqual(t, acc.Key, k1.Key)
	pub, err := E2EPublicKey(acc)
	require.NoError(t, err)
	require.Len(t, pub, 33)
	require.NotEqual(t, acc.PubKey().Bytes(), pub)
	_, err = ParsePubKey(pub)
	require.NoError(t, err)
}

func TestSealOpen(t *testing.T) {
	a, b := secp256k1.GenPrivKey(), secp256k1.GenPrivKey()
	pa, err := ParsePubKey(a.PubKey().Bytes())
	require.NoError(t, err)
	pb, err := ParsePubKey(b.PubKey().Bytes())
	require.NoError(t, err)
	ab, err := SharedAEAD(a, pb)
	require.NoError(t, err)
	ba, err := SharedAEAD(b, pa)
	require.NoError(t, err)

	aad := AAD("u1", Address{1, ""}, Address{2, "x"})
	ct, err := Seal(ab, aad, []byte("secret"))
	require.NoError(t, err)
	require.NotContains(t, string(ct), "secret")
	pt, err := Open(ba, aad, ct)
	require.NoError(t, err)
	require.Equal(t, "secret", string(pt))

	for _, other := range [][]byte{
		AAD("u2", Address{1, ""}, Address{2, "x"}),
		AAD("u1", Address{3, ""}, Address{2, "x"}),
		AAD("u1", Address{1, ""}, Address{2, ""}),
	} {
		_, err := Open(ba, other, ct)
		require.Equal(t, CodeCannotDecrypt, CodeOf(err))
	}
	ct[len(ct)-1] ^= 1
	_, err = Open(ba, aad, ct)
	require.Equal(t, CodeCannotDecrypt, CodeOf(err))

	sealed, eph, err := SealEphemeral(pb, aad, []byte("hi"))
	require.NoError(t, err)
	pe, err := ParsePubKey(eph)
	require.NoError(t, err)
	be, err := SharedAEAD(b, pe)
	require.NoError(t, err)
	pt, err = Open(be, aad, sealed)
	require.NoError(t, err)
	require.Equal(t, "hi", string(pt))
}
