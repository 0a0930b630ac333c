package app

import (
	"context"
	"errors"

	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
)

// txService is the SDK's tx service with a Simulate that answers a refused tx like a query: with
// the error's kind and ErrorInfo (internal/grpcerr), where the SDK's answers Unknown (REST 500)
// whatever the error. The text stays the SDK's ("<error> [call site] with gas used: 'N'").
type txService struct {
	txtypes.ServiceServer
	clientCtx client.Context
	simulate  func(txBytes []byte) (sdk.GasInfo, *sdk.Result, error) // BaseApp.Simulate
	registry  codectypes.InterfaceRegistry
}

func newTxService(clientCtx client.Context, simulate func([]byte) (sdk.GasInfo, *sdk.Result, error), registry codectypes.InterfaceRegistry) txService {
	return txService{
		ServiceServer: authtx.NewTxServer(clientCtx, simulate, registry),
		clientCtx:     clientCtx, simulate: simulate, registry: registry,
	}
}

// Simulate runs the SDK's Simulate (its request checks and answer) with a simulate function that
// keeps the error, and answers that error with its kind.
func (s txService) Simulate(ctx context.Context, req *txtypes.SimulateRequest) (*txtypes.SimulateResponse, error) {
	var refused error
	keep := func(txBytes []byte) (sdk.GasInfo, *sdk.Result, error) {
		gas, res, err := s.simulate(txBytes)
		refused = err
		return gas, res, err
	}
	res, err := authtx.NewTxServer(s.clientCtx, keep, s.registry).Simulate(ctx, req)
	var registered *errorsmod.Error
	if errors.As(refused, &registered) {
		return nil, grpcerr.WithMessage(refused, status.Convert(err).Message())
	}
	return res, err // a success, a bad request, or an error without a code: the SDK's answer
}
