// Package deployment is the deployment document that a user sends to a node: its JSON model, the
// canonical hash that the node contract stores and every signature signs, the signature rule, the
// validation and update rules and the capacity a deployment needs.
//
// It is pure: it imports nothing else of this repository, so the node agent and the user CLI can
// both use it and the chain never does. See README.md for the rules.
package deployment

import "encoding/json"

// Deployment is the document a twin sends to a node, field for field as Zero-OS names them.
type Deployment struct {
	// Version is 0 on create and exactly the previous version + 1 on every update.
	Version uint32 `json:"version"`
	// TwinID is the owner twin: it must own the contract and be the sender of the deployment.
	TwinID uint64 `json:"twin_id"`
	// ContractID is the node contract the deployment runs under. Not hashed: the contract is
	// created from the hash first.
	ContractID           uint64               `json:"contract_id"`
	Metadata             string               `json:"metadata"`
	Description          string               `json:"description"`
	Expiration           int64                `json:"expiration"`
	SignatureRequirement SignatureRequirement `json:"signature_requirement"`
	// Workloads are hashed in list order.
	Workloads []Workload `json:"workloads"`
}

// SignatureRequirement says which twins may sign the deployment and how many must.
type SignatureRequirement struct {
	Requests       []SignatureRequest `json:"requests"`
	WeightRequired uint64             `json:"weight_required"`
	// Signatures are not hashed: they sign the hash.
	Signatures []Signature `json:"signatures"`
	// SignatureStyle exists for Zero-OS compatibility of the model; only "" (the default) is valid.
	SignatureStyle string `json:"signature_style"`
}

// SignatureRequest names a twin whose signature counts towards the requirement.
type SignatureRequest struct {
	TwinID   uint64 `json:"twin_id"`
	Required bool   `json:"required"`
	Weight   uint64 `json:"weight"`
}

// Signature is one twin's signature of the deployment hash.
type Signature struct {
	TwinID uint64 `json:"twin_id"`
	// Signature is the lowercase hex of the 64-byte r‖s secp256k1 signature.
	Signature     string `json:"signature"`
	SignatureType string `json:"signature_type"`
}

// SignatureTypeSecp256k1 is the only signature type: the twin's account key.
const SignatureTypeSecp256k1 = "secp256k1"

// Workload is one unit of a deployment. Data holds the type's own JSON (see DecodeData).
type Workload struct {
	Version     uint32          `json:"version"`
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Data        json.RawMessage `json:"data"`
	Metadata    string          `json:"metadata"`
	Description string          `json:"description"`
	// Result is filled by the node and not hashed.
	Result Result `json:"result"`
}

// Result is the node's account of a workload.
type Result struct {
	// Created is the unix time in seconds of the last state change.
	Created int64           `json:"created"`
	State   ResultState     `json:"state"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// ResultState is the state of a workload as the node reports it.
type ResultState string

// Workload states, as Zero-OS names them.
const (
	StateInit      ResultState = "init"
	StateUnchanged ResultState = "unchanged"
	StateError     ResultState = "error"
	StateOk        ResultState = "ok"
	StateDeleted   ResultState = "deleted"
	StatePaused    ResultState = "paused"
)

// Workload types, as Zero-OS names them.
const (
	TypeZMachine         = "zmachine"
	TypeZMount           = "zmount"
	TypeVolume           = "volume"
	TypeNetwork          = "network"
	TypeIP               = "ip"
	TypeGatewayNameProxy = "gateway-name-proxy"
	TypeGatewayFQDNProxy = "gateway-fqdn-proxy"
	TypeZDB              = "zdb"
	TypeZLogs            = "zlogs"
	TypeQSFS             = "qsfs"
)
