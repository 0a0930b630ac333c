// Package deploy is the user's side of a deployment: it checks a deployment file as the node will,
// signs it, creates the node contract that reserves what it needs (with the file sealed to the
// owner's key as the contract's deployment data), sends it to the node over RMB and follows it to
// running. The `tfgridd deployment` commands are thin wrappers over it; a Go program can use it the
// same way.
package deploy

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// ParseFile reads a deployment file and applies the node's rules to it.
func ParseFile(raw []byte) (*deployment.Document, error) {
	doc, err := deployment.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("deployment file: %w", err)
	}
	return validated(doc)
}

// parseOwnFile reads a deployment file of the twin with account key: it fills what the file may
// leave out (the owner when twin_id is 0, the networks' WireGuard keys), then applies the node's rules.
func parseOwnFile(raw []byte, twin uint64, account *secp256k1.PrivKey) (*deployment.Document, error) {
	doc, err := deployment.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("deployment file: %w", err)
	}
	if doc, err = withOwner(doc, twin); err != nil {
		return nil, err
	}
	if doc, err = withNetworkKeys(doc, account); err != nil {
		return nil, err
	}
	return validated(doc)
}

func validated(doc *deployment.Document) (*deployment.Document, error) {
	if err := doc.Deployment.Validate(); err != nil {
		return nil, fmt.Errorf("deployment file: %w", err)
	}
	return doc, nil
}

// withFields returns the document with top-level fields replaced (numbers stay exact).
func withFields(doc *deployment.Document, fields map[string]any) (*deployment.Document, error) {
	tree, err := decodeTree(doc.Bytes())
	if err != nil {
		return nil, err
	}
	for k, v := range fields {
		tree[k] = v
	}
	return encodeTree(tree)
}

func decodeTree(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	return tree, nil
}

func encodeTree(tree map[string]any) (*deployment.Document, error) {
	raw, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	return deployment.Parse(raw)
}

// withOwner fills twin_id, and the signature requests of twin 0, with twin when twin_id is 0 (so a
// file can be written without knowing one's twin id); another owner is an error, since only the
// owner creates the contract.
func withOwner(doc *deployment.Document, twin uint64) (*deployment.Document, error) {
	switch doc.Deployment.TwinID {
	case twin:
		return doc, nil
	case 0:
	default:
		return nil, fmt.Errorf("deployment file: twin_id %d is not your twin %d: only the owner deploys it", doc.Deployment.TwinID, twin)
	}
	tree, err := decodeTree(doc.Bytes())
	if err != nil {
		return nil, err
	}
	tree["twin_id"] = twin
	if req, ok := tree["signature_requirement"].(map[string]any); ok {
		requests, _ := req["requests"].([]any)
		for _, r := range requests {
			if obj, ok := r.(map[string]any); ok && fmt.Sprint(obj["twin_id"]) == "0" {
				obj["twin_id"] = twin
			}
		}
	}
	return encodeTree(tree)
}

// withNetworkKeys fills each network workload's empty wireguard_private_key with the key derived
// from the owner's account key and the network's name (networkKey), so a deployment file needs no
// secret written into it, and every deployment of the twin that names the network brings the same
// key (a network name is one network per twin on a node). The key is part of the hash: the owner
// fills it before anyone signs.
func withNetworkKeys(doc *deployment.Document, account *secp256k1.PrivKey) (*deployment.Document, error) {
	tree, err := decodeTree(doc.Bytes())
	if err != nil {
		return nil, err
	}
	changed := false
	workloads, _ := tree["workloads"].([]any)
	for _, raw := range workloads {
		w, ok := raw.(map[string]any)
		if !ok || w["type"] != string(deployment.TypeNetwork) {
			continue
		}
		data, ok := w["data"].(map[string]any)
		if !ok || data["wireguard_private_key"] != "" {
			continue
		}
		key, err := networkKey(account, fmt.Sprint(w["name"]))
		if err != nil {
			return nil, err
		}
		data["wireguard_private_key"] = key
		changed = true
	}
	if !changed {
		return doc, nil
	}
	return encodeTree(tree)
}

// keylessNetwork names a network workload whose wireguard_private_key is still empty.
func keylessNetwork(d *deployment.Deployment) (string, bool) {
	for _, w := range d.Workloads {
		var n deployment.Network
		if w.Type == deployment.TypeNetwork && json.Unmarshal(w.Data, &n) == nil && n.WireGuardPrivateKey == "" {
			return w.Name, true
		}
	}
	return "", false
}

// networkKey is the WireGuard private key of the twin's network name: HKDF-SHA256 of the account
// key (info "tfgrid-wireguard-v1/<name>"), clamped as Curve25519 keys are; base64.
func networkKey(account *secp256k1.PrivKey, name string) (string, error) {
	if account == nil {
		return "", fmt.Errorf("network %q: wireguard_private_key is empty and there is no account key to derive it from", name)
	}
	k, err := hkdf.Key(sha256.New, account.Key, nil, "tfgrid-wireguard-v1/"+name, 32)
	if err != nil {
		return "", err
	}
	k[0] &= 248
	k[31] = k[31]&127 | 64
	return base64.StdEncoding.EncodeToString(k), nil
}

// missingSigners are the requested twins without a signature while the signed weight is below
// weight_required (nil when it is met by weight and every required twin signed).
func missingSigners(d *deployment.Deployment) []uint64 {
	signed := map[uint64]bool{}
	for _, s := range d.SignatureRequirement.Signatures {
		signed[s.TwinID] = true
	}
	var weight uint64
	var missing, requiredMissing []uint64
	for _, r := range d.SignatureRequirement.Requests {
		switch {
		case signed[r.TwinID]:
			weight += r.Weight
		case r.Required:
			requiredMissing = append(requiredMissing, r.TwinID)
		default:
			missing = append(missing, r.TwinID)
		}
	}
	if len(requiredMissing) > 0 {
		return requiredMissing
	}
	if weight >= d.SignatureRequirement.WeightRequired {
		return nil
	}
	return missing
}

// publicIPsOf counts the ip workloads that ask for an IPv4: each takes one of the contract's IPs.
func publicIPsOf(d *deployment.Deployment) (uint32, error) {
	var n uint32
	for i := range d.Workloads {
		w := &d.Workloads[i]
		if w.Type != deployment.TypeIP {
			continue
		}
		data, err := w.DecodeData()
		if err != nil {
			return 0, err
		}
		if ip, ok := data.(*deployment.PublicIP); ok && ip.V4 {
			n++
		}
	}
	return n, nil
}

// nextVersion makes the file the next version of current: version current + 1, contract and twin
// kept, a new or changed workload at the new version and an unchanged one at its old version.
func nextVersion(current *deployment.Deployment, file *deployment.Document) (*deployment.Document, error) {
	version := current.Version + 1
	old := map[string]deployment.Workload{}
	for _, w := range current.Workloads {
		old[w.Name] = w
	}
	tree, err := decodeTree(file.Bytes())
	if err != nil {
		return nil, err
	}
	workloads, _ := tree["workloads"].([]any)
	for i, raw := range workloads {
		obj, ok := raw.(map[string]any)
		if !ok || i >= len(file.Deployment.Workloads) {
			continue
		}
		w := file.Deployment.Workloads[i]
		prev, kept := old[w.Name]
		if kept && sameWorkload(prev, w) {
			obj["version"] = prev.Version
		} else {
			obj["version"] = version
		}
	}
	tree["version"] = version
	tree["contract_id"] = current.ContractID
	tree["twin_id"] = current.TwinID
	return encodeTree(tree)
}

// sameWorkload: same type, data (as JSON values), metadata and description, so the update keeps it.
func sameWorkload(prev, w deployment.Workload) bool {
	if prev.Type != w.Type || prev.Metadata != w.Metadata || prev.Description != w.Description {
		return false
	}
	a, errA := decodeValue(prev.Data)
	b, errB := decodeValue(w.Data)
	return errA == nil && errB == nil && reflect.DeepEqual(a, b)
}

func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
