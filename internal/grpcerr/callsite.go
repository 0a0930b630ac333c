package grpcerr

import (
	"fmt"
	"path"
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

// callSite is "file:line" of the first captured frame outside the errors libraries and the runtime;
// "" if err carries no stack.
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
				return fmt.Sprintf("%s:%d", sourcePath(fn.Name(), file), line)
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

// sourcePath names a source file by its package's import path, cut after "github.com/" like
// cosmossdk.io/errors does ("tfgrid/tfgrid/x/tfgrid/keeper/farms.go"), never by where it was built.
func sourcePath(funcName, file string) string {
	pkg := funcName
	slash := strings.LastIndex(pkg, "/")
	if dot := strings.Index(pkg[slash+1:], "."); dot >= 0 {
		pkg = strings.TrimSuffix(pkg[:slash+1+dot], "_test") // an external test package lives in the package's dir
	}
	p := pkg + "/" + path.Base(file)
	if _, after, found := strings.Cut(p, "github.com/"); found {
		return after
	}
	return p
}
