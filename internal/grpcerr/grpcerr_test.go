package grpcerr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
)

var (
	testErrors      = grpcerr.NewRegistry("grpcerrtest")
	errThingMissing = testErrors.Register(2, codes.NotFound, "thing not found")
	errThingTaken   = testErrors.Register(3, codes.AlreadyExists, "thing name already taken")
)

func TestReason(t *testing.T) {
	for desc, want := range map[string]string{
		"twin not found":  "TWIN_NOT_FOUND",
		"invalid e2e key": "INVALID_E2E_KEY",
		"deployment hash already has a contract on the node": "DEPLOYMENT_HASH_ALREADY_HAS_A_CONTRACT_ON_THE_NODE",
		"signer is not the farmer":                           "SIGNER_IS_NOT_THE_FARMER",
		"  odd -- spacing ":                                  "ODD_SPACING",
	} {
		require.Equal(t, want, grpcerr.Reason(desc), desc)
	}
}

func TestStatus(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		code      codes.Code
		reason    string // "" = no ErrorInfo
		codespace string
		abciCode  string
	}{
		{"module error, wrapped", errThingMissing.Wrapf("thing %d", 7), codes.NotFound, "THING_NOT_FOUND", "grpcerrtest", "2"},
		{"module error, wrapped twice", errorsmod.Wrap(errThingTaken.Wrap("name x"), "outer"), codes.AlreadyExists, "THING_NAME_ALREADY_TAKEN", "grpcerrtest", "3"},
		{"bad bech32", errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "tf1bad"), codes.InvalidArgument, "INVALID_ADDRESS", "sdk", "7"},
		{"sdk unauthorized", sdkerrors.ErrUnauthorized, codes.PermissionDenied, "UNAUTHORIZED", "sdk", "4"},
		{"sdk error refusing a tx", sdkerrors.ErrMemoTooLarge, codes.InvalidArgument, "MEMO_TOO_LARGE", "sdk", "12"},
		{"sdk error without a kind", sdkerrors.ErrLogic, codes.Unknown, "INTERNAL_LOGIC_ERROR", "sdk", "35"},
		{"status error kept", status.Error(codes.InvalidArgument, "bad"), codes.InvalidArgument, "", "", ""},
		{"plain error kept", errors.New("disk on fire"), codes.Unknown, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := grpcerr.Status(tc.err)
			require.Equal(t, tc.code, status.Code(got), "%v", got)
			info := grpcerr.Info(got)
			if tc.reason == "" {
				require.Equal(t, tc.err, got)
				require.Nil(t, info)
				return
			}
			// errorsmod's "codespace X code N: description: context", with the reason after the code.
			want := strings.Replace(status.Convert(tc.err).Message(), ": ", " reason "+tc.reason+": ", 1)
			require.Equal(t, want, status.Convert(got).Message())
			require.Regexp(t, `^codespace `+tc.codespace+` code `+tc.abciCode+` reason `+tc.reason+`: `, status.Convert(got).Message())
			require.NotNil(t, info, "%v", got)
			require.Equal(t, tc.reason, info.Reason)
			var reg *errorsmod.Error
			require.True(t, errors.As(tc.err, &reg))
			require.ErrorIs(t, got, reg, "callers in the node still see the registered error")
			require.Equal(t, status.Convert(got).Message(), got.Error())
			require.Same(t, got, grpcerr.Status(got), "a status is not made twice")
			require.Equal(t, tc.codespace, info.Domain)
			require.Equal(t, map[string]string{"codespace": tc.codespace, "code": tc.abciCode}, info.Metadata)
		})
	}
	require.NoError(t, grpcerr.Status(nil))

	got := grpcerr.WithMessage(errThingMissing.Wrapf("thing %d", 7), "simulation said so")
	require.Equal(t, codes.NotFound, status.Code(got))
	require.Equal(t, "codespace grpcerrtest code 2 reason THING_NOT_FOUND: simulation said so", status.Convert(got).Message())
	require.Equal(t, "THING_NOT_FOUND", grpcerr.Info(got).Reason)
}

func TestCallSite(t *testing.T) {
	err := errorsmod.Wrap(errThingMissing.Wrapf("thing %d", 7), "failed to execute message")
	// The errors library names itself for the ErrX.Wrapf method.
	require.Contains(t, fmt.Sprintf("%v", err), "cosmossdk.io/errors")

	got := grpcerr.CallSite(err)
	text := fmt.Sprintf("%v", got)
	require.NotContains(t, text, "cosmossdk.io/errors", text)
	require.Contains(t, text, "tfgrid/tfgrid/internal/grpcerr/grpcerr_test.go:", text)
	require.True(t, strings.HasPrefix(text, err.Error()+" ["), text)
	require.Equal(t, err.Error(), got.Error())
	require.Equal(t, err.Error(), fmt.Sprintf("%s", got))

	// Codes and identity survive.
	require.ErrorIs(t, got, errThingMissing)
	codespace, code, _ := errorsmod.ABCIInfo(got, false)
	require.Equal(t, "grpcerrtest", codespace)
	require.Equal(t, uint32(2), code)
	require.Equal(t, codes.NotFound, status.Code(grpcerr.Status(got)))
	require.NoError(t, grpcerr.CallSite(nil))
}

func TestCheckTable(t *testing.T) {
	good := "# x\n\n" + grpcerr.TableHeader + "\n|---|---|---|---|---|\n" +
		"| 2 | `THING_NOT_FOUND` | `NotFound` | 404 | no thing with that id |\n" +
		"| 3 | `THING_NAME_ALREADY_TAKEN` | `AlreadyExists` | 409 | another thing has the name |\n\nafter\n"
	require.NoError(t, grpcerr.CheckTable(good, testErrors))

	for name, bad := range map[string]string{
		"no table":     "# x\n",
		"wrong status": strings.Replace(good, "`NotFound` | 404", "`Internal` | 500", 1),
		"empty when":   strings.Replace(good, " no thing with that id |", " |", 1),
		"missing row":  strings.Replace(good, "| 3 | `THING_NAME_ALREADY_TAKEN` | `AlreadyExists` | 409 | another thing has the name |\n", "", 1),
		"extra row":    strings.Replace(good, "\n\nafter", "\n| 4 | `GHOST` | `Unknown` | 500 | never |\n\nafter", 1),
	} {
		require.Error(t, grpcerr.CheckTable(bad, testErrors), name)
	}
}
