package rmb

import (
	"bytes"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tfgrid/tfgrid/rmb/types"
)

func testEnvelope() *types.Envelope {
	return &types.Envelope{
		Uid: "u-1", Tags: "a,fail-fast", Timestamp: 1700000000, Expiration: 60,
		Source:      &types.Address{Twin: 1, Session: "s1"},
		Destination: &types.Address{Twin: 2},
		Message:     &types.Envelope_Request{Request: &types.Request{Command: "zos.deploy"}},
		Schema:      SchemaJSON,
		Payload:     &types.Envelope_Plain{Plain: []byte(`{"x":1}`)},
	}
}

func twinOf(t *testing.T, id uint64, k *secp256k1.PrivKey) Twin {
	tw, err := NewTwin(id, k.PubKey().Bytes(), nil, nil)
	require.NoError(t, err)
	return tw
}

// The signature covers the encoding without field 14; the receiver finds those bytes by deleting the
// field from what it received.
func TestSignVerify(t *testing.T) {
	key := secp256k1.GenPrivKey()
	env := testEnvelope()
	raw, err := SignEnvelope(env, key)
	require.NoError(t, err)

	h, err := ScanEnvelope(raw)
	require.NoError(t, err)
	require.Equal(t, "u-1", h.UID)
	require.Equal(t, Address{1, "s1"}, h.Source)
	require.Equal(t, Address{Twin: 2}, h.Destination)
	require.Equal(t, KindRequest, h.Kind)
	require.Equal(t, "zos.deploy", h.Command)
	require.True(t, h.HasTag(TagFailFast))
	require.False(t, h.HasTag("fail"))
	require.Len(t, h.Signature, 64)
	require.NoError(t, VerifyEnvelope(h, raw, twinOf(t, 1, key).Key))

	unsigned := *env
	unsigned.Signature = nil
	want, err := unsigned.Marshal()
	require.NoError(t, err)
	require.Equal(t, want, h.SignedBytes(raw))
	stripped, sig, err := StripSignature(raw)
	require.NoError(t, err)
	require.Equal(t, want, stripped)
	require.Equal(t, h.Signature, sig)
	require.True(t, key.PubKey().VerifySignature(want, sig), "the Cosmos SDK verifies it too")

	// Another key: code 1.
	err = VerifyEnvelope(h, raw, twinOf(t, 1, secp256k1.GenPrivKey()).Key)
	require.Equal(t, CodeInvalidSignature, CodeOf(err))
}

// Every single-byte change of the signed part breaks the signature (or the envelope).
func TestTamperedEnvelopeRejected(t *testing.T) {
	key := secp256k1.GenPrivKey()
	raw, err := SignEnvelope(testEnvelope(), key)
	require.NoError(t, err)
	pub := twinOf(t, 1, key).Key
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		h, err := ScanEnvelope(bad)
		if err != nil {
			continue
		}
		require.Error(t, VerifyEnvelope(h, bad, pub), "byte %d flipped", i)
	}
}

// Fields unknown to this version are signed as received: the receiver never re-marshals.
func TestUnknownFieldsAreSigned(t *testing.T) {
	key := secp256k1.GenPrivKey()
	body, err := testEnvelope().Marshal()
	require.NoError(t, err)
	body = protowire.AppendTag(body, 99, protowire.BytesType)
	body = protowire.AppendBytes(body, []byte("from the future"))
	sig, err := key.Sign(body)
	require.NoError(t, err)
	// signature in the middle: still found and removed
	raw := protowire.AppendTag(nil, fieldSignature, protowire.BytesType)
	raw = protowire.AppendBytes(raw, sig)
	raw = append(raw, body...)
	h, err := ScanEnvelope(raw)
	require.NoError(t, err)
	require.NoError(t, VerifyEnvelope(h, raw, twinOf(t, 1, key).Key))

	var env types.Envelope
	require.NoError(t, env.Unmarshal(raw))
	env.Signature = nil
	again, err := env.Marshal()
	require.NoError(t, err)
	require.NotEqual(t, body, again, "re-marshalling would have lost the unknown field")
}

func TestScanRejects(t *testing.T) {
	good, err := testEnvelope().Marshal()
	require.NoError(t, err)
	add := func(b []byte, num protowire.Number, v []byte) []byte {
		b = protowire.AppendTag(bytes.Clone(b), num, protowire.BytesType)
		return protowire.AppendBytes(b, v)
	}
	cases := map[string]struct {
		raw   []byte
		field string
	}{
		"duplicate uid":     {add(good, fieldUID, []byte("x")), "uid"},
		"two payloads":      {add(good, fieldCipher, []byte("x")), "cipher"},
		"two messages":      {add(good, fieldResponse, nil), "response"},
		"bad ephemeral key": {add(good, fieldEphemeralKey, []byte("short")), "ephemeral_key"},
		"truncated":         {good[:len(good)-3], "plain"},
		"varint uid":        {protowire.AppendVarint(protowire.AppendTag(nil, fieldUID, protowire.VarintType), 5), "uid"},
	}
	for name, c := range cases {
		_, err := ScanEnvelope(c.raw)
		require.Error(t, err, name)
		var ee *EnvelopeError
		require.ErrorAs(t, err, &ee, name)
		require.Equal(t, c.field, ee.Field, "%s: %v", name, err)
	}
	for name, mut := range map[string]func(*types.Envelope){
		"empty uid":          func(e *types.Envelope) { e.Uid = "" },
		"no destination":     func(e *types.Envelope) { e.Destination = nil },
		"no message":         func(e *types.Envelope) { e.Message = nil },
		"empty command":      func(e *types.Envelope) { e.Message = &types.Envelope_Request{Request: &types.Request{}} },
		"session characters": func(e *types.Envelope) { e.Source.Session = "a b" },
		"long uid":           func(e *types.Envelope) { e.Uid = string(bytes.Repeat([]byte("u"), 129)) },
	} {
		env := testEnvelope()
		mut(env)
		raw, err := env.Marshal()
		require.NoError(t, err)
		_, err = ScanEnvelope(raw)
		require.Error(t, err, name)
	}
}

func TestExpiry(t *testing.T) {
	h := &Header{Timestamp: 1000, Expiration: 10}
	require.False(t, h.Expired(time.Unix(1009, 0)))
	require.True(t, h.Expired(time.Unix(1010, 0)))
	h = &Header{Timestamp: 1 << 63, Expiration: 1 << 63}
	require.True(t, h.Expired(time.Unix(0, 0)), "overflow is never valid")
}

// FuzzScanEnvelope: the decoder never panics, and what it accepts decodes in full to the same header.
func FuzzScanEnvelope(f *testing.F) {
	key := secp256k1.GenPrivKey()
	raw, _ := SignEnvelope(testEnvelope(), key)
	f.Add(raw)
	e := testEnvelope()
	e.Message = &types.Envelope_Error{Error: &types.Error{Code: 3, Message: "expired"}}
	e.Payload = &types.Envelope_Cipher{Cipher: []byte("c")}
	e.EphemeralKey = key.PubKey().Bytes()
	raw, _ = e.Marshal()
	f.Add(raw)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, env, err := DecodeEnvelope(raw)
		stripped, _, serr := StripSignature(raw)
		if err != nil {
			return
		}
		require.NoError(t, serr)
		require.Equal(t, h.SignedBytes(raw), stripped)
		require.Equal(t, env.Uid, h.UID)
		require.Equal(t, AddressOf(env.Source), h.Source)
		require.Equal(t, AddressOf(env.Destination), h.Destination)
		require.Equal(t, env.Timestamp, h.Timestamp)
		require.Equal(t, env.GetRequest().GetCommand(), h.Command)
		require.Equal(t, env.GetCipher() != nil, h.HasCipher)
		require.Equal(t, env.Signature, h.Signature)
	})
}
