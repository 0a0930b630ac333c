package deployment

import (
	"bytes"
	"slices"
	"strings"
)

// WorkloadData is the typed data of one workload type.
type WorkloadData interface {
	// validate checks the data on its own (rules that involve other workloads are in
	// Deployment.Validate); workload is the workload's name for errors.
	validate(workload string) error
	// capacity is what the workload needs from the node and the contract.
	capacity() Capacity
}

// dataTypes makes an empty value of each workload type's data.
var dataTypes = map[string]func() WorkloadData{
	TypeZMachine:         func() WorkloadData { return &ZMachine{} },
	TypeZMount:           func() WorkloadData { return &ZMount{} },
	TypeVolume:           func() WorkloadData { return &Volume{} },
	TypeNetwork:          func() WorkloadData { return &Network{} },
	TypeIP:               func() WorkloadData { return &PublicIP{} },
	TypeGatewayNameProxy: func() WorkloadData { return &GatewayNameProxy{} },
	TypeGatewayFQDNProxy: func() WorkloadData { return &GatewayFQDNProxy{} },
	TypeZDB:              func() WorkloadData { return &ZDB{} },
	TypeZLogs:            func() WorkloadData { return &ZLogs{} },
	TypeQSFS:             func() WorkloadData { return &QSFS{} },
}

// KnownTypes lists the workload types, sorted.
func KnownTypes() []string {
	types := make([]string, 0, len(dataTypes))
	for t := range dataTypes {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// DecodeData reads the workload's data as its type's struct (*ZMachine, *ZMount, ...), as
// strictly as Parse reads the deployment. It does not validate the data: Deployment.Validate does.
func (w *Workload) DecodeData() (WorkloadData, error) {
	newData, ok := dataTypes[w.Type]
	if !ok {
		return nil, workloadErr(w.Name, "type", w.Type, ErrUnknownType,
			"is not a workload type (known: %s)", strings.Join(KnownTypes(), ", "))
	}
	raw := bytes.TrimSpace(w.Data)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, workloadErr(w.Name, "data", nil, ErrMissing, "is required for a %s workload", w.Type)
	}
	tree, ferr := parseObject(raw, "data")
	if ferr != nil {
		ferr.Workload = w.Name
		return nil, ferr
	}
	data := newData()
	if err := decodeStrict(raw, tree, data, w.Name); err != nil {
		return nil, err
	}
	return data, nil
}
