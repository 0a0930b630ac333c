package grpcerr

import (
	"fmt"
	"runtime"
	"strings"

	pkgerrors "github.com/pkg/errors"
)

// CallSite returns err so that its %v form ("message [file:line]", what the tx service's Simulate
// puts in its answer) names the line in this code base that wrapped the error. cosmossdk.io/errors
// prints the first frame of the stack it captured and trims only its package-level Wrap/Wrapf, so
// for the ErrX.Wrapf method every module uses it names its own errors.go instead.
// The result keeps err's ABCI code, codespace, gRPC status and errors.Is/As behaviour.
func CallSite(err error) error {
	if err == nil {
		return nil
	}
	site := callSite(err)
	if site == "" {
		return err
	}
	return &callSiteError{err: err, site: site}
}

type callSiteError struct {
	err  error
	site string
}

func (e *callSiteError) Error() string { return e.err.Error() }
func (e *callSiteError) Unwrap() error { return e.err }
func (e *callSiteError) Cause() error  { return e.err } // cosmossdk.io/errors walks Cause for ABCI codes

// Format prints %v as "message [site]" and leaves %+v (the whole stack) and %s to the wrapped error.
func (e *callSiteError) Format(s fmt.State, verb rune) {
	if verb == 'v' && !s.Flag('+') {
		_, _ = fmt.Fprintf(s, "%s [%s]", e.err.Error(), e.site)
		return
	}
	if verb == 'v' {
		_, _ = fmt.Fprintf(s, "%+v", e.err)
		return
	}
	_, _ = fmt.Fprint(s, e.err.Error())
}

// callSite is "file:line" of the first captured frame outside the errors libraries and the runtime,
// the file cut after "github.com/" like cosmossdk.io/errors does; "" if err carries no stack.
func callSite(err error) string {
	type stackTracer interface{ StackTrace() pkgerrors.StackTrace }
	for err != nil {
		if st, ok := err.(stackTracer); ok {
			for _, f := range st.StackTrace() {
				pc := uintptr(f) - 1
				fn := runtime.FuncForPC(pc)
				if fn == nil || skippedFrame(fn.Name()) {
					continue
				}
				file, line := fn.FileLine(pc)
				if _, after, found := strings.Cut(file, "github.com/"); found {
					file = after
				}
				return fmt.Sprintf("%s:%d", file, line)
			}
			return ""
		}
		c, ok := err.(interface{ Cause() error })
		if !ok {
			return ""
		}
		err = c.Cause()
	}
	return ""
}

func skippedFrame(fn string) bool {
	for _, p := range []string{"cosmossdk.io/errors.", "github.com/pkg/errors.", "runtime."} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}
