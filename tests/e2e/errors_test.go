package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"

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
			requireGRPCError(t, tc.want, tc.grpc(ctx))
			code, body := c.rest(tc.rest)
			requireRESTError(t, tc.want, code, body, "GET "+tc.rest)
		})
	}

	// The CLI queries over CometBFT's abci_query, which keeps only a status class and the text: the
	// text carries codespace, code and reason in a stable form, and the CLI exits non-zero.
	t.Run("CLI query error", func(t *testing.T) {
		c := c.on(t)
		errOut := c.queryFails("smartcontract", "contract", "999")
		t.Logf("tfgridd query smartcontract contract 999: %s", errOut)
		require.Regexp(t, `codespace smartcontract code 2 reason CONTRACT_NOT_FOUND: contract not found: contract 999 never existed`, errOut)
		errOut = c.queryFails("tfgrid", "twin", "999")
		require.Regexp(t, `codespace tfgrid code 7 reason TWIN_NOT_FOUND: `, errOut)
		errOut = c.queryFails("tfgrid", "nodes", "--country", "ZZ")
		require.Regexp(t, `codespace tfgrid code \d+ reason INVALID_QUERY: .*country "ZZ"`, errOut)

		// A program on CometBFT's RPC sees the SDK's class in codespace/code (sdk 38: not found)
		// and the same text in the log.
		data, err := (&sctypes.QueryContractRequest{Id: 999}).Marshal()
		require.NoError(t, err)
		url := strings.Replace(c.rpc, "tcp://", "http://", 1) + `/abci_query?path="/tfgrid.smartcontract.v1.Query/Contract"&data=0x` + hex.EncodeToString(data)
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rpc struct {
			Result struct {
				Response struct {
					Code      uint32 `json:"code"`
					Codespace string `json:"codespace"`
					Log       string `json:"log"`
				} `json:"response"`
			} `json:"result"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rpc))
		require.Equal(t, "sdk", rpc.Result.Response.Codespace)
		require.Equal(t, sdkerrors.ErrKeyNotFound.ABCICode(), rpc.Result.Response.Code)
		require.Contains(t, rpc.Result.Response.Log, "codespace smartcontract code 2 reason CONTRACT_NOT_FOUND: ")
	})

	// A tx the keeper refuses in simulation (farmer has no twin on this chain) answers like a query
	// over gRPC and REST, and keeps the SDK's text with the call site and the gas used.
	t.Run("simulation error", func(t *testing.T) {
		c := c.on(t)
		txBytes := c.signedTxBytes("farmer", "tfgrid", "create-farm", "demo-farm")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.query() // dials c.conn
		_, err := txtypes.NewServiceClient(c.conn).Simulate(ctx, &txtypes.SimulateRequest{TxBytes: txBytes})
		requireGRPCError(t, twinNotFound, err)
		require.Regexp(t, `^codespace tfgrid code 7 reason TWIN_NOT_FOUND: .*twin not found \[tfgrid/tfgrid/(x|internal)/[a-z_/]+\.go:\d+\] with gas used: '\d+'$`,
			status.Convert(err).Message())

		req, err := json.Marshal(map[string]string{"tx_bytes": base64.StdEncoding.EncodeToString(txBytes)})
		require.NoError(t, err)
		resp, err := http.Post(c.api+"/cosmos/tx/v1beta1/simulate", "application/json", bytes.NewReader(req))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		requireRESTError(t, twinNotFound, resp.StatusCode, body, "POST /cosmos/tx/v1beta1/simulate")
	})

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

// requireGRPCError requires a gRPC error with the wanted code and ErrorInfo detail.
func requireGRPCError(t *testing.T, want errorWant, err error) {
	t.Helper()
	require.Equal(t, want.code, status.Code(err), "gRPC: %v", err)
	info := grpcerr.Info(err)
	require.NotNil(t, info, "gRPC: no ErrorInfo in %v", err)
	require.Equal(t, want.reason, info.Reason)
	require.Equal(t, want.codespace, info.Domain)
	require.Equal(t, want.codespace, info.Metadata["codespace"])
	require.Equal(t, fmt.Sprint(want.abciCode), info.Metadata["code"])
}

// requireRESTError requires a REST answer with the wanted HTTP status and the ErrorInfo in "details".
func requireRESTError(t *testing.T, want errorWant, code int, body []byte, what string) {
	t.Helper()
	require.Equal(t, want.http, code, "%s: %s", what, body)
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
	require.NoError(t, json.Unmarshal(body, &restErr), "%s: %s", what, body)
	require.Equal(t, int(want.code), restErr.Code, "%s: %s", what, body)
	require.Len(t, restErr.Details, 1, "%s: %s", what, body)
	d := restErr.Details[0]
	require.Equal(t, "type.googleapis.com/google.rpc.ErrorInfo", d.Type)
	require.Equal(t, want.reason, d.Reason)
	require.Equal(t, want.codespace, d.Domain)
	require.Equal(t, map[string]string{"codespace": want.codespace, "code": fmt.Sprint(want.abciCode)}, d.Metadata)
}

// signedTxBytes is the encoded tx of a tx command, signed by from (fixed gas: not simulated).
func (c *chain) signedTxBytes(from string, args ...string) []byte {
	c.t.Helper()
	dir := c.t.TempDir()
	unsigned, signed := filepath.Join(dir, "unsigned.json"), filepath.Join(dir, "signed.json")
	full := append(append([]string{"tx"}, args...), c.txFlags(from)...)
	require.NoError(c.t, os.WriteFile(unsigned, c.mustRun(append(full, "--generate-only", "--gas", txGas)...), 0o600))
	c.mustRun("tx", "sign", unsigned, "--from", from, "--keyring-backend", "test", "--home", c.home,
		"--chain-id", chainID, "--node", c.rpc, "--output-document", signed)
	txBytes, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(c.mustRun("tx", "encode", signed))))
	require.NoError(c.t, err)
	return txBytes
}
