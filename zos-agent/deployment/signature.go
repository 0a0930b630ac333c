package deployment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"strconv"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// SignatureLength is the length of an r‖s secp256k1 signature.
const SignatureLength = 64

// Signer signs a message with a twin's account key: secp256k1 ECDSA over SHA-256 of the
// message, 64-byte r‖s, low S. A Cosmos SDK secp256k1 private key is one.
type Signer interface {
	Sign(msg []byte) ([]byte, error)
}

// KeyLookup returns a twin's account public key (33-byte compressed secp256k1), as the chain
// stores it. An error means the key could not be had; Verify reports it for that twin.
type KeyLookup func(twinID uint64) ([]byte, error)

// Sign signs a deployment hash (64 lowercase hex characters): the signer signs its 32 raw bytes.
func Sign(hash string, signer Signer) ([]byte, error) {
	digest, err := hashBytes(hash)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(digest)
	if err != nil {
		return nil, fmt.Errorf("sign deployment hash %s: %w", hash, err)
	}
	if len(sig) != SignatureLength {
		return nil, fmt.Errorf("sign deployment hash %s: the signer made a %d-byte signature, expected %d (r‖s)", hash, len(sig), SignatureLength)
	}
	return sig, nil
}

// hashBytes decodes a deployment hash.
func hashBytes(hash string) ([]byte, error) {
	digest, err := hex.DecodeString(hash)
	if err != nil || len(digest) != sha256.Size || hex.EncodeToString(digest) != hash {
		return nil, fieldErr("hash", hash, ErrInvalidValue, "is not a deployment hash (64 lowercase hex characters)")
	}
	return digest, nil
}

// SignDocument signs the document's hash as twin and returns the document with that signature
// added to signature_requirement.signatures (replacing an earlier one of the same twin). The
// hash does not change: signatures are not hashed.
func SignDocument(doc *Document, twinID uint64, signer Signer) (*Document, error) {
	sig, err := Sign(doc.hash, signer)
	if err != nil {
		return nil, err
	}
	return doc.WithSignature(twinID, sig)
}

// WithSignature returns the document with the twin's signature in
// signature_requirement.signatures, replacing an earlier one of the same twin. Everything else
// stays as it was in the document.
func (doc *Document) WithSignature(twinID uint64, sig []byte) (*Document, error) {
	if len(sig) != SignatureLength {
		return nil, fieldErr("signature", hex.EncodeToString(sig), ErrBadSignature, "is %d bytes, expected %d (r‖s)", len(sig), SignatureLength)
	}
	if twinID > maxExactInteger {
		return nil, fieldErr("twin_id", twinID, ErrNumberTooLarge, "is beyond 2^53, which JSON numbers cannot hold exactly")
	}
	signatures := []any{}
	for _, s := range doc.Deployment.SignatureRequirement.Signatures {
		if s.TwinID != twinID {
			signatures = append(signatures, signatureTree(s))
		}
	}
	signatures = append(signatures, signatureTree(Signature{
		TwinID: twinID, Signature: hex.EncodeToString(sig), SignatureType: SignatureTypeSecp256k1,
	}))
	tree := maps.Clone(doc.tree)
	req, _ := tree[keySignatureRequirement].(map[string]any)
	req = maps.Clone(req)
	if req == nil {
		req = map[string]any{}
	}
	req[keySignatures] = signatures
	tree[keySignatureRequirement] = req
	raw, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("encode signed deployment: %w", err)
	}
	return Parse(raw)
}

func signatureTree(s Signature) map[string]any {
	return map[string]any{
		"twin_id":        json.Number(strconv.FormatUint(s.TwinID, 10)),
		"signature":      s.Signature,
		"signature_type": s.SignatureType,
	}
}

// VerifySignature checks a 64-byte r‖s low-S secp256k1 signature of msg (ECDSA over SHA-256 of
// msg, as Cosmos SDK keys sign) against a compressed or uncompressed public key.
func VerifySignature(pubKey, msg, sig []byte) bool {
	key, err := secp256k1.ParsePubKey(pubKey)
	if err != nil || len(sig) != SignatureLength {
		return false
	}
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() || s.IsOverHalfOrder() {
		return false
	}
	digest := sha256.Sum256(msg)
	return ecdsa.NewSignature(&r, &s).Verify(digest[:], key)
}

// Verify checks that the document's signatures meet its signature requirement: the owner twin is
// among the requests, no twin is requested twice, every required twin signed, every signature of
// a requested twin verifies against that twin's key, and the weights of the twins that signed sum
// to at least weight_required. Signatures by twins that were not requested are ignored.
func Verify(doc *Document, lookupKey KeyLookup) error {
	req := &doc.Deployment.SignatureRequirement
	if err := req.validate(doc.Deployment.TwinID); err != nil {
		return err
	}
	digest, err := hashBytes(doc.hash)
	if err != nil {
		return err
	}
	requested := make(map[uint64]bool, len(req.Requests))
	for _, request := range req.Requests {
		requested[request.TwinID] = true
	}
	signed := map[uint64]bool{}
	for _, s := range req.Signatures {
		if !requested[s.TwinID] {
			continue
		}
		if err := verifyOne(s, digest, lookupKey); err != nil {
			return err
		}
		signed[s.TwinID] = true
	}
	return req.met(signed)
}

// verifyOne checks one signature of a requested twin.
func verifyOne(s Signature, digest []byte, lookupKey KeyLookup) error {
	sig, err := hex.DecodeString(s.Signature)
	if err != nil || len(sig) != SignatureLength {
		return &SignatureError{TwinID: s.TwinID, Rule: ErrBadSignature,
			Problem: fmt.Sprintf("%q is not %d bytes in hex", s.Signature, SignatureLength)}
	}
	pubKey, err := lookupKey(s.TwinID)
	if err != nil {
		return &SignatureError{TwinID: s.TwinID, Rule: ErrKeyLookup, Problem: "cannot get the twin's key: " + err.Error()}
	}
	if !VerifySignature(pubKey, digest, sig) {
		return &SignatureError{TwinID: s.TwinID, Rule: ErrBadSignature,
			Problem: "does not verify against the twin's key over the deployment hash"}
	}
	return nil
}

// met applies the rule to the set of requested twins whose signature verified.
func (r *SignatureRequirement) met(signed map[uint64]bool) error {
	var weight uint64
	for _, request := range r.Requests {
		if !signed[request.TwinID] {
			if request.Required {
				return &SignatureError{TwinID: request.TwinID, Rule: ErrMissingSignature, Problem: "is required and missing"}
			}
			continue
		}
		weight = saturatingAdd(weight, request.Weight)
	}
	if weight < r.WeightRequired {
		return fieldErr("signature_requirement.weight_required", r.WeightRequired, ErrWeightNotReached,
			"is not reached: the valid signatures weigh %d", weight)
	}
	return nil
}

// saturatingAdd is a + b, or the largest uint64 when that overflows: only "≥ weight_required"
// matters, and a sum past 2^64 is past every weight_required.
func saturatingAdd(a, b uint64) uint64 {
	sum, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return sum
}

// validate checks the requirement's shape: the owner is requested, no twin twice (Zero-OS counts
// a repeated request twice; we refuse it), a weight to reach that the requests can reach, every
// signature of a known type and at most one per twin.
func (r *SignatureRequirement) validate(owner uint64) error {
	requested := map[uint64]bool{}
	var total uint64
	for i, request := range r.Requests {
		if requested[request.TwinID] {
			return fieldErr(fmt.Sprintf("signature_requirement.requests[%d].twin_id", i), request.TwinID,
				ErrDuplicateRequest, "is requested twice")
		}
		requested[request.TwinID] = true
		total = saturatingAdd(total, request.Weight)
	}
	if !requested[owner] {
		return fieldErr("twin_id", owner, ErrOwnerNotRequested, "is not among signature_requirement.requests")
	}
	if r.WeightRequired == 0 {
		return fieldErr("signature_requirement.weight_required", r.WeightRequired, ErrBelowMinimum, "must be at least 1")
	}
	if total < r.WeightRequired {
		return fieldErr("signature_requirement.weight_required", r.WeightRequired, ErrWeightNotReached,
			"is more than all requests weigh together (%d)", total)
	}
	if r.SignatureStyle != "" {
		return fieldErr("signature_requirement.signature_style", r.SignatureStyle, ErrUnsupportedSignature, "is not supported; leave it empty")
	}
	signed := map[uint64]bool{}
	for i, s := range r.Signatures {
		field := fmt.Sprintf("signature_requirement.signatures[%d]", i)
		if signed[s.TwinID] {
			return fieldErr(field+".twin_id", s.TwinID, ErrDuplicateSignature, "has signed twice")
		}
		signed[s.TwinID] = true
		if s.SignatureType != SignatureTypeSecp256k1 {
			return fieldErr(field+".signature_type", s.SignatureType, ErrUnsupportedSignature, "is not %q", SignatureTypeSecp256k1)
		}
	}
	return nil
}
