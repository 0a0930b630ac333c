package deployment

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// The published test vectors (README.md): input document → canonical form → hash. The canonical
// forms in testdata/*.canonical were written by hand from the rules, not produced by this code.
var hashVectors = []struct {
	name string
	hash string
}{
	{"vector1", "4960df8d05737e6178ec1e9971f8ddff30dcba7a5c652924a95d1bb4693ae8af"},
	{"vector2", "e0b15e79a643847bad81c68378aa27b183187c38701f78c2c6a2e68282fa5773"},
	{"vector3", "3c9086bad5d328037e3f412260a74580b5ae321fcceb22cfe75b29bfe834a18f"},
}

func TestHashVectors(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range hashVectors {
		t.Run(v.name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + v.name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			wantCanonical, err := os.ReadFile("testdata/" + v.name + ".canonical")
			if err != nil {
				t.Fatal(err)
			}
			wantCanonical = []byte(strings.TrimSuffix(string(wantCanonical), "\n"))
			doc, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			canonical, err := canonicalJSON(hashedPart(doc.tree))
			if err != nil {
				t.Fatal(err)
			}
			if string(canonical) != string(wantCanonical) {
				t.Fatalf("canonical form\n got %s\nwant %s", canonical, wantCanonical)
			}
			sum := sha256.Sum256(wantCanonical)
			if doc.Hash() != hex.EncodeToString(sum[:]) || doc.Hash() != v.hash {
				t.Fatalf("hash %s, want %s (sha256 of the canonical form %x)", doc.Hash(), v.hash, sum)
			}
			if !strings.Contains(string(readme), v.hash) || !strings.Contains(string(readme), strings.TrimSpace(string(raw))) {
				t.Fatalf("README.md does not publish %s with its input and hash %s", v.name, v.hash)
			}
		})
	}
}

// What the hash leaves out changes nothing; everything else changes it.
func TestHashCoversExactlyTheDocumentWithoutExcludedFields(t *testing.T) {
	base := mustParse(t, validTree(t)).Hash()
	cases := []struct {
		name    string
		path    string
		value   any
		changes bool
	}{
		{"contract id", "contract_id", 99, false},
		{"signatures", "signature_requirement.signatures", []any{}, false},
		{"a result", "workloads.0.result", map[string]any{"state": "error", "message": "boom"}, false},
		{"version", "version", 2, true},
		{"twin", "twin_id", 8, true},
		{"metadata", "metadata", "x", true},
		{"description", "description", "x", true},
		{"expiration", "expiration", 5, true},
		{"a request weight", "signature_requirement.requests.0.weight", 2, true},
		{"weight required", "signature_requirement.weight_required", 2, true},
		{"signature style", "signature_requirement.signature_style", "x", true},
		{"workload data", "workloads.1.data.size", 2147483648, true},
		{"workload name", "workloads.1.name", "data2", true},
		{"workload metadata", "workloads.1.metadata", "m", true},
		{"corex (not hashed by Zero-OS)", "workloads.3.data.corex", true, true},
		{"an env value", "workloads.3.data.env.MODE", "dev", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := validTree(t)
			set(t, tree, tc.path, tc.value)
			got := mustParse(t, tree).Hash()
			if (got != base) != tc.changes {
				t.Fatalf("hash changed = %v, want %v", got != base, tc.changes)
			}
		})
	}
	t.Run("workload order", func(t *testing.T) {
		tree := validTree(t)
		w := tree["workloads"].([]any)
		w[0], w[1] = w[1], w[0]
		if mustParse(t, tree).Hash() == base {
			t.Fatal("swapping workloads kept the hash")
		}
	})
	t.Run("a missing field is not an empty one", func(t *testing.T) {
		tree := validTree(t)
		del(t, tree, "metadata")
		if mustParse(t, tree).Hash() == base {
			t.Fatal("removing metadata kept the hash")
		}
	})
}

// The same document written differently (key order, whitespace, escapes) has the same hash.
func TestHashIgnoresEncoding(t *testing.T) {
	a := `{"version":0,"twin_id":1,"description":"é<","signature_requirement":{"requests":[{"twin_id":1,"weight":1}],"weight_required":1},"workloads":[]}`
	b := "{ \"workloads\" : [ ],\n\t\"signature_requirement\": {\"weight_required\": 1, \"requests\": [{\"weight\": 1, \"twin_id\": 1}]},\n" +
		` "description": "\u00e9\u003c", "twin_id": 1, "version": 0 }`
	ha, err := HashJSON([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	hb, err := HashJSON([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if ha != hb {
		t.Fatalf("hashes differ: %s vs %s", ha, hb)
	}
}

func TestParseRefusesBadDocuments(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		rule error
		msg  string
	}{
		{"not JSON", `{"version":`, ErrInvalidJSON, "document is not valid JSON"},
		{"not UTF-8", "{\"metadata\":\"\xff\"}", ErrInvalidJSON, "not valid UTF-8"},
		{"lone surrogate", `{"metadata":"\ud800"}`, ErrInvalidJSON, "I-JSON"},
		{"array at the top", `[1]`, ErrWrongType, "document is not a JSON object"},
		{"trailing data", `{} {}`, ErrInvalidJSON, "not valid JSON"},
		{"duplicate key", `{"version":1,"version":2}`, ErrDuplicateKey, "version appears twice"},
		{"duplicate nested key", `{"signature_requirement":{"requests":[{"twin_id":1,"twin_id":2}]}}`, ErrDuplicateKey,
			"signature_requirement.requests[0].twin_id appears twice"},
		{"unknown field", `{"versoin":1}`, ErrUnknownField, "versoin is not a field"},
		{"field in other case", `{"Version":1}`, ErrUnknownField, "Version is not a field"},
		{"unknown nested field", `{"workloads":[{"name":"a","results":{}}]}`, ErrUnknownField, "workloads[0].results"},
		{"integer beyond 2^53", `{"contract_id":9007199254740993}`, ErrNumberTooLarge, "contract_id 9007199254740993 is beyond"},
		{"negative beyond 2^53", `{"expiration":-9007199254740993}`, ErrNumberTooLarge, "expiration -9007199254740993"},
		{"string for number", `{"twin_id":"7"}`, ErrWrongType, `twin_id "7" is not an integer from 0 to 18446744073709551615`},
		{"negative version", `{"version":-1}`, ErrWrongType, "version -1 is not an integer from 0 to 4294967295"},
		{"fraction", `{"twin_id":1.5}`, ErrWrongType, "twin_id 1.5 is not an integer"},
		{"integer with an exponent", `{"version":1e3}`, ErrWrongType, "version 1e3 is not an integer"},
		{"bool for string", `{"metadata":true}`, ErrWrongType, "metadata true is not a string"},
		{"indexed path", `{"workloads":[{"name":"a"},{"version":-1}]}`, ErrWrongType, "workloads[1].version -1 is not an integer from 0 to 4294967295"},
		{"bool for integer", `{"signature_requirement":{"requests":[{"twin_id":true}]}}`, ErrWrongType,
			"signature_requirement.requests[0].twin_id true is not an integer"},
		{"workloads not array", `{"workloads":{}}`, ErrWrongType, "workloads is an object, expected an array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.raw))
			if !errors.Is(err, tc.rule) {
				t.Fatalf("error %v, want rule %v", err, tc.rule)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestParseAcceptsTheLargestExactInteger(t *testing.T) {
	doc, err := Parse([]byte(`{"contract_id":9007199254740992,"expiration":-9007199254740992}`))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Deployment.ContractID != 1<<53 || doc.Deployment.Expiration != -(1<<53) {
		t.Fatalf("read %d and %d", doc.Deployment.ContractID, doc.Deployment.Expiration)
	}
}
