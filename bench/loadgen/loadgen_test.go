package loadgen

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/app"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

type signingData = signing.SingleSignatureData

type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

func testApp(t *testing.T) *app.App {
	app.SetupSDKConfig()
	a := app.NewApp(log.NewNopLogger(), dbm.NewMemDB(), false, appOptions{flags.FlagHome: t.TempDir()})
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func TestAccountsAreDeterministic(t *testing.T) {
	app.SetupSDKConfig()
	accs := NewAccounts(5)
	for i, acc := range accs {
		want := secp256k1.GenPrivKeyFromSecret([]byte(fmt.Sprintf("loadgen-%d", i)))
		require.Equal(t, want.Bytes(), acc.Key.Bytes())
		require.Equal(t, i, acc.Index)
		require.Equal(t, sdk.AccAddress(want.PubKey().Address()).String(), acc.Bech32)
		require.Regexp(t, `^tf1`, acc.Bech32)
	}
	require.NotEqual(t, accs[0].Bech32, SinkAccount().Bech32)
}

// TestAddGenesisAccounts funds accounts in the app's own default genesis and
// checks the result with the modules' genesis validation and codecs.
func TestAddGenesisAccounts(t *testing.T) {
	a := testApp(t)
	cdc := a.AppCodec()
	genesis := a.DefaultGenesis()

	// One account already in genesis, with account number 7.
	existing := NewAccount(1000)
	var authGen authtypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[authtypes.ModuleName], &authGen)
	packed, err := authtypes.PackAccounts(authtypes.GenesisAccounts{authtypes.NewBaseAccount(existing.Address, nil, 7, 0)})
	require.NoError(t, err)
	authGen.Accounts = packed
	genesis[authtypes.ModuleName] = cdc.MustMarshalJSON(&authGen)
	var bankGen banktypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[banktypes.ModuleName], &bankGen)
	bankGen.Balances = []banktypes.Balance{{Address: existing.Bech32, Coins: sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 500))}}
	bankGen.Supply = sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 500))
	genesis[banktypes.ModuleName] = cdc.MustMarshalJSON(&bankGen)

	accs := append(NewAccounts(3), SinkAccount())
	opts := GenesisOptions{Accounts: 3, Amount: sdkmath.NewInt(1_000_000), Denom: app.BondDenom, PubKeys: true}
	first, err := AddGenesisAccounts(genesis, accs, opts)
	require.NoError(t, err)
	require.EqualValues(t, 8, first)

	require.NoError(t, a.BasicModuleManager.ValidateGenesis(cdc, a.TxConfig(), genesis))

	cdc.MustUnmarshalJSON(genesis[authtypes.ModuleName], &authGen)
	got, err := authtypes.UnpackAccounts(authGen.Accounts)
	require.NoError(t, err)
	require.Len(t, got, 5)
	for i, acc := range accs {
		g := got[i+1]
		require.Equal(t, acc.Bech32, g.GetAddress().String())
		require.EqualValues(t, 8+i, g.GetAccountNumber())
		require.Zero(t, g.GetSequence())
		require.NotNil(t, g.GetPubKey())
		require.Equal(t, acc.Key.PubKey().Bytes(), g.GetPubKey().Bytes())
	}
	cdc.MustUnmarshalJSON(genesis[banktypes.ModuleName], &bankGen)
	require.Len(t, bankGen.Balances, 5)
	require.Equal(t, "4000500", bankGen.Supply.AmountOf(app.BondDenom).String())

	// Running it again refuses the same accounts.
	_, err = AddGenesisAccounts(genesis, accs[:1], opts)
	require.ErrorContains(t, err, "already in genesis")

	// Without public keys the accounts carry none.
	genesis2 := a.DefaultGenesis()
	_, err = AddGenesisAccounts(genesis2, NewAccounts(1), GenesisOptions{Amount: sdkmath.NewInt(1), Denom: app.BondDenom})
	require.NoError(t, err)
	cdc.MustUnmarshalJSON(genesis2[authtypes.ModuleName], &authGen)
	got, err = authtypes.UnpackAccounts(authGen.Accounts)
	require.NoError(t, err)
	require.Nil(t, got[0].GetPubKey())
	require.EqualValues(t, 0, got[0].GetAccountNumber())

	_, err = AddGenesisAccounts(genesis2, NewAccounts(1), GenesisOptions{Amount: sdkmath.ZeroInt(), Denom: app.BondDenom})
	require.Error(t, err)
}

func TestMessagesAreValid(t *testing.T) {
	app.SetupSDKConfig()
	accs := NewAccounts(3)
	opts := MsgOptions{Denom: app.BondDenom, BankTo: "sink", Sink: SinkAccount().Address, TwinRelays: 4, TwinE2EKey: true, FarmIPs: 3}

	msg, err := BuildMsg(PhaseSpec{Kind: KindBank}, accs, accs[1], 0, opts)
	require.NoError(t, err)
	send := msg.(*banktypes.MsgSend)
	require.Equal(t, SinkAccount().Bech32, send.ToAddress)
	require.Equal(t, accs[1].Bech32, send.FromAddress)
	opts.BankTo = "next"
	msg, err = BuildMsg(PhaseSpec{Kind: KindBank}, accs, accs[2], 0, opts)
	require.NoError(t, err)
	require.Equal(t, accs[0].Bech32, msg.(*banktypes.MsgSend).ToAddress)

	msg, err = BuildMsg(PhaseSpec{Kind: KindTwin}, accs, accs[0], 0, opts)
	require.NoError(t, err)
	twin := msg.(*types.MsgCreateTwin)
	require.Equal(t, accs[0].Bech32, twin.Creator)
	require.Len(t, twin.Relays, 4)
	require.NoError(t, types.ValidateRelays(twin.Relays))
	require.NoError(t, types.ValidateE2EKey(twin.E2EKey))
	require.NotEqual(t, accs[0].Key.PubKey().Bytes(), twin.E2EKey)
	_, err = BuildMsg(PhaseSpec{Kind: KindTwin}, accs, accs[0], 1, opts)
	require.Error(t, err, "a second twin per account")

	names := map[string]bool{}
	ips := map[string]bool{}
	for _, acc := range accs {
		for j := range MaxFarmsPerAccount {
			msg, err := BuildMsg(PhaseSpec{Kind: KindFarm}, accs, acc, j, opts)
			require.NoError(t, err)
			farm := msg.(*types.MsgCreateFarm)
			require.NoError(t, types.ValidateFarmName(farm.Name))
			require.False(t, names[farm.Name], farm.Name)
			names[farm.Name] = true
			require.Len(t, farm.PublicIps, 3)
			for _, ip := range farm.PublicIps {
				_, _, err := types.ParsePublicIP(ip.Ip, ip.Gateway)
				require.NoError(t, err, ip)
				require.False(t, ips[ip.Ip], ip.Ip)
				ips[ip.Ip] = true
			}
		}
	}
	// The longest name still fits.
	require.NoError(t, types.ValidateFarmName(FarmName(999_999_999, MaxFarmsPerAccount-1)))
	// Farm IP blocks stay public and distinct over the whole range.
	for _, f := range []int{0, 255, 256, 65535} {
		for _, ip := range FarmIPs(f, MaxFarmIPs) {
			_, _, err := types.ParsePublicIP(ip.Ip, ip.Gateway)
			require.NoError(t, err, ip)
		}
	}
	require.Nil(t, FarmIPs(1, 0))

	_, err = BuildMsg(PhaseSpec{Kind: "nope"}, accs, accs[0], 0, opts)
	require.Error(t, err)
}

func TestContractMessages(t *testing.T) {
	app.SetupSDKConfig()
	const n = 600 // three contract farms: 256 + 256 + 88 accounts
	require.Equal(t, 3, ContractFarms(n, 1))
	require.Equal(t, 6, ContractFarms(n, 2))
	require.Equal(t, 3, ContractFarms(n, 0))
	require.Equal(t, 1, ContractFarms(1, 1))
	require.Equal(t, 1, ContractFarms(256, 1))
	require.Equal(t, 2, ContractFarms(257, 1))
	accs := NewAccounts(n)
	opts := MsgOptions{ContractDataBytes: 100, IPFarmsPerRound: 3}
	nc := PhaseSpec{Name: "nc", Kind: KindContract}
	ncIP := PhaseSpec{Name: "nc-ip", Kind: KindContractIP}

	_, err := BuildMsg(nc, accs, accs[0], 0, opts)
	require.ErrorContains(t, err, "no contract nodes")

	opts.ContractNodes = []uint64{11, 12, 13, 21, 22, 23}
	hashes := map[string]bool{}
	perNode := map[uint64]int{}
	ncIP2 := PhaseSpec{Name: "nc-ip-2", Kind: KindContractIP, Round: 1}
	for _, spec := range []PhaseSpec{nc, {Name: "nc-2", Kind: KindContract, Round: 1}, ncIP, ncIP2} {
		for _, acc := range accs {
			msg, err := BuildMsg(spec, accs, acc, 0, opts)
			require.NoError(t, err)
			c := msg.(*sctypes.MsgCreateNodeContract)
			require.Equal(t, acc.Bech32, c.Creator)
			require.NoError(t, sctypes.ValidateDeploymentHash(c.DeploymentHash))
			require.False(t, hashes[c.DeploymentHash], "deployment hash reused: %s", c.DeploymentHash)
			hashes[c.DeploymentHash] = true
			require.Len(t, c.DeploymentData, 100)
			if spec.Kind == KindContractIP {
				require.EqualValues(t, 1, c.PublicIpsCount)
				require.Equal(t, opts.ContractNodes[spec.Round*3+acc.Index/IPsPerContractFarm], c.NodeId)
				perNode[c.NodeId]++
			} else {
				require.Zero(t, c.PublicIpsCount)
				require.Equal(t, opts.ContractNodes[acc.Index%6], c.NodeId)
			}
		}
	}
	// No farm is asked for more IPs than it has; each round has its own farms.
	require.Equal(t, map[uint64]int{11: 256, 12: 256, 13: 88, 21: 256, 22: 256, 23: 88}, perNode)
	_, err = BuildMsg(ncIP, accs, accs[0], 1, opts)
	require.Error(t, err, "a second IP contract per account")
	_, err = BuildMsg(PhaseSpec{Name: "nc-ip-3", Kind: KindContractIP, Round: 2}, accs, accs[0], 0, opts)
	require.ErrorContains(t, err, "needs contract farm 6, only 6 set up")

	// Contract farms: 256 valid, distinct IPs each, the most a farm may hold.
	ips := map[string]bool{}
	names := map[string]bool{}
	for _, k := range []int{0, 1, 127, 128, 32767} {
		require.NoError(t, types.ValidateFarmName(ContractFarmName(k)))
		require.False(t, names[ContractFarmName(k)])
		names[ContractFarmName(k)] = true
		farmIPs := ContractFarmIPs(k)
		require.Len(t, farmIPs, IPsPerContractFarm)
		require.LessOrEqual(t, len(farmIPs), int(types.DefaultParams().MaxFarmPublicIps))
		for _, ip := range farmIPs {
			_, _, err := types.ParsePublicIP(ip.Ip, ip.Gateway)
			require.NoError(t, err, ip)
			require.False(t, ips[ip.Ip], ip.Ip)
			ips[ip.Ip] = true
		}
	}
	// The contract nodes register with a valid description.
	farmer := ContractFarmer(0)
	node := contractNodeMsg(farmer, 7)
	require.NoError(t, types.NodeDescription{Resources: node.Resources, Location: node.Location, Interfaces: node.Interfaces, SerialNumber: node.SerialNumber}.Validate())
	require.NotEqual(t, ContractFarmer(1).Bech32, farmer.Bech32)
	require.NotEqual(t, NewAccount(0).Bech32, farmer.Bech32)
}

func TestSignerProducesVerifiableTxs(t *testing.T) {
	signer, err := NewSigner("bench-1", 123456)
	require.NoError(t, err)
	acc := NewAccount(4)
	acc.AccountNumber = 42
	msg := &types.MsgCreateTwin{Creator: acc.Bech32}
	bz, err := signer.Sign(acc, 9, msg)
	require.NoError(t, err)

	tx, err := signer.TxConfig.TxDecoder()(bz)
	require.NoError(t, err)
	sigTx := tx.(authsigning.SigVerifiableTx)
	require.EqualValues(t, 123456, tx.(sdk.FeeTx).GetGas())
	require.True(t, tx.(sdk.FeeTx).GetFee().IsZero())
	sigs, err := sigTx.GetSignaturesV2()
	require.NoError(t, err)
	require.Len(t, sigs, 1)
	require.EqualValues(t, 9, sigs[0].Sequence)

	// The signature verifies against the DIRECT sign bytes of this chain and
	// account number (the sequence is in the signed AuthInfo), and not
	// against another account number.
	verify := func(accNum uint64) bool {
		signBytes, err := authsigning.GetSignBytesAdapter(t.Context(), signer.TxConfig.SignModeHandler(),
			sigs[0].Data.(*signingData).SignMode, authsigning.SignerData{
				Address: acc.Bech32, ChainID: "bench-1", AccountNumber: accNum, Sequence: 9, PubKey: acc.Key.PubKey(),
			}, tx.(authsigning.Tx))
		require.NoError(t, err)
		return acc.Key.PubKey().VerifySignature(signBytes, sigs[0].Data.(*signingData).Signature)
	}
	require.True(t, verify(42))
	require.False(t, verify(43))
	require.Equal(t, TxHash(bz), TxHash(append([]byte(nil), bz...)))
}

func TestSummarize(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	blocks := []BlockObs{
		{Height: 10, Time: at(-100), Seen: at(50)}, // before the first tx
		{Height: 11, Time: at(150), Seen: at(400), NumTxs: 300, Ours: 300, OK: 300, GasOK: 300 * 50000},
		{Height: 13, Time: at(650), Seen: at(900), NumTxs: 500, Ours: 500, OK: 498, Failed: 2, GasOK: 498 * 50000},
		{Height: 12, Time: at(400), Seen: at(650)},
		{Height: 14, Time: at(1150), Seen: at(1300)}, // the block after the last
	}
	r := Summarize(start, blocks)
	require.Equal(t, 798, r.OK)
	require.Equal(t, 2, r.Failed)
	require.Equal(t, 2, r.Blocks)
	require.Equal(t, 500, r.MaxPerBlock)
	require.EqualValues(t, 11, r.FirstHeight)
	require.EqualValues(t, 13, r.LastHeight)
	require.Equal(t, 900*time.Millisecond, r.Wall)
	require.InDelta(t, 798/0.9, r.TPS, 1e-9)
	require.Equal(t, time.Second, r.BlockSpan) // Time(14) − Time(11)
	require.InDelta(t, 798, r.BlockTPS, 1e-9)
	require.InDelta(t, 50000, r.GasPerTx, 1e-9)

	// Without the block after the last one there is no block-time rate.
	r = Summarize(start, blocks[:4])
	require.Zero(t, r.BlockTPS)
	require.NotZero(t, r.TPS)

	require.Zero(t, Summarize(start, nil).TPS)
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 50 ticks.
	line := "4200 (tfgridd (x) y) S 1 4200 4200 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 0 0"
	d, err := ParseProcStatCPU(line)
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, d)
	_, err = ParseProcStatCPU("4200 tfgridd S 1")
	require.Error(t, err)
	_, err = ParseProcStatCPU("4200 (t) S 1 2 3")
	require.Error(t, err)

	self, err := ProcessCPU("self")
	require.NoError(t, err)
	require.GreaterOrEqual(t, self, time.Duration(0))

	stat := "cpu  100 5 50 1000 20 1 2 3 7 0\ncpu0 50 2 25 500 10 1 1 1 0 0\nintr 1\n"
	busy, err := ParseProcStatBusy(stat)
	require.NoError(t, err)
	require.Equal(t, 1610*time.Millisecond, busy) // 100+5+50+1+2+3 ticks
	_, err = ParseProcStatBusy("intr 1\n")
	require.Error(t, err)
}

func TestParsePhases(t *testing.T) {
	specs, err := ParsePhases("bank,twin,farm,bank", 100, 2, 1)
	require.NoError(t, err)
	require.Equal(t, []PhaseSpec{
		{Name: "bank-1", Kind: KindBank, Accounts: 100, PerAccount: 2},
		{Name: "twin", Kind: KindTwin, Accounts: 100, PerAccount: 1},
		{Name: "farm", Kind: KindFarm, Accounts: 100, PerAccount: 1},
		{Name: "bank-2", Kind: KindBank, Round: 1, Accounts: 100, PerAccount: 2},
	}, specs)

	specs, err = ParsePhases("twin,nc,nc,nc-ip,nc-ip", 10, 1, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"twin", "nc-1", "nc-2", "nc-ip-1", "nc-ip-2"}, []string{specs[0].Name, specs[1].Name, specs[2].Name, specs[3].Name, specs[4].Name})
	require.Equal(t, []int{0, 0, 1, 0, 1}, []int{specs[0].Round, specs[1].Round, specs[2].Round, specs[3].Round, specs[4].Round})
	require.True(t, needsContractNodes(specs))
	require.False(t, needsContractNodes(specs[:1]))
	require.Equal(t, 2, countKind(specs, KindContractIP))

	for _, bad := range []string{"twin,twin", "farm,twin", "bank,nope", "twin,farm,farm", "nc,twin", "nc-ip,twin"} {
		_, err := ParsePhases(bad, 10, 1, 1)
		require.Error(t, err, bad)
	}
	_, err = ParsePhases("bank", 10, 0, 1)
	require.Error(t, err)
	_, err = ParsePhases("farm", 10, 1, MaxFarmsPerAccount+1)
	require.Error(t, err)
}

func TestReportRatiosAndFormat(t *testing.T) {
	phase := func(name string, kind Kind, tps float64, ok int, cpu time.Duration) *PhaseResult {
		return &PhaseResult{Name: name, Kind: kind, Sent: ok, Accepted: ok, NodeCPU: cpu, Elapsed: 10 * time.Second,
			Rates: Rates{OK: ok, TPS: tps, Wall: 10 * time.Second}}
	}
	rep := &Report{ChainID: "c", Accounts: 1000, Mode: ModeGRPCSync, Workers: 8, Phases: []*PhaseResult{
		phase("bank-1", KindBank, 1000, 10000, 10*time.Second),
		phase("twin", KindTwin, 900, 9000, 12*time.Second),
		phase("farm", KindFarm, 700, 7000, 14*time.Second),
		phase("bank-2", KindBank, 800, 8000, 8*time.Second),
	}}
	mean, each := rep.Baseline()
	require.InDelta(t, 900, mean, 1e-9)
	require.Equal(t, []float64{1000, 800}, each)
	ratios := rep.Ratios()
	require.Len(t, ratios, 2)
	require.Equal(t, "twin", ratios[0].Phase)
	require.InDelta(t, 1.0, ratios[0].Mean, 1e-9)
	require.InDelta(t, 0.9, ratios[0].Low, 1e-9)
	require.InDelta(t, 1.125, ratios[0].High, 1e-9)
	require.InDelta(t, 1.0, ratios[0].BankMsPerTx, 1e-9)
	require.InDelta(t, 1.3333, ratios[0].MsPerTx, 1e-3)
	require.InDelta(t, 0.7778, ratios[1].Mean, 1e-3)
	require.InDelta(t, 1.0, ratios[0].Adjacent, 1e-9) // bank-1 1000 and bank-2 800 around it
	require.InDelta(t, 0.7778, ratios[1].Adjacent, 1e-3)

	// With a bank phase between twin and farm, each is compared with its neighbours.
	rep3 := &Report{Phases: []*PhaseResult{
		phase("bank-1", KindBank, 1000, 10000, 10*time.Second),
		phase("twin", KindTwin, 900, 9000, 12*time.Second),
		phase("bank-2", KindBank, 800, 8000, 8*time.Second),
		phase("farm", KindFarm, 700, 7000, 14*time.Second),
		phase("bank-3", KindBank, 600, 6000, 8*time.Second),
	}}
	r3 := rep3.Ratios()
	require.InDelta(t, 1.0, r3[0].Adjacent, 1e-9)
	require.InDelta(t, 1.0, r3[1].Adjacent, 1e-9)
	require.InDelta(t, 0.875, r3[1].Mean, 1e-9)

	// Node contracts have their own target: 0.75× meets 0.7× where a registry tx would not.
	// Repeated phases of a kind are judged on the mean of their adjacent ratios.
	rep4 := &Report{Phases: []*PhaseResult{
		phase("bank-1", KindBank, 1000, 10000, 10*time.Second),
		phase("nc-1", KindContract, 800, 8000, 12*time.Second),
		phase("bank-2", KindBank, 1000, 10000, 10*time.Second),
		phase("nc-2", KindContract, 700, 7000, 12*time.Second),
		phase("bank-3", KindBank, 1000, 10000, 10*time.Second),
		phase("farm", KindFarm, 750, 7500, 12*time.Second),
	}}
	verdicts := rep4.Verdicts()
	require.Len(t, verdicts, 2)
	require.Equal(t, Verdict{Kind: KindContract, Phases: 2, Mean: 0.75, Low: 0.7, High: 0.8, Target: 0.7}, verdicts[0])
	require.Equal(t, KindFarm, verdicts[1].Kind)
	out4 := rep4.Format()
	require.Contains(t, out4, "nc/bank: 0.75× (2 phases, 0.70–0.80×)  target ≥ 0.70×: MET")
	require.Contains(t, out4, "farm/bank: 0.75×  target ≥ 0.80×: NOT MET")

	out := rep.Format()
	require.Contains(t, out, "twin/bank: 1.00× adjacent, 1.00× mean (900 tx/s")
	require.Contains(t, out, "twin/bank: 1.00×  target ≥ 0.80×: MET")
	require.Contains(t, out, "farm/bank: 0.78×  target ≥ 0.80×: NOT MET")
	require.Contains(t, out, "bank baseline: 900 tx/s (mean of bank-1 1000, bank-2 800)")

	rep.Phases[1].FailReasons = map[string]int{"tfgrid/5: twin exists": 3}
	rep.Phases[1].Failed = 3
	require.Contains(t, rep.Format(), "twin: 3 FAILED in the block: tfgrid/5: twin exists")

	bz, err := json.Marshal(rep)
	require.NoError(t, err)
	require.Contains(t, string(bz), `"tps":900`)
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(3)
	require.NoError(t, err)
	require.Len(t, ports, 3)
	require.NotEqual(t, ports[0], ports[1])
	require.NotEqual(t, ports[1], ports[2])
}
