package loadgen

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Account is one deterministic load-generator account: key i is derived from
// the secret "loadgen-<i>", so the genesis step and the run step agree on the
// accounts without sharing a keyring.
type Account struct {
	Index   int
	Key     *secp256k1.PrivKey
	Address sdk.AccAddress
	Bech32  string

	// AccountNumber and Sequence are the signer data; the run step reads them
	// over gRPC before each phase.
	AccountNumber uint64
	Sequence      uint64
}

// Secret is the secret account i's key is derived from.
func Secret(i int) []byte { return []byte(fmt.Sprintf("loadgen-%d", i)) }

// NewAccount derives account i.
func NewAccount(i int) *Account { return newAccountFromSecret(i, Secret(i)) }

func newAccountFromSecret(i int, secret []byte) *Account {
	key := secp256k1.GenPrivKeyFromSecret(secret)
	addr := sdk.AccAddress(key.PubKey().Address())
	return &Account{Index: i, Key: key, Address: addr, Bech32: addr.String()}
}

// NewAccounts derives accounts 0..n-1, in parallel (a public key costs a
// scalar multiplication, about 40 µs).
func NewAccounts(n int) []*Account {
	accs := make([]*Account, n)
	parallelFor(n, func(i int) { accs[i] = NewAccount(i) })
	return accs
}

// parallelFor runs fn(0..n-1) on GOMAXPROCS goroutines.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
