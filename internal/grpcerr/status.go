package grpcerr

import (
	"errors"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

// sdkKinds gives the SDK's own registered errors, which carry no gRPC code, the kind a client
// needs: a bad bech32 address is InvalidArgument (400), as in x/bank, not Unknown (500).
var sdkKinds = []struct {
	err  *errorsmod.Error
	kind codes.Code
}{
	{sdkerrors.ErrInvalidAddress, codes.InvalidArgument},
	{sdkerrors.ErrInvalidRequest, codes.InvalidArgument},
	{sdkerrors.ErrInvalidCoins, codes.InvalidArgument},
	{sdkerrors.ErrInvalidType, codes.InvalidArgument},
	{sdkerrors.ErrInvalidHeight, codes.InvalidArgument},
	{sdkerrors.ErrJSONUnmarshal, codes.InvalidArgument},
	{sdkerrors.ErrTxDecode, codes.InvalidArgument},
	{sdkerrors.ErrUnauthorized, codes.PermissionDenied},
	{sdkerrors.ErrInsufficientFunds, codes.FailedPrecondition},
	{sdkerrors.ErrKeyNotFound, codes.NotFound},
	{sdkerrors.ErrNotFound, codes.NotFound},
	{sdkerrors.ErrUnknownAddress, codes.NotFound},
	{sdkerrors.ErrConflict, codes.AlreadyExists},
	{sdkerrors.ErrOutOfGas, codes.ResourceExhausted},
}

// Status turns an error a query handler returned into a gRPC status error. A registered error
// (ours or the SDK's) gets its kind as the status code and an ErrorInfo detail (reason, domain =
// codespace, metadata codespace and code); any other error (a status error the handler built, a
// plain error) is returned as it is. nil stays nil.
func Status(err error) error {
	var reg *errorsmod.Error
	if !errors.As(err, &reg) {
		return err
	}
	kind := Kind(reg)
	if kind == codes.Unknown {
		kind = sdkKind(reg)
	}
	// The message keeps errorsmod's "codespace X code N: description: context" form for people.
	st, detailErr := status.New(kind, status.Convert(err).Message()).WithDetails(&errdetails.ErrorInfo{
		Reason: Reason(reg.Error()),
		Domain: reg.Codespace(),
		Metadata: map[string]string{
			"codespace": reg.Codespace(),
			"code":      strconv.FormatUint(uint64(reg.ABCICode()), 10),
		},
	})
	if detailErr != nil { // only if ErrorInfo could not be marshalled
		return status.Error(kind, status.Convert(err).Message())
	}
	return st.Err()
}

func sdkKind(reg *errorsmod.Error) codes.Code {
	for _, k := range sdkKinds {
		if reg.Is(k.err) {
			return k.kind
		}
	}
	return codes.Unknown
}

// Info returns the ErrorInfo detail of a status error, or nil.
func Info(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}
