package app_test

// The simulation's checks beyond the modules' own invariants: billing's schedule, the links between
// contracts and the registry, the TFT price, utft conservation, and the export/import round trip.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"

	"github.com/tfgrid/tfgrid/app"
	"github.com/tfgrid/tfgrid/app/apptesting"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// checkSchedule: billing keeps time. After a block, no contract is due at or before its time (the end
// blocker settled every due one: the simulation never has max_settlements_per_block of them), and no
// contract still owes anything in grace past its deadline: billing deleted it at the deadline. A paid
// contract may stay in grace past it only while its own twin's rent contract, in grace, holds it
// there; any other such contract is counted (see TestLeaveGraceIgnoresOtherTwinsRent).
func (s *sim) checkSchedule() error {
	params, err := s.chain.App.BillingKeeper.Params.Get(s.chain.Ctx)
	if err != nil {
		return err
	}
	committed := s.w.now - int64(apptesting.BlockTime/time.Second)
	if len(s.w.billing) >= int(params.MaxSettlementsPerBlock) {
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(s.w.billing)) {
		if due := s.w.billing[id].NextDue; due <= committed {
			return fmt.Errorf("contract %d was due at %d and is not settled at %d", id, due, committed)
		}
	}
	for _, c := range s.w.sc.Contracts {
		deadline := c.GraceSince + int64(params.GracePeriod)
		if c.State != sctypes.ContractStateGracePeriod || committed < deadline {
			continue
		}
		b := s.w.billing[c.Id]
		if owed := b.StandardOverdraft.Add(b.ExtraOverdraft); owed.IsPositive() {
			return fmt.Errorf("contract %d (%s) is in grace since %d, past its deadline %d at %d, and owes %s",
				c.Id, c.ContractKind(), c.GraceSince, deadline, committed, owed)
		}
		if rent, ok := s.w.rentOf[c.NodeID()]; !ok || c.GetNodeContract() == nil || rent.TwinId != c.TwinId || rent.State != sctypes.ContractStateGracePeriod {
			s.ledgerStats["paid, in grace past the deadline"]++
		}
	}
	return nil
}

// crossCheck checks what ties contracts to the registry: owners and nodes exist, every contract id
// issued is either live or a tombstone, and a node with an extra fee only runs its renter's contracts.
func (w *world) crossCheck() error {
	twins := map[uint64]bool{}
	for _, tw := range w.tf.Twins {
		twins[tw.Id] = true
	}
	seen := map[uint64]bool{}
	for _, c := range w.sc.Contracts {
		if !twins[c.TwinId] {
			return fmt.Errorf("contract %d: twin %d does not exist", c.Id, c.TwinId)
		}
		if id := c.NodeID(); id != 0 {
			if _, ok := w.node[id]; !ok {
				return fmt.Errorf("contract %d lives on node %d, which does not exist", c.Id, id)
			}
		}
		seen[c.Id] = true
	}
	for _, tomb := range w.sc.Tombstones {
		if seen[tomb.Id] {
			return fmt.Errorf("contract %d is live and a tombstone", tomb.Id)
		}
		seen[tomb.Id] = true
	}
	for id := uint64(1); id < w.sc.NextContractId; id++ {
		if !seen[id] {
			return fmt.Errorf("contract id %d (below next id %d) is neither live nor a tombstone", id, w.sc.NextContractId)
		}
	}
	if len(seen) != int(w.sc.NextContractId-1) {
		return fmt.Errorf("%d contracts and tombstones, next contract id %d", len(seen), w.sc.NextContractId)
	}
	for _, f := range w.sc.NodeExtraFees {
		if _, ok := w.node[f.NodeId]; !ok {
			return fmt.Errorf("extra fee of node %d, which does not exist", f.NodeId)
		}
		// The fee is set only on a node without contracts; from then on only a renter deploys there.
		for _, c := range w.onNode[f.NodeId] {
			if rent, ok := w.rentOf[f.NodeId]; !ok || rent.TwinId != c.TwinId {
				return fmt.Errorf("node %d has an extra fee and runs contract %d of twin %d without that twin's rent contract", f.NodeId, c.Id, c.TwinId)
			}
		}
	}
	return nil
}

// --- TFT price and utft conservation ---------------------------------------------------------------

// checkPrice follows the samples the block accepted, in transaction order, with a model of the average
// billing keeps: each EventTftPriceSet carries the model's average of the last price_window samples,
// and the price billing uses is that average clamped to [min_tft_price_musd, max_tft_price_musd].
func (s *sim) checkPrice(b int, block *abci.ResponseFinalizeBlock) {
	t, k := s.t, s.chain.App.BillingKeeper
	params, err := k.Params.Get(s.chain.Ctx)
	require.NoError(t, err)
	average := func() sdkmath.LegacyDec {
		if n := len(s.prices); n > int(params.PriceWindow) {
			s.prices = s.prices[n-int(params.PriceWindow):]
		}
		sum := sdkmath.LegacyZeroDec()
		for _, p := range s.prices {
			sum = sum.Add(p)
		}
		return sum.QuoInt64(int64(len(s.prices)))
	}
	for _, res := range block.TxResults {
		for _, ev := range res.Events {
			if res.Code != 0 || ev.Type != eventType(&billingtypes.EventTftPriceSet{}) {
				continue
			}
			set := parseEvent(t, ev).(*billingtypes.EventTftPriceSet)
			s.prices = append(s.prices, sdkmath.LegacyMustNewDecFromStr(set.PriceMusd))
			require.Equal(t, average().String(), set.AverageMusd, "average after %s's sample %s in block %d", set.Feeder, set.PriceMusd, b)
		}
	}
	avg, want := average(), average()
	switch {
	case avg.LT(params.MinTftPriceMusd):
		want = params.MinTftPriceMusd
		s.ledgerStats["price clamped low"]++
	case avg.GT(params.MaxTftPriceMusd):
		want = params.MaxTftPriceMusd
		s.ledgerStats["price clamped high"]++
	default:
		s.ledgerStats["price within bounds"]++
	}
	price, err := k.Price(s.chain.Ctx, params)
	require.NoError(t, err)
	require.Equal(t, want.String(), price.String(), "price after block %d (average of %v)", b, s.prices)
}

// ledger is the committed state a block's conservation check starts from.
type ledger struct {
	balances  map[string]sdkmath.Int // utft by account; the fee collector and distribution pooled
	overdraft map[uint64]sdkmath.Int // standard + extra, by billed contract
	usage     map[uint64]bool        // billed contracts with a usage reported
	owner     map[uint64]uint64      // twin, by live contract
	supply    sdkmath.Int
}

// simFeePool stands for the fee collector and x/distribution's account together: distribution's begin
// blocker moves what the fee collector got (billing's staking share, fees) to its own account.
const simFeePool = "fee collector + distribution"

// accountKey names an account in a ledger.
func accountKey(addr sdk.AccAddress) string {
	if addr.Equals(authtypes.NewModuleAddress(authtypes.FeeCollectorName)) || addr.Equals(authtypes.NewModuleAddress(distrtypes.ModuleName)) {
		return simFeePool
	}
	return addr.String()
}

func (s *sim) key(bech32 string) string {
	addr, err := sdk.AccAddressFromBech32(bech32)
	require.NoError(s.t, err)
	return accountKey(addr)
}

// twinAccount is a twin's account in a ledger (twins are never deleted).
func (s *sim) twinAccount(twinID uint64) string {
	tw, err := s.chain.App.TfgridKeeper.Twins.Get(s.chain.Ctx, twinID)
	require.NoError(s.t, err, "twin %d", twinID)
	return s.key(tw.Account)
}

func amountOf(m map[string]sdkmath.Int, k string) sdkmath.Int {
	if v, ok := m[k]; ok {
		return v
	}
	return sdkmath.ZeroInt()
}

func parseAmount(t *testing.T, s string) sdkmath.Int {
	v, ok := sdkmath.NewIntFromString(s)
	require.True(t, ok, "amount %q", s)
	return v
}

// balances is a ledger of the accounts' utft and the supply only.
func (s *sim) balances() *ledger {
	ctx := s.chain.Ctx
	l := &ledger{balances: map[string]sdkmath.Int{}, supply: s.chain.App.BankKeeper.GetSupply(ctx, app.BondDenom).Amount}
	s.chain.App.BankKeeper.IterateAllBalances(ctx, func(addr sdk.AccAddress, c sdk.Coin) bool {
		require.Equal(s.t, app.BondDenom, c.Denom, "account %s holds %s", addr, c)
		key := accountKey(addr)
		l.balances[key] = amountOf(l.balances, key).Add(c.Amount)
		return false
	})
	return l
}

// takeLedger records the committed state after s.w was snapshot from it.
func (s *sim) takeLedger() *ledger {
	l := s.balances()
	l.overdraft, l.usage, l.owner = map[uint64]sdkmath.Int{}, map[uint64]bool{}, map[uint64]uint64{}
	for id, b := range s.w.billing {
		l.overdraft[id] = b.StandardOverdraft.Add(b.ExtraOverdraft)
		l.usage[id] = b.Usage != billingtypes.Usage{}
	}
	for _, c := range s.w.sc.Contracts {
		l.owner[c.Id] = c.TwinId
	}
	return l
}

// checkConservation: over the block just committed (its governance and keeper calls, transactions and
// begin and end blockers), every account's utft changed by exactly what these say:
//
//   - the simulation's own transfers (drains and refills) and any transaction fees;
//   - contract deposits locked (EventContractCreated) and released or forfeited (EventContractDepositReleased);
//   - billing's books: the owner of contract c paid charged(c) + overdraft before − overdraft after −
//     written off, where charged is the sum of its EventContractSettled amounts, into the billing
//     module account; the split of its EventContractSettled (farm, foundation, staking) must add up to
//     exactly that; the module account pays out what EventSharesDistributed (foundation account, fee
//     collector) and EventFarmPayout (farmer) say, and those accounts receive it.
//
// The total supply does not move. A split that invents or loses a utft, a payment that moves another
// amount than billing books, a share sent to the wrong account or not at all: each leaves some account
// off by the difference.
func (s *sim) checkConservation(b int, ops []simOp, block *abci.ResponseFinalizeBlock) {
	t, ctx, before := s.t, s.chain.Ctx, s.ledger
	params, err := s.chain.App.BillingKeeper.Params.Get(ctx)
	require.NoError(t, err)
	want := map[string]sdkmath.Int{}
	credit := func(key string, amount sdkmath.Int) { want[key] = amountOf(want, key).Add(amount) }
	move := func(from, to string, amount sdkmath.Int) { credit(from, amount.Neg()); credit(to, amount) }

	events := slices.Clone(s.preEvents)
	for i, res := range block.TxResults {
		if send, ok := ops[i].msg.(*banktypes.MsgSend); ok && res.Code == 0 {
			move(s.key(send.FromAddress), s.key(send.ToAddress), send.Amount.AmountOf(app.BondDenom))
			s.ledgerStats["simulation transfers"]++
		}
		events = append(events, res.Events...) // a failed transaction keeps only its ante events
	}
	events = append(events, block.Events...)

	deposits := accountKey(authtypes.NewModuleAddress(sctypes.ModuleName))
	billingAccount := accountKey(s.chain.App.BillingKeeper.ModuleAddress())
	owner := maps.Clone(before.owner)
	charged, distributed, writtenOff := map[uint64]sdkmath.Int{}, map[uint64]sdkmath.Int{}, map[uint64]sdkmath.Int{}
	add := func(m map[uint64]sdkmath.Int, id uint64, amount sdkmath.Int) {
		if v, ok := m[id]; ok {
			amount = amount.Add(v)
		}
		m[id] = amount
	}
	for _, ev := range events {
		if ev.Type == sdk.EventTypeTx {
			var fee, payer string
			for _, a := range ev.Attributes {
				switch a.Key {
				case sdk.AttributeKeyFee:
					fee = a.Value
				case sdk.AttributeKeyFeePayer:
					payer = a.Value
				}
			}
			if fee != "" {
				coins, err := sdk.ParseCoinsNormalized(fee)
				require.NoError(t, err)
				move(s.key(payer), simFeePool, coins.AmountOf(app.BondDenom))
				s.ledgerStats["fees"]++
			}
			continue
		}
		switch ev.Type {
		case eventType(&sctypes.EventContractCreated{}), eventType(&sctypes.EventContractDepositReleased{}),
			eventType(&billingtypes.EventContractSettled{}), eventType(&billingtypes.EventOverdraftWrittenOff{}),
			eventType(&billingtypes.EventSharesDistributed{}), eventType(&billingtypes.EventFarmPayout{}):
		default:
			continue
		}
		switch e := parseEvent(t, ev).(type) {
		case *sctypes.EventContractCreated:
			owner[e.ContractId] = e.TwinId
			move(s.twinAccount(e.TwinId), deposits, parseAmount(t, e.Deposit))
		case *sctypes.EventContractDepositReleased:
			move(deposits, s.key(e.Recipient), parseAmount(t, e.Amount))
		case *billingtypes.EventContractSettled:
			add(charged, e.ContractId, parseAmount(t, e.Amount))
			split := parseAmount(t, e.FarmerAmount).Add(parseAmount(t, e.FoundationAmount)).Add(parseAmount(t, e.StakingAmount))
			require.Equal(t, e.Paid, split.String(), "block %d, contract %d: paid and its split", b, e.ContractId)
			add(distributed, e.ContractId, split)
			if split.IsPositive() {
				s.ledgerStats["payments"]++
			}
			// Roughly: a node contract with a usage on an online, unrented node was charged for it.
			if c, ok := s.w.contract[e.ContractId]; ok && c.GetNodeContract() != nil && before.usage[e.ContractId] {
				_, rented := s.w.rentOf[c.NodeID()]
				if n := s.w.node[c.NodeID()]; !rented && n.LastUptime.ReportedAt+int64(params.NodeOfflineAfter) > e.PeriodStart {
					s.ledgerStats["resources billed"]++
				}
			}
		case *billingtypes.EventOverdraftWrittenOff:
			add(writtenOff, e.ContractId, parseAmount(t, e.Amount))
		case *billingtypes.EventSharesDistributed:
			require.Equal(t, params.FoundationAccount, e.Foundation, "block %d: the foundation's share goes to the foundation account", b)
			move(billingAccount, s.key(e.Foundation), parseAmount(t, e.FoundationAmount))
			move(billingAccount, simFeePool, parseAmount(t, e.StakingAmount))
		case *billingtypes.EventFarmPayout:
			farm, err := s.chain.App.TfgridKeeper.GetFarm(ctx, e.FarmId)
			require.NoError(t, err, "block %d: payout of farm %d", b, e.FarmId)
			require.Equal(t, s.twinAccount(farm.TwinId), s.key(e.Farmer), "block %d: farm %d is paid to its farmer", b, e.FarmId)
			move(billingAccount, s.key(e.Farmer), parseAmount(t, e.Amount))
			s.ledgerStats["farm payouts"]++
		}
	}

	// What each contract's owner paid, by billing's books, against what billing handed out.
	ids := map[uint64]bool{}
	for _, m := range []map[uint64]sdkmath.Int{before.overdraft, charged, distributed, writtenOff} {
		for id := range m {
			ids[id] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		after := sdkmath.ZeroInt()
		if billed, err := s.chain.App.BillingKeeper.Contracts.Get(ctx, id); err == nil {
			after = billed.StandardOverdraft.Add(billed.ExtraOverdraft)
		}
		get := func(m map[uint64]sdkmath.Int) sdkmath.Int {
			if v, ok := m[id]; ok {
				return v
			}
			return sdkmath.ZeroInt()
		}
		prior := get(before.overdraft)
		paid := get(charged).Add(prior).Sub(after).Sub(get(writtenOff))
		require.False(t, paid.IsNegative(), "block %d, contract %d: charged %s, overdraft %s → %s, written off %s: paid %s",
			b, id, get(charged), prior, after, get(writtenOff), paid)
		require.Equal(t, paid.String(), get(distributed).String(),
			"block %d, contract %d: billing's books say the owner paid %s (charged %s, overdraft %s → %s, written off %s); the payment events hand out %s",
			b, id, paid, get(charged), prior, after, get(writtenOff), get(distributed))
		if paid.IsPositive() {
			twin, ok := owner[id]
			require.True(t, ok, "block %d: contract %d paid %s utft and has no known owner", b, id, paid)
			move(s.twinAccount(twin), billingAccount, paid)
		}
	}

	now := s.balances()
	accounts := map[string]bool{}
	for _, m := range []map[string]sdkmath.Int{before.balances, now.balances, want} {
		for k := range m {
			accounts[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(accounts)) {
		got := amountOf(now.balances, k).Sub(amountOf(before.balances, k))
		require.Equal(t, amountOf(want, k).String(), got.String(),
			"block %d: utft of %s moved by %s; transfers, deposits, fees and billing's books account for %s", b, s.accountName(k), got, amountOf(want, k))
	}
	require.Equal(t, before.supply.String(), now.supply.String(), "block %d: utft supply", b)
	s.ledgerStats["blocks balanced"]++
}

// accountName names a ledger account for failure messages.
func (s *sim) accountName(key string) string {
	for i, a := range s.accs {
		if a.String() == key {
			return fmt.Sprintf("%s (account %d)", key, i)
		}
	}
	switch key {
	case s.chain.Validator.String():
		return key + " (validator, the drains' sink)"
	case accountKey(authtypes.NewModuleAddress(sctypes.ModuleName)):
		return key + " (smartcontract deposits)"
	case accountKey(s.chain.App.BillingKeeper.ModuleAddress()):
		return key + " (billing: pending farm payouts)"
	}
	if params, err := s.chain.App.BillingKeeper.Params.Get(s.chain.Ctx); err == nil && params.FoundationAccount == key {
		return key + " (billing foundation account)"
	}
	return key
}

// --- export and import -----------------------------------------------------------------------------

// requireExportImport exports the whole app, starts a fresh app from it and checks that the fresh app
// exports the same registry, contracts and billing state. The fresh app's first block has the time of
// the last block of the exported chain, so billing has nothing new to settle in it.
func (s *sim) requireExportImport() {
	t, a := s.t, s.chain.App
	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var state map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &state))
	require.NoError(t, a.BasicModuleManager.ValidateGenesis(a.AppCodec(), a.TxConfig(), state))

	fresh := app.NewApp(log.NewNopLogger(), dbm.NewMemDB(), true,
		appOptions{flags.FlagHome: t.TempDir()}, baseapp.SetChainID(apptesting.ChainID))
	blockTime := s.chain.Ctx.BlockTime().Add(-apptesting.BlockTime)
	_, err = fresh.InitChain(&abci.RequestInitChain{
		ChainId:         apptesting.ChainID,
		Time:            blockTime,
		AppStateBytes:   exported.AppState,
		ConsensusParams: &exported.ConsensusParams,
		InitialHeight:   exported.Height,
	})
	require.NoError(t, err, "a fresh app starts from the export")
	require.NotEmpty(t, exported.Validators)
	_, err = fresh.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height: exported.Height, Time: blockTime, ProposerAddress: exported.Validators[0].Address,
	})
	require.NoError(t, err)
	_, err = fresh.Commit()
	require.NoError(t, err)

	modules := []string{types.ModuleName, sctypes.ModuleName, billingtypes.ModuleName}
	again, err := fresh.ExportAppStateAndValidators(false, nil, modules)
	require.NoError(t, err)
	var state2 map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(again.AppState, &state2))
	for _, m := range modules {
		var want, got bytes.Buffer
		require.NoError(t, json.Compact(&want, state[m]))
		require.NoError(t, json.Compact(&got, state2[m]))
		require.Equal(t, want.String(), got.String(), "module %s exports differently after the import", m)
	}

	var tf types.GenesisState
	a.AppCodec().MustUnmarshalJSON(state[types.ModuleName], &tf)
	var sc sctypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(state[sctypes.ModuleName], &sc)
	s.t.Logf("exported and re-imported: %d twins, %d farms, %d public IPs, %d nodes, %d live contracts, %d tombstones",
		len(tf.Twins), len(tf.Farms), len(tf.PublicIps), len(tf.Nodes), len(sc.Contracts), len(sc.Tombstones))
	require.NoError(t, fresh.SmartcontractKeeper.CheckInvariants(fresh.NewContext(true)))
	require.NoError(t, fresh.BillingKeeper.CheckInvariants(fresh.NewContext(true)))
	require.NoError(t, fresh.TfgridKeeper.CheckInvariants(fresh.NewContext(true)))
}
