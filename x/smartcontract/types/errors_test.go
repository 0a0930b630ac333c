package types_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// TestErrorTableInREADME keeps the README's error table (code, name, gRPC status, REST status) equal
// to the registered errors.
func TestErrorTableInREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	require.NoError(t, grpcerr.CheckTable(string(readme), types.Errors))
}
