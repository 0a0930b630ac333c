package app

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// simulating answers every simulation with err, after 42 gas.
func simulating(err error) txService {
	return newTxService(client.Context{}, func([]byte) (sdk.GasInfo, *sdk.Result, error) {
		if err != nil {
			return sdk.GasInfo{GasUsed: 42}, nil, err
		}
		return sdk.GasInfo{GasUsed: 42}, &sdk.Result{Log: "ok"}, nil
	}, codectypes.NewInterfaceRegistry())
}

func TestTxServiceSimulateAnswersWithTheErrorsKind(t *testing.T) {
	ctx := context.Background()
	req := &txtypes.SimulateRequest{TxBytes: []byte{1}}
	cases := []struct {
		name   string
		err    error
		code   codes.Code
		reason string
		msg    string
	}{
		{"module error", grpcerr.CallSite(tfgridtypes.ErrTwinNotFound.Wrapf("twin of %s", "tf1x")), codes.NotFound, "TWIN_NOT_FOUND",
			`^codespace tfgrid code 7 reason TWIN_NOT_FOUND: twin of tf1x: twin not found \[tfgrid/tfgrid/app/txservice_test\.go:\d+\] with gas used: '42'$`},
		{"module error wrapped by the msg router", grpcerr.CallSite(errorsmod.Wrap(sctypes.ErrInsufficientCapacity.Wrap("node 3"), "message index: 0")), codes.ResourceExhausted,
			"NODE_HAS_NOT_ENOUGH_FREE_CAPACITY", `^codespace smartcontract code 20 reason NODE_HAS_NOT_ENOUGH_FREE_CAPACITY: message index: 0: node 3: node has not enough free capacity`},
		{"sdk ante error", grpcerr.CallSite(errorsmod.Wrapf(sdkerrors.ErrWrongSequence, "account sequence mismatch, expected %d, got %d", 3, 2)), codes.FailedPrecondition, "INCORRECT_ACCOUNT_SEQUENCE",
			`^codespace sdk code 32 reason INCORRECT_ACCOUNT_SEQUENCE: `},
		{"error without a code: the SDK's answer", errors.New("disk on fire"), codes.Unknown, "", `^disk on fire with gas used: '42'$`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simulating(tc.err).Simulate(ctx, req)
			require.Equal(t, tc.code, status.Code(err), "%v", err)
			require.Regexp(t, tc.msg, status.Convert(err).Message())
			info := grpcerr.Info(err)
			if tc.reason == "" {
				require.Nil(t, info)
				return
			}
			require.NotNil(t, info, "%v", err)
			require.Equal(t, tc.reason, info.Reason)
		})
	}

	res, err := simulating(nil).Simulate(ctx, req)
	require.NoError(t, err)
	require.Equal(t, uint64(42), res.GasInfo.GasUsed)
	_, err = simulating(nil).Simulate(ctx, &txtypes.SimulateRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "the SDK's request checks stay: %v", err)
}
