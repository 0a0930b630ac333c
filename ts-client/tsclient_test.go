// Package tsclient_test runs the TypeScript client's tests (node's test runner) against a real
// chain, so `make test` covers ts-client/: it starts a tfgridd chain (TFGRIDD_BIN, or built), funds
// the test's accounts, writes the chain's own amino JSON sign bytes of every tfgrid Msg as
// fixtures, compiles the TypeScript and runs `node --test`.
package tsclient_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	cosmos_proto "github.com/cosmos/cosmos-proto"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/testnet"
)

// accounts the TypeScript tests sign with: one per sign mode, and a node operator.
var accounts = []string{"direct", "amino", "operator"}

func TestTypeScriptClient(t *testing.T) {
	node, npmDir := requireNode(t)
	dir := t.TempDir()
	run(t, npmDir, filepath.Join(npmDir, "node_modules", ".bin", "tsc"), "-p", "tsconfig.json")

	fixtures := filepath.Join(dir, "amino-fixtures.json")
	require.NoError(t, os.WriteFile(fixtures, aminoFixtures(t), 0o600))

	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	bin, err := testnet.Binary("TFGRIDD_BIN", "./cmd/tfgridd", repo, dir)
	require.NoError(t, err)
	keys := map[string]*secp256k1.PrivKey{}
	hexKeys := map[string]string{}
	for _, name := range accounts {
		keys[name] = secp256k1.GenPrivKey()
		hexKeys[name] = hex.EncodeToString(keys[name].Key)
	}
	chain, err := testnet.StartChain(bin, filepath.Join(dir, "chain"), keys)
	require.NoError(t, err)
	t.Cleanup(chain.Stop)
	keysJSON, err := json.Marshal(hexKeys)
	require.NoError(t, err)

	// Test files by name: node 18 and 20 take a directory, later versions only files and globs.
	tests, err := filepath.Glob(filepath.Join(npmDir, "dist", "test", "*.test.js"))
	require.NoError(t, err)
	require.NotEmpty(t, tests, "no compiled tests in dist/test")
	cmd := exec.Command(node, append([]string{"--test", "--test-reporter=spec"}, tests...)...)
	cmd.Dir = npmDir
	cmd.Env = append(os.Environ(),
		"TFGRID_RPC="+chain.RPC,
		"TFGRID_CHAIN_ID="+testnet.ChainID,
		"TFGRID_KEYS="+string(keysJSON),
		"TFGRID_AMINO_FIXTURES="+fixtures,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	require.NoError(t, err, "the TypeScript tests failed; chain log:\n%s", chain.LogTail(30))
}

// requireNode returns node's path and the ts-client directory with its dependencies installed. It
// fails under CI (which installs node and runs npm ci) and skips elsewhere when they are missing.
func requireNode(t *testing.T) (string, string) {
	t.Helper()
	npmDir, err := filepath.Abs(".")
	require.NoError(t, err)
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not on PATH (install nodejs and npm)"
	case !fileExists(filepath.Join(npmDir, "node_modules", ".bin", "tsc")):
		missing = "ts-client/node_modules is missing (run npm ci in ts-client)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the TypeScript client's tests: %s", missing)
		}
		t.Skipf("TypeScript client tests not run: %s", missing)
	}
	return node, npmDir
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}

// aminoFixture is one Msg, as the chain's amino JSON signer sees it: its protobuf encoding and the
// complete sign bytes (StdSignDoc) of a tx holding only it, with the sign doc's other fields.
type aminoFixture struct {
	Name          string `json:"name"`
	TypeURL       string `json:"typeUrl"`
	Value         string `json:"value"` // base64 protobuf
	SignBytes     string `json:"signBytes"`
	ChainID       string `json:"chainId"`
	AccountNumber uint64 `json:"accountNumber"`
	Sequence      uint64 `json:"sequence"`
	Gas           uint64 `json:"gas"`
	FeeAmount     string `json:"feeAmount"` // in utft
}

const (
	fixtureAccountNumber = 7
	fixtureSequence      = 3
	fixtureGas           = 250000
	fixtureFee           = 1234
)

// aminoFixtures are, for every tfgrid Msg, two fixtures: every field set (lists of two, nested
// messages filled), and only the signer set (what amino JSON omits or keeps when empty).
func aminoFixtures(t *testing.T) []byte {
	t.Helper()
	cdc, err := chainclient.NewCodec()
	require.NoError(t, err)
	files, err := gogoproto.MergedRegistry()
	require.NoError(t, err)
	key := secp256k1.GenPrivKey()
	signer, err := cdc.AddressCodec.BytesToString(key.PubKey().Address())
	require.NoError(t, err)
	var fixtures []aminoFixture
	for _, typeURL := range cdc.Registry.ListImplementations(sdk.MsgInterfaceProtoName) {
		if !strings.HasPrefix(typeURL, "/tfgrid.") {
			continue
		}
		for _, full := range []bool{true, false} {
			desc, err := files.FindDescriptorByName(protoreflect.FullName(strings.TrimPrefix(typeURL, "/")))
			require.NoError(t, err)
			dyn := dynamicpb.NewMessage(desc.(protoreflect.MessageDescriptor))
			fill(dyn, signer, full, 0)
			raw, err := proto.Marshal(dyn)
			require.NoError(t, err)
			msg, err := cdc.Registry.Resolve(typeURL)
			require.NoError(t, err)
			require.NoError(t, gogoproto.Unmarshal(raw, msg), typeURL)
			value, err := gogoproto.Marshal(msg)
			require.NoError(t, err)

			var signBytes []byte
			data := &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_LEGACY_AMINO_JSON}
			_, err = chainclient.BuildTx(cdc.TxConfig, testnet.ChainID,
				chainclient.Signer{Address: signer, PubKey: key.PubKey(), AccountNumber: fixtureAccountNumber, Sequence: fixtureSequence},
				chainclient.Fee{Gas: fixtureGas, Amount: sdk.NewCoins(sdk.NewInt64Coin("utft", fixtureFee))},
				signing.SignMode_SIGN_MODE_LEGACY_AMINO_JSON, data,
				func(b []byte) error { signBytes = b; return nil }, msg.(sdk.Msg))
			require.NoError(t, err, "amino JSON sign bytes of %s", typeURL)
			name := typeURL + " (only the signer set)"
			if full {
				name = typeURL + " (every field set)"
			}
			fixtures = append(fixtures, aminoFixture{
				Name: name, TypeURL: typeURL, Value: base64.StdEncoding.EncodeToString(value), SignBytes: string(signBytes),
				ChainID: testnet.ChainID, AccountNumber: fixtureAccountNumber, Sequence: fixtureSequence,
				Gas: fixtureGas, FeeAmount: fmt.Sprint(fixtureFee),
			})
		}
	}
	require.Greater(t, len(fixtures), 20, "tfgrid Msgs found in the registry")
	b, err := json.MarshalIndent(fixtures, "", "  ")
	require.NoError(t, err)
	return b
}

// fill sets the fields of m: address fields to signer; with full every other field too, with
// distinct values per field (decimals in LegacyDec's wire form, 64-bit values past 2^53).
func fill(m protoreflect.Message, signer string, full bool, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		scalar, _ := proto.GetExtension(f.Options(), cosmos_proto.E_Scalar).(string)
		if scalar == "cosmos.AddressString" && f.Kind() == protoreflect.StringKind && !f.IsList() {
			m.Set(f, protoreflect.ValueOfString(signer))
			continue
		}
		if !full || depth > 3 || f.ContainingOneof() != nil || f.IsMap() {
			continue
		}
		if f.IsList() {
			list := m.Mutable(f).List()
			for n := 0; n < 2; n++ {
				if f.Kind() == protoreflect.MessageKind {
					el := list.NewElement()
					fill(el.Message(), signer, full, depth+1)
					list.Append(el)
				} else {
					list.Append(scalarValue(f, scalar, n))
				}
			}
			continue
		}
		if f.Kind() == protoreflect.MessageKind {
			fill(m.Mutable(f).Message(), signer, full, depth+1)
			continue
		}
		m.Set(f, scalarValue(f, scalar, 0))
	}
}

func scalarValue(f protoreflect.FieldDescriptor, scalar string, n int) protoreflect.Value {
	num := uint64(f.Number()) + uint64(n)
	switch f.Kind() {
	case protoreflect.StringKind:
		switch scalar {
		case "cosmos.Dec":
			return protoreflect.ValueOfString(fmt.Sprintf("%d250000000000000000", num)) // num.25
		case "cosmos.Int", "cosmos.AddressString":
			return protoreflect.ValueOfString(fmt.Sprint(num))
		}
		return protoreflect.ValueOfString(fmt.Sprintf("%s-%d", f.Name(), n))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{byte(num), 0xfe, 0x00, 0xff})
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		values := f.Enum().Values()
		return protoreflect.ValueOfEnum(values.Get(values.Len() - 1).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(num) * 1000)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(num) * 1000)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(1<<60 + num))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1<<63 + num)
	}
	panic(fmt.Sprintf("fill: %s: unexpected kind %s", f.FullName(), f.Kind()))
}
