package types

import (
	"fmt"

	"cosmossdk.io/core/address"
	sdkmath "cosmossdk.io/math"
)

// DefaultStartingPrice lets a new chain bill from its first block: 10 mUSD per TFT.
var DefaultStartingPrice = sdkmath.LegacyNewDec(10)

// DefaultGenesis has the default params and one starting price sample.
func DefaultGenesis(foundation string) *GenesisState {
	return &GenesisState{
		Params:       DefaultParams(foundation),
		PriceSamples: []PriceSample{{Seq: 1, PriceMusd: DefaultStartingPrice}},
	}
}

// Validate checks the billing state on its own; InitGenesis checks it against the live contracts.
func (gs GenesisState) Validate(ac address.Codec) error {
	if err := gs.Params.Validate(ac); err != nil {
		return err
	}
	if len(gs.PriceSamples) == 0 {
		return genesisErr("price_samples: a chain needs a starting price")
	}
	if len(gs.PriceSamples) > int(gs.Params.PriceWindow) {
		return genesisErr("price_samples: %d samples, price_window is %d", len(gs.PriceSamples), gs.Params.PriceWindow)
	}
	seqs := map[uint64]bool{}
	for _, s := range gs.PriceSamples {
		if s.Seq == 0 || seqs[s.Seq] {
			return genesisErr("price sample seq %d: zero or duplicate", s.Seq)
		}
		seqs[s.Seq] = true
		if err := ValidatePrice(s.PriceMusd); err != nil {
			return genesisErr("price sample %d: %s", s.Seq, err)
		}
	}
	ids := map[uint64]bool{}
	for _, b := range gs.Contracts {
		if b.ContractId == 0 || ids[b.ContractId] {
			return genesisErr("billing of contract %d: zero or duplicate id", b.ContractId)
		}
		ids[b.ContractId] = true
		if b.NextDue < b.LastSettled {
			return genesisErr("billing of contract %d: next_due %d before last_settled %d", b.ContractId, b.NextDue, b.LastSettled)
		}
		if b.StandardOverdraft.IsNil() || b.StandardOverdraft.IsNegative() || b.ExtraOverdraft.IsNil() || b.ExtraOverdraft.IsNegative() {
			return genesisErr("billing of contract %d: negative overdraft", b.ContractId)
		}
		if b.UnbilledNu.IsNil() || b.UnbilledNu.IsNegative() {
			return genesisErr("billing of contract %d: negative unbilled_nu", b.ContractId)
		}
		if !b.HourlyCeiling.IsNil() && b.HourlyCeiling.IsNegative() {
			return genesisErr("billing of contract %d: negative hourly_ceiling %s", b.ContractId, b.HourlyCeiling)
		}
	}
	feeders := map[string]bool{}
	for _, f := range gs.FeederLastSamples {
		if feeders[f.Feeder] {
			return genesisErr("feeder %s: duplicate last sample", f.Feeder)
		}
		feeders[f.Feeder] = true
	}
	nodes := map[uint64]bool{}
	for _, w := range gs.FreeTxWindows {
		if nodes[w.NodeId] {
			return genesisErr("free tx window of node %d: duplicate", w.NodeId)
		}
		nodes[w.NodeId] = true
	}
	farms := map[uint64]bool{}
	for _, p := range gs.FarmPayouts {
		if p.FarmId == 0 || farms[p.FarmId] {
			return genesisErr("payout of farm %d: zero or duplicate farm id", p.FarmId)
		}
		farms[p.FarmId] = true
		if p.Amount.IsNil() || !p.Amount.IsPositive() {
			return genesisErr("payout of farm %d: amount %s must be > 0", p.FarmId, p.Amount)
		}
	}
	return validateNodeClocks(gs.NodeClocks)
}

func validateNodeClocks(clocks []NodeClock) error {
	nodes := map[uint64]bool{}
	for _, c := range clocks {
		if c.NodeId == 0 || nodes[c.NodeId] {
			return genesisErr("clock of node %d: zero or duplicate node id", c.NodeId)
		}
		nodes[c.NodeId] = true
	}
	return nil
}

func genesisErr(format string, args ...any) error {
	return ErrInvalidGenesis.Wrap(fmt.Sprintf(format, args...))
}
