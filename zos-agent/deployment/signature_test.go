package deployment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	sdksecp256k1 "github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// decredSigner signs like a Cosmos key (ECDSA over SHA-256, r‖s, low S) with a decred key.
type decredSigner struct{ key *secp256k1.PrivateKey }

func (s decredSigner) Sign(msg []byte) ([]byte, error) {
	digest := sha256.Sum256(msg)
	compact := ecdsa.SignCompact(s.key, digest[:], true) // recovery byte ‖ r ‖ s
	return compact[1:], nil
}

// twins is a set of real keys, one per twin id, and the chain's key lookup over them.
type twins map[uint64]*secp256k1.PrivateKey

func newTwins(t *testing.T, ids ...uint64) twins {
	t.Helper()
	tw := twins{}
	for _, id := range ids {
		key, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		tw[id] = key
	}
	return tw
}

func (tw twins) lookup(id uint64) ([]byte, error) {
	key, ok := tw[id]
	if !ok {
		return nil, fmt.Errorf("twin %d not found", id)
	}
	return key.PubKey().SerializeCompressed(), nil
}

// requirementDoc is a document owned by twin 10 with the given requests and weight required,
// signed by the given twins.
func requirementDoc(t *testing.T, tw twins, requests []any, weightRequired int, signers ...uint64) *Document {
	t.Helper()
	tree := loadTree(t, "vector3.json")
	set(t, tree, "signature_requirement.requests", requests)
	set(t, tree, "signature_requirement.weight_required", weightRequired)
	doc := mustParse(t, tree)
	for _, id := range signers {
		var err error
		if doc, err = SignDocument(doc, id, decredSigner{tw[id]}); err != nil {
			t.Fatal(err)
		}
	}
	return doc
}

func request(twin uint64, required bool, weight uint64) map[string]any {
	return map[string]any{"twin_id": twin, "required": required, "weight": weight}
}

func TestVerify(t *testing.T) {
	tw := newTwins(t, 10, 11, 12, 99)
	twoOfThree := []any{request(10, false, 1), request(11, false, 1), request(12, false, 1)}
	cases := []struct {
		name     string
		requests []any
		weight   int
		signers  []uint64
		rule     error // nil: the requirement is met
		msg      string
	}{
		{"1-of-1", []any{request(10, true, 1)}, 1, []uint64{10}, nil, ""},
		{"1-of-1 unsigned", []any{request(10, true, 1)}, 1, nil, ErrMissingSignature, "twin 10: is required and missing"},
		{"2-of-3 with one signature", twoOfThree, 2, []uint64{11}, ErrWeightNotReached,
			"signature_requirement.weight_required 2 is not reached: the valid signatures weigh 1"},
		{"2-of-3 with two signatures", twoOfThree, 2, []uint64{11, 12}, nil, ""},
		{"2-of-3 with three signatures", twoOfThree, 2, []uint64{10, 11, 12}, nil, ""},
		{"required signer missing", []any{request(10, false, 1), request(11, true, 1), request(12, false, 1)}, 1,
			[]uint64{10, 12}, ErrMissingSignature, "twin 11: is required and missing"},
		{"unrequested signature ignored", []any{request(10, false, 1)}, 1, []uint64{99}, ErrWeightNotReached, "weigh 0"},
		{"weights add up", []any{request(10, false, 3), request(11, false, 4)}, 7, []uint64{10, 11}, nil, ""},
		{"duplicate request", []any{request(10, false, 1), request(11, false, 1), request(11, false, 1)}, 2,
			[]uint64{11}, ErrDuplicateRequest, "signature_requirement.requests[2].twin_id 11 is requested twice"},
		{"owner not requested", []any{request(11, false, 1)}, 1, []uint64{11}, ErrOwnerNotRequested,
			"twin_id 10 is not among signature_requirement.requests"},
		{"weight out of reach", []any{request(10, false, 1)}, 2, []uint64{10}, ErrWeightNotReached,
			"is more than all requests weigh together (1)"},
		{"no weight required", []any{request(10, false, 1)}, 0, []uint64{10}, ErrBelowMinimum, "must be at least 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := requirementDoc(t, tw, tc.requests, tc.weight, tc.signers...)
			err := Verify(doc, tw.lookup)
			if tc.rule == nil {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.rule) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want rule %v saying %q", err, tc.rule, tc.msg)
			}
		})
	}
}

// withSignature replaces the signature text of one twin, keeping the rest of the document.
func withSignature(t *testing.T, doc *Document, twin uint64, sig string) *Document {
	t.Helper()
	tree := treeOf(t, doc.Bytes())
	for _, s := range get(t, tree, "signature_requirement.signatures").([]any) {
		if s.(map[string]any)["twin_id"] == json.Number(fmt.Sprint(twin)) {
			s.(map[string]any)["signature"] = sig
		}
	}
	return mustParse(t, tree)
}

func TestVerifyRefusesBadSignatures(t *testing.T) {
	tw := newTwins(t, 10, 11, 12)
	requests := []any{request(10, false, 1), request(11, false, 1), request(12, false, 1)}
	signed := requirementDoc(t, tw, requests, 1, 10, 11)
	if err := Verify(signed, tw.lookup); err != nil {
		t.Fatalf("the untampered document: %v", err)
	}
	sig11 := signed.Deployment.SignatureRequirement.Signatures[1].Signature

	// Twin 12's key signing as twin 11.
	byOther, err := Sign(signed.Hash(), decredSigner{tw[12]})
	if err != nil {
		t.Fatal(err)
	}
	// The same signature with s replaced by n - s: valid ECDSA, but not low-S.
	raw, _ := hex.DecodeString(sig11)
	var s secp256k1.ModNScalar
	s.SetByteSlice(raw[32:])
	s.Negate()
	sb := s.Bytes()
	highS := hex.EncodeToString(append(raw[:32:32], sb[:]...))
	// A signature of another hash.
	otherHash := sha256.Sum256([]byte("another deployment"))
	ofOther, err := Sign(hex.EncodeToString(otherHash[:]), decredSigner{tw[11]})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, sig string }{
		{"signed by another twin's key", hex.EncodeToString(byOther)},
		{"high S", highS},
		{"signature of another hash", hex.EncodeToString(ofOther)},
		{"a flipped bit", sig11[:10] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sig11[10])+1)%16]) + sig11[11:]},
		{"too short", sig11[:126]},
		{"not hex", strings.Repeat("zz", 64)},
		{"zero", strings.Repeat("00", 64)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := withSignature(t, signed, 11, tc.sig)
			if doc.Hash() != signed.Hash() {
				t.Fatal("changing a signature changed the hash")
			}
			err := Verify(doc, tw.lookup)
			var sigErr *SignatureError
			if !errors.Is(err, ErrBadSignature) || !errors.As(err, &sigErr) || sigErr.TwinID != 11 {
				t.Fatalf("error %v, want a bad signature of twin 11", err)
			}
		})
	}
}

func TestVerifyKeyLookup(t *testing.T) {
	tw := newTwins(t, 10, 11)
	doc := requirementDoc(t, tw, []any{request(10, false, 1), request(11, false, 1)}, 1, 10, 11)
	var looked []uint64
	failing := func(id uint64) ([]byte, error) {
		looked = append(looked, id)
		if id == 11 {
			return nil, errors.New("chain unreachable")
		}
		return tw.lookup(id)
	}
	err := Verify(doc, failing)
	if !errors.Is(err, ErrKeyLookup) || !strings.Contains(err.Error(), "twin 11: cannot get the twin's key: chain unreachable") {
		t.Fatalf("error %v, want a key lookup failure of twin 11", err)
	}
	// Signatures of twins that were not requested are not even looked up.
	tw99 := newTwins(t, 99)
	signed, err := SignDocument(requirementDoc(t, tw, []any{request(10, false, 1)}, 1, 10), 99, decredSigner{tw99[99]})
	if err != nil {
		t.Fatal(err)
	}
	looked = nil
	if err := Verify(signed, failing); err != nil {
		t.Fatal(err)
	}
	if len(looked) != 1 || looked[0] != 10 {
		t.Fatalf("looked up twins %v, want only 10", looked)
	}
}

// A Cosmos SDK key signs the hash as the CLI will, and the signature verifies here.
func TestCosmosKeySignatureVerifies(t *testing.T) {
	key := sdksecp256k1.GenPrivKey()
	doc := mustParse(t, loadTree(t, "vector1.json"))
	signed, err := SignDocument(doc, 42, key)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(id uint64) ([]byte, error) {
		if id != 42 {
			return nil, fmt.Errorf("twin %d not found", id)
		}
		return key.PubKey().Bytes(), nil
	}
	if err := Verify(signed, lookup); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// And the other way: what this package accepts, the SDK accepts too.
	digest, _ := hex.DecodeString(signed.Hash())
	sig, _ := hex.DecodeString(signed.Deployment.SignatureRequirement.Signatures[0].Signature)
	if !key.PubKey().VerifySignature(digest, sig) {
		t.Fatal("the SDK does not verify the signature")
	}
	other := sdksecp256k1.GenPrivKey()
	if VerifySignature(other.PubKey().Bytes(), digest, sig) {
		t.Fatal("another key verifies the signature")
	}
}

func TestSignDocumentKeepsTheDocument(t *testing.T) {
	tw := newTwins(t, 7)
	doc := mustParse(t, validTree(t)) // vector2 carries a (placeholder) signature of twin 7
	signed, err := SignDocument(doc, 7, decredSigner{tw[7]})
	if err != nil {
		t.Fatal(err)
	}
	if signed.Hash() != doc.Hash() {
		t.Fatal("signing changed the hash")
	}
	sigs := signed.Deployment.SignatureRequirement.Signatures
	if len(sigs) != 1 || sigs[0].TwinID != 7 || sigs[0].Signature == doc.Deployment.SignatureRequirement.Signatures[0].Signature {
		t.Fatalf("signatures %+v: want twin 7's placeholder replaced", sigs)
	}
	// Everything but the signatures reads back the same.
	want, got := doc.Deployment, signed.Deployment
	want.SignatureRequirement.Signatures, got.SignatureRequirement.Signatures = nil, nil
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("document changed:\n%+v\n%+v", want, got)
	}
	if err := Verify(signed, tw.lookup); err != nil {
		t.Fatal(err)
	}
}

func TestSignRefuses(t *testing.T) {
	tw := newTwins(t, 1)
	if _, err := Sign("ABCD", decredSigner{tw[1]}); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("a short hash: %v", err)
	}
	upper := strings.Repeat("AB", 32)
	if _, err := Sign(upper, decredSigner{tw[1]}); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("an uppercase hash: %v", err)
	}
	if _, err := Sign(strings.Repeat("ab", 32), derSigner{}); err == nil || !strings.Contains(err.Error(), "70-byte signature, expected 64") {
		t.Fatalf("a DER signer: %v", err)
	}
}

// derSigner returns a signature of the wrong shape.
type derSigner struct{}

func (derSigner) Sign([]byte) ([]byte, error) { return make([]byte, 70), nil }

// Weights are summed without wrapping around: a sum past 2^64 is past every weight required.
func TestRequirementWeightsDoNotOverflow(t *testing.T) {
	req := SignatureRequirement{
		Requests:       []SignatureRequest{{TwinID: 1, Weight: math.MaxUint64}, {TwinID: 2, Weight: 2}},
		WeightRequired: math.MaxUint64,
	}
	if err := req.validate(1); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := req.met(map[uint64]bool{1: true, 2: true}); err != nil {
		t.Fatalf("both signed: %v", err)
	}
	if err := req.met(map[uint64]bool{2: true}); !errors.Is(err, ErrWeightNotReached) {
		t.Fatalf("only twin 2 signed: %v", err)
	}
	// From JSON, such weights do not get that far.
	_, err := Parse([]byte(`{"signature_requirement":{"requests":[{"twin_id":1,"weight":18446744073709551615}]}}`))
	if !errors.Is(err, ErrNumberTooLarge) {
		t.Fatalf("parse: %v", err)
	}
}
