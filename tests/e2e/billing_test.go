package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Billing on a real node, with short params: settlements every few seconds, a grace period of 20 s.
// The node refuses fee-less transactions (minimum gas price 0.001utft) except a node's own reports.
const (
	billInterval    = 3  // settlement_interval, seconds
	billGrace       = 20 // grace_period, seconds
	billMinGasPrice = "0.001" + denom
	billFeeAmount   = 2000 // txGas × 0.001utft
	billFee         = "2000" + denom

	// The user twin holds exactly this once its twin and contract exist (fees and deposit paid).
	billUserFunds = 500_000_000 // 500 TFT
	billDeposit   = 1_000_000   // smartcontract's default contract_deposit

	billSettledEvent = "tfgrid.billing.v1.EventContractSettled"
)

// The default pricing policy (x/tfgrid README), in cost units (1e-7 USD) per hour; NU per GB.
var billPolicy = struct{ cu, su, nu, ipu uint64 }{cu: 305600, su: 194400, nu: 50000, ipu: 69400}

// What the node reports for the contract: the worked example (cru 2, mru 4 GiB, sru 50 GiB)
// and 2 GB of public traffic.
const (
	billGiB    = 1 << 30
	billRepCru = 2
	billRepMru = 4 * billGiB
	billRepSru = 50 * billGiB
	billRepNru = 2_000_000_000
	// billLinkRate is the node's declared link rate: 2 GB/s lets it report billRepNru in one second.
	billLinkRate   = 2_000_000_000
	billContractID = 1 // the only contract of the test
)

// TestBilling drives billing end to end: a farmer with three public IPs, a node that reports uptime and
// usage without paying fees, a user twin with a known balance and a node contract holding one IP. It
// checks that every settlement charges exactly what the pricing formula gives for its billed seconds,
// that draining the twin puts the contract in grace, that a top-up with settle-contract brings it back,
// and that a second drain past grace_period deletes it for lack of funds and frees its IP.
func TestBilling(t *testing.T) {
	c := newChain(t, "billing")
	c.billGenesis(func(billing map[string]any) {
		params := billing["params"].(map[string]any)
		params["settlement_interval"] = strconv.Itoa(billInterval)
		// A fixed schedule: the test checks every settlement of a well-funded twin, which the runway
		// schedule would otherwise space out (app's TestRunwayDrainOnChain covers that on the whole app).
		params["max_settlement_interval"] = strconv.Itoa(billInterval)
		params["grace_period"] = strconv.Itoa(billGrace)
	})
	// As `tfgridd start --minimum-gas-prices 0.001utft` would.
	c.setTOML(filepath.Join(c.home, "config", "app.toml"), "", "minimum-gas-prices", strconv.Quote(billMinGasPrice))
	user, node := c.billAddKey("user"), c.billAddKey("zosnode")
	c.start(1)

	var price billingtypes.QueryPriceResponse
	c.billQuery(&price, 0, "billing", "price")
	require.Equal(t, "10.000000000000000000", price.PriceMusd.String(), "the genesis starting price")
	var policy types.QueryPricingPolicyResponse
	c.billQuery(&policy, 0, "tfgrid", "pricing-policy", "1")
	p := policy.PricingPolicy
	require.Equal(t, billPolicy, struct{ cu, su, nu, ipu uint64 }{p.Cu, p.Su, p.Nu, p.Ipu}, "default pricing policy")
	var params billingtypes.QueryParamsResponse
	c.billQuery(&params, 0, "billing", "params")
	require.Equal(t, uint64(billInterval), params.Params.SettlementInterval)
	require.Equal(t, uint64(billInterval), params.Params.MaxSettlementInterval)
	require.Equal(t, uint64(billGrace), params.Params.GracePeriod)

	// Fund the node's account with exactly the fees of its two paid registrations, and the user with a
	// known amount plus the fees and deposit of its twin and contract.
	c.billMustTx("validator", billFee, "bank", "send", "validator", node, u(2*billFeeAmount)+denom)
	c.billMustTx("validator", billFee, "bank", "send", "validator", user, u(billUserFunds+2*billFeeAmount+billDeposit)+denom)

	// The farmer: a twin and a farm with three public IPs.
	c.billMustTx("farmer", billFee, "tfgrid", "create-twin")
	farm := idOf(t, c.billMustTx("farmer", billFee, "tfgrid", "create-farm", "billing-farm",
		"--public-ips", `{"ip":"185.206.122.33/24","gateway":"185.206.122.1"}`,
		"--public-ips", `{"ip":"185.206.122.34/24","gateway":"185.206.122.1"}`,
		"--public-ips", `{"ip":"185.206.122.35/24","gateway":"185.206.122.1"}`),
		"tfgrid.tfgrid.v1.EventFarmCreated", "farm_id")
	require.Len(t, c.billFarmIPs(farm), 3)

	// The node: its twin registers it (paid), then reports uptime for free with an empty account.
	nodeTwin := idOf(t, c.billMustTx("zosnode", billFee, "tfgrid", "create-twin"), "tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	c.billMustTx("farmer", billFee, "tfgrid", "allow-node-twin", u(farm), u(nodeTwin))
	nodeID := idOf(t, c.billMustTx("zosnode", billFee, "tfgrid", "create-node", u(farm), "--resources", nodeResources,
		"--location", nodeLocation, "--interfaces", nodeInterfaces, "--link-rate", u(billLinkRate)), "tfgrid.tfgrid.v1.EventNodeCreated", "node_id")
	require.True(t, c.billBalance(node, 0).Sign() == 0, "the node's account is empty")
	uptime := c.billMustTx("zosnode", "", "tfgrid", "report-uptime", "30", strconv.FormatInt(time.Now().Unix(), 10))
	uptimeAt := c.billBlockTime(billHeight(t, uptime))
	require.True(t, c.billBalance(node, 0).Sign() == 0, "a free report charges nothing")

	// The user: a twin and a node contract with one public IP.
	userTwin := idOf(t, c.billMustTx("user", billFee, "tfgrid", "create-twin"), "tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	hash := strings.Repeat("ab", 32)
	// It reserves exactly what the node will report, so the report is charged in full.
	reservation := fmt.Sprintf(`{"cru":%d,"sru":%d,"hru":0,"mru":%d}`, billRepCru, billRepSru, billRepMru)
	created := c.billMustTx("user", billFee, "smartcontract", "create-node-contract", u(nodeID), hash, "--public-ips-count", "1",
		"--resources", reservation)
	require.Equal(t, u(billContractID), mustAttr(t, created, "tfgrid.smartcontract.v1.EventContractCreated", "contract_id"))
	createdHeight := billHeight(t, created)
	require.Equal(t, int64(billUserFunds), c.billBalance(user, createdHeight).Int64(), "the user's known balance")
	sc := c.billContract(billContractID, createdHeight)
	require.Equal(t, userTwin, sc.Contract.TwinId)
	require.Len(t, sc.Contract.GetNodeContract().PublicIps, 1)
	ip := sc.Contract.GetNodeContract().PublicIps[0].Ip
	createdAt := sc.Contract.CreatedAt
	held := 0
	for _, fip := range c.billFarmIPs(farm) {
		if fip.ContractId == billContractID {
			held++
			require.Equal(t, ip, fip.Ip)
		}
	}
	require.Equal(t, 1, held, "the contract holds one of the farm's IPs")

	// The node reports the contract's usage in a fee-less transaction, with its account still empty,
	// sent as the CLI sends it by default: simulated first (--gas auto), which runs the fee-free path
	// of the ante handler in simulation mode too.
	// Its one-second window must fit in the contract's age, and nru in window × link rate.
	report := fmt.Sprintf(`{"contract_id":%d,"timestamp":%d,"window":1,"cru":%d,"sru":%d,"hru":0,"mru":%d,"nru":%d}`,
		billContractID, max(time.Now().Unix(), createdAt+1), billRepCru, billRepSru, billRepMru, billRepNru)
	reported := c.mustSendTx("zosnode", []string{"--gas", "auto"}, "billing", "report-consumption", "--reports", report)
	reportHeight := billHeight(t, reported)
	require.True(t, c.billBalance(node, 0).Sign() == 0, "the report cost the node nothing")
	var atReport billingtypes.QueryContractResponse
	c.billQuery(&atReport, reportHeight, "billing", "contract", u(billContractID))
	reportAt := atReport.Billing.LastSettled // the report settled the contract at its block time
	require.Equal(t, c.billBlockTime(reportHeight), reportAt)
	require.Equal(t, billingtypes.Usage{Cru: billRepCru, Sru: billRepSru, Mru: billRepMru}, atReport.Billing.Usage)

	// step runs a subtest on the chain and stops the test if it fails: the steps share the state.
	step := func(name string, fn func(t *testing.T, c *chain)) {
		ok := t.Run(name, func(t *testing.T) { fn(t, c.on(t)) })
		c.on(t)
		if !ok {
			t.FailNow()
		}
	}

	step("fees", func(t *testing.T, c *chain) {
		// A fee-less ordinary transaction is refused, also a node's own non-report one, and a report
		// from an account that is not a node.
		for _, tc := range []struct {
			from string
			args []string
		}{
			{"alice", []string{"bank", "send", "alice", c.addrs["bob"], "1" + denom}},
			{"zosnode", []string{"tfgrid", "update-twin", "--relays", "ws://127.0.0.1:8080"}},
			{"alice", []string{"billing", "report-consumption", "--reports", report}},
		} {
			res := c.billTx(tc.from, "", tc.args...)
			require.Equal(t, sdkerrors.ErrInsufficientFee.ABCICode(), res.Code, "%s %v: %s", tc.from, tc.args, res.RawLog)
			require.Equal(t, sdkerrors.ErrInsufficientFee.Codespace(), res.Codespace)
			require.Contains(t, res.RawLog, "insufficient fee")
		}
		// The same send with its fee goes through.
		c.billMustTx("alice", billFee, "bank", "send", "alice", c.addrs["bob"], "1"+denom)
	})

	// The worked example: 423,600 cost units an hour → 4,236,000 utft at 10 mUSD, no discount.
	var cost billingtypes.QueryTwinCostsResponse
	c.billQuery(&cost, 0, "billing", "twin-costs", u(userTwin))
	require.Equal(t, "4236000", cost.HourlyCost.String())
	require.Equal(t, uint32(1), cost.Contracts)

	exp := billExpect{
		price: big.NewRat(10, 1), tiers: params.Params.DiscountLevels, uptimeAt: uptimeAt,
		offlineAfter: int64(params.Params.NodeOfflineAfter), reportAt: reportAt,
	}

	step("charged_exactly", func(t *testing.T, c *chain) {
		// Let a few scheduled settlements run at the reported usage.
		c.billWaitFor(20*time.Second, "three settlements after the report", func() bool {
			var b billingtypes.QueryContractResponse
			c.billQuery(&b, 0, "billing", "contract", u(billContractID))
			return b.Billing.LastSettled >= reportAt+3*billInterval
		})
		h := c.billLatestHeight()
		var b billingtypes.QueryContractResponse
		c.billQuery(&b, h, "billing", "contract", u(billContractID))
		events := c.billSettlements(createdHeight+1, h)
		require.GreaterOrEqual(t, len(events), 3, "settlements: the scheduled ones at least")

		start := c.billBalance(user, createdHeight)
		total := exp.check(t, events, createdAt, b.Billing.LastSettled, start)
		require.Zero(t, b.Overdraft.Int64())
		// What left the user's account is exactly the sum: the user sent nothing itself.
		require.Equal(t, new(big.Int).Sub(start, total).String(), c.billBalance(user, h).String(), "balance = start − charged")
		t.Logf("%d settlements over [%d, %d] (%d s, %d s at the reported usage): %s utft charged",
			len(events), createdAt, b.Billing.LastSettled, b.Billing.LastSettled-createdAt, b.Billing.LastSettled-reportAt, total)
	})

	var graceSince int64
	step("drain_grace_topup", func(t *testing.T, c *chain) {
		c.billDrain("user", user)
		graceSince = c.billWaitState(billContractID, sctypes.ContractStateGracePeriod, 5*billInterval*time.Second).Contract.GraceSince
		var b billingtypes.QueryContractResponse
		c.billQuery(&b, 0, "billing", "contract", u(billContractID))
		require.True(t, b.Overdraft.IsPositive(), "in grace with debt")
		require.Equal(t, graceSince+billGrace, b.GraceDeadline)

		// Top up and settle in one transaction: the settlement pays the debt and ends grace.
		res := c.billMultiMsgTx("validator",
			[]string{"bank", "send", "validator", user, "100000000" + denom},
			[]string{"billing", "settle-contract", u(billContractID)})
		require.Zero(t, res.Code, res.RawLog)
		require.Equal(t, u(billContractID), mustAttr(t, res, "tfgrid.smartcontract.v1.EventContractGracePeriodEnded", "contract_id"))
		sc := c.billContract(billContractID, billHeight(t, res))
		require.Equal(t, sctypes.ContractStateCreated, sc.Contract.State)
		require.Zero(t, sc.Contract.GraceSince)
		var after billingtypes.QueryContractResponse // fresh: the JSON omits zero fields
		c.billQuery(&after, billHeight(t, res), "billing", "contract", u(billContractID))
		require.Zero(t, after.Overdraft.Int64())
		require.Zero(t, after.GraceDeadline)
	})

	step("grace_runs_out", func(t *testing.T, c *chain) {
		c.billDrain("user", user)
		since := c.billWaitState(billContractID, sctypes.ContractStateGracePeriod, 5*billInterval*time.Second).Contract.GraceSince
		require.Greater(t, since, graceSince, "a new grace period")
		gone := c.billWaitState(billContractID, sctypes.ContractStateDeleted, (billGrace+6*billInterval)*time.Second)
		require.Equal(t, sctypes.DeleteCauseOutOfFunds, gone.Contract.DeleteCause)
		require.GreaterOrEqual(t, gone.DeletedAt, since+billGrace, "deleted only once grace_period ran out")
		require.Less(t, gone.DeletedAt, since+billGrace+2*billInterval+2, "deleted at the first settlement after the deadline")
		for _, fip := range c.billFarmIPs(farm) {
			require.Zero(t, fip.ContractId, "IP %s freed", fip.Ip)
		}
		_, errOut, err := c.run("query", "billing", "contract", u(billContractID), "--output", "json", "--node", c.rpc)
		require.Error(t, err, "no billing state left")
		require.Contains(t, errOut, "not found")
	})

	// Every settlement of the contract's life, including the ones in grace and the last one, charged
	// what the formula gives (the discount follows the balance, which the test no longer tracks exactly
	// after the drains, so only the first part is checked against the balance).
	step("all_settlements", func(t *testing.T, c *chain) {
		events := c.billSettlements(createdHeight+1, c.billLatestHeight())
		nuAt := exp.nuAt(events)
		for _, e := range events {
			require.Equal(t, exp.amount(e.start, e.end, e.start == nuAt), e.amount, "settlement [%d, %d]", e.start, e.end)
			require.Equal(t, billingtypes.DiscountLevelNone.String(), e.level)
		}
		t.Logf("%d settlements in the contract's life, all as the formula gives", len(events))
	})
}

// billExpect computes settlements from the pricing formula, independently of the chain's code.
type billExpect struct {
	price        *big.Rat // mUSD per TFT
	tiers        []billingtypes.DiscountTier
	uptimeAt     int64 // the node's last uptime report
	offlineAfter int64
	reportAt     int64 // when the usage report applied (before: no usage)
}

// hourly is the contract's undiscounted standard cost units per hour at the usage in force during
// [start, end]: one IP always, the reported resources from the report on.
func (e billExpect) hourly(start int64) *big.Rat {
	h := new(big.Rat).SetInt64(int64(billPolicy.ipu))
	if start >= e.reportAt {
		mru, cru := big.NewRat(billRepMru, billGiB), big.NewRat(billRepCru, 1)
		div := func(r *big.Rat, d int64) *big.Rat { return new(big.Rat).Quo(r, big.NewRat(d, 1)) }
		maxR := func(a, b *big.Rat) *big.Rat {
			if a.Cmp(b) >= 0 {
				return a
			}
			return b
		}
		minR := func(a, b *big.Rat) *big.Rat {
			if a.Cmp(b) <= 0 {
				return a
			}
			return b
		}
		cu := minR(minR(maxR(div(mru, 4), div(cru, 2)), maxR(div(mru, 8), cru)), maxR(div(mru, 2), div(cru, 4)))
		su := big.NewRat(billRepSru, 200*billGiB) // hru is 0
		h.Add(h, new(big.Rat).Mul(cu, big.NewRat(int64(billPolicy.cu), 1)))
		h.Add(h, new(big.Rat).Mul(su, big.NewRat(int64(billPolicy.su), 1)))
	}
	return h
}

// toUTFT converts cost units at the price and rounds half away from zero (amounts are positive).
func (e billExpect) toUTFT(costUnits *big.Rat) *big.Int {
	r := new(big.Rat).Mul(costUnits, big.NewRat(100, 1))
	r.Quo(r, e.price)
	r.Add(r, big.NewRat(1, 2))
	return new(big.Int).Quo(r.Num(), r.Denom()) // floor
}

// amount is the undiscounted utft of [start, end] (the node stays online), plus the reported NU when
// this settlement is the first after the report.
func (e billExpect) amount(start, end int64, withNU bool) string {
	if end > e.uptimeAt+e.offlineAfter {
		panic("the node went offline during the test")
	}
	cost := new(big.Rat).Mul(e.hourly(start), big.NewRat(end-start, 3600))
	if withNU {
		cost.Add(cost, big.NewRat(billRepNru*int64(billPolicy.nu), 1_000_000_000))
	}
	return e.toUTFT(cost).String()
}

// nuAt is the start of the first settlement after the report: it charges the reported NU.
func (e billExpect) nuAt(events []billSettlement) int64 {
	for _, ev := range events {
		if ev.start >= e.reportAt {
			return ev.start
		}
	}
	return -1
}

// level is the discount tier a balance reaches against 720 h of the contract's undiscounted cost.
func (e billExpect) level(balance *big.Int, start int64) string {
	monthly := e.toUTFT(new(big.Rat).Mul(e.hourly(start), big.NewRat(720, 1)))
	for _, tier := range e.tiers {
		need := new(big.Rat).Mul(new(big.Rat).SetFrac(tier.MinMonths.BigInt(), big.NewInt(1e18)), new(big.Rat).SetInt(monthly))
		if new(big.Rat).SetInt(balance).Cmp(need) >= 0 {
			return tier.Level.String()
		}
	}
	return billingtypes.DiscountLevelNone.String()
}

// check requires the settlements to cover [from, to] without gap or overlap, each charging the
// formula's amount at the discount the owner's balance (start, less what earlier settlements took)
// gives; it returns the total charged.
func (e billExpect) check(t *testing.T, events []billSettlement, from, to int64, balance *big.Int) *big.Int {
	t.Helper()
	total, bal := new(big.Int), new(big.Int).Set(balance)
	at, nuAt := from, e.nuAt(events)
	for i, ev := range events {
		require.Equal(t, at, ev.start, "settlement %d starts where the previous ended", i)
		require.GreaterOrEqual(t, ev.end, ev.start)
		require.True(t, ev.end <= e.reportAt || ev.start >= e.reportAt, "no settlement spans the report")
		lvl := e.level(bal, ev.start)
		require.Equal(t, billingtypes.DiscountLevelNone.String(), lvl, "the test's balance is below every tier")
		require.Equal(t, lvl, ev.level, "settlement %d discount", i)
		want := e.amount(ev.start, ev.end, ev.start == nuAt)
		require.Equal(t, want, ev.amount, "settlement %d over [%d, %d] (%d s)", i, ev.start, ev.end, ev.end-ev.start)
		amt, ok := new(big.Int).SetString(ev.amount, 10)
		require.True(t, ok)
		total.Add(total, amt)
		bal.Sub(bal, amt)
		at = ev.end
	}
	require.Equal(t, to, at, "the settlements end at last_settled")
	return total
}

// billSettlement is one EventContractSettled of the test's contract.
type billSettlement struct {
	height     int64
	start, end int64
	amount     string
	level      string
}

// billSettlements reads the contract's EventContractSettled from the blocks [from, to], in execution
// order: transactions, then EndBlock.
func (c *chain) billSettlements(from, to int64) []billSettlement {
	c.t.Helper()
	var out []billSettlement
	for h := from; h <= to; h++ {
		for _, ev := range c.billBlockEvents(h) {
			if ev.Type != billSettledEvent || ev.attr("contract_id") != u(billContractID) {
				continue
			}
			s := billSettlement{height: h, amount: ev.attr("amount"), level: ev.attr("discount_level")}
			var err error
			s.start, err = strconv.ParseInt(ev.attr("period_start"), 10, 64)
			require.NoError(c.t, err)
			s.end, err = strconv.ParseInt(ev.attr("period_end"), 10, 64)
			require.NoError(c.t, err)
			out = append(out, s)
		}
	}
	return out
}

type billABCIEvent struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// attr is the unquoted value of an attribute (typed-event values are JSON).
func (e billABCIEvent) attr(key string) string {
	for _, a := range e.Attributes {
		if a.Key == key {
			return strings.Trim(a.Value, `"`)
		}
	}
	return ""
}

// billBlockEvents returns the events of one block from the CometBFT RPC: those of its successful
// transactions, then those of FinalizeBlock (BeginBlock's first).
func (c *chain) billBlockEvents(height int64) []billABCIEvent {
	c.t.Helper()
	var res struct {
		Result struct {
			TxsResults []struct {
				Code   uint32          `json:"code"`
				Events []billABCIEvent `json:"events"`
			} `json:"txs_results"`
			FinalizeBlockEvents []billABCIEvent `json:"finalize_block_events"`
		} `json:"result"`
	}
	c.billRPCGet(fmt.Sprintf("/block_results?height=%d", height), &res)
	var begin, end []billABCIEvent
	for _, ev := range res.Result.FinalizeBlockEvents {
		if ev.attr("mode") == "BeginBlock" {
			begin = append(begin, ev)
		} else {
			end = append(end, ev)
		}
	}
	out := begin
	for _, tx := range res.Result.TxsResults {
		if tx.Code == 0 {
			out = append(out, tx.Events...)
		}
	}
	return append(out, end...)
}

// billBlockTime is a block's time in unix seconds, as the chain's keepers see it.
func (c *chain) billBlockTime(height int64) int64 {
	c.t.Helper()
	var res struct {
		Result struct {
			Block struct {
				Header struct {
					Time time.Time `json:"time"`
				} `json:"header"`
			} `json:"block"`
		} `json:"result"`
	}
	c.billRPCGet(fmt.Sprintf("/block?height=%d", height), &res)
	require.False(c.t, res.Result.Block.Header.Time.IsZero(), "block %d has a time", height)
	return res.Result.Block.Header.Time.Unix()
}

func (c *chain) billLatestHeight() int64 {
	c.t.Helper()
	h, err := c.height()
	require.NoError(c.t, err)
	return h
}

func (c *chain) billRPCGet(path string, out any) {
	c.t.Helper()
	resp, err := http.Get(c.rpcHTTP + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode, "GET %s", path)
	require.NoError(c.t, json.NewDecoder(resp.Body).Decode(out), "GET %s", path)
}

func billHeight(t *testing.T, res txResponse) int64 {
	t.Helper()
	h, err := strconv.ParseInt(res.Height, 10, 64)
	require.NoError(t, err, "tx height %q", res.Height)
	return h
}

// billGenesis edits the billing section of the chain's genesis before it starts.
func (c *chain) billGenesis(edit func(billing map[string]any)) {
	c.t.Helper()
	path := filepath.Join(c.home, "config", "genesis.json")
	data, err := os.ReadFile(path)
	require.NoError(c.t, err)
	var doc map[string]any
	require.NoError(c.t, json.Unmarshal(data, &doc))
	edit(doc["app_state"].(map[string]any)["billing"].(map[string]any))
	data, err = json.MarshalIndent(doc, "", " ")
	require.NoError(c.t, err)
	require.NoError(c.t, os.WriteFile(path, data, 0o600))
	c.mustRun("genesis", "validate", "--home", c.home)
}

// billAddKey adds a key to the chain's test keyring and returns its address (unfunded).
func (c *chain) billAddKey(name string) string {
	c.t.Helper()
	c.mustRun("keys", "add", name, "--keyring-backend", "test", "--home", c.home, "--output", "json")
	out := c.mustRun("keys", "show", name, "-a", "--keyring-backend", "test", "--home", c.home)
	return strings.TrimSpace(string(out))
}

// billTx is sendTx with the given fee ("" for none).
func (c *chain) billTx(from, fees string, args ...string) txResponse {
	c.t.Helper()
	return c.sendTx(from, feeFlags(fees), args...)
}

func (c *chain) billMustTx(from, fees string, args ...string) txResponse {
	c.t.Helper()
	return c.mustSendTx(from, feeFlags(fees), args...)
}

// feeFlags is --fees FEES, or nothing for "".
func feeFlags(fees string) []string {
	if fees == "" {
		return nil
	}
	return []string{"--fees", fees}
}

// billMultiMsgTx signs and broadcasts one transaction made of the messages of several tx commands
// (each generated with --generate-only), all signed by from; the fee is billFee.
func (c *chain) billMultiMsgTx(from string, cmds ...[]string) txResponse {
	c.t.Helper()
	var tx map[string]any
	var msgs []any
	for i, args := range cmds {
		full := append(append([]string{"tx"}, args...), c.txFlags(from)...)
		full = append(full, "--generate-only", "--gas", txGas, "--fees", billFee)
		var gen map[string]any
		require.NoError(c.t, json.Unmarshal(c.mustRun(full...), &gen))
		if i == 0 {
			tx = gen
		}
		msgs = append(msgs, gen["body"].(map[string]any)["messages"].([]any)...)
	}
	tx["body"].(map[string]any)["messages"] = msgs
	dir := c.t.TempDir()
	unsigned, signed := filepath.Join(dir, "unsigned.json"), filepath.Join(dir, "signed.json")
	data, err := json.Marshal(tx)
	require.NoError(c.t, err)
	require.NoError(c.t, os.WriteFile(unsigned, data, 0o600))
	c.mustRun("tx", "sign", unsigned, "--from", from, "--keyring-backend", "test", "--home", c.home,
		"--chain-id", chainID, "--node", c.rpc, "--output-document", signed)
	out := c.mustRun("tx", "broadcast", signed, "--node", c.rpc, "--output", "json")
	var res txResponse
	require.NoError(c.t, json.Unmarshal(out, &res), "broadcast output: %s", out)
	require.Zero(c.t, res.Code, "CheckTx: %s", res.RawLog)
	return c.committed(res.TxHash)
}

// billQuery runs `tfgridd query ARGS --output json` (at a height when > 0) and decodes the answer.
func (c *chain) billQuery(out proto.Message, height int64, args ...string) {
	c.t.Helper()
	full := append(append([]string{"query"}, args...), "--output", "json", "--node", c.rpc)
	if height > 0 {
		full = append(full, "--height", strconv.FormatInt(height, 10))
	}
	bz := c.mustRun(full...)
	require.NoError(c.t, cdc.UnmarshalJSON(bz, out), "tfgridd %s: %s", strings.Join(full, " "), bz)
}

// billBalance is an account's utft at a height (0 = latest).
func (c *chain) billBalance(addr string, height int64) *big.Int {
	c.t.Helper()
	var res banktypes.QueryBalanceResponse
	c.billQuery(&res, height, "bank", "balance", addr, denom)
	if res.Balance == nil {
		return new(big.Int)
	}
	return res.Balance.Amount.BigInt()
}

func (c *chain) billFarmIPs(farm uint64) []types.PublicIP {
	c.t.Helper()
	var res types.QueryFarmPublicIpsResponse
	c.billQuery(&res, 0, "tfgrid", "farm-public-ips", u(farm))
	return res.PublicIps
}

// billDrain sends an account's whole balance to the validator, paying the fee from it, so it holds
// 0 utft. A settlement landing between the balance query and the send makes the send fail: retry.
func (c *chain) billDrain(key, addr string) {
	c.t.Helper()
	for range 5 {
		bal := c.billBalance(addr, 0)
		require.Greater(c.t, bal.Int64(), int64(billFeeAmount), "balance to drain")
		res := c.billTx(key, billFee, "bank", "send", key, c.addrs["validator"], u(bal.Uint64()-billFeeAmount)+denom)
		if res.Code == 0 {
			require.Zero(c.t, c.billBalance(addr, billHeight(c.t, res)).Sign(), "drained")
			return
		}
		c.t.Logf("drain of %s failed (a settlement came first?): %s; retrying", key, res.RawLog)
	}
	c.t.Fatalf("could not drain %s", key)
}

// billContract reads `query smartcontract contract ID` (at a height when > 0). The CLI prints amino
// JSON, where the contract's kind is {"Kind":{"type":…,"value":{"node_contract":{…}}}}: the kind is
// unwrapped into the proto JSON form before decoding.
func (c *chain) billContract(id uint64, height int64) sctypes.QueryContractResponse {
	c.t.Helper()
	full := []string{"query", "smartcontract", "contract", u(id), "--output", "json", "--node", c.rpc}
	if height > 0 {
		full = append(full, "--height", strconv.FormatInt(height, 10))
	}
	out := c.mustRun(full...)
	var doc map[string]any
	require.NoError(c.t, json.Unmarshal(out, &doc), "tfgridd %s: %s", strings.Join(full, " "), out)
	if contract, ok := doc["contract"].(map[string]any); ok {
		for key, v := range contract {
			kind, isMap := v.(map[string]any)
			if _, typed := kind["type"]; !isMap || !typed || !strings.EqualFold(key, "kind") {
				continue
			}
			delete(contract, key)
			if value, ok := kind["value"].(map[string]any); ok {
				for k, v := range value {
					contract[k] = v
				}
			}
		}
	}
	bz, err := json.Marshal(doc)
	require.NoError(c.t, err)
	var res sctypes.QueryContractResponse
	require.NoError(c.t, cdc.UnmarshalJSON(bz, &res), "tfgridd %s: %s", strings.Join(full, " "), out)
	return res
}

// billWaitState polls `query smartcontract contract ID` until the contract has the state.
func (c *chain) billWaitState(id uint64, state sctypes.ContractState, timeout time.Duration) sctypes.QueryContractResponse {
	c.t.Helper()
	var res sctypes.QueryContractResponse
	c.billWaitFor(timeout, fmt.Sprintf("contract %d in %s", id, state), func() bool {
		res = c.billContract(id, 0)
		return res.Contract.State == state
	})
	return res
}

func (c *chain) billWaitFor(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		require.True(c.t, time.Now().Before(deadline), "timed out after %s waiting for %s", timeout, what)
		time.Sleep(300 * time.Millisecond)
	}
}
