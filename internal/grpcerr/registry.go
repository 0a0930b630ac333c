// Package grpcerr gives the chain's errors a gRPC status a program can act on: a status code by the
// error's kind (so grpc-gateway answers REST with 400, 403, 404, 409, ... instead of 500), and a
// google.rpc.ErrorInfo detail naming the error (reason), its codespace (domain) and its ABCI code
// (metadata), so clients match on structure, not on message text.
//
// Each module registers its errors through a Registry: one table holds code, kind and description,
// the code uses it (errorsmod.Error.GRPCStatus) and the module README's error table is checked
// against it (CheckREADME).
package grpcerr

import (
	"strings"
	"unicode"

	"google.golang.org/grpc/codes"

	errorsmod "cosmossdk.io/errors"
)

// Registry is one module's table of registered errors.
type Registry struct {
	codespace string
	errs      []*errorsmod.Error
}

// NewRegistry starts the error table of a codespace (the module name).
func NewRegistry(codespace string) *Registry { return &Registry{codespace: codespace} }

// Register registers an error of the codespace with its ABCI code and gRPC status code (its kind),
// and adds it to the table. Codes are public API: never renumber or reuse them.
func (r *Registry) Register(code uint32, kind codes.Code, desc string) *errorsmod.Error {
	e := errorsmod.RegisterWithGRPCCode(r.codespace, code, kind, desc)
	r.errs = append(r.errs, e)
	return e
}

// Codespace is the module's codespace.
func (r *Registry) Codespace() string { return r.codespace }

// Errors lists the registered errors in registration order.
func (r *Registry) Errors() []*errorsmod.Error { return append([]*errorsmod.Error(nil), r.errs...) }

// Kind is the gRPC status code an error was registered with.
func Kind(e *errorsmod.Error) codes.Code { return e.GRPCStatus().Code() }

// Reason is an error's stable machine name, derived from its registered description:
// "twin not found" -> "TWIN_NOT_FOUND". It is the ErrorInfo reason and the README's name column.
func Reason(desc string) string {
	var b strings.Builder
	underscore := false
	for _, r := range desc {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if underscore && b.Len() > 0 {
				b.WriteByte('_')
			}
			underscore = false
			b.WriteRune(unicode.ToUpper(r))
			continue
		}
		underscore = true
	}
	return b.String()
}
