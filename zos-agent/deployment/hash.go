package deployment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	"github.com/gowebpki/jcs"
)

// Keys the hash leaves out: what is only known after the hash (the contract, the signatures of
// the hash) or what the node writes (the results).
const (
	keyContractID           = "contract_id"
	keySignatureRequirement = "signature_requirement"
	keySignatures           = "signatures"
	keyWorkloads            = "workloads"
	keyResult               = "result"
)

// hashTree is the deployment hash of a parsed document (see Document.Hash).
func hashTree(tree map[string]any) (string, error) {
	canonical, err := canonicalJSON(hashedPart(tree))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// hashedPart is the document without the keys the hash leaves out. It copies only what it
// changes; tree is not modified.
func hashedPart(tree map[string]any) map[string]any {
	out := maps.Clone(tree)
	delete(out, keyContractID)
	if req, ok := out[keySignatureRequirement].(map[string]any); ok {
		req = maps.Clone(req)
		delete(req, keySignatures)
		out[keySignatureRequirement] = req
	}
	if workloads, ok := out[keyWorkloads].([]any); ok {
		stripped := make([]any, len(workloads))
		for i, w := range workloads {
			if obj, ok := w.(map[string]any); ok {
				obj = maps.Clone(obj)
				delete(obj, keyResult)
				w = obj
			}
			stripped[i] = w
		}
		out[keyWorkloads] = stripped
	}
	return out
}

// canonicalJSON is the RFC 8785 (JSON Canonicalization Scheme) form of a parsed JSON value.
func canonicalJSON(v any) ([]byte, error) {
	encoded, err := json.Marshal(v)
	if err != nil {
		return nil, fieldErr("document", nil, ErrInvalidJSON, "cannot be encoded: %v", err)
	}
	canonical, err := jcs.Transform(encoded)
	if err != nil {
		return nil, fieldErr("document", nil, ErrInvalidJSON, "cannot be canonicalized (RFC 8785): %v", err)
	}
	return canonical, nil
}
