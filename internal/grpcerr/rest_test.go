package grpcerr_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
)

// TestDropBinaryTrailers: a handler that declares and sends a binary trailer, as grpc-gateway v1
// does with grpc-status-details-bin, gives a response a client can read, text trailers kept.
func TestDropBinaryTrailers(t *testing.T) {
	h := grpcerr.DropBinaryTrailers(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Trailer", "Grpc-Trailer-Grpc-Status-Details-Bin")
		w.Header().Add("Trailer", "Grpc-Trailer-X-Height")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"code":5}`)
		w.Header().Add("Grpc-Trailer-Grpc-Status-Details-Bin", "\b\x05\x12\nbinary\x1a")
		w.Header().Add("Grpc-Trailer-X-Height", "7")
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the response must parse")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.JSONEq(t, `{"code":5}`, string(body))
	require.Equal(t, "7", resp.Trailer.Get("Grpc-Trailer-X-Height"))
	require.Empty(t, resp.Trailer.Get("Grpc-Trailer-Grpc-Status-Details-Bin"))
}
