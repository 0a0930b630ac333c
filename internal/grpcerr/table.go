package grpcerr

import (
	"fmt"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/runtime"

	errorsmod "cosmossdk.io/errors"
)

// TableHeader is the header of a module README's error table.
const TableHeader = "| code | name | gRPC status | REST | when |"

// Row is an error's README table row up to its "when" column.
func Row(e *errorsmod.Error) string {
	kind := Kind(e)
	return fmt.Sprintf("| %d | `%s` | `%s` | %d |", e.ABCICode(), Reason(e.Error()), kind, runtime.HTTPStatusFromCode(kind))
}

// CheckTable checks that markdown holds the registry's error table: TableHeader, its separator, then
// one row per registered error, in registration order, with the same code, name, gRPC status and REST
// status, and a non-empty "when" column. The error lists every row that differs.
func CheckTable(markdown string, r *Registry) error {
	lines := strings.Split(markdown, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == TableHeader {
			start = i + 2 // skip the separator row
			break
		}
	}
	if start < 0 {
		return fmt.Errorf("no error table: want a line %q", TableHeader)
	}
	var problems []string
	for i := range r.errs {
		want := Row(r.errs[i])
		if start+i >= len(lines) {
			problems = append(problems, "missing row: "+want+" <when> |")
			continue
		}
		got := strings.TrimSpace(lines[start+i])
		when, ok := strings.CutPrefix(got, want)
		if !ok {
			problems = append(problems, fmt.Sprintf("row %d: got %q, want it to start with %q", i+1, got, want))
			continue
		}
		if strings.Trim(strings.TrimSpace(when), "|") == "" {
			problems = append(problems, fmt.Sprintf("row %d: empty \"when\" column: %q", i+1, got))
		}
	}
	if end := start + len(r.errs); end < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[end]), "|") {
		problems = append(problems, fmt.Sprintf("extra row after the %d registered errors: %q", len(r.errs), lines[end]))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the %s error table does not match the registered errors:\n  %s", r.codespace, strings.Join(problems, "\n  "))
	}
	return nil
}
