package grpcerr

import (
	"errors"
	"strconv"
	"strings"

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
	// What the ante handler refuses in a tx, for the tx service's Simulate.
	{sdkerrors.ErrMemoTooLarge, codes.InvalidArgument},
	{sdkerrors.ErrTxTooLarge, codes.InvalidArgument},
	{sdkerrors.ErrInvalidPubKey, codes.InvalidArgument},
	{sdkerrors.ErrNoSignatures, codes.InvalidArgument},
	{sdkerrors.ErrTooManySignatures, codes.InvalidArgument},
	{sdkerrors.ErrInvalidGasLimit, codes.InvalidArgument},
	{sdkerrors.ErrInvalidChainID, codes.InvalidArgument},
	{sdkerrors.ErrInsufficientFee, codes.InvalidArgument},
	{sdkerrors.ErrWrongSequence, codes.FailedPrecondition},
	{sdkerrors.ErrTxTimeoutHeight, codes.FailedPrecondition},
}

// Status turns an error a query handler returned into a gRPC status error. A registered error
// (ours or the SDK's) gets its kind as the status code, an ErrorInfo detail (reason, domain =
// codespace, metadata codespace and code) and a message that starts with the same facts in a stable
// form for people and for clients that only see text (the CLI over ABCI):
// "codespace X code N reason R: description: context". The result still unwraps to the registered
// error (errors.Is, the ABCI code), for callers inside the node. Any other error (a status error the
// handler built, a plain error) is returned as it is. nil stays nil.
func Status(err error) error {
	var done *statusError
	if errors.As(err, &done) {
		return err
	}
	return WithMessage(err, "")
}

// WithMessage is Status with text after the message's "codespace X code N reason R: " prefix instead
// of the error's "description: context" ("" keeps that): the tx service's Simulate keeps its own
// text, which names the call site and the gas used.
func WithMessage(err error, text string) error {
	var reg *errorsmod.Error
	if !errors.As(err, &reg) {
		return err
	}
	kind := Kind(reg)
	if kind == codes.Unknown {
		kind = sdkKind(reg)
	}
	code := strconv.FormatUint(uint64(reg.ABCICode()), 10)
	prefix := "codespace " + reg.Codespace() + " code " + code
	if text == "" {
		// errorsmod's message is "codespace X code N: description: context".
		text = strings.TrimPrefix(status.Convert(err).Message(), prefix+": ")
	}
	reason := Reason(reg.Error())
	st := status.New(kind, prefix+" reason "+reason+": "+text)
	if withInfo, detailErr := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   reason,
		Domain:   reg.Codespace(),
		Metadata: map[string]string{"codespace": reg.Codespace(), "code": code},
	}); detailErr == nil { // it fails only if ErrorInfo could not be marshalled
		st = withInfo
	}
	return &statusError{err: err, st: st}
}

// statusError is a registered error answered as a gRPC status: grpc-go and the SDK read the status
// through GRPCStatus, and its text is the status message; errors.Is/As and cosmossdk.io/errors (for
// the ABCI code) see the error it wraps.
type statusError struct {
	err error
	st  *status.Status
}

func (e *statusError) Error() string              { return e.st.Message() }
func (e *statusError) GRPCStatus() *status.Status { return e.st }
func (e *statusError) Unwrap() error              { return e.err }
func (e *statusError) Cause() error               { return e.err }

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
