package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// errorWant is what a client must be able to act on: the gRPC code (and so the REST status) and
// the ErrorInfo detail.
type errorWant struct {
	code      codes.Code
	http      int
	reason    string
	codespace string
	abciCode  uint32
}

// TestQueryErrors queries a real node with bad input over gRPC and REST: each kind of error has its
// gRPC code and HTTP status, and its codespace and code travel as a google.rpc.ErrorInfo detail (gRPC
// status details, REST "details"). A failing simulation names the line that raised the error.
func TestQueryErrors(t *testing.T) {
	c := newChain(t, "errors")
	c.start(1)
	sc := c.scQuery()
	billing := billingtypes.NewQueryClient(c.conn)

	twinNotFound := errorWant{codes.NotFound, 404, "TWIN_NOT_FOUND", "tfgrid", 7}
	badAddress := errorWant{codes.InvalidArgument, 400, "INVALID_ADDRESS", "sdk", 7}
	badPage := errorWant{codes.InvalidArgument, 400, "INVALID_REQUEST", "sdk", 18}
	contractNotFound := errorWant{codes.NotFound, 404, "CONTRACT_NOT_FOUND", "smartcontract", 2}

	cases := []struct {
		name string
		grpc func(context.Context) error
		rest string
		want errorWant
	}{
		{"twin not found", func(ctx context.Context) error {
			_, err := c.query().Twin(ctx, &types.QueryTwinRequest{Id: 999})
			return err
		}, "/tfgrid/tfgrid/v1/twins/999", twinNotFound},
		{"bad bech32 address", func(ctx context.Context) error {
			_, err := c.query().TwinByAccount(ctx, &types.QueryTwinByAccountRequest{Address: "tf1notanaddress"})
			return err
		}, "/tfgrid/tfgrid/v1/twins/by-account/tf1notanaddress", badAddress},
		{"pagination key and offset", func(ctx context.Context) error {
			_, err := c.query().Twins(ctx, &types.QueryTwinsRequest{Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1}})
			return err
		}, "/tfgrid/tfgrid/v1/twins?pagination.key=AQ%3D%3D&pagination.offset=1", badPage},
		{"pagination limit over max", func(ctx context.Context) error {
			_, err := c.query().Farms(ctx, &types.QueryFarmsRequest{Pagination: &query.PageRequest{Limit: 5000}})
			return err
		}, "/tfgrid/tfgrid/v1/farms?pagination.limit=5000", badPage},
		{"contract not found", func(ctx context.Context) error {
			_, err := sc.Contract(ctx, &sctypes.QueryContractRequest{Id: 999})
			return err
		}, "/tfgrid/smartcontract/v1/contracts/999", contractNotFound},
		{"contract pagination misuse", func(ctx context.Context) error {
			_, err := sc.ContractsByTwin(ctx, &sctypes.QueryContractsByTwinRequest{TwinId: 1, Pagination: &query.PageRequest{Limit: 1001}})
			return err
		}, "/tfgrid/smartcontract/v1/contracts/by-twin/1?pagination.limit=1001", badPage},
		{"billing of a missing contract", func(ctx context.Context) error {
			_, err := billing.Contract(ctx, &billingtypes.QueryContractRequest{Id: 999})
			return err
		}, "/tfgrid/billing/v1/contracts/999", contractNotFound},
		{"billing twin not found", func(ctx context.Context) error {
			_, err := billing.TwinCosts(ctx, &billingtypes.QueryTwinCostsRequest{Id: 999})
			return err
		}, "/tfgrid/billing/v1/twins/999/costs", twinNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.on(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tc.grpc(ctx)
			require.Equal(t, tc.want.code, status.Code(err), "gRPC: %v", err)
			info := grpcerr.Info(err)
			require.NotNil(t, info, "gRPC: no ErrorInfo in %v", err)
			require.Equal(t, tc.want.reason, info.Reason)
			require.Equal(t, tc.want.codespace, info.Domain)
			require.Equal(t, tc.want.codespace, info.Metadata["codespace"])
			require.Equal(t, fmt.Sprint(tc.want.abciCode), info.Metadata["code"])

			code, body := c.rest(tc.rest)
			require.Equal(t, tc.want.http, code, "GET %s: %s", tc.rest, body)
			var restErr struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
				Details []struct {
					Type     string            `json:"@type"`
					Reason   string            `json:"reason"`
					Domain   string            `json:"domain"`
					Metadata map[string]string `json:"metadata"`
				} `json:"details"`
			}
			require.NoError(t, json.Unmarshal(body, &restErr), "GET %s: %s", tc.rest, body)
			require.Equal(t, int(tc.want.code), restErr.Code, "GET %s: %s", tc.rest, body)
			require.Len(t, restErr.Details, 1, "GET %s: %s", tc.rest, body)
			d := restErr.Details[0]
			require.Equal(t, "type.googleapis.com/google.rpc.ErrorInfo", d.Type)
			require.Equal(t, tc.want.reason, d.Reason)
			require.Equal(t, tc.want.codespace, d.Domain)
			require.Equal(t, map[string]string{"codespace": tc.want.codespace, "code": fmt.Sprint(tc.want.abciCode)}, d.Metadata)
		})
	}

	// The bank module answers a bad address the same way.
	code, body := c.rest("/cosmos/bank/v1beta1/balances/tf1notanaddress")
	require.Equal(t, http.StatusBadRequest, code, "%s", body)

	t.Run("simulation names the call site", func(t *testing.T) {
		c := c.on(t)
		// farmer has no twin on this chain: the keeper refuses the farm.
		full := append([]string{"tx", "tfgrid", "create-farm", "demo-farm"}, c.txFlags("farmer")...) // no --gas: simulated
		out, errOut, err := c.run(full...)
		require.Error(t, err, "stdout: %s", out)
		require.Contains(t, errOut, types.ErrTwinNotFound.Error())
		require.NotContains(t, errOut, "cosmossdk.io/errors", "the errors library is not where it failed")
		require.Regexp(t, `twin not found \[tfgrid/tfgrid/(x|internal)/[a-z_/]+\.go:\d+\]`, errOut)
		require.False(t, strings.Contains(errOut, "/work/"), "no build path: %s", errOut)
	})
}
