package grpcerr

import (
	"net/http"
	"strings"
)

// DropBinaryTrailers is REST middleware for grpc-gateway v1, which forwards every gRPC trailer as an
// HTTP trailer, binary ones ("-bin": the status details) raw, which no HTTP client can parse. It
// stops declaring them, so net/http never sends them; the details are in the JSON body already.
func DropBinaryTrailers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&trailerFilter{ResponseWriter: w}, r)
	})
}

type trailerFilter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (f *trailerFilter) WriteHeader(code int) {
	if !f.wroteHeader {
		f.wroteHeader = true
		h := f.Header()
		declared := h.Values("Trailer")
		h.Del("Trailer")
		for _, name := range declared {
			if !strings.HasSuffix(strings.ToLower(name), "-bin") {
				h.Add("Trailer", name)
			}
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *trailerFilter) Write(b []byte) (int, error) {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}

// Flush keeps streaming responses working.
func (f *trailerFilter) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}
