package loadgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"

	sdkmath "cosmossdk.io/math"
)

// GenesisOptions says which load-generator accounts to fund in genesis.
type GenesisOptions struct {
	Accounts int         // accounts 0..Accounts-1
	Amount   sdkmath.Int // balance of each account
	Denom    string
	// PubKeys stores each account's public key in genesis, so that the first
	// transaction of an account costs the same as the later ones (the ante
	// handler otherwise sets the key on the account in the first tx).
	PubKeys bool
	// Sink also funds SinkAccount, the recipient of bank sends.
	Sink bool
	// ContractFarmers also funds the owners of the contract farms that the
	// node-contract phases over Accounts accounts need, with IPRounds nc-ip
	// phases.
	ContractFarmers bool
	IPRounds        int
}

// FundGenesis adds the accounts, their balances and the matching supply to
// genesis.json by editing the JSON directly: `genesis add-genesis-account`
// costs about 0.1 s per account, too slow for thousands.
// Account numbers follow the highest one already in genesis.
// It returns the account number given to account 0.
func FundGenesis(path string, opts GenesisOptions) (uint64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	var appState map[string]json.RawMessage
	if err := json.Unmarshal(doc["app_state"], &appState); err != nil {
		return 0, fmt.Errorf("%s: app_state: %w", path, err)
	}
	accs := NewAccounts(opts.Accounts)
	if opts.Sink {
		accs = append(accs, SinkAccount())
	}
	if opts.ContractFarmers {
		accs = append(accs, ContractFarmers(ContractFarms(opts.Accounts, opts.IPRounds))...)
	}
	first, err := AddGenesisAccounts(appState, accs, opts)
	if err != nil {
		return 0, err
	}
	if doc["app_state"], err = json.Marshal(appState); err != nil {
		return 0, err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return 0, err
	}
	return first, os.WriteFile(path, out, 0o600)
}

// AddGenesisAccounts appends accs to the auth accounts and bank balances of
// appState and raises the bank supply of opts.Denom accordingly. It refuses
// an address that already has an account or a balance. It returns the
// account number of accs[0]; accs[i] gets that number plus i.
func AddGenesisAccounts(appState map[string]json.RawMessage, accs []*Account, opts GenesisOptions) (uint64, error) {
	if opts.Denom == "" || opts.Amount.IsNil() || !opts.Amount.IsPositive() {
		return 0, fmt.Errorf("a positive amount and a denom are required")
	}

	// auth: {"params": ..., "accounts": [...]}
	var auth map[string]json.RawMessage
	if err := json.Unmarshal(appState["auth"], &auth); err != nil {
		return 0, fmt.Errorf("auth genesis: %w", err)
	}
	var accounts []json.RawMessage
	if len(auth["accounts"]) > 0 {
		if err := json.Unmarshal(auth["accounts"], &accounts); err != nil {
			return 0, fmt.Errorf("auth accounts: %w", err)
		}
	}
	known := map[string]bool{}
	next := uint64(0)
	for _, a := range accounts {
		var v any
		if err := json.Unmarshal(a, &v); err != nil {
			return 0, err
		}
		if addr, ok := findString(v, "address"); ok {
			known[addr] = true
		}
		if s, ok := findString(v, "account_number"); ok {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("auth account number %q: %w", s, err)
			}
			next = max(next, n+1)
		}
	}
	first := next

	// bank: {"balances": [...], "supply": [...], ...}
	var bank map[string]json.RawMessage
	if err := json.Unmarshal(appState["bank"], &bank); err != nil {
		return 0, fmt.Errorf("bank genesis: %w", err)
	}
	var balances []json.RawMessage
	if len(bank["balances"]) > 0 {
		if err := json.Unmarshal(bank["balances"], &balances); err != nil {
			return 0, fmt.Errorf("bank balances: %w", err)
		}
	}
	for _, b := range balances {
		var v struct {
			Address string `json:"address"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return 0, err
		}
		known[v.Address] = true
	}

	type coin struct {
		Denom  string `json:"denom"`
		Amount string `json:"amount"`
	}
	type pubKey struct {
		Type string `json:"@type"`
		Key  string `json:"key"`
	}
	type baseAccount struct {
		Type          string  `json:"@type"`
		Address       string  `json:"address"`
		PubKey        *pubKey `json:"pub_key"`
		AccountNumber string  `json:"account_number"`
		Sequence      string  `json:"sequence"`
	}
	type balance struct {
		Address string `json:"address"`
		Coins   []coin `json:"coins"`
	}
	amount := opts.Amount.String()
	for i, acc := range accs {
		if known[acc.Bech32] {
			return 0, fmt.Errorf("account %s (loadgen-%d) is already in genesis", acc.Bech32, acc.Index)
		}
		known[acc.Bech32] = true
		ba := baseAccount{
			Type:          "/cosmos.auth.v1beta1.BaseAccount",
			Address:       acc.Bech32,
			AccountNumber: strconv.FormatUint(first+uint64(i), 10),
			Sequence:      "0",
		}
		if opts.PubKeys {
			ba.PubKey = &pubKey{Type: "/cosmos.crypto.secp256k1.PubKey", Key: base64.StdEncoding.EncodeToString(acc.Key.PubKey().Bytes())}
		}
		a, err := json.Marshal(ba)
		if err != nil {
			return 0, err
		}
		accounts = append(accounts, a)
		b, err := json.Marshal(balance{Address: acc.Bech32, Coins: []coin{{Denom: opts.Denom, Amount: amount}}})
		if err != nil {
			return 0, err
		}
		balances = append(balances, b)
	}

	var supply []coin
	if len(bank["supply"]) > 0 {
		if err := json.Unmarshal(bank["supply"], &supply); err != nil {
			return 0, fmt.Errorf("bank supply: %w", err)
		}
	}
	added := opts.Amount.MulRaw(int64(len(accs)))
	found := false
	for i, c := range supply {
		if c.Denom != opts.Denom {
			continue
		}
		cur, ok := sdkmath.NewIntFromString(c.Amount)
		if !ok {
			return 0, fmt.Errorf("bank supply %q of %s is not an integer", c.Amount, c.Denom)
		}
		supply[i].Amount = cur.Add(added).String()
		found = true
	}
	if !found {
		supply = append(supply, coin{Denom: opts.Denom, Amount: added.String()})
		sort.Slice(supply, func(i, j int) bool { return supply[i].Denom < supply[j].Denom })
	}

	var err error
	if auth["accounts"], err = json.Marshal(accounts); err != nil {
		return 0, err
	}
	if appState["auth"], err = json.Marshal(auth); err != nil {
		return 0, err
	}
	if bank["balances"], err = json.Marshal(balances); err != nil {
		return 0, err
	}
	if bank["supply"], err = json.Marshal(supply); err != nil {
		return 0, err
	}
	if appState["bank"], err = json.Marshal(bank); err != nil {
		return 0, err
	}
	return first, nil
}

// findString returns the first string value stored under key in a decoded
// JSON value, searching nested objects (module and vesting accounts nest
// their base account).
func findString(v any, key string) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	if s, ok := m[key].(string); ok {
		return s, true
	}
	for _, child := range m {
		if s, ok := findString(child, key); ok {
			return s, true
		}
	}
	return "", false
}
