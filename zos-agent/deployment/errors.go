package deployment

import (
	"errors"
	"fmt"
)

// Rules a document can break. Every error this package returns wraps exactly one of them, so
// callers match with errors.Is and show Error() to the user.
var (
	// Document shape.
	ErrInvalidJSON      = errors.New("invalid JSON")
	ErrDuplicateKey     = errors.New("duplicate key")
	ErrUnknownField     = errors.New("unknown field")
	ErrNumberTooLarge   = errors.New("number not exactly representable")
	ErrWrongType        = errors.New("wrong JSON type")
	ErrMissing          = errors.New("missing value")
	ErrInvalidValue     = errors.New("invalid value")
	ErrBelowMinimum     = errors.New("below minimum")
	ErrCapacityOverflow = errors.New("capacity overflow")

	// Workloads.
	ErrInvalidName     = errors.New("invalid workload name")
	ErrDuplicateName   = errors.New("duplicate workload name")
	ErrUnknownType     = errors.New("unknown workload type")
	ErrWorkloadVersion = errors.New("invalid workload version")
	ErrBadReference    = errors.New("bad workload reference")
	ErrReferenceInUse  = errors.New("workload referenced twice")

	// Signatures.
	ErrDuplicateRequest     = errors.New("duplicate signature request")
	ErrDuplicateSignature   = errors.New("duplicate signature")
	ErrOwnerNotRequested    = errors.New("owner twin not among the signature requests")
	ErrMissingSignature     = errors.New("missing required signature")
	ErrBadSignature         = errors.New("bad signature")
	ErrKeyLookup            = errors.New("twin key lookup failed")
	ErrWeightNotReached     = errors.New("signature weight not reached")
	ErrUnsupportedSignature = errors.New("unsupported signature")

	// Updates.
	ErrIdentityChanged   = errors.New("twin or contract changed")
	ErrDeploymentVersion = errors.New("invalid deployment version")
	ErrTypeChanged       = errors.New("workload type changed")
	ErrNotUpdatable      = errors.New("workload type cannot be updated")
	ErrShrink            = errors.New("shrink not allowed")
	ErrUnversionedChange = errors.New("workload changed without a new version")
)

// FieldError is a rule broken by one field of the deployment or of one of its workloads.
type FieldError struct {
	// Workload is the workload's name, empty for a deployment-level field.
	Workload string
	// Field is the JSON path of the field inside the deployment or the workload's data,
	// e.g. "compute_capacity.memory" or "signature_requirement.requests[1].twin_id".
	Field string
	// Value is the offending value, nil when there is none to show (a missing field).
	Value any
	// Rule is the broken rule, one of the Err* values.
	Rule error
	// Problem says how the value breaks the rule, e.g. "is below the minimum 268435456 (256 MiB)".
	Problem string
}

func (e *FieldError) Error() string {
	subject := "deployment"
	if e.Workload != "" {
		subject = fmt.Sprintf("workload %q", e.Workload)
	}
	if e.Value == nil {
		return fmt.Sprintf("%s: %s %s", subject, e.Field, e.Problem)
	}
	if s, ok := e.Value.(string); ok {
		return fmt.Sprintf("%s: %s %q %s", subject, e.Field, s, e.Problem)
	}
	return fmt.Sprintf("%s: %s %v %s", subject, e.Field, e.Value, e.Problem)
}

func (e *FieldError) Unwrap() error { return e.Rule }

// fieldErr builds a deployment-level FieldError.
func fieldErr(field string, value any, rule error, problem string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Rule: rule, Problem: fmt.Sprintf(problem, args...)}
}

// workloadErr builds a FieldError about one workload.
func workloadErr(workload, field string, value any, rule error, problem string, args ...any) *FieldError {
	e := fieldErr(field, value, rule, problem, args...)
	e.Workload = workload
	return e
}

// SignatureError is a signature rule broken for one twin.
type SignatureError struct {
	TwinID uint64
	// Rule is the broken rule, one of the signature Err* values.
	Rule error
	// Problem says what is wrong, e.g. "signature does not verify against the twin's key".
	Problem string
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("deployment signature of twin %d: %s", e.TwinID, e.Problem)
}

func (e *SignatureError) Unwrap() error { return e.Rule }
