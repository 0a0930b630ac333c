package app_test

// The simulation's generators: the state they see, the values they make up, and the transactions,
// governance messages and billing keeper calls they build (valid, or refused whatever the state).

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/app"
	"github.com/tfgrid/tfgrid/app/apptesting"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// --- state seen by the generators ------------------------------------------------------------------

// world is the committed state (plus this block's governance writes), indexed for the generators.
type world struct {
	tf *types.GenesisState
	sc *sctypes.GenesisState

	now       int64
	twinOf    map[string]types.Twin // by account
	accOfTwin map[uint64]apptesting.Account
	farm      map[uint64]types.Farm
	ipsOf     map[uint64][]types.PublicIP // by farm
	allowed   map[uint64][]uint64         // farm → twins
	node      map[uint64]types.Node
	nodeOf    map[uint64]types.Node // by twin
	contract  map[uint64]sctypes.Contract
	onNode    map[uint64][]sctypes.Contract // node contracts by node
	rentOf    map[uint64]sctypes.Contract   // rent contract by node
	extraFee  map[uint64]uint64
	maxData   int // largest deployment data of a live contract
	billing   map[uint64]billingtypes.ContractBilling
}

func (s *sim) snapshot() *world {
	t, ctx := s.t, s.chain.Ctx
	tf, err := s.chain.App.TfgridKeeper.ExportGenesis(ctx)
	require.NoError(t, err)
	sc, err := s.chain.App.SmartcontractKeeper.ExportGenesis(ctx)
	require.NoError(t, err)
	w := &world{
		tf: tf, sc: sc, now: ctx.BlockTime().Unix(),
		twinOf: map[string]types.Twin{}, accOfTwin: map[uint64]apptesting.Account{},
		farm: map[uint64]types.Farm{}, ipsOf: map[uint64][]types.PublicIP{}, allowed: map[uint64][]uint64{},
		node: map[uint64]types.Node{}, nodeOf: map[uint64]types.Node{},
		contract: map[uint64]sctypes.Contract{}, onNode: map[uint64][]sctypes.Contract{},
		rentOf: map[uint64]sctypes.Contract{}, extraFee: map[uint64]uint64{},
	}
	byAddr := map[string]apptesting.Account{}
	for _, a := range s.accs {
		byAddr[a.String()] = a
	}
	for _, tw := range tf.Twins {
		w.twinOf[tw.Account] = tw
		if a, ok := byAddr[tw.Account]; ok {
			w.accOfTwin[tw.Id] = a
		}
	}
	for _, f := range tf.Farms {
		w.farm[f.Id] = f
	}
	for _, ip := range tf.PublicIps {
		w.ipsOf[ip.FarmId] = append(w.ipsOf[ip.FarmId], ip)
	}
	for _, a := range tf.AllowedNodeTwins {
		w.allowed[a.FarmId] = append(w.allowed[a.FarmId], a.TwinId)
	}
	for _, n := range tf.Nodes {
		w.node[n.Id] = n
		w.nodeOf[n.TwinId] = n
	}
	for _, c := range sc.Contracts {
		w.contract[c.Id] = c
		switch {
		case c.GetNodeContract() != nil:
			nc := c.GetNodeContract()
			w.onNode[nc.NodeId] = append(w.onNode[nc.NodeId], c)
			w.maxData = max(w.maxData, len(nc.DeploymentData))
		case c.GetRentContract() != nil:
			w.rentOf[c.GetRentContract().NodeId] = c
		}
	}
	for _, f := range sc.NodeExtraFees {
		w.extraFee[f.NodeId] = f.ExtraFee
	}
	w.billing = map[uint64]billingtypes.ContractBilling{}
	err = s.chain.App.BillingKeeper.Contracts.Walk(ctx, nil, func(id uint64, b billingtypes.ContractBilling) (bool, error) {
		w.billing[id] = b
		return false, nil
	})
	require.NoError(t, err)
	return w
}

func pick[T any](r *rand.Rand, xs []T) (T, bool) {
	var zero T
	if len(xs) == 0 {
		return zero, false
	}
	return xs[r.Intn(len(xs))], true
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func (s *sim) next() int { s.seq++; return s.seq }

func (s *sim) chance(p float64) bool { return s.r.Float64() < p }

// accounts with or without a twin.
func (s *sim) withTwin(has bool) []apptesting.Account {
	return filter(s.accs, func(a apptesting.Account) bool { _, ok := s.w.twinOf[a.String()]; return ok == has })
}

// accountOf is the account of a twin (every twin belongs to one of the simulated accounts).
func (s *sim) accountOf(twinID uint64) apptesting.Account {
	a, ok := s.w.accOfTwin[twinID]
	require.True(s.t, ok, "twin %d has no simulated account", twinID)
	return a
}

// stranger is an account whose twin (if any) is none of the given twins.
func (s *sim) stranger(twins ...uint64) apptesting.Account {
	candidates := filter(s.accs, func(a apptesting.Account) bool {
		tw, ok := s.w.twinOf[a.String()]
		return !ok || !slices.Contains(twins, tw.Id)
	})
	a, _ := pick(s.r, candidates)
	return a
}

func (s *sim) farmOfNode(n types.Node) types.Farm { return s.w.farm[n.FarmId] }

// admits reports whether a farm lets a twin register a node.
// liveContract finds a live contract of the snapshot.
func (w *world) liveContract(id uint64) (sctypes.Contract, bool) {
	i := slices.IndexFunc(w.sc.Contracts, func(c sctypes.Contract) bool { return c.Id == id })
	if i < 0 {
		return sctypes.Contract{}, false
	}
	return w.sc.Contracts[i], true
}

func (w *world) admits(f types.Farm, twinID uint64) bool {
	return f.OpenNodeRegistration || slices.Contains(w.allowed[f.Id], twinID)
}

// --- generated values ------------------------------------------------------------------------------

func (s *sim) relays() []string {
	out := make([]string, s.r.Intn(4))
	for i := range out {
		switch s.r.Intn(3) {
		case 0:
			out[i] = fmt.Sprintf("wss://relay-%d.grid.tf", s.next())
		case 1:
			out[i] = fmt.Sprintf("ws://185.69.%d.%d:%d", s.r.Intn(256), 1+s.r.Intn(254), 1024+s.r.Intn(60000))
		default:
			out[i] = fmt.Sprintf("wss://r%d.example.org:443", s.next())
		}
	}
	return out
}

func (s *sim) e2eKey() []byte {
	if s.chance(0.5) {
		return nil
	}
	return secp256k1.GenPrivKeyFromSecret([]byte(fmt.Sprintf("e2e-%d", s.next()))).PubKey().Bytes()
}

// freshIP is a public IPv4 /24 address never handed out before, with its gateway.
func (s *sim) freshIP() types.PublicIPInput {
	n := s.next()
	a, b, c := 100+n/(253*256), (n/253)%256, 2+n%253
	return types.PublicIPInput{Ip: fmt.Sprintf("185.%d.%d.%d/24", a, b, c), Gateway: fmt.Sprintf("185.%d.%d.1", a, b)}
}

func (s *sim) hash() string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("deployment-%d", s.next())))
	return hex.EncodeToString(sum[:])
}

func (s *sim) data() []byte {
	if s.chance(0.3) {
		return nil
	}
	b := make([]byte, s.r.Intn(simMaxDeploymentData+1))
	s.r.Read(b)
	return b
}

var simLocations = []types.Location{
	{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
	{City: "Cairo", Country: "Egypt", Latitude: "30.04", Longitude: "31.24"},
	{City: "Vienna", Country: "Austria", Latitude: "48.21", Longitude: "16.37"},
	{City: "Sankt Gallen", Country: "Switzerland", Latitude: "Unknown", Longitude: "Unknown"},
	{City: "Rio de Janeiro", Country: "Brazil", Latitude: "-22.91", Longitude: "-43.17"},
}

type nodeDesc struct {
	res    types.Resources
	loc    types.Location
	itfs   []types.Interface
	serial string
	secure bool
	virt   bool
	// link is the node's public network rate, up to 10 Gbit/s.
	link uint64
}

func (s *sim) nodeDesc() nodeDesc {
	r := s.r
	res := types.Resources{Cru: 1 + uint64(r.Intn(64)), Mru: (2 + uint64(r.Intn(510))) * types.GiB}
	if r.Intn(2) == 0 {
		res.Sru = (100 + uint64(r.Intn(4000))) * types.GiB
	} else {
		res.Hru, res.Sru = (100+uint64(r.Intn(16000)))*types.GiB, uint64(r.Intn(500))*types.GiB
	}
	loc, _ := pick(r, simLocations)
	var itfs []types.Interface
	for i := range r.Intn(3) {
		itfs = append(itfs, types.Interface{
			Name: fmt.Sprintf("eth%d", i), Mac: fmt.Sprintf("52:54:00:%02x:%02x:%02x", r.Intn(256), r.Intn(256), r.Intn(256)),
			Ips: []string{fmt.Sprintf("10.%d.%d.%d", r.Intn(256), r.Intn(256), 1+r.Intn(254)), "2a02:1802:5e::1/64"}[:1+r.Intn(2)],
		})
	}
	serial := ""
	if r.Intn(2) == 0 {
		serial = fmt.Sprintf("SN-%d", s.next())
	}
	return nodeDesc{res: res, loc: loc, itfs: itfs, serial: serial, secure: r.Intn(2) == 0, virt: r.Intn(4) == 0, link: uint64(r.Int63n(1_250_000_001))}
}

func (s *sim) publicConfig(nodeID uint64) *types.PublicConfig {
	a, b := s.r.Intn(256), 2+s.r.Intn(253)
	cfg := &types.PublicConfig{Ipv4: fmt.Sprintf("185.250.%d.%d/24", a, b), Gw4: fmt.Sprintf("185.250.%d.1", a)}
	if s.chance(0.5) {
		cfg.Ipv6, cfg.Gw6 = fmt.Sprintf("2a02:1802:5e:%x::10/64", a), fmt.Sprintf("2a02:1802:5e:%x::1", a)
	}
	if s.chance(0.5) {
		cfg.Domain = fmt.Sprintf("node%d.grid.tf", nodeID)
	}
	return cfg
}

func (s *sim) power(pUp float64) types.PowerState {
	if s.chance(pUp) {
		return types.PowerStateUp
	}
	return types.PowerStateDown
}

// --- transactions ----------------------------------------------------------------------------------

type txGen struct {
	weight int
	gen    func(s *sim, invalid bool) (simOp, bool)
}

var simTxGens = []txGen{
	{4, (*sim).genCreateTwin},
	{2, (*sim).genUpdateTwin},
	{3, (*sim).genCreateFarm},
	{2, (*sim).genUpdateFarm},
	{4, (*sim).genAddFarmIP},
	{2, (*sim).genRemoveFarmIP},
	{4, (*sim).genAllowNodeTwin},
	{2, (*sim).genDisallowNodeTwin},
	{3, (*sim).genSetFarmOpenRegistration},
	{6, (*sim).genCreateNode},
	{2, (*sim).genUpdateNode},
	{2, (*sim).genSetNodePublicConfig},
	{1, (*sim).genDeleteNode},
	{4, (*sim).genReportUptime},
	{2, (*sim).genChangePowerState},
	{2, (*sim).genChangePowerTarget},
	{1, (*sim).genSetNodeCertification},
	{14, (*sim).genCreateNodeContract},
	{5, (*sim).genUpdateNodeContract},
	{6, (*sim).genCancelContract},
	{4, (*sim).genCreateNameContract},
	{3, (*sim).genCreateRentContract},
	{2, (*sim).genSetExtraFee},
	{2, (*sim).genDrain},
	{1, (*sim).genRefill},
	{4, (*sim).genSetTftPrice},
	{8, (*sim).genReportConsumption},
	{3, (*sim).genSettleContract},
}

func (s *sim) genTx() (simOp, bool) {
	total := 0
	for _, g := range simTxGens {
		total += g.weight
	}
	n := s.r.Intn(total)
	for _, g := range simTxGens {
		if n < g.weight {
			return g.gen(s, s.chance(simInvalid))
		}
		n -= g.weight
	}
	panic("unreachable")
}

func (s *sim) genCreateTwin(invalid bool) (simOp, bool) {
	if invalid {
		if acc, ok := pick(s.r, s.withTwin(true)); ok {
			return simOp{signer: acc, msg: &types.MsgCreateTwin{Creator: acc.String(), Relays: s.relays()}, mustFail: true}, true
		}
		acc, _ := pick(s.r, s.accs)
		return simOp{signer: acc, msg: &types.MsgCreateTwin{Creator: acc.String(), Relays: []string{"http://relay.grid.tf"}}, mustFail: true}, true
	}
	acc, ok := pick(s.r, s.withTwin(false))
	return simOp{signer: acc, msg: &types.MsgCreateTwin{Creator: acc.String(), Relays: s.relays(), E2EKey: s.e2eKey()}}, ok
}

func (s *sim) genUpdateTwin(invalid bool) (simOp, bool) {
	acc, ok := pick(s.r, s.withTwin(true))
	if invalid {
		return simOp{signer: acc, msg: &types.MsgUpdateTwin{Creator: acc.String(), Relays: []string{"wss://a.tf", "wss://b.tf", "wss://c.tf", "wss://d.tf", "wss://e.tf"}}, mustFail: true}, ok
	}
	return simOp{signer: acc, msg: &types.MsgUpdateTwin{Creator: acc.String(), Relays: s.relays(), E2EKey: s.e2eKey()}}, ok
}

func (s *sim) genCreateFarm(invalid bool) (simOp, bool) {
	acc, ok := pick(s.r, s.withTwin(true))
	if !ok || (!invalid && len(s.w.tf.Farms) >= 30) {
		return simOp{}, false
	}
	msg := &types.MsgCreateFarm{Creator: acc.String(), Name: fmt.Sprintf("farm-%d", s.next())}
	for range s.r.Intn(4) {
		msg.PublicIps = append(msg.PublicIps, s.freshIP())
	}
	if invalid {
		if s.chance(0.5) {
			msg.Name = "bad name!"
		} else {
			msg.PublicIps = append(msg.PublicIps, types.PublicIPInput{Ip: "10.1.2.3/24", Gateway: "10.1.2.1"})
		}
	}
	return simOp{signer: acc, msg: msg, mustFail: invalid}, true
}

func (s *sim) genUpdateFarm(invalid bool) (simOp, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	if !ok {
		return simOp{}, false
	}
	name := fmt.Sprintf("farm-%d-renamed", s.next())
	if other, ok := pick(s.r, s.w.tf.Farms); ok && s.chance(0.1) {
		name = other.Name // taken, unless it is this farm's own
	}
	if invalid {
		acc := s.stranger(f.TwinId)
		return simOp{signer: acc, msg: &types.MsgUpdateFarm{Creator: acc.String(), FarmId: f.Id, Name: name}, mustFail: true}, true
	}
	acc := s.accountOf(f.TwinId)
	return simOp{signer: acc, msg: &types.MsgUpdateFarm{Creator: acc.String(), FarmId: f.Id, Name: name}}, true
}

func (s *sim) genAddFarmIP(invalid bool) (simOp, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	if !ok {
		return simOp{}, false
	}
	ip := s.freshIP()
	if existing, ok := pick(s.r, s.w.tf.PublicIps); ok && s.chance(0.05) {
		ip = types.PublicIPInput{Ip: existing.Ip, Gateway: existing.Gateway} // already on the chain
	}
	acc := s.accountOf(f.TwinId)
	if invalid {
		if s.chance(0.5) {
			acc = s.stranger(f.TwinId)
		} else {
			ip = types.PublicIPInput{Ip: "192.168.1.20/24", Gateway: "192.168.1.1"}
		}
	}
	return simOp{signer: acc, msg: &types.MsgAddFarmIp{Creator: acc.String(), FarmId: f.Id, Ip: ip.Ip, Gateway: ip.Gateway}, mustFail: invalid}, true
}

func (s *sim) genRemoveFarmIP(invalid bool) (simOp, bool) {
	farms := filter(s.w.tf.Farms, func(f types.Farm) bool { return len(s.w.ipsOf[f.Id]) > 0 })
	f, ok := pick(s.r, farms)
	if !ok {
		return simOp{}, false
	}
	ips := s.w.ipsOf[f.Id]
	if free := filter(ips, func(ip types.PublicIP) bool { return ip.ContractId == 0 }); len(free) > 0 && s.chance(0.8) {
		ips = free
	}
	ip, _ := pick(s.r, ips)
	addr := ip.Ip
	if s.chance(0.5) {
		addr = strings.Split(addr, "/")[0] // bare or CIDR, both name the IP
	}
	acc := s.accountOf(f.TwinId)
	if invalid {
		acc = s.stranger(f.TwinId)
	}
	return simOp{signer: acc, msg: &types.MsgRemoveFarmIp{Creator: acc.String(), FarmId: f.Id, Ip: addr}, mustFail: invalid}, true
}

func (s *sim) genAllowNodeTwin(invalid bool) (simOp, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	if !ok {
		return simOp{}, false
	}
	twins := filter(s.w.tf.Twins, func(tw types.Twin) bool { _, hasNode := s.w.nodeOf[tw.Id]; return !hasNode })
	if len(twins) == 0 || s.chance(0.2) {
		twins = s.w.tf.Twins
	}
	tw, _ := pick(s.r, twins)
	acc := s.accountOf(f.TwinId)
	twinID := tw.Id
	if invalid {
		twinID = 1_000_000 + uint64(s.next())
	}
	return simOp{signer: acc, msg: &types.MsgAllowNodeTwin{Creator: acc.String(), FarmId: f.Id, TwinId: twinID}, mustFail: invalid}, true
}

func (s *sim) genDisallowNodeTwin(invalid bool) (simOp, bool) {
	farms := filter(s.w.tf.Farms, func(f types.Farm) bool { return len(s.w.allowed[f.Id]) > 0 })
	f, ok := pick(s.r, farms)
	if !ok {
		return simOp{}, false
	}
	tw, _ := pick(s.r, s.w.allowed[f.Id])
	acc := s.accountOf(f.TwinId)
	if invalid {
		acc = s.stranger(f.TwinId)
	}
	return simOp{signer: acc, msg: &types.MsgDisallowNodeTwin{Creator: acc.String(), FarmId: f.Id, TwinId: tw}, mustFail: invalid}, true
}

func (s *sim) genSetFarmOpenRegistration(invalid bool) (simOp, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	if !ok {
		return simOp{}, false
	}
	acc := s.accountOf(f.TwinId)
	if invalid {
		acc = s.stranger(f.TwinId)
	}
	return simOp{signer: acc, msg: &types.MsgSetFarmOpenRegistration{Creator: acc.String(), FarmId: f.Id, Open: s.chance(0.6)}, mustFail: invalid}, true
}

func (s *sim) genCreateNode(invalid bool) (simOp, bool) {
	twins := filter(s.w.tf.Twins, func(tw types.Twin) bool { _, hasNode := s.w.nodeOf[tw.Id]; return !hasNode })
	tw, ok := pick(s.r, twins)
	if !ok || len(s.w.tf.Farms) == 0 {
		return simOp{}, false
	}
	farms := filter(s.w.tf.Farms, func(f types.Farm) bool { return s.w.admits(f, tw.Id) })
	if len(farms) == 0 || s.chance(0.1) {
		farms = s.w.tf.Farms
	}
	f, _ := pick(s.r, farms)
	d := s.nodeDesc()
	if invalid {
		d.res.Mru = types.GiB // below the minimum
	}
	acc := s.accountOf(tw.Id)
	return simOp{signer: acc, msg: &types.MsgCreateNode{
		Creator: acc.String(), FarmId: f.Id, Resources: d.res, Location: d.loc, Interfaces: d.itfs,
		SecureBoot: d.secure, Virtualized: d.virt, SerialNumber: d.serial, LinkRate: d.link,
	}, mustFail: invalid}, true
}

func (s *sim) genUpdateNode(invalid bool) (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	farmID := n.FarmId
	switch {
	case s.chance(0.1):
		if f, ok := pick(s.r, filter(s.w.tf.Farms, func(f types.Farm) bool { return s.w.admits(f, n.TwinId) })); ok {
			farmID = f.Id // move, refused while the node has contracts
		}
	case s.chance(0.2):
		farmID = 0 // stay
	}
	d := s.nodeDesc()
	if s.chance(0.3) {
		d.res = n.Resources // certified nodes keep their certification
	}
	acc := s.accountOf(n.TwinId)
	if invalid {
		acc = s.stranger(n.TwinId)
	}
	return simOp{signer: acc, msg: &types.MsgUpdateNode{
		Creator: acc.String(), NodeId: n.Id, FarmId: farmID, Resources: d.res, Location: d.loc, Interfaces: d.itfs,
		SecureBoot: d.secure, Virtualized: d.virt, SerialNumber: d.serial, LinkRate: d.link,
	}, mustFail: invalid}, true
}

func (s *sim) genSetNodePublicConfig(invalid bool) (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	farmer := s.farmOfNode(n).TwinId
	acc := s.accountOf(farmer)
	cfg := s.publicConfig(n.Id)
	switch {
	case invalid && s.chance(0.5):
		acc = s.stranger(farmer)
	case invalid:
		cfg.Ipv4, cfg.Gw4 = "172.16.0.10/24", "172.16.0.1"
	case s.chance(0.15):
		cfg = nil
	case s.chance(0.1):
		cfg = &types.PublicConfig{} // clears too
	}
	return simOp{signer: acc, msg: &types.MsgSetNodePublicConfig{Creator: acc.String(), NodeId: n.Id, PublicConfig: cfg}, mustFail: invalid}, true
}

func (s *sim) genDeleteNode(invalid bool) (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	farmer := s.farmOfNode(n).TwinId
	acc := s.accountOf(n.TwinId)
	switch {
	case invalid:
		acc = s.stranger(n.TwinId, farmer)
	case s.chance(0.5):
		acc = s.accountOf(farmer)
	}
	return simOp{signer: acc, msg: &types.MsgDeleteNode{Creator: acc.String(), NodeId: n.Id}, mustFail: invalid}, true
}

func (s *sim) genReportUptime(invalid bool) (simOp, bool) {
	nodes := s.w.tf.Nodes
	// Mostly nodes about to go offline: their contracts' resources stay billable.
	stale := filter(nodes, func(n types.Node) bool { return n.LastUptime.ReportedAt+simNodeOfflineAfter/2 < s.w.now })
	if len(stale) > 0 && s.chance(0.7) {
		nodes = stale
	}
	n, ok := pick(s.r, nodes)
	if !ok {
		return simOp{}, false
	}
	hint := s.w.now + int64(s.r.Intn(41)) - 20
	if invalid {
		hint = s.w.now - 7200 // beyond any allowed drift (at most 3600 s)
	}
	acc := s.accountOf(n.TwinId)
	age := max(s.w.now-n.Created, 0)
	return simOp{signer: acc, msg: &types.MsgReportUptime{Creator: acc.String(), Uptime: uint64(s.r.Int63n(age + 1)), TimestampHint: hint}, mustFail: invalid}, true
}

func (s *sim) genChangePowerState(invalid bool) (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	acc := s.accountOf(n.TwinId)
	state := s.power(0.7)
	if invalid {
		state = types.PowerStateUnspecified
	}
	return simOp{signer: acc, msg: &types.MsgChangePowerState{Creator: acc.String(), State: state}, mustFail: invalid}, true
}

func (s *sim) genChangePowerTarget(invalid bool) (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	farmer := s.farmOfNode(n).TwinId
	acc := s.accountOf(farmer)
	if invalid {
		acc = s.stranger(farmer)
	}
	return simOp{signer: acc, msg: &types.MsgChangePowerTarget{Creator: acc.String(), NodeId: n.Id, Target: s.power(0.6)}, mustFail: invalid}, true
}

func (s *sim) genSetNodeCertification(invalid bool) (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	cert := types.NodeCertificationDIY
	if s.chance(0.5) {
		cert = types.NodeCertificationCertified
	}
	acc := s.certifier // listed in node_certifiers once governance put it there
	if invalid {
		acc = s.accs[s.r.Intn(len(s.accs)-1)] // never a certifier
	}
	return simOp{signer: acc, msg: &types.MsgSetNodeCertification{Signer: acc.String(), NodeId: n.Id, Certification: cert}, mustFail: invalid}, true
}

// deployers are the twins that create contracts: mostly ones with funds, since drained twins cannot
// lock a deposit.
func (s *sim) deployers() []types.Twin {
	funded := filter(s.w.tf.Twins, func(tw types.Twin) bool { return s.balance(s.accountOf(tw.Id)).GTE(simPoor) })
	if len(funded) == 0 || s.chance(0.15) {
		return s.w.tf.Twins
	}
	return funded
}

// deployable reports whether a twin may deploy on a node as far as the snapshot tells.
func (s *sim) deployable(n types.Node, twinID uint64) bool {
	if n.Power.State != types.PowerStateUp || n.Power.Target != types.PowerStateUp {
		return false
	}
	if rent, ok := s.w.rentOf[n.Id]; ok {
		return rent.TwinId == twinID
	}
	_, fee := s.w.extraFee[n.Id]
	return !s.farmOfNode(n).Dedicated && !fee
}

func (s *sim) genCreateNodeContract(invalid bool) (simOp, bool) {
	tw, ok := pick(s.r, s.deployers())
	if !ok || len(s.w.tf.Nodes) == 0 {
		return simOp{}, false
	}
	nodes := filter(s.w.tf.Nodes, func(n types.Node) bool { return s.deployable(n, tw.Id) })
	if len(nodes) == 0 || s.chance(0.1) {
		nodes = s.w.tf.Nodes
	}
	n, _ := pick(s.r, nodes)
	msg := &sctypes.MsgCreateNodeContract{
		NodeId: n.Id, DeploymentHash: s.hash(), DeploymentData: s.data(), Resources: s.reservation(), MaxUtftPerHour: s.spendingCap(),
	}
	if c, ok := pick(s.r, s.w.onNode[n.Id]); ok && s.chance(0.05) {
		msg.DeploymentHash = c.GetNodeContract().DeploymentHash // taken on this node
	}
	switch x := s.r.Intn(20); {
	case x < 4:
		msg.PublicIpsCount = 1
	case x < 6:
		msg.PublicIpsCount = 2
	case x < 7:
		msg.PublicIpsCount = 3
	}
	if invalid {
		if s.chance(0.5) {
			msg.DeploymentHash = strings.ToUpper(msg.DeploymentHash)
		} else {
			msg.NodeId = 1_000_000 + uint64(s.next())
		}
	}
	acc := s.accountOf(tw.Id)
	msg.Creator = acc.String()
	return simOp{signer: acc, msg: msg, mustFail: invalid}, true
}

// reservation is a small VM's capacity, or none (a contract for public IPs only); one that does not
// fit in the node's free capacity is refused.
func (s *sim) reservation() types.Resources {
	if s.chance(0.1) {
		return types.Resources{}
	}
	return types.Resources{Cru: 1 + uint64(s.r.Intn(4)), Mru: (1 + uint64(s.r.Intn(8))) * types.GiB, Sru: uint64(s.r.Intn(100)) * types.GiB}
}

// spendingCap is mostly none, sometimes a cap low enough to drop part of a settlement.
func (s *sim) spendingCap() uint64 {
	if s.chance(0.7) {
		return 0
	}
	return 1 + uint64(s.r.Intn(200_000))
}

func (s *sim) genUpdateNodeContract(invalid bool) (simOp, bool) {
	c, ok := pick(s.r, filter(s.w.sc.Contracts, func(c sctypes.Contract) bool { return c.GetNodeContract() != nil }))
	if !ok {
		return simOp{}, false
	}
	nc := c.GetNodeContract()
	msg := &sctypes.MsgUpdateNodeContract{
		ContractId: c.Id, DeploymentHash: s.hash(), DeploymentData: s.data(), Resources: s.reservation(), MaxUtftPerHour: s.spendingCap(),
	}
	switch {
	case s.chance(0.1):
		msg.DeploymentHash = nc.DeploymentHash // same hash: allowed
	case s.chance(0.05):
		if other, ok := pick(s.r, s.w.onNode[nc.NodeId]); ok {
			msg.DeploymentHash = other.GetNodeContract().DeploymentHash
		}
	}
	acc := s.accountOf(c.TwinId)
	if invalid {
		acc = s.stranger(c.TwinId)
	}
	msg.Creator = acc.String()
	return simOp{signer: acc, msg: msg, mustFail: invalid}, true
}

func (s *sim) genCancelContract(invalid bool) (simOp, bool) {
	c, ok := pick(s.r, s.w.sc.Contracts)
	if !ok {
		return simOp{}, false
	}
	acc := s.accountOf(c.TwinId)
	var nodeTwin uint64
	if nc := c.GetNodeContract(); nc != nil {
		if n, ok := s.w.node[nc.NodeId]; ok {
			nodeTwin = n.TwinId
			if s.chance(0.25) {
				acc = s.accountOf(nodeTwin) // the node cancels
			}
		}
	}
	if invalid {
		acc = s.stranger(c.TwinId, nodeTwin)
	}
	return simOp{signer: acc, msg: &sctypes.MsgCancelContract{Creator: acc.String(), ContractId: c.Id}, mustFail: invalid}, true
}

func (s *sim) genCreateNameContract(invalid bool) (simOp, bool) {
	tw, ok := pick(s.r, s.deployers())
	if !ok {
		return simOp{}, false
	}
	name := fmt.Sprintf("gw-%d", s.next())
	if existing, ok := pick(s.r, filter(s.w.sc.Contracts, func(c sctypes.Contract) bool { return c.GetNameContract() != nil })); ok && s.chance(0.1) {
		name = existing.GetNameContract().Name
	}
	if invalid {
		name = "Not A Name!"
	}
	acc := s.accountOf(tw.Id)
	return simOp{signer: acc, msg: &sctypes.MsgCreateNameContract{Creator: acc.String(), Name: name}, mustFail: invalid}, true
}

func (s *sim) genCreateRentContract(invalid bool) (simOp, bool) {
	tw, ok := pick(s.r, s.deployers())
	if !ok || len(s.w.tf.Nodes) == 0 {
		return simOp{}, false
	}
	nodes := filter(s.w.tf.Nodes, func(n types.Node) bool {
		_, rented := s.w.rentOf[n.Id]
		return !rented && (len(s.w.onNode[n.Id]) == 0 || s.farmOfNode(n).Dedicated)
	})
	if len(nodes) == 0 || s.chance(0.1) {
		nodes = s.w.tf.Nodes
	}
	n, _ := pick(s.r, nodes)
	nodeID := n.Id
	if invalid {
		nodeID = 1_000_000 + uint64(s.next())
	}
	acc := s.accountOf(tw.Id)
	return simOp{signer: acc, msg: &sctypes.MsgCreateRentContract{Creator: acc.String(), NodeId: nodeID}, mustFail: invalid}, true
}

func (s *sim) genSetExtraFee(invalid bool) (simOp, bool) {
	nodes := filter(s.w.tf.Nodes, func(n types.Node) bool {
		_, rented := s.w.rentOf[n.Id]
		return !rented && len(s.w.onNode[n.Id]) == 0
	})
	if len(nodes) == 0 || s.chance(0.2) {
		nodes = s.w.tf.Nodes
	}
	n, ok := pick(s.r, nodes)
	if !ok {
		return simOp{}, false
	}
	farmer := s.farmOfNode(n).TwinId
	acc := s.accountOf(farmer)
	if invalid {
		acc = s.stranger(farmer)
	}
	fee := uint64(0)
	if s.chance(0.5) {
		fee = 1 + uint64(s.r.Intn(5000))
	}
	return simOp{signer: acc, msg: &sctypes.MsgSetDedicatedNodeExtraFee{Creator: acc.String(), NodeId: n.Id, ExtraFee: fee}, mustFail: invalid}, true
}

// simPoor is the balance below which a twin counts as drained.
var simPoor = sdkmath.NewInt(1_000_000_000)

func (s *sim) balance(a apptesting.Account) sdkmath.Int {
	return s.chain.App.BankKeeper.GetBalance(s.chain.Ctx, a.Address, app.BondDenom).Amount
}

// genDrain moves nearly all funds of a twin's account away, leaving it a few TFT: its contracts soon
// cannot be paid, and billing takes them through grace to out-of-funds deletion.
func (s *sim) genDrain(bool) (simOp, bool) {
	acc, ok := pick(s.r, filter(s.withTwin(true), func(a apptesting.Account) bool { return s.balance(a).GT(simPoor) }))
	if !ok || acc.Address.Equals(s.certifier.Address) {
		return simOp{}, false
	}
	keep := sdkmath.NewInt(int64(s.r.Intn(5_000_000)))
	amount := sdk.NewCoins(sdk.NewCoin(app.BondDenom, s.balance(acc).Sub(keep)))
	// Refilled soon, mostly while its contracts are in grace, or late, after billing deleted them.
	wait := 60 + s.r.Intn(180)
	if s.chance(0.5) {
		wait = 2*simGracePeriod + s.r.Intn(600)
	}
	s.refillAt[acc.String()] = s.w.now + int64(wait)
	return simOp{signer: acc, msg: banktypes.NewMsgSend(acc.Address, s.chain.Validator.Address, amount)}, true
}

// genRefill gives a drained account funds again: billing pays its debts and ends its grace.
func (s *sim) genRefill(bool) (simOp, bool) {
	acc, ok := pick(s.r, filter(s.accs, func(a apptesting.Account) bool {
		return s.balance(a).LT(simPoor) && s.refillAt[a.String()] <= s.w.now
	}))
	if !ok {
		return simOp{}, false
	}
	amount := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(10_000_000_000)))
	return simOp{signer: s.chain.Validator, msg: banktypes.NewMsgSend(s.chain.Validator.Address, acc.Address, amount)}, true
}

// --- billing transactions --------------------------------------------------------------------------

// marketPrice is a feeder's sample, with 6 decimals, around a market level. The market goes through
// regimes in turn, normal, below min_tft_price_musd, normal, above max_tft_price_musd, each long enough
// (at least simMinRegime samples) for the average of the last samples to be clamped.
func (s *sim) marketPrice() sdkmath.LegacyDec {
	if s.market == 0 || (s.regimeSamples >= simMinRegime && s.chance(0.15)) {
		s.regime, s.regimeSamples = (s.regime+1)%4, 0
		if s.market == 0 {
			s.regime = 0
		}
		switch s.regime {
		case 1:
			s.market = 10_000 + s.r.Int63n(900_000) // 0.01–0.91 mUSD
		case 3:
			s.market = 1_001_000_000 + s.r.Int63n(1_000_000_000) // 1,001–2,001 mUSD
		default:
			s.market = 2_000_000 + s.r.Int63n(38_000_000) // 2–40 mUSD
		}
	}
	s.regimeSamples++
	return sdkmath.LegacyNewDecWithPrec(max(1, s.market*(900+s.r.Int63n(201))/1000), 6)
}

// genSetTftPrice: a feeder sends a sample (refused within price_sample_interval of its previous one);
// an invalid one comes from someone else or has a price that is not positive or has 7 decimals.
func (s *sim) genSetTftPrice(invalid bool) (simOp, bool) {
	feeder, _ := pick(s.r, s.feeders)
	price := s.marketPrice()
	if !invalid {
		return simOp{signer: feeder, msg: &billingtypes.MsgSetTftPrice{Feeder: feeder.String(), PriceMusd: price}}, true
	}
	want := billingtypes.ErrInvalidPrice
	switch s.r.Intn(4) {
	case 0:
		feeder = s.accs[s.r.Intn(simAccounts-1-simFeeders)] // never a feeder
		want = billingtypes.ErrNotPriceFeeder
	case 1:
		price = sdkmath.LegacyZeroDec()
	case 2:
		price = price.Neg()
	default:
		price = price.Add(sdkmath.LegacyNewDecWithPrec(1+s.r.Int63n(9), 7))
	}
	msg := &billingtypes.MsgSetTftPrice{Feeder: feeder.String(), PriceMusd: price}
	return simOp{signer: feeder, msg: msg, mustFail: true, expect: expectCode(want)}, true
}

// usageReport is a report of a contract's usage within the node's capacity, at a timestamp after the
// contract's previous report (committed or generated) and at most the block time.
func (s *sim) usageReport(n types.Node, id uint64) (billingtypes.ConsumptionReport, bool) {
	now, last := s.w.now, s.reportTS[id]
	if b, ok := s.w.billing[id]; ok && b.LastReport != nil {
		last = max(last, b.LastReport.Timestamp)
	}
	if last >= now {
		return billingtypes.ConsumptionReport{}, false
	}
	ts := now - int64(s.r.Intn(int(min(now-last, 30))))
	since := last
	if c, ok := s.w.liveContract(id); ok {
		since = max(since, c.CreatedAt)
	}
	if ts <= since {
		return billingtypes.ConsumptionReport{}, false
	}
	s.reportTS[id] = ts
	part := func(capacity uint64) uint64 {
		if capacity == 0 || s.chance(0.15) {
			return 0
		}
		if s.chance(0.1) {
			return capacity // all of it
		}
		return 1 + uint64(s.r.Int63n(int64(capacity)))
	}
	capacity := n.Resources
	r := billingtypes.ConsumptionReport{
		ContractId: id, Timestamp: ts, Window: 1 + uint64(s.r.Int63n(ts-since)),
		Cru: part(capacity.Cru), Sru: part(capacity.Sru), Hru: part(capacity.Hru), Mru: part(capacity.Mru),
	}
	if most := r.Window * n.LinkRate; most > 0 && s.chance(0.7) {
		r.Nru = uint64(s.r.Int63n(int64(min(most, 20_000_000_000)))) // up to the link's limit or 20 GB
	}
	return r, true
}

// genReportConsumption: a node's twin reports the usage of some of its node contracts. Invalid: a
// report about a contract that is not a node contract of this node (the message is refused), one over
// the node's capacity (refused), or one about a deleted contract (skipped: the message succeeds).
func (s *sim) genReportConsumption(invalid bool) (simOp, bool) {
	if invalid {
		return s.genBadReport()
	}
	n, ok := pick(s.r, filter(s.w.tf.Nodes, func(n types.Node) bool { return len(s.w.onNode[n.Id]) > 0 }))
	if !ok {
		return simOp{}, false
	}
	acc := s.accountOf(n.TwinId)
	msg := &billingtypes.MsgReportConsumption{Creator: acc.String()}
	contracts := slices.Clone(s.w.onNode[n.Id])
	s.r.Shuffle(len(contracts), func(i, j int) { contracts[i], contracts[j] = contracts[j], contracts[i] })
	for _, c := range contracts[:1+s.r.Intn(min(3, len(contracts)))] {
		if r, ok := s.usageReport(n, c.Id); ok {
			msg.Reports = append(msg.Reports, r)
		}
	}
	return simOp{signer: acc, msg: msg}, len(msg.Reports) > 0
}

func (s *sim) genBadReport() (simOp, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	if !ok {
		return simOp{}, false
	}
	acc := s.accountOf(n.TwinId)
	msg := &billingtypes.MsgReportConsumption{Creator: acc.String()}
	// A good report of the node's own may come first: the whole message stands or falls together.
	good := func() {
		if c, ok := pick(s.r, s.w.onNode[n.Id]); ok && s.chance(0.5) {
			if r, ok := s.usageReport(n, c.Id); ok {
				msg.Reports = append(msg.Reports, r)
			}
		}
	}
	switch s.r.Intn(3) {
	case 0:
		// Alone, so that the message changes no contract: it may run before a foreign report.
		if tomb, ok := pick(s.r, s.w.sc.Tombstones); ok {
			msg.Reports = []billingtypes.ConsumptionReport{{ContractId: tomb.Id, Timestamp: s.w.now - int64(s.r.Intn(60)), Window: 60, Nru: 1000}}
			return simOp{signer: acc, msg: msg, first: true, expect: s.expectSkipped(tomb.Id)}, true
		}
	case 1:
		foreign := filter(s.w.sc.Contracts, func(c sctypes.Contract) bool {
			nc := c.GetNodeContract()
			return nc == nil || nc.NodeId != n.Id
		})
		if c, ok := pick(s.r, foreign); ok {
			good()
			msg.Reports = append(msg.Reports, billingtypes.ConsumptionReport{ContractId: c.Id, Timestamp: s.w.now, Window: 1})
			// First in the block, so that the contract is still live: a deleted one would be skipped.
			return simOp{signer: acc, msg: msg, mustFail: true, first: true, expect: expectCode(billingtypes.ErrNotNodeContract)}, true
		}
	}
	good()
	id := uint64(1)
	if c, ok := pick(s.r, s.w.onNode[n.Id]); ok {
		id = c.Id
	}
	// Beyond any capacity a node is registered with; first, so that the node still exists.
	r := billingtypes.ConsumptionReport{ContractId: id, Timestamp: s.w.now}
	switch s.r.Intn(4) {
	case 0:
		r.Cru = 1000
	case 1:
		r.Mru = 1 << 50
	case 2:
		r.Sru = 1 << 60
	default:
		r.Hru = 1 << 60
	}
	msg.Reports = append(msg.Reports, r)
	return simOp{signer: acc, msg: msg, mustFail: true, first: true, expect: expectCode(billingtypes.ErrInvalidReport)}, true
}

// genSettleContract: anyone settles a live contract, often one in grace (as after a top-up); an invalid
// one names a deleted or unknown contract.
func (s *sim) genSettleContract(invalid bool) (simOp, bool) {
	acc, _ := pick(s.r, s.accs)
	if invalid {
		id := 1_000_000 + uint64(s.next())
		if tomb, ok := pick(s.r, s.w.sc.Tombstones); ok && s.chance(0.5) {
			id = tomb.Id
		}
		msg := &billingtypes.MsgSettleContract{Creator: acc.String(), ContractId: id}
		return simOp{signer: acc, msg: msg, mustFail: true, expect: expectCode(sctypes.ErrContractNotFound)}, true
	}
	contracts := s.w.sc.Contracts
	if inGrace := filter(contracts, func(c sctypes.Contract) bool { return c.State == sctypes.ContractStateGracePeriod }); len(inGrace) > 0 && s.chance(0.5) {
		contracts = inGrace
	}
	c, ok := pick(s.r, contracts)
	return simOp{signer: acc, msg: &billingtypes.MsgSettleContract{Creator: acc.String(), ContractId: c.Id}}, ok
}

// expectCode: the transaction failed with exactly this registered error.
func expectCode(want *errorsmod.Error) func(*abci.ExecTxResult) error {
	return func(res *abci.ExecTxResult) error {
		if res.Code != want.ABCICode() || res.Codespace != want.Codespace() {
			return fmt.Errorf("want %s/%d (%s), got code %d in %q", want.Codespace(), want.ABCICode(), want.Error(), res.Code, res.Codespace)
		}
		return nil
	}
}

// expectSkipped: the report about a deleted contract succeeded and was skipped.
func (s *sim) expectSkipped(id uint64) func(*abci.ExecTxResult) error {
	return func(res *abci.ExecTxResult) error {
		if res.Code != 0 {
			return fmt.Errorf("a report about deleted contract %d must be skipped, not refused", id)
		}
		for _, ev := range res.Events {
			if ev.Type == eventType(&billingtypes.EventConsumptionReportSkipped{}) &&
				parseEvent(s.t, ev).(*billingtypes.EventConsumptionReportSkipped).ContractId == id {
				return nil
			}
		}
		return fmt.Errorf("no EventConsumptionReportSkipped for deleted contract %d", id)
	}
}

// --- governance ------------------------------------------------------------------------------------

// govOp runs one authority message through the app's msg router in the block being built, as an
// executed proposal would; it reports whether the state changed.
func (s *sim) govOp() bool {
	gens := []func(invalid bool) (sdk.Msg, bool){
		s.genCreatePricingPolicy, s.genUpdatePricingPolicy, s.genCreateFarmingPolicy, s.genUpdateFarmingPolicy,
		s.genAttachPolicy, s.genSetFarmCertification, s.genSetFarmDedicated, s.genGovNodeCertification,
		s.genTfgridParams, s.genCancelByAuthority, s.genForceResetFarmIP, s.genContractParams,
	}
	invalid := s.chance(simInvalid)
	badAuthority := invalid && s.chance(0.5)
	msg, ok := gens[s.r.Intn(len(gens))](invalid && !badAuthority)
	if !ok {
		return false
	}
	if badAuthority {
		// Neither the gov module account nor the node certifier.
		setAuthority(msg, s.accs[s.r.Intn(len(s.accs)-1)].String())
	}
	mustFail := invalid
	handler := s.chain.App.MsgServiceRouter().Handler(msg)
	require.NotNil(s.t, handler, "no handler for %s", sdk.MsgTypeURL(msg))
	ctx, write := s.chain.Ctx.CacheContext()
	res, err := handler(ctx, msg)
	if err == nil {
		write()
		s.preEvents = append(s.preEvents, res.Events...) // the handler's own event manager
	}
	return s.recordCall(sdk.MsgTypeURL(msg), "gov", mustFail, err)
}

func setAuthority(msg sdk.Msg, addr string) {
	switch m := msg.(type) {
	case *types.MsgCreatePricingPolicy:
		m.Authority = addr
	case *types.MsgUpdatePricingPolicy:
		m.Authority = addr
	case *types.MsgCreateFarmingPolicy:
		m.Authority = addr
	case *types.MsgUpdateFarmingPolicy:
		m.Authority = addr
	case *types.MsgAttachPolicyToFarm:
		m.Authority = addr
	case *types.MsgSetFarmCertification:
		m.Authority = addr
	case *types.MsgSetFarmDedicated:
		m.Authority = addr
	case *types.MsgSetNodeCertification:
		m.Signer = addr // a certifier may sign this one: never the certifier here
	case *types.MsgUpdateParams:
		m.Authority = addr
	case *sctypes.MsgCancelContractByAuthority:
		m.Authority = addr
	case *sctypes.MsgForceResetFarmIp:
		m.Authority = addr
	case *sctypes.MsgUpdateParams:
		m.Authority = addr
	default:
		panic(fmt.Sprintf("no authority field on %T", msg))
	}
}

func (s *sim) pricingPolicy(id uint64, name string) types.PricingPolicy {
	r := s.r
	acc := func() string { a, _ := pick(r, s.accs); return a.String() }
	return types.PricingPolicy{
		Id: id, Name: name, Su: uint64(r.Intn(300000)), Cu: uint64(r.Intn(400000)), Nu: uint64(r.Intn(60000)),
		Ipu: uint64(r.Intn(80000)), UniqueName: uint64(r.Intn(20000)), DomainName: uint64(r.Intn(30000)),
		FoundationAccount: acc(), CertifiedSalesAccount: acc(), DedicatedNodeDiscountPercent: uint32(r.Intn(101)),
	}
}

func (s *sim) genCreatePricingPolicy(invalid bool) (sdk.Msg, bool) {
	p := s.pricingPolicy(0, fmt.Sprintf("pricing-%d", s.next()))
	if invalid {
		p.DedicatedNodeDiscountPercent = 150
	}
	return &types.MsgCreatePricingPolicy{Authority: s.authority, Policy: p}, true
}

func (s *sim) genUpdatePricingPolicy(invalid bool) (sdk.Msg, bool) {
	old, ok := pick(s.r, s.w.tf.PricingPolicies)
	name := old.Name
	if other, ok := pick(s.r, s.w.tf.PricingPolicies); ok && s.chance(0.1) {
		name = other.Name
	}
	p := s.pricingPolicy(old.Id, name)
	if invalid {
		p.Name = "x"
	}
	return &types.MsgUpdatePricingPolicy{Authority: s.authority, Policy: p}, ok
}

func (s *sim) farmingPolicy(id uint64, name string) types.FarmingPolicy {
	r := s.r
	p := types.FarmingPolicy{
		Id: id, Name: name, Cu: uint64(r.Intn(4000)), Su: uint64(r.Intn(2000)), Nu: uint64(r.Intn(50)), Ipv4: uint64(r.Intn(10)),
		MinimalUptime: uint32(r.Intn(101)), Immutable: s.chance(0.3), IsDefault: s.chance(0.3),
		NodeCertification: types.NodeCertificationDIY, FarmCertification: types.FarmCertificationNotCertified,
	}
	if s.chance(0.4) {
		p.NodeCertification = types.NodeCertificationCertified
	}
	if s.chance(0.3) {
		p.FarmCertification = types.FarmCertificationGold
	}
	if s.chance(0.3) {
		p.PolicyEnd = s.w.now + int64(60+r.Intn(3*3600))
	}
	return p
}

func (s *sim) genCreateFarmingPolicy(invalid bool) (sdk.Msg, bool) {
	p := s.farmingPolicy(0, fmt.Sprintf("farming-%d", s.next()))
	if invalid {
		p.MinimalUptime = 101
	}
	return &types.MsgCreateFarmingPolicy{Authority: s.authority, Policy: p}, true
}

func (s *sim) genUpdateFarmingPolicy(invalid bool) (sdk.Msg, bool) {
	old, ok := pick(s.r, s.w.tf.FarmingPolicies)
	p := s.farmingPolicy(old.Id, old.Name)
	if old.Id <= 2 {
		// The genesis defaults stay the defaults, so new nodes always find a policy.
		p.IsDefault, p.Immutable, p.PolicyEnd = true, false, 0
		p.NodeCertification, p.FarmCertification = old.NodeCertification, old.FarmCertification
	}
	if invalid {
		p.Name = "no spaces allowed"
	}
	return &types.MsgUpdateFarmingPolicy{Authority: s.authority, Policy: p}, ok
}

func (s *sim) genAttachPolicy(invalid bool) (sdk.Msg, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	if !ok {
		return nil, false
	}
	msg := &types.MsgAttachPolicyToFarm{Authority: s.authority, FarmId: f.Id}
	if p, ok := pick(s.r, s.w.tf.FarmingPolicies); ok && s.chance(0.75) {
		msg.Limits = &types.FarmingPolicyLimits{
			FarmingPolicyId: p.Id, Cu: uint64(s.r.Intn(200)), Su: uint64(s.r.Intn(200)),
			NodeCount: uint64(s.r.Intn(6)), NodeCertification: s.chance(0.3),
		}
		if s.chance(0.3) {
			msg.Limits.End = s.w.now + int64(60+s.r.Intn(3600))
		}
	}
	if invalid {
		msg.FarmId = 1_000_000
	}
	return msg, true
}

func (s *sim) genSetFarmCertification(invalid bool) (sdk.Msg, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	cert := types.FarmCertificationNotCertified
	if s.chance(0.5) {
		cert = types.FarmCertificationGold
	}
	if invalid {
		cert = types.FarmCertificationUnspecified
	}
	return &types.MsgSetFarmCertification{Authority: s.authority, FarmId: f.Id, Certification: cert}, ok
}

func (s *sim) genSetFarmDedicated(invalid bool) (sdk.Msg, bool) {
	f, ok := pick(s.r, s.w.tf.Farms)
	farmID := f.Id
	if invalid {
		farmID = 1_000_000
	}
	return &types.MsgSetFarmDedicated{Authority: s.authority, FarmId: farmID, Dedicated: s.chance(0.4)}, ok
}

func (s *sim) genGovNodeCertification(invalid bool) (sdk.Msg, bool) {
	n, ok := pick(s.r, s.w.tf.Nodes)
	cert := types.NodeCertificationCertified
	if s.chance(0.5) {
		cert = types.NodeCertificationDIY
	}
	if invalid {
		cert = types.NodeCertificationUnspecified
	}
	return &types.MsgSetNodeCertification{Signer: s.authority, NodeId: n.Id, Certification: cert}, ok
}

func (s *sim) genTfgridParams(invalid bool) (sdk.Msg, bool) {
	p := types.DefaultParams()
	p.TimestampDrift = uint64(30 + s.r.Intn(600))
	if s.chance(0.2) {
		p.MaxFarmPublicIps = uint32(1 + s.r.Intn(8)) // refused while a farm holds more
	}
	if s.chance(0.9) {
		p.NodeCertifiers = []string{s.certifier.String()}
	}
	if invalid {
		p.TimestampDrift = 0
	}
	return &types.MsgUpdateParams{Authority: s.authority, Params: p}, true
}

func (s *sim) genCancelByAuthority(invalid bool) (sdk.Msg, bool) {
	c, ok := pick(s.r, s.w.sc.Contracts)
	id := c.Id
	if invalid {
		id, ok = 1_000_000+uint64(s.next()), true
	}
	return &sctypes.MsgCancelContractByAuthority{Authority: s.authority, ContractId: id}, ok
}

func (s *sim) genForceResetFarmIP(invalid bool) (sdk.Msg, bool) {
	ip, ok := pick(s.r, s.w.tf.PublicIps)
	farmID := ip.FarmId
	if invalid {
		farmID = ip.FarmId + 1_000_000
	}
	// A free IP is a no-op success; one held by a live contract is refused.
	return &sctypes.MsgForceResetFarmIp{Authority: s.authority, FarmId: farmID, Ip: ip.Ip}, ok
}

func (s *sim) genContractParams(invalid bool) (sdk.Msg, bool) {
	deposits := []int64{0, 1, 500_000, 1_000_000, 2_000_000}
	p := sctypes.Params{
		MaxDeploymentDataBytes: []uint64{256, 512, 1024, sctypes.DefaultMaxDeploymentDataBytes}[s.r.Intn(4)],
		ContractDeposit:        sdkmath.NewInt(deposits[s.r.Intn(len(deposits))]),
	}
	if invalid {
		p.MaxDeploymentDataBytes = 0
	}
	return &sctypes.MsgUpdateParams{Authority: s.authority, Params: p}, true
}

// --- billing ---------------------------------------------------------------------------------------

// keeperOp makes one of the calls billing makes on the contract keeper: a live contract enters or
// leaves grace, or is deleted for lack of funds. On a live contract each must succeed.
func (s *sim) keeperOp() bool {
	k, contracts := s.chain.App.SmartcontractKeeper, s.w.sc.Contracts
	inGrace := filter(contracts, func(c sctypes.Contract) bool { return c.State == sctypes.ContractStateGracePeriod })
	// Billing ends a grace period only once the debt is paid: for a rent contract, which takes the
	// renter's node contracts out of grace with it, theirs too (billing settles them again at once).
	owes := func(id uint64) bool {
		b, err := s.chain.App.BillingKeeper.Contracts.Get(s.chain.Ctx, id)
		require.NoError(s.t, err, "billing state of live contract %d", id)
		return b.StandardOverdraft.Add(b.ExtraOverdraft).IsPositive()
	}
	paid := filter(contracts, func(c sctypes.Contract) bool {
		if rent := c.GetRentContract(); rent != nil {
			for _, nc := range s.w.onNode[rent.NodeId] {
				if nc.TwinId == c.TwinId && owes(nc.Id) {
					return false
				}
			}
		}
		return !owes(c.Id)
	})
	ctx, write := s.chain.Ctx.CacheContext()
	var (
		key      string
		err      error
		mustFail bool
	)
	switch s.r.Intn(3) {
	case 0:
		key = opEnterGrace
		c, ok := pick(s.r, contracts)
		if !ok || s.chance(simInvalid) {
			c.Id, mustFail = 1_000_000+uint64(s.next()), true
		}
		err = k.EnterGrace(ctx, c.Id)
	case 1:
		key = opLeaveGrace
		c, ok := pick(s.r, filter(paid, func(c sctypes.Contract) bool { return c.State == sctypes.ContractStateGracePeriod }))
		if !ok || s.chance(0.2) {
			if c, ok = pick(s.r, paid); !ok {
				return false
			}
		}
		err = k.LeaveGrace(ctx, c.Id)
	default:
		key = opDeleteOutFunds
		c, ok := pick(s.r, inGrace)
		if !ok || s.chance(0.7) {
			if c, ok = pick(s.r, contracts); !ok {
				return false
			}
		}
		err = k.DeleteContract(ctx, c, sctypes.DeleteCauseOutOfFunds)
	}
	require.True(s.t, mustFail || err == nil, "%s on a live contract: %v", key, err)
	if err == nil {
		write()
	}
	return s.recordCall(key, "keeper", mustFail, err)
}
