package cmd

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb"
)

const flagE2EKey = "e2e-key"

// deriveE2EKeyByDefault makes `tx tfgrid create-twin` and `update-twin` register the e2e key derived
// from the --from account key when --e2e-key is not given, so RMB payloads to a new twin are
// encrypted by default. A key the keyring cannot hand out (Ledger, offline, multisig) registers none,
// and the command says so.
func deriveE2EKeyByDefault(root *cobra.Command) {
	for _, path := range [][]string{{"tx", "tfgrid", "create-twin"}, {"tx", "tfgrid", "update-twin"}} {
		cmd, _, err := root.Find(path)
		if err != nil || cmd.Flags().Lookup(flagE2EKey) == nil {
			continue
		}
		f := cmd.Flags().Lookup(flagE2EKey)
		f.Usage = "33-byte compressed secp256k1 key for end-to-end encryption (hex or base64); " +
			"default: the key derived from the --from account key (rmb/README.md)"
		run := cmd.RunE
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed(flagE2EKey) {
				if err := setDerivedE2EKey(cmd); err != nil {
					return err
				}
			}
			return run(cmd, args)
		}
	}
}

func setDerivedE2EKey(cmd *cobra.Command) error {
	clientCtx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return err
	}
	if clientCtx.Keyring == nil || clientCtx.FromName == "" {
		return nil // --generate-only from a bare address: nothing to derive from
	}
	priv, err := accountPrivKey(clientCtx.Keyring, clientCtx.FromName)
	if errors.Is(err, errNoLocalKey) {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: key %q is not held in the keyring: registering no e2e key (pass --e2e-key)\n", clientCtx.FromName)
		return nil
	}
	if err != nil {
		return err
	}
	pub, err := rmb.E2EPublicKey(priv)
	if err != nil {
		return err
	}
	return cmd.Flags().Set(flagE2EKey, hex.EncodeToString(pub))
}

var errNoLocalKey = errors.New("the private key is not held in the keyring")

// accountPrivKey returns the secp256k1 private key of a key held in the keyring (not a Ledger,
// offline or multisig key).
func accountPrivKey(kr keyring.Keyring, name string) (*secp256k1.PrivKey, error) {
	rec, err := kr.Key(name)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	local := rec.GetLocal()
	if local == nil || local.PrivKey == nil {
		return nil, fmt.Errorf("key %q: %w", name, errNoLocalKey)
	}
	priv, ok := local.PrivKey.GetCachedValue().(*secp256k1.PrivKey)
	if !ok {
		return nil, fmt.Errorf("key %q: not a secp256k1 key (%T)", name, local.PrivKey.GetCachedValue())
	}
	return priv, nil
}
