package rmb

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	dsecp "github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tfgrid/tfgrid/rmb/types"
)

// Field numbers of rmb.v1.Envelope.
const (
	fieldUID          = 1
	fieldTags         = 2
	fieldTimestamp    = 3
	fieldExpiration   = 4
	fieldSource       = 5
	fieldDestination  = 6
	fieldRequest      = 7
	fieldResponse     = 8
	fieldError        = 9
	fieldSchema       = 10
	fieldPlain        = 11
	fieldCipher       = 12
	fieldEphemeralKey = 13
	fieldSignature    = 14
)

// Limits of envelope fields (checked by ScanEnvelope).
const (
	MaxUIDLen       = 128
	MaxSessionLen   = 64
	MaxCommandLen   = 256
	MaxTagsLen      = 256
	SignatureLen    = 64
	PubKeyLen       = 33
	SchemaJSON      = "application/json"
	TagFailFast     = "fail-fast"
	maxErrorMsgLen  = 4096
	maxSchemaLength = 128
)

// Kind is what an envelope carries.
type Kind int

// The kinds of envelope.
const (
	KindNone Kind = iota
	KindRequest
	KindResponse
	KindError
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindResponse:
		return "response"
	case KindError:
		return "error"
	}
	return "none"
}

// Address is a (twin, session) pair.
type Address struct {
	Twin    uint64
	Session string
}

func (a Address) String() string {
	if a.Session == "" {
		return fmt.Sprintf("%d", a.Twin)
	}
	return fmt.Sprintf("%d:%s", a.Twin, a.Session)
}

// Proto converts the address to its wire type.
func (a Address) Proto() *types.Address { return &types.Address{Twin: a.Twin, Session: a.Session} }

// AddressOf converts a wire address (nil is the zero address).
func AddressOf(a *types.Address) Address {
	if a == nil {
		return Address{}
	}
	return Address{Twin: a.Twin, Session: a.Session}
}

// Header is what a relay reads of an envelope: everything but the payload, read without copying it.
type Header struct {
	UID         string
	Tags        string
	Timestamp   uint64
	Expiration  uint64
	Source      Address
	Destination Address
	Kind        Kind
	Command     string // requests only
	ErrorCode   uint32 // errors only
	HasCipher   bool
	Signature   []byte // aliases the input
	// SignedLen and the signature's position let callers rebuild the signed bytes (see SignedBytes).
	sigStart, sigEnd int
}

// Deadline is when the envelope expires (timestamp + expiration).
func (h *Header) Deadline() time.Time {
	exp := h.Timestamp + h.Expiration
	if exp < h.Timestamp || exp > 1<<62 { // overflow or absurd: never valid
		return time.Unix(0, 0)
	}
	return time.Unix(int64(exp), 0)
}

// Expired tells whether the envelope has expired at now.
func (h *Header) Expired(now time.Time) bool { return !now.Before(h.Deadline()) }

// HasTag tells whether tags (comma or space separated) contain tag.
func (h *Header) HasTag(tag string) bool {
	s := h.Tags
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' && s[i] != ' ' {
			i++
		}
		if s[:i] == tag {
			return true
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return false
}

// EnvelopeError is a malformed envelope; it names the field and the problem.
type EnvelopeError struct {
	Field  string
	Reason string
}

func (e *EnvelopeError) Error() string {
	return fmt.Sprintf("invalid envelope: %s: %s", e.Field, e.Reason)
}

func envErr(field, format string, args ...any) error {
	return &EnvelopeError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

var fieldNames = map[protowire.Number]string{
	fieldUID: "uid", fieldTags: "tags", fieldTimestamp: "timestamp", fieldExpiration: "expiration",
	fieldSource: "source", fieldDestination: "destination", fieldRequest: "request", fieldResponse: "response",
	fieldError: "error", fieldSchema: "schema", fieldPlain: "plain", fieldCipher: "cipher",
	fieldEphemeralKey: "ephemeral_key", fieldSignature: "signature",
}

// ScanEnvelope reads an envelope's header from its wire bytes without decoding the payload. It is
// strict, so that every reader (relay, peer, any language) sees the same envelope: each known field
// at most once, the right wire type, at most one member of each oneof, valid UTF-8 strings, and the
// limits above. Unknown fields are allowed (and signed). It never panics.
func ScanEnvelope(raw []byte) (*Header, error) {
	h := &Header{sigStart: -1, sigEnd: -1}
	var seen [fieldSignature + 1]bool
	payloads := 0
	b := raw
	off := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, envErr("tag", "at byte %d: %v", off, protowire.ParseError(n))
		}
		vlen := protowire.ConsumeFieldValue(num, typ, b[n:])
		if vlen < 0 {
			return nil, envErr(fieldName(num), "at byte %d: %v", off, protowire.ParseError(vlen))
		}
		start, end := off, off+n+vlen
		val := b[n : n+vlen]
		if num >= fieldUID && num <= fieldSignature {
			name := fieldNames[num]
			if seen[num] {
				return nil, envErr(name, "appears more than once")
			}
			seen[num] = true
			want := protowire.BytesType
			if num == fieldTimestamp || num == fieldExpiration {
				want = protowire.VarintType
			}
			if typ != want {
				return nil, envErr(name, "wire type %d, want %d", typ, want)
			}
			var bs []byte
			var u uint64
			if want == protowire.BytesType {
				bs, _ = protowire.ConsumeBytes(val)
			} else {
				u, _ = protowire.ConsumeVarint(val)
			}
			switch num {
			case fieldUID:
				if len(bs) > MaxUIDLen || !utf8.Valid(bs) {
					return nil, envErr(name, "must be valid UTF-8 of at most %d bytes (got %d bytes)", MaxUIDLen, len(bs))
				}
				h.UID = string(bs)
			case fieldTags:
				if len(bs) > MaxTagsLen || !utf8.Valid(bs) {
					return nil, envErr(name, "must be valid UTF-8 of at most %d bytes (got %d bytes)", MaxTagsLen, len(bs))
				}
				h.Tags = string(bs)
			case fieldTimestamp:
				h.Timestamp = u
			case fieldExpiration:
				h.Expiration = u
			case fieldSource, fieldDestination:
				a, err := scanAddress(name, bs)
				if err != nil {
					return nil, err
				}
				if num == fieldSource {
					h.Source = a
				} else {
					h.Destination = a
				}
			case fieldRequest, fieldResponse, fieldError:
				if h.Kind != KindNone {
					return nil, envErr(name, "envelope is already a %s (message is a oneof)", h.Kind)
				}
				if err := scanMessage(num, bs, h); err != nil {
					return nil, err
				}
			case fieldSchema:
				if len(bs) > maxSchemaLength || !utf8.Valid(bs) {
					return nil, envErr(name, "must be valid UTF-8 of at most %d bytes", maxSchemaLength)
				}
			case fieldPlain, fieldCipher:
				payloads++
				if payloads > 1 {
					return nil, envErr(name, "envelope already has a payload (payload is a oneof)")
				}
				h.HasCipher = num == fieldCipher
			case fieldEphemeralKey:
				if len(bs) != 0 && len(bs) != PubKeyLen {
					return nil, envErr(name, "must be empty or %d bytes (got %d)", PubKeyLen, len(bs))
				}
			case fieldSignature:
				h.Signature = bs
				h.sigStart, h.sigEnd = start, end
			}
		}
		b = b[n+vlen:]
		off = end
	}
	if h.UID == "" {
		return nil, envErr("uid", "is empty")
	}
	if h.Kind == KindNone {
		return nil, envErr("message", "none of request, response, error is set")
	}
	if h.Destination.Twin == 0 {
		return nil, envErr("destination.twin", "is 0")
	}
	return h, nil
}

func fieldName(num protowire.Number) string {
	if n, ok := fieldNames[num]; ok {
		return n
	}
	return fmt.Sprintf("field %d", num)
}

func scanAddress(name string, b []byte) (Address, error) {
	var a Address
	var seenTwin, seenSession bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return a, envErr(name, "%v", protowire.ParseError(n))
		}
		vlen := protowire.ConsumeFieldValue(num, typ, b[n:])
		if vlen < 0 {
			return a, envErr(name, "%v", protowire.ParseError(vlen))
		}
		val := b[n : n+vlen]
		switch num {
		case 1:
			if seenTwin || typ != protowire.VarintType {
				return a, envErr(name+".twin", "repeated or wrong wire type")
			}
			seenTwin = true
			a.Twin, _ = protowire.ConsumeVarint(val)
		case 2:
			if seenSession || typ != protowire.BytesType {
				return a, envErr(name+".session", "repeated or wrong wire type")
			}
			seenSession = true
			s, _ := protowire.ConsumeBytes(val)
			if err := CheckSession(string(s)); err != nil {
				return a, envErr(name+".session", "%v", err)
			}
			a.Session = string(s)
		}
		b = b[n+vlen:]
	}
	return a, nil
}

// CheckSession validates a session name: at most 64 bytes of [A-Za-z0-9._-].
func CheckSession(s string) error {
	if len(s) > MaxSessionLen {
		return fmt.Errorf("session %q is longer than %d bytes", s, MaxSessionLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("session %q: byte %d is not one of [A-Za-z0-9._-]", s, i)
		}
	}
	return nil
}

func scanMessage(num protowire.Number, b []byte, h *Header) error {
	name := fieldNames[num]
	var seen [3]bool
	for len(b) > 0 {
		f, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return envErr(name, "%v", protowire.ParseError(n))
		}
		vlen := protowire.ConsumeFieldValue(f, typ, b[n:])
		if vlen < 0 {
			return envErr(name, "%v", protowire.ParseError(vlen))
		}
		val := b[n : n+vlen]
		if f == 1 || f == 2 {
			if seen[f] {
				return envErr(name, "field %d appears more than once", f)
			}
			seen[f] = true
		}
		switch {
		case num == fieldRequest && f == 1:
			if typ != protowire.BytesType {
				return envErr("request.command", "wrong wire type")
			}
			s, _ := protowire.ConsumeBytes(val)
			if len(s) > MaxCommandLen || !utf8.Valid(s) {
				return envErr("request.command", "must be valid UTF-8 of at most %d bytes", MaxCommandLen)
			}
			h.Command = string(s)
		case num == fieldError && f == 1:
			if typ != protowire.VarintType {
				return envErr("error.code", "wrong wire type")
			}
			c, _ := protowire.ConsumeVarint(val)
			if c > 1<<32-1 {
				return envErr("error.code", "%d does not fit in 32 bits", c)
			}
			h.ErrorCode = uint32(c)
		case num == fieldError && f == 2:
			if typ != protowire.BytesType {
				return envErr("error.message", "wrong wire type")
			}
			s, _ := protowire.ConsumeBytes(val)
			if len(s) > maxErrorMsgLen || !utf8.Valid(s) {
				return envErr("error.message", "must be valid UTF-8 of at most %d bytes", maxErrorMsgLen)
			}
		}
		b = b[n+vlen:]
	}
	switch num {
	case fieldRequest:
		h.Kind = KindRequest
		if h.Command == "" {
			return envErr("request.command", "is empty")
		}
	case fieldResponse:
		h.Kind = KindResponse
	case fieldError:
		h.Kind = KindError
	}
	return nil
}

// SignedBytes returns the bytes a signature covers: raw without the signature field. It never
// re-marshals; when raw has no signature it returns raw itself.
func (h *Header) SignedBytes(raw []byte) []byte {
	if h.sigStart < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)-(h.sigEnd-h.sigStart))
	out = append(out, raw[:h.sigStart]...)
	return append(out, raw[h.sigEnd:]...)
}

// StripSignature removes every top-level signature field (14) from raw wire bytes and returns the
// rest and the last signature found. It works on any well-formed protobuf message.
func StripSignature(raw []byte) (signed, sig []byte, err error) {
	b := raw
	off := 0
	var out []byte
	last := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, envErr("tag", "at byte %d: %v", off, protowire.ParseError(n))
		}
		vlen := protowire.ConsumeFieldValue(num, typ, b[n:])
		if vlen < 0 {
			return nil, nil, envErr(fieldName(num), "at byte %d: %v", off, protowire.ParseError(vlen))
		}
		if num == fieldSignature {
			if typ != protowire.BytesType {
				return nil, nil, envErr("signature", "wrong wire type %d", typ)
			}
			sig, _ = protowire.ConsumeBytes(b[n : n+vlen])
			out = append(out, raw[last:off]...)
			last = off + n + vlen
		}
		b = b[n+vlen:]
		off += n + vlen
	}
	if out == nil {
		return raw, sig, nil
	}
	return append(out, raw[last:]...), sig, nil
}

// SignEnvelope marshals env with its signature unset, signs the bytes with key and returns the wire
// bytes: the encoding followed by the signature field. env.Signature is set to the signature.
func SignEnvelope(env *types.Envelope, key *secp256k1.PrivKey) ([]byte, error) {
	if key == nil || len(key.Key) != 32 {
		return nil, errors.New("sign envelope: the private key must be 32 bytes")
	}
	env.Signature = nil
	body, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sign envelope %q: marshal: %w", env.Uid, err)
	}
	sig, err := key.Sign(body)
	if err != nil {
		return nil, fmt.Errorf("sign envelope %q: %w", env.Uid, err)
	}
	env.Signature = sig
	out := make([]byte, 0, len(body)+2+len(sig))
	out = append(out, body...)
	out = protowire.AppendTag(out, fieldSignature, protowire.BytesType)
	out = protowire.AppendBytes(out, sig)
	return out, nil
}

// PubKey is a parsed secp256k1 public key (parsing decompresses the point, so callers keep it).
type PubKey = dsecp.PublicKey

// ParsePubKey parses a 33-byte compressed secp256k1 public key.
func ParsePubKey(b []byte) (*PubKey, error) {
	if len(b) != PubKeyLen {
		return nil, fmt.Errorf("public key: %d bytes, want %d (compressed secp256k1)", len(b), PubKeyLen)
	}
	k, err := dsecp.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %x: %w", b, err)
	}
	return k, nil
}

// VerifySignature checks a 64-byte r||s low-S signature over SHA-256(msg), like the Cosmos SDK's
// secp256k1 PubKey.VerifySignature, against a parsed key.
func VerifySignature(pub *PubKey, msg, sig []byte) bool {
	if pub == nil || len(sig) != SignatureLen {
		return false
	}
	var r, s dsecp.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() || s.IsOverHalfOrder() {
		return false
	}
	hash := sha256.Sum256(msg)
	return ecdsa.NewSignature(&r, &s).Verify(hash[:], pub)
}

// VerifyEnvelope checks the signature of a scanned envelope against the source twin's key.
func VerifyEnvelope(h *Header, raw []byte, pub *PubKey) error {
	if len(h.Signature) == 0 {
		return Errorf(CodeInvalidSignature, "envelope %q from twin %d has no signature", h.UID, h.Source.Twin)
	}
	if !VerifySignature(pub, h.SignedBytes(raw), h.Signature) {
		return Errorf(CodeInvalidSignature, "envelope %q: signature does not verify against twin %d's key", h.UID, h.Source.Twin)
	}
	return nil
}

// DecodeEnvelope scans raw strictly (ScanEnvelope) and then decodes it in full.
func DecodeEnvelope(raw []byte) (*Header, *types.Envelope, error) {
	h, err := ScanEnvelope(raw)
	if err != nil {
		return nil, nil, err
	}
	var env types.Envelope
	if err := env.Unmarshal(raw); err != nil {
		return nil, nil, fmt.Errorf("invalid envelope: %w", err)
	}
	return h, &env, nil
}
