package testnet

import (
	"fmt"
	"path/filepath"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

// StartChainAndRelay starts a chain under dir whose genesis funds accounts, and a relay on it
// (its data and log under dir too). Stop both with Relay.Stop and Chain.Stop.
func StartChainAndRelay(tfgridd, relayBin, dir string, accounts map[string]*secp256k1.PrivKey) (*Chain, *Relay, error) {
	chain, err := StartChain(tfgridd, dir, accounts)
	if err != nil {
		return nil, nil, err
	}
	ports, err := FreePorts(1)
	if err != nil {
		chain.Stop()
		return nil, nil, err
	}
	relay := NewRelay(relayBin, fmt.Sprintf("127.0.0.1:%d", ports[0]), filepath.Join(dir, "relay.log"),
		"--grpc", chain.GRPC, "--rpc", chain.RPC, "--data-dir", filepath.Join(dir, "relay"))
	if err := relay.Start(); err != nil {
		chain.Stop()
		return nil, nil, err
	}
	return chain, relay, nil
}
