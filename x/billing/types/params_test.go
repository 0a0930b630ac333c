package types_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

var ac = addresscodec.NewBech32Codec("tf")

func account(name string) string {
	s, err := ac.BytesToString(authtypes.NewModuleAddress(name))
	if err != nil {
		panic(err)
	}
	return s
}

func validParams() types.Params {
	p := types.DefaultParams(account("foundation"))
	p.PriceFeeders = []string{account("feeder-1"), account("feeder-2")}
	return p
}

func TestDefaultParams(t *testing.T) {
	p := types.DefaultParams(account("foundation"))
	require.NoError(t, p.Validate(ac))
	require.EqualValues(t, 3600, p.SettlementInterval)
	require.EqualValues(t, 14*24*3600, p.GracePeriod)
	require.EqualValues(t, 2*3600, p.NodeOfflineAfter)
	require.EqualValues(t, 2_000_000, p.MaxFreeNodeTxGas)
	require.EqualValues(t, 1440, p.PriceWindow)
	require.EqualValues(t, 60, p.PriceSampleInterval)
	require.Equal(t, dec("1.25"), p.CertifiedMultiplier)
	require.EqualValues(t, []uint32{50, 40, 10}, []uint32{p.FarmerSharePercent, p.FoundationSharePercent, p.StakingSharePercent})
	require.NoError(t, validParams().Validate(ac))
}

func TestParamsValidate(t *testing.T) {
	tier := func(l types.DiscountLevel, months, mult string) types.DiscountTier {
		return types.DiscountTier{Level: l, MinMonths: dec(months), Multiplier: dec(mult)}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*types.Params)
		frag   string
		passes bool
	}{
		{name: "settlement_interval 0", edit: func(p *types.Params) { p.SettlementInterval = 0 }, frag: "settlement_interval 0"},
		{name: "grace_period 0", edit: func(p *types.Params) { p.GracePeriod = 0 }, frag: "grace_period 0"},
		{name: "node_offline_after 0", edit: func(p *types.Params) { p.NodeOfflineAfter = 0 }, frag: "node_offline_after 0"},
		{name: "price_sample_interval 0", edit: func(p *types.Params) { p.PriceSampleInterval = 0 }, frag: "price_sample_interval 0"},
		{name: "max_settlements_per_block 0", edit: func(p *types.Params) { p.MaxSettlementsPerBlock = 0 }, frag: "max_settlements_per_block 0"},
		{name: "price_window 0", edit: func(p *types.Params) { p.PriceWindow = 0 }, frag: "price_window 0"},
		{name: "payout_interval 0", edit: func(p *types.Params) { p.PayoutInterval = 0 }, frag: "payout_interval 0"},
		{name: "max_payouts_per_block 0", edit: func(p *types.Params) { p.MaxPayoutsPerBlock = 0 }, frag: "max_payouts_per_block 0"},
		{name: "min price nil", edit: func(p *types.Params) { p.MinTftPriceMusd = sdkmath.LegacyDec{} }, frag: "min_tft_price_musd"},
		{name: "max price nil", edit: func(p *types.Params) { p.MaxTftPriceMusd = sdkmath.LegacyDec{} }, frag: "max_tft_price_musd"},
		{name: "min price 0", edit: func(p *types.Params) { p.MinTftPriceMusd = dec("0") }, frag: "0 < min < max"},
		{name: "min price negative", edit: func(p *types.Params) { p.MinTftPriceMusd = dec("-1") }, frag: "0 < min < max"},
		{name: "min = max", edit: func(p *types.Params) { p.MinTftPriceMusd, p.MaxTftPriceMusd = dec("10"), dec("10") }, frag: "0 < min < max"},
		{name: "min > max", edit: func(p *types.Params) { p.MinTftPriceMusd, p.MaxTftPriceMusd = dec("11"), dec("10") }, frag: "0 < min < max"},
		{name: "tier level unspecified", edit: func(p *types.Params) { p.DiscountLevels[0].Level = types.DiscountLevelUnspecified }, frag: "discount_levels[0]"},
		{name: "tier level none", edit: func(p *types.Params) { p.DiscountLevels[2].Level = types.DiscountLevelNone }, frag: "discount_levels[2]"},
		{name: "tier min_months 0", edit: func(p *types.Params) { p.DiscountLevels[3].MinMonths = dec("0") }, frag: "discount_levels[3]"},
		{name: "tier min_months nil", edit: func(p *types.Params) { p.DiscountLevels[1].MinMonths = sdkmath.LegacyDec{} }, frag: "discount_levels[1]"},
		{name: "tier multiplier 0", edit: func(p *types.Params) { p.DiscountLevels[0].Multiplier = dec("0") }, frag: "multiplier"},
		{name: "tier multiplier above 1", edit: func(p *types.Params) { p.DiscountLevels[0].Multiplier = dec("1.01") }, frag: "multiplier"},
		{name: "tier multiplier nil", edit: func(p *types.Params) { p.DiscountLevels[0].Multiplier = sdkmath.LegacyDec{} }, frag: "multiplier"},
		{name: "tiers equal min_months", edit: func(p *types.Params) { p.DiscountLevels[1].MinMonths = dec("18") }, frag: "strictly descending"},
		{name: "tiers ascending", edit: func(p *types.Params) {
			p.DiscountLevels = []types.DiscountTier{tier(types.DiscountLevelDefault, "1.5", "0.8"), tier(types.DiscountLevelGold, "18", "0.4")}
		}, frag: "strictly descending"},
		{name: "certified multiplier 0", edit: func(p *types.Params) { p.CertifiedMultiplier = dec("0") }, frag: "certified_multiplier"},
		{name: "certified multiplier nil", edit: func(p *types.Params) { p.CertifiedMultiplier = sdkmath.LegacyDec{} }, frag: "certified_multiplier"},
		{name: "shares sum 99", edit: func(p *types.Params) { p.StakingSharePercent = 9 }, frag: "sum of 100"},
		{name: "shares sum 101", edit: func(p *types.Params) { p.FarmerSharePercent = 51 }, frag: "sum of 100"},
		{name: "foundation empty", edit: func(p *types.Params) { p.FoundationAccount = "" }, frag: "foundation_account"},
		{name: "foundation wrong prefix", edit: func(p *types.Params) {
			p.FoundationAccount = "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"
		}, frag: "foundation_account"},
		{name: "feeder invalid", edit: func(p *types.Params) { p.PriceFeeders = append(p.PriceFeeders, "nope") }, frag: "price_feeders[2]"},
		{name: "feeder duplicate", edit: func(p *types.Params) { p.PriceFeeders = append(p.PriceFeeders, p.PriceFeeders[0]) }, frag: "price_feeders[2]"},

		{name: "no tiers", edit: func(p *types.Params) { p.DiscountLevels = nil }, passes: true},
		{name: "one tier", edit: func(p *types.Params) {
			p.DiscountLevels = []types.DiscountTier{tier(types.DiscountLevelGold, "0.5", "1")}
		}, passes: true},
		{name: "no feeders", edit: func(p *types.Params) { p.PriceFeeders = nil }, passes: true},
		{name: "all to the farmer", edit: func(p *types.Params) {
			p.FarmerSharePercent, p.FoundationSharePercent, p.StakingSharePercent = 100, 0, 0
		}, passes: true},
		{name: "min just below max", edit: func(p *types.Params) { p.MinTftPriceMusd, p.MaxTftPriceMusd = dec("9.999999"), dec("10") }, passes: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validParams()
			p.DiscountLevels = append([]types.DiscountTier(nil), p.DiscountLevels...)
			tc.edit(&p)
			err := p.Validate(ac)
			if tc.passes {
				require.NoError(t, err)
				return
			}
			requireerr.Is(t, err, types.ErrInvalidParams, tc.frag)
		})
	}
}

// ---------------------------------------------------------------------------
// genesis
// ---------------------------------------------------------------------------

func billing(id uint64) types.ContractBilling {
	return types.ContractBilling{
		ContractId: id, LastSettled: 100, NextDue: 3700,
		StandardOverdraft: sdkmath.ZeroInt(), ExtraOverdraft: sdkmath.ZeroInt(), UnbilledNu: sdkmath.LegacyZeroDec(),
	}
}

func validGenesis() types.GenesisState {
	gs := *types.DefaultGenesis(account("foundation"))
	gs.Params.PriceFeeders = []string{account("feeder-1")}
	gs.PriceSamples = append(gs.PriceSamples, types.PriceSample{Seq: 2, Feeder: account("feeder-1"), PriceMusd: dec("12.5"), Time: 50})
	gs.Contracts = []types.ContractBilling{billing(1), billing(2)}
	gs.FeederLastSamples = []types.FeederLastSample{{Feeder: account("feeder-1"), Time: 50}}
	gs.FreeTxWindows = []types.FreeTxWindow{{NodeId: 1, HourStart: 0, Count: 3}, {NodeId: 2, HourStart: 3600, Count: 1}}
	return gs
}

func TestDefaultGenesis(t *testing.T) {
	gs := types.DefaultGenesis(account("foundation"))
	require.NoError(t, gs.Validate(ac))
	require.Len(t, gs.PriceSamples, 1)
	require.Equal(t, dec("10"), gs.PriceSamples[0].PriceMusd)
	require.NoError(t, validGenesis().Validate(ac))
}

func TestGenesisValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*types.GenesisState)
		err  error
		frag string
	}{
		{"invalid params", func(gs *types.GenesisState) { gs.Params.SettlementInterval = 0 }, types.ErrInvalidParams, "settlement_interval"},
		{"no price sample", func(gs *types.GenesisState) { gs.PriceSamples = nil }, types.ErrInvalidGenesis, "starting price"},
		{"more samples than the window", func(gs *types.GenesisState) { gs.Params.PriceWindow = 1 }, types.ErrInvalidGenesis, "price_window is 1"},
		{"sample seq 0", func(gs *types.GenesisState) { gs.PriceSamples[1].Seq = 0 }, types.ErrInvalidGenesis, "seq 0"},
		{"duplicate sample seq", func(gs *types.GenesisState) { gs.PriceSamples[1].Seq = 1 }, types.ErrInvalidGenesis, "seq 1: zero or duplicate"},
		{"sample price 0", func(gs *types.GenesisState) { gs.PriceSamples[1].PriceMusd = dec("0") }, types.ErrInvalidGenesis, "price sample 2"},
		{"sample price 7 decimals", func(gs *types.GenesisState) { gs.PriceSamples[0].PriceMusd = dec("1.0000001") }, types.ErrInvalidGenesis, "6 decimals"},
		{"contract id 0", func(gs *types.GenesisState) { gs.Contracts[0].ContractId = 0 }, types.ErrInvalidGenesis, "contract 0"},
		{"duplicate contract", func(gs *types.GenesisState) { gs.Contracts[1].ContractId = 1 }, types.ErrInvalidGenesis, "duplicate id"},
		{"next_due before last_settled", func(gs *types.GenesisState) { gs.Contracts[1].NextDue = 99 }, types.ErrInvalidGenesis, "next_due 99 before last_settled 100"},
		{"negative standard overdraft", func(gs *types.GenesisState) { gs.Contracts[0].StandardOverdraft = sdkmath.NewInt(-1) }, types.ErrInvalidGenesis, "negative overdraft"},
		{"negative extra overdraft", func(gs *types.GenesisState) { gs.Contracts[0].ExtraOverdraft = sdkmath.NewInt(-1) }, types.ErrInvalidGenesis, "negative overdraft"},
		{"nil overdraft", func(gs *types.GenesisState) { gs.Contracts[0].StandardOverdraft = sdkmath.Int{} }, types.ErrInvalidGenesis, "negative overdraft"},
		{"negative unbilled nu", func(gs *types.GenesisState) { gs.Contracts[0].UnbilledNu = dec("-0.5") }, types.ErrInvalidGenesis, "unbilled_nu"},
		{"nil unbilled nu", func(gs *types.GenesisState) { gs.Contracts[0].UnbilledNu = sdkmath.LegacyDec{} }, types.ErrInvalidGenesis, "unbilled_nu"},
		{"duplicate feeder sample", func(gs *types.GenesisState) {
			gs.FeederLastSamples = append(gs.FeederLastSamples, gs.FeederLastSamples[0])
		}, types.ErrInvalidGenesis, "duplicate last sample"},
		{"duplicate free tx window", func(gs *types.GenesisState) { gs.FreeTxWindows[1].NodeId = 1 }, types.ErrInvalidGenesis, "node 1: duplicate"},
		{"payout of farm 0", func(gs *types.GenesisState) {
			gs.FarmPayouts = []types.FarmPayout{{FarmId: 0, Amount: sdkmath.NewInt(5), Due: 100}}
		}, types.ErrInvalidGenesis, "payout of farm 0"},
		{"duplicate farm payout", func(gs *types.GenesisState) {
			gs.FarmPayouts = []types.FarmPayout{{FarmId: 3, Amount: sdkmath.NewInt(5), Due: 100}, {FarmId: 3, Amount: sdkmath.NewInt(1), Due: 200}}
		}, types.ErrInvalidGenesis, "farm 3: zero or duplicate"},
		{"zero farm payout", func(gs *types.GenesisState) {
			gs.FarmPayouts = []types.FarmPayout{{FarmId: 3, Amount: sdkmath.ZeroInt(), Due: 100}}
		}, types.ErrInvalidGenesis, "payout of farm 3: amount 0 must be > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.edit(&gs)
			requireerr.Is(t, gs.Validate(ac), tc.err, tc.frag)
		})
	}
}

func TestGenesisValidateAcceptsOverdraftAndSettledNow(t *testing.T) {
	gs := validGenesis()
	gs.Contracts[0].StandardOverdraft = sdkmath.NewInt(5)
	gs.Contracts[0].ExtraOverdraft = sdkmath.NewInt(7)
	gs.Contracts[0].UnbilledNu = dec("0.00005")
	gs.Contracts[1].NextDue = gs.Contracts[1].LastSettled
	require.NoError(t, gs.Validate(ac))
}

// ---------------------------------------------------------------------------
// consumption reports
// ---------------------------------------------------------------------------

func TestValidateReport(t *testing.T) {
	node := tfgridtypes.Node{Id: 3, Resources: tfgridtypes.Resources{Cru: 4, Sru: 500 * gib, Hru: 1000 * gib, Mru: 8 * gib}, LinkRate: 1000}
	const now, drift = int64(1_750_000_000), uint64(60)
	full := types.ConsumptionReport{ContractId: 7, Timestamp: now, Window: 10, Cru: 4, Sru: 500 * gib, Hru: 1000 * gib, Mru: 8 * gib, Nru: 10_000}
	require.NoError(t, types.ValidateReport(0, full, node, now, drift), "exactly the capacity and window × link rate")
	atDrift := full
	atDrift.Timestamp = now + int64(drift)
	require.NoError(t, types.ValidateReport(0, atDrift, node, now, drift), "timestamp at block time + drift")
	fastest := node
	fastest.LinkRate = math.MaxUint64
	huge := full
	huge.Window, huge.Nru = math.MaxUint64, math.MaxUint64
	require.NoError(t, types.ValidateReport(0, huge, fastest, now, drift), "window × link rate beyond 64 bits bounds nothing")

	for _, tc := range []struct {
		name string
		edit func(*types.ConsumptionReport)
		frag string
	}{
		{"contract 0", func(r *types.ConsumptionReport) { r.ContractId = 0 }, "reports[3]: contract_id 0"},
		{"timestamp 0", func(r *types.ConsumptionReport) { r.Timestamp = 0 }, "timestamp 0"},
		{"timestamp negative", func(r *types.ConsumptionReport) { r.Timestamp = -5 }, "timestamp -5"},
		{"timestamp beyond drift", func(r *types.ConsumptionReport) { r.Timestamp = now + int64(drift) + 1 }, "block time 1750000000 + drift 60"},
		{"window 0", func(r *types.ConsumptionReport) { r.Window = 0 }, "window 0 s, want > 0"},
		{"nru above window × link rate", func(r *types.ConsumptionReport) { r.Nru = 10_001 }, "contract 7: nru 10001 exceeds window 10 s × link rate 1000 B/s"},
		{"nru 2^64-1 in 1 s", func(r *types.ConsumptionReport) { r.Window, r.Nru = 1, math.MaxUint64 }, "nru 18446744073709551615 exceeds window 1 s"},
		{"cru", func(r *types.ConsumptionReport) { r.Cru = 5 }, "cru 5 exceeds the node's 4"},
		{"sru", func(r *types.ConsumptionReport) { r.Sru = 500*gib + 1 }, "sru"},
		{"hru", func(r *types.ConsumptionReport) { r.Hru = 1000*gib + 1 }, "hru"},
		{"mru", func(r *types.ConsumptionReport) { r.Mru = 8*gib + 1 }, "mru"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := full
			tc.edit(&r)
			requireerr.Is(t, types.ValidateReport(3, r, node, now, drift), types.ErrInvalidReport, tc.frag)
		})
	}
	silent := node
	silent.LinkRate = 0
	requireerr.Is(t, types.ValidateReport(0, full, silent, now, drift), types.ErrInvalidReport, "link rate 0 B/s")
}

func TestCheckReportTime(t *testing.T) {
	const created = int64(1000)
	previous := &types.ConsumptionReport{ContractId: 7, Timestamp: 1100}
	for _, tc := range []struct {
		name      string
		timestamp int64
		window    uint64
		previous  *types.ConsumptionReport
		frag      string // "" accepts
	}{
		{"first report, window = age", 1060, 60, nil, ""},
		{"first report, window above age", 1060, 61, nil, "window 61 s exceeds the 60 s since 1000"},
		{"first report at creation", created, 1, nil, "window 1 s exceeds the 0 s since 1000"},
		{"before creation", 999, 1, nil, "timestamp 999 is before its creation at 1000"},
		{"next report, window = gap", 1130, 30, previous, ""},
		{"next report, window above gap", 1130, 31, previous, "window 31 s exceeds the 30 s since 1100"},
		{"next report not newer", 1100, 1, previous, "timestamp 1100 is not after the previous report's 1100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := types.ConsumptionReport{ContractId: 7, Timestamp: tc.timestamp, Window: tc.window}
			err := types.CheckReportTime(r, created, tc.previous)
			if tc.frag == "" {
				require.NoError(t, err)
				return
			}
			requireerr.Is(t, err, types.ErrInvalidReport, "contract 7", tc.frag)
		})
	}
}

func TestClampUsage(t *testing.T) {
	reserved := tfgridtypes.Resources{Cru: 2, Sru: 50 * gib, Hru: 0, Mru: 4 * gib}
	for _, tc := range []struct {
		name   string
		report types.ConsumptionReport
		want   types.Usage
		clamps []types.Clamp
	}{
		{"within", types.ConsumptionReport{Cru: 1, Sru: gib, Mru: 4 * gib}, types.Usage{Cru: 1, Sru: gib, Mru: 4 * gib}, nil},
		{"above on cru and hru", types.ConsumptionReport{Cru: 3, Hru: 1, Mru: gib},
			types.Usage{Cru: 2, Mru: gib}, []types.Clamp{{"cru", 3, 2}, {"hru", 1, 0}}},
		{"all at 2^64-1", types.ConsumptionReport{Cru: math.MaxUint64, Sru: math.MaxUint64, Hru: math.MaxUint64, Mru: math.MaxUint64},
			types.Usage{Cru: 2, Sru: 50 * gib, Mru: 4 * gib},
			[]types.Clamp{{"cru", math.MaxUint64, 2}, {"sru", math.MaxUint64, 50 * gib}, {"hru", math.MaxUint64, 0}, {"mru", math.MaxUint64, 4 * gib}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, clamps := types.ClampUsage(tc.report.Claimed(), reserved)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.clamps, clamps)
			require.True(t, got.Within(reserved))
		})
	}
}

func TestCappedCharge(t *testing.T) {
	for _, tc := range []struct {
		amount     int64
		maxPerHour uint64
		seconds    uint64
		want       int64
	}{
		{100, 3600, 3600, 100},   // under the cap
		{5000, 3600, 3600, 3600}, // one hour at the cap
		{5000, 3600, 1, 1},       // one second
		{5000, 1000, 1, 0},       // floor(1000/3600)
		{5000, 1000, 0, 0},       // nothing settled, nothing charged
		{0, 1000, 3600, 0},
	} {
		got := types.CappedCharge(sdkmath.NewInt(tc.amount), tc.maxPerHour, tc.seconds)
		require.Equal(t, sdkmath.NewInt(tc.want).String(), got.String(), "%+v", tc)
	}
}
