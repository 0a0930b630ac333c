package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/collections"
	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/app"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const (
	// Shape of the grid per contract count n: n/10 user twins (10 contracts each), n/100 nodes (100
	// contracts each), n/1000 farms (10 nodes each).
	contractsPerTwin = 10
	contractsPerNode = 100
	nodesPerFarm     = 10

	// fundedHours: every user twin holds at least this many hours of its contracts' hourly ceilings.
	// After paying a day of one contract its runway is still ≥ 48 h, so the runway schedule spaces its
	// settlements by the whole max_settlement_interval (half the runway, at most 24 h).
	fundedHours = 72

	commitEvery = 25_000 // contracts (or twins) per build batch (one IAVL version each)
	gib         = 1 << 30
	denom       = app.BondDenom
)

// t0 is the time of the built state: every contract is due at or before it (allDue), or from it on.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

// newApp opens the app on db at its latest commit, as a node does.
func newApp(b *testing.B, db dbm.DB) *app.App {
	return app.NewApp(log.NewNopLogger(), db, true,
		appOptions{flags.FlagHome: b.TempDir()},
		baseapp.SetChainID(app.DefaultChainID),
		baseapp.SetIAVLCacheSize(781250), // app.toml's default iavl-cache-size
	)
}

// builder writes one state through the keepers' collections, a batch (one commit) at a time.
type builder struct {
	b     *testing.B
	app   *app.App
	built builtState
	users int

	params   billingtypes.Params
	ceilings map[uint64]sdkmath.Int           // user twin → its contracts' hourly ceilings added up
	reserved map[uint64]tfgridtypes.Resources // node id → what its contracts reserve
	supply   sdkmath.Int                      // every balance written
	addrs    func(twin uint64) sdk.AccAddress // a twin's account
}

// build writes n live node contracts on the schedule and everything they refer to into db, checks
// the chain's invariants on it and returns what the measurement needs to know of it.
func build(b *testing.B, n int, sched schedule, db dbm.DB) builtState {
	b.Helper()
	start := time.Now()
	// Fewer GC cycles while building (bounded to 6 GiB), the defaults again for the measurement.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(6 << 30))
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	nodes := n / contractsPerNode
	w := &builder{
		b: b, app: newApp(b, db), users: n / contractsPerTwin,
		built: builtState{
			LayoutVersion: layoutVersion, Contracts: n, Schedule: sched,
			Nodes: nodes, Farms: max(1, nodes/nodesPerFarm),
		},
		ceilings: map[uint64]sdkmath.Int{}, reserved: map[uint64]tfgridtypes.Resources{}, supply: sdkmath.ZeroInt(),
		addrs: func(twin uint64) sdk.AccAddress {
			h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("billing-bench-twin"), twin))
			return sdk.AccAddress(h[:20])
		},
	}
	w.built.Twins = w.built.Farms + nodes + w.users
	w.genesis()
	w.twins()
	w.nodes()
	w.contracts()
	w.deposits()
	w.fund()
	w.batch(func(ctx sdk.Context) error { return w.app.BillingKeeper.RebuildTwinLoads(ctx) })
	w.built.BuildTime = time.Since(start)

	// The state is what the chain's invariants expect (walks everything once; not timed).
	check := time.Now()
	w.batch(func(ctx sdk.Context) error {
		if err := w.app.BillingKeeper.CheckInvariants(ctx); err != nil {
			return err
		}
		return w.app.SmartcontractKeeper.CheckInvariants(ctx)
	})
	b.Logf("built %d contracts on the %s schedule (%d twins, %d of them funded up to %d h of their ceilings; %d nodes, %d farms) in %s (invariants checked in %s)",
		n, sched, w.built.Twins, w.built.ToppedUp, fundedHours, nodes, w.built.Farms,
		w.built.BuildTime.Round(time.Millisecond), time.Since(check).Round(time.Millisecond))
	w.app = nil
	runtime.GC()
	return w.built
}

// batch runs fn on a fresh cache of the last commit, then writes and commits it (one version).
func (w *builder) batch(fn func(ctx sdk.Context) error) {
	w.b.Helper()
	w.built.Height++
	cms := w.app.CommitMultiStore()
	ms := cms.CacheMultiStore()
	ctx := sdk.NewContext(ms, cmtproto.Header{ChainID: app.DefaultChainID, Height: w.built.Height, Time: t0}, false, log.NewNopLogger())
	if err := fn(ctx); err != nil {
		w.b.Fatalf("build (%d contracts): %v", w.built.Contracts, err)
	}
	ms.Write()
	cms.Commit()
}

// Twin ids: farmers 1..farms, node twins next, users last.
func (w *builder) farmerTwin(f int) uint64 { return uint64(1 + f) }
func (w *builder) nodeTwin(i int) uint64   { return uint64(1 + w.built.Farms + i) }
func (w *builder) userTwin(u int) uint64   { return uint64(1 + w.built.Farms + w.built.Nodes + u) }

// genesis writes the genesis of the modules billing touches (params, the default pricing policy and
// the price); the hourly baseline settles every contract hourly, as the previous design did.
func (w *builder) genesis() {
	a := w.app
	ac := a.AccountKeeper.AddressCodec()
	foundation := sdk.AccAddress(authtypes.NewModuleAddress("foundation")).String()
	w.batch(func(ctx sdk.Context) error {
		if err := a.AccountKeeper.Params.Set(ctx, authtypes.DefaultParams()); err != nil {
			return err
		}
		if err := a.BankKeeper.SetParams(ctx, banktypes.DefaultParams()); err != nil {
			return err
		}
		gs, err := tfgridtypes.DefaultGenesis(ac)
		if err != nil {
			return err
		}
		if err := a.TfgridKeeper.InitGenesis(ctx, *gs); err != nil {
			return err
		}
		if err := a.SmartcontractKeeper.InitGenesis(ctx, *sctypes.DefaultGenesis()); err != nil {
			return err
		}
		billing := billingtypes.DefaultGenesis(foundation)
		if w.built.Schedule == hourly {
			billing.Params.MaxSettlementInterval = billing.Params.SettlementInterval
		}
		return a.BillingKeeper.InitGenesis(ctx, *billing)
	})
	w.batch(func(ctx sdk.Context) error {
		var err error
		w.params, err = a.BillingKeeper.Params.Get(ctx)
		return err
	})
	w.built.Cap = w.params.MaxSettlementsPerBlock
	if w.built.Cap != 200 || w.params.MaxSettlementInterval != 24*3600 && w.built.Schedule != hourly {
		w.b.Fatalf("max_settlements_per_block %d, max_settlement_interval %d: the defaults are 200 and 24 h",
			w.built.Cap, w.params.MaxSettlementInterval)
	}
	// A contract is due one spacing after its last settlement: the interval when every contract is
	// due, else the schedule's max_settlement_interval (1 h for the hourly baseline).
	w.built.Spacing = int64(w.params.MaxSettlementInterval)
	if w.built.Schedule == allDue {
		w.built.Spacing = int64(w.params.SettlementInterval)
	}
}

// twins writes every twin with its account; fund gives the users their balances.
func (w *builder) twins() {
	a := w.app
	ac := a.AccountKeeper.AddressCodec()
	for lo := 0; lo < w.built.Twins; lo += commitEvery {
		w.batch(func(ctx sdk.Context) error {
			for i := lo; i < min(w.built.Twins, lo+commitEvery); i++ {
				id := uint64(1 + i)
				addr := w.addrs(id)
				account, err := ac.BytesToString(addr)
				if err != nil {
					return err
				}
				a.AccountKeeper.SetAccount(ctx, a.AccountKeeper.NewAccountWithAddress(ctx, addr))
				pub := sha256.Sum256(addr)
				twin := tfgridtypes.Twin{Id: id, Account: account, Pubkey: append([]byte{2}, pub[:]...), Relays: []string{"wss://relay.grid.example:443"}}
				if err := a.TfgridKeeper.Twins.Set(ctx, id, twin); err != nil {
					return err
				}
			}
			return a.TfgridKeeper.TwinSeq.Set(ctx, uint64(w.built.Twins))
		})
	}
}

// nodes writes the farms and nodes; every node reported uptime 10 minutes before t0 (online).
func (w *builder) nodes() {
	a := w.app
	farms := w.built.Farms
	w.batch(func(ctx sdk.Context) error {
		for f := range farms {
			farm := tfgridtypes.Farm{Id: uint64(1 + f), Name: fmt.Sprintf("farm-%d", 1+f), TwinId: w.farmerTwin(f), PricingPolicyId: 1}
			if err := a.TfgridKeeper.Farms.Set(ctx, farm.Id, farm); err != nil {
				return err
			}
		}
		for i := range w.built.Nodes {
			node := tfgridtypes.Node{
				Id: uint64(1 + i), FarmId: uint64(1 + i%farms), TwinId: w.nodeTwin(i),
				// Room for what its 100 contracts reserve.
				Resources:     tfgridtypes.Resources{Cru: 1024, Sru: 64000 * gib, Hru: 200000 * gib, Mru: 2048 * gib},
				Location:      tfgridtypes.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
				Interfaces:    []tfgridtypes.Interface{{Name: "eth0", Mac: "52:54:00:12:34:56", Ips: []string{"10.0.0.2/24"}}},
				Certification: tfgridtypes.NodeCertificationDIY, SerialNumber: fmt.Sprintf("BENCH-%08d", i),
				Created: t0.Unix() - 86400, FarmingPolicyId: 1,
				Power:      tfgridtypes.Power{State: tfgridtypes.PowerStateUp, Target: tfgridtypes.PowerStateUp, Since: t0.Unix() - 86400},
				LastUptime: tfgridtypes.Uptime{ReportedAt: t0.Unix() - 600, Uptime: 86400},
			}
			if i%10 == 0 {
				node.Certification = tfgridtypes.NodeCertificationCertified
			}
			if err := a.TfgridKeeper.Nodes.Set(ctx, node.Id, node); err != nil {
				return err
			}
			if err := a.BillingKeeper.NodeClocks.Set(ctx, node.Id, benchClock(node)); err != nil {
				return err
			}
		}
		if err := a.TfgridKeeper.FarmSeq.Set(ctx, uint64(farms)); err != nil {
			return err
		}
		return a.TfgridKeeper.NodeSeq.Set(ctx, uint64(w.built.Nodes))
	})
}

// contracts writes the contracts, each with its indexes, billing state and queue entry. Usage varies;
// every tenth holds a public IP of its farm; three in ten have unbilled NU.
func (w *builder) contracts() {
	n := w.built.Contracts
	for lo := 1; lo <= n; lo += commitEvery {
		w.batch(func(ctx sdk.Context) error {
			for i := lo; i < min(n+1, lo+commitEvery); i++ {
				if err := w.contract(ctx, i); err != nil {
					return err
				}
			}
			return w.app.SmartcontractKeeper.ContractSeq.Set(ctx, uint64(n))
		})
	}
}

// contract writes contract i (1-based) on node i mod nodes, of user i mod users.
func (w *builder) contract(ctx sdk.Context, i int) error {
	a, sk := w.app, w.app.SmartcontractKeeper
	id := uint64(i)
	nodeIdx := i % w.built.Nodes
	nodeID, farmID := uint64(1+nodeIdx), uint64(1+nodeIdx%w.built.Farms)
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, id))
	usage := billingtypes.Usage{
		Cru: uint64(1 + i%8), Mru: uint64(1+i%16) * gib, Sru: uint64(25+(i%20)*25) * gib, Hru: uint64(i%3) * 1000 * gib,
	}
	// The node reported exactly what the contract reserves.
	nc := &sctypes.NodeContract{
		NodeId: nodeID, DeploymentHash: hex.EncodeToString(h[:]), DeploymentData: h[:], PublicIpsCount: 0,
		Resources: tfgridtypes.Resources{Cru: usage.Cru, Sru: usage.Sru, Hru: usage.Hru, Mru: usage.Mru},
	}
	if i%10 == 0 {
		k := i / 10
		gw := fmt.Sprintf("%d.%d.%d.1", 20+k>>16, (k>>8)&255, k&255)
		ip := fmt.Sprintf("%d.%d.%d.2", 20+k>>16, (k>>8)&255, k&255)
		nc.PublicIpsCount = 1
		nc.PublicIps = []sctypes.ContractPublicIP{{Ip: ip + "/24", Gateway: gw}}
		if err := a.TfgridKeeper.PublicIPs.Set(ctx, ip, tfgridtypes.PublicIP{Ip: ip + "/24", Gateway: gw, ContractId: id, FarmId: farmID}); err != nil {
			return err
		}
	}
	twin := w.userTwin(i % w.users)
	c := sctypes.Contract{
		Id: id, TwinId: twin, State: sctypes.ContractStateCreated, CreatedAt: t0.Unix() - 7*86400,
		Deposit: sdkmath.NewInt(1_000_000), Kind: &sctypes.Contract_NodeContract{NodeContract: nc},
	}
	if err := sk.Contracts.Set(ctx, id, c); err != nil {
		return err
	}
	if err := sk.ContractsByTwin.Set(ctx, collections.Join(twin, id)); err != nil {
		return err
	}
	if err := sk.ContractByNodeHash.Set(ctx, collections.Join(nodeID, nc.DeploymentHash), id); err != nil {
		return err
	}
	if err := sk.NodeContractsByNodeTwin.Set(ctx, collections.Join3(nodeID, twin, id)); err != nil {
		return err
	}
	if err := sk.TwinContractHistory.Set(ctx, collections.Join(twin, id)); err != nil {
		return err
	}
	w.reserved[nodeID], _ = w.reserved[nodeID].Add(nc.Resources)

	ceiling, err := a.BillingKeeper.HourlyCeiling(ctx, c)
	if err != nil {
		return err
	}
	w.ceilings[twin] = billingtypes.OrZero(w.ceilings[twin]).Add(ceiling)
	due := w.due(i)
	bill := billingtypes.ContractBilling{
		ContractId: id, LastSettled: due - w.built.Spacing, NextDue: due,
		StandardOverdraft: sdkmath.ZeroInt(), ExtraOverdraft: sdkmath.ZeroInt(), UnbilledNu: sdkmath.LegacyZeroDec(),
		Usage: usage, HourlyCeiling: ceiling,
	}
	clock := benchClock(tfgridtypes.Node{Id: nodeID, Created: t0.Unix() - 86400, LastUptime: tfgridtypes.Uptime{ReportedAt: t0.Unix() - 600}})
	bill.OnlineClock, bill.PoweredClock = clock.OnlineAt(bill.LastSettled), clock.PoweredAt(bill.LastSettled)
	if i%10 < 3 {
		bill.UnbilledNu = billingtypes.NUCost(50000, uint64(1+i%5)*1_000_000_000)
	}
	if err := a.BillingKeeper.Contracts.Set(ctx, id, bill); err != nil {
		return err
	}
	return a.BillingKeeper.Queue.Add(ctx, due, id)
}

// due is contract i's due time: spread over the hour before t0 when every contract is due, else
// evenly over one spacing from t0 on (the steady state of the schedule: n/spacing due per second).
func (w *builder) due(i int) int64 {
	if w.built.Schedule == allDue {
		return t0.Unix() - int64(i%3600)
	}
	return t0.Unix() + int64(i-1)*w.built.Spacing/int64(w.built.Contracts)
}

// deposits: the contracts' deposits sit in the contract module's account; node_reserved holds what
// each node's contracts reserve.
func (w *builder) deposits() {
	a := w.app
	w.batch(func(ctx sdk.Context) error {
		for nodeID, r := range w.reserved {
			if err := a.SmartcontractKeeper.NodeReserved.Set(ctx, nodeID, r); err != nil {
				return err
			}
		}
		deposits := sdkmath.NewInt(int64(w.built.Contracts) * 1_000_000)
		mod := a.AccountKeeper.GetModuleAccount(ctx, sctypes.ModuleName)
		w.supply = w.supply.Add(deposits)
		return a.BankKeeper.Balances.Set(ctx, collections.Join(mod.GetAddress(), denom), deposits)
	})
}

// fund gives the users their balances, on a log scale from 1,000 to 1,000,000 TFT (so every discount
// tier occurs) but at least fundedHours of their contracts' ceilings; when every contract is due, 1 %
// hold nothing instead, so their contracts go into grace. The supply covers every balance.
func (w *builder) fund() {
	a := w.app
	for lo := 0; lo < w.users; lo += commitEvery {
		w.batch(func(ctx sdk.Context) error {
			for u := lo; u < min(w.users, lo+commitEvery); u++ {
				id := w.userTwin(u)
				i := int(id - 1)
				if w.built.Schedule == allDue && i%100 == 0 {
					continue
				}
				// 10^(9 + 3·f) utft, f in [0, 1): 1,000 TFT .. 1,000,000 TFT.
				f := float64((i*7919)%1000) / 1000
				amount := sdkmath.NewInt(int64(1e9 * math.Pow(10, 3*f)))
				if long := billingtypes.OrZero(w.ceilings[id]).MulRaw(fundedHours); amount.LT(long) {
					amount = long
					w.built.ToppedUp++
				}
				if err := a.BankKeeper.Balances.Set(ctx, collections.Join(w.addrs(id), denom), amount); err != nil {
					return err
				}
				w.supply = w.supply.Add(amount)
			}
			return nil
		})
	}
	w.batch(func(ctx sdk.Context) error { return a.BankKeeper.Supply.Set(ctx, denom, w.supply) })
}

// benchClock is the billing clock of a bench node: started when the node was created, up and online
// since (node_offline_after is the default 2 h).
func benchClock(node tfgridtypes.Node) billingtypes.NodeClock {
	return billingtypes.NewNodeClock(node.Id, node.Created, node.LastUptime.ReportedAt, 2*3600, true)
}
