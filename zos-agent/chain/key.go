// Package chain is the node agent's side of the chain: the node's key and registration (twin
// and node), uptime reports, the synchronous check of a deployment against its contract, the
// watcher that follows contract state, and the consumption reporter.
package chain

import (
	"fmt"
	"os"
	"strings"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/go-bip39"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/zos-agent/config"
)

// LoadKey reads the node's account key: from a file holding its BIP-39 mnemonic (the Cosmos
// path m/44'/118'/0'/0/0), or from a Cosmos test keyring directory.
func LoadKey(k config.Key) (*secp256k1.PrivKey, error) {
	if k.MnemonicFile != "" {
		raw, err := os.ReadFile(k.MnemonicFile)
		if err != nil {
			return nil, fmt.Errorf("key.mnemonic_file: %w", err)
		}
		mnemonic := strings.Join(strings.Fields(string(raw)), " ")
		if !bip39.IsMnemonicValid(mnemonic) {
			return nil, fmt.Errorf("key.mnemonic_file %s: not a valid BIP-39 mnemonic", k.MnemonicFile)
		}
		seed, err := hd.Secp256k1.Derive()(mnemonic, "", hd.CreateHDPath(118, 0, 0).String())
		if err != nil {
			return nil, fmt.Errorf("key.mnemonic_file %s: %w", k.MnemonicFile, err)
		}
		return &secp256k1.PrivKey{Key: seed}, nil
	}
	cdc, err := chainclient.NewCodec()
	if err != nil {
		return nil, err
	}
	kr, err := keyring.New("tfgrid", keyring.BackendTest, k.KeyringDir, nil, cdc.Codec)
	if err != nil {
		return nil, fmt.Errorf("key.keyring_dir %s: %w", k.KeyringDir, err)
	}
	rec, err := kr.Key(k.Name)
	if err != nil {
		return nil, fmt.Errorf("key.name %q in %s: %w", k.Name, k.KeyringDir, err)
	}
	local := rec.GetLocal()
	if local == nil || local.PrivKey == nil {
		return nil, fmt.Errorf("key.name %q: not a local key", k.Name)
	}
	priv, ok := local.PrivKey.GetCachedValue().(*secp256k1.PrivKey)
	if !ok {
		return nil, fmt.Errorf("key.name %q: not a secp256k1 key", k.Name)
	}
	return priv, nil
}
