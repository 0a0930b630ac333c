package keeper_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// nodeWorld has farm 1 "alpha" (closed, farmer twin 1) holding node 1 of twin 3 (allowed), farm 2
// "beta" (open, farmer twin 2) holding node 2 of twin 4, a twin 5 without node and an account without
// twin.
type nodeWorld struct {
	*fixture
	farmer, farmer2, node1, node2, stranger, noTwin string
	strangerTwin                                    uint64
}

func newNodeWorld(t *testing.T) *nodeWorld {
	f := newFixture(t)
	w := &nodeWorld{fixture: f}
	w.farmer, _ = f.newTwin()
	w.farmer2, _ = f.newTwin()
	var node1Twin uint64
	w.node1, node1Twin = f.newTwin()
	w.node2, _ = f.newTwin()
	w.stranger, w.strangerTwin = f.newTwin()
	w.noTwin = f.NewAccount()
	require.Equal(t, uint64(1), f.CreateFarm(w.farmer, "alpha", ip(10)))
	require.Equal(t, uint64(2), f.CreateFarm(w.farmer2, "beta"))
	f.OpenFarm(w.farmer2, 2)
	f.allow(w.farmer, 1, node1Twin)
	require.Equal(t, uint64(1), f.createNode(w.node1, 1))
	require.Equal(t, uint64(2), f.createNode(w.node2, 2))
	return w
}

// certify sets a node's certification through the authority.
func (f *fixture) certify(nodeID uint64, cert types.NodeCertification) {
	f.T.Helper()
	_, err := f.GridMsg.SetNodeCertification(f.Ctx, &types.MsgSetNodeCertification{Signer: f.Authority, NodeId: nodeID, Certification: cert})
	require.NoError(f.T, err)
}

func (f *fixture) farmNodeIDs(farmID uint64) []uint64 {
	f.T.Helper()
	res, err := f.q.Nodes(f.Ctx, &types.QueryNodesRequest{FarmId: farmID})
	require.NoError(f.T, err)
	ids := []uint64{}
	for _, n := range res.Nodes {
		ids = append(ids, n.Id)
	}
	return ids
}

func TestCreateNode(t *testing.T) {
	f := newFixture(t)
	farmer, _ := f.newTwin()
	acc, twinID := f.newTwin()
	farmID := f.CreateFarm(farmer, "alpha")
	f.allow(farmer, farmID, twinID)

	f.ResetEvents()
	res, err := f.GridMsg.CreateNode(f.Ctx, nodeMsg(acc, farmID))
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.NodeId)

	now := keepertest.BlockTime.Unix()
	require.Equal(t, types.Node{
		Id: 1, FarmId: farmID, TwinId: twinID, Resources: keepertest.NodeResources, Location: keepertest.NodeLocation, Interfaces: interfaces(),
		Certification: types.NodeCertificationDIY, SecureBoot: true, SerialNumber: "SN-0001", Created: now,
		FarmingPolicyId: 1, Power: types.Power{State: types.PowerStateUp, Target: types.PowerStateUp, Since: now},
	}, f.node(1))

	require.Equal(t, []string{"tfgrid.tfgrid.v1.EventNodeFarmingPolicySet", "tfgrid.tfgrid.v1.EventNodeCreated"}, f.eventTypes())
	attrs := f.eventAttrs("tfgrid.tfgrid.v1.EventNodeCreated")
	require.Equal(t, map[string]string{"node_id": `"1"`, "farm_id": `"1"`, "twin_id": `"2"`}, attrs)

	byTwin, err := f.q.NodeByTwin(f.Ctx, &types.QueryNodeByTwinRequest{TwinId: twinID})
	require.NoError(t, err)
	require.Equal(t, uint64(1), byTwin.Node.Id)
	require.Equal(t, []uint64{1}, f.farmNodeIDs(farmID))

	// An open farm admits any twin; HDD-only nodes and unknown coordinates are fine.
	f.OpenFarm(farmer, farmID)
	acc2, _ := f.newTwin()
	m := nodeMsg(acc2, farmID)
	m.Resources = types.Resources{Cru: 1, Mru: 2 * gib, Hru: 100 * gib}
	m.Location.Latitude, m.Location.Longitude = "Unknown", "Unknown"
	m.Interfaces, m.SerialNumber = nil, ""
	res, err = f.GridMsg.CreateNode(f.Ctx, m)
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.NodeId)
	require.Equal(t, []uint64{1, 2}, f.farmNodeIDs(farmID))
}

func TestCreateNodeErrors(t *testing.T) {
	w := newNodeWorld(t)
	create := func(mutate func(*types.MsgCreateNode)) func() error {
		return func() error {
			m := nodeMsg(w.stranger, 2)
			mutate(m)
			_, err := w.GridMsg.CreateNode(w.Ctx, m)
			return err
		}
	}
	elevenItfs := make([]types.Interface, 11)
	for i := range elevenItfs {
		elevenItfs[i] = types.Interface{Name: "eth" + string(rune('a'+i)), Mac: "aa:bb:cc:dd:ee:ff"}
	}
	w.runErrCases([]errCase{
		{"signer without twin", create(func(m *types.MsgCreateNode) { m.Creator = w.noTwin }), types.ErrTwinNotFound, []string{w.noTwin}},
		{"one node per twin", create(func(m *types.MsgCreateNode) { m.Creator = w.node1 }), types.ErrNodeExists, []string{"twin 3", "node 1"}},
		{"closed farm, twin not allowed", create(func(m *types.MsgCreateNode) { m.FarmId = 1 }), types.ErrNodeTwinNotAllowed,
			[]string{"farm 1", "twin 5"}},
		{"unknown farm", create(func(m *types.MsgCreateNode) { m.FarmId = 77 }), types.ErrFarmNotFound, []string{"farm 77"}},
		{"no cpu", create(func(m *types.MsgCreateNode) { m.Resources.Cru = 0 }), types.ErrInvalidCRU, []string{"cru 0"}},
		{"too many cpus", create(func(m *types.MsgCreateNode) { m.Resources.Cru = 4097 }), types.ErrInvalidCRU, []string{"cru 4097", "max_node_cru 4096"}},
		{"too much memory", create(func(m *types.MsgCreateNode) { m.Resources.Mru = 64*1024*gib + 1 }), types.ErrInvalidMRU, []string{"mru 70368744177665", "max_node_mru"}},
		{"too much hdd", create(func(m *types.MsgCreateNode) { m.Resources.Hru = math.MaxUint64 }), types.ErrInvalidStorage, []string{"hru 18446744073709551615", "max_node_storage 1125899906842624"}},
		{"link above 100 Gbit/s", create(func(m *types.MsgCreateNode) { m.LinkRate = 12_500_000_001 }), types.ErrInvalidLinkRate, []string{"link_rate 12500000001", "max_link_rate 12500000000"}},
		{"too little memory", create(func(m *types.MsgCreateNode) { m.Resources.Mru = 2*gib - 1 }), types.ErrInvalidMRU, []string{"mru 2147483647"}},
		{"too little storage", create(func(m *types.MsgCreateNode) { m.Resources.Sru, m.Resources.Hru = 99*gib, 99*gib }), types.ErrInvalidStorage,
			[]string{"sru 106300440576"}},
		{"bad city", create(func(m *types.MsgCreateNode) { m.Location.City = "Gh3nt" }), types.ErrInvalidCity, []string{`"Gh3nt"`}},
		{"bad country", create(func(m *types.MsgCreateNode) { m.Location.Country = "B" }), types.ErrInvalidCountry, []string{`"B"`}},
		{"latitude out of range", create(func(m *types.MsgCreateNode) { m.Location.Latitude = "90.5" }), types.ErrInvalidLatitude, []string{`"90.5"`}},
		{"longitude not a number", create(func(m *types.MsgCreateNode) { m.Location.Longitude = "1e2" }), types.ErrInvalidLongitude, []string{`"1e2"`}},
		{"too many interfaces", create(func(m *types.MsgCreateNode) { m.Interfaces = elevenItfs }), types.ErrTooManyInterfaces, []string{"11 entries"}},
		{"bad interface name", create(func(m *types.MsgCreateNode) { m.Interfaces[0].Name = "e" }), types.ErrInvalidInterfaceName,
			[]string{`interfaces[0].name "e"`}},
		{"duplicate interface name", create(func(m *types.MsgCreateNode) { m.Interfaces = append(m.Interfaces, m.Interfaces[0]) }),
			types.ErrInvalidInterfaceName, []string{`interfaces[1] "zos"`, "duplicate"}},
		{"bad mac", create(func(m *types.MsgCreateNode) { m.Interfaces[0].Mac = "aa-bb-cc-dd-ee-ff" }), types.ErrInvalidMAC,
			[]string{`"aa-bb-cc-dd-ee-ff"`}},
		{"bad interface ip", create(func(m *types.MsgCreateNode) { m.Interfaces[0].Ips = []string{"10.0.0.300"} }), types.ErrInvalidInterfaceIP,
			[]string{`"10.0.0.300"`}},
		{"bad serial", create(func(m *types.MsgCreateNode) { m.SerialNumber = "SN\x00" }), types.ErrInvalidSerialNumber, []string{"0x00"}},
		{"serial too long", create(func(m *types.MsgCreateNode) { m.SerialNumber = strings.Repeat("x", 129) }), types.ErrInvalidSerialNumber,
			[]string{"129 bytes"}},
	})

	// A disallowed twin can no longer register into the closed farm.
	w.allow(w.farmer, 1, w.strangerTwin)
	_, err := w.GridMsg.DisallowNodeTwin(w.Ctx, &types.MsgDisallowNodeTwin{Creator: w.farmer, FarmId: 1, TwinId: w.strangerTwin})
	require.NoError(t, err)
	w.runErrCases([]errCase{
		{"disallowed twin", create(func(m *types.MsgCreateNode) { m.FarmId = 1 }), types.ErrNodeTwinNotAllowed, []string{"twin 5"}},
	})
	// The failures issued no id: the stranger's node is 3.
	require.Equal(t, uint64(3), w.createNode(w.stranger, 2))
}

func TestUpdateNode(t *testing.T) {
	w := newNodeWorld(t)
	m := updateMsg(w.node1, 1, 0)
	m.Location = types.Location{City: "São Paulo", Country: "Brazil", Latitude: "-23.55", Longitude: "-46.63"}
	m.Interfaces = []types.Interface{{Name: "eth0", Mac: "AA:BB:CC:00:11:22"}}
	m.SecureBoot, m.Virtualized, m.SerialNumber = false, true, "new-serial"

	w.ResetEvents()
	_, err := w.GridMsg.UpdateNode(w.Ctx, m)
	require.NoError(t, err)
	n := w.node(1)
	require.Equal(t, m.Location, n.Location)
	require.Equal(t, m.Interfaces, n.Interfaces)
	require.False(t, n.SecureBoot)
	require.True(t, n.Virtualized)
	require.Equal(t, "new-serial", n.SerialNumber)
	require.Equal(t, uint64(1), n.FarmId, "farm_id 0 keeps the farm")
	require.Equal(t, map[string]string{"node_id": `"1"`, "farm_id": `"1"`}, w.eventAttrs("tfgrid.tfgrid.v1.EventNodeUpdated"))

	// Moving to the open farm 2 updates the farm index.
	_, err = w.GridMsg.UpdateNode(w.Ctx, updateMsg(w.node1, 1, 2))
	require.NoError(t, err)
	require.Equal(t, uint64(2), w.node(1).FarmId)
	require.Empty(t, w.farmNodeIDs(1))
	require.Equal(t, []uint64{1, 2}, w.farmNodeIDs(2))
	// Back to farm 1, which still allows the twin.
	_, err = w.GridMsg.UpdateNode(w.Ctx, updateMsg(w.node1, 1, 1))
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, w.farmNodeIDs(1))
}

func TestUpdateNodeCertification(t *testing.T) {
	tests := []struct {
		name      string
		sru       uint64
		certified bool
	}{
		{"unchanged", 500 * gib, true},
		{"exactly 1 % more", 505 * gib, true},
		{"exactly 1 % less", 495 * gib, true},
		{"just over 1 % more", 505*gib + 1, false},
		{"just over 1 % less", 495*gib - 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newNodeWorld(t)
			w.certify(1, types.NodeCertificationCertified)
			require.Equal(t, uint64(2), w.node(1).FarmingPolicyId, "a certified node gets default-certified")

			m := updateMsg(w.node1, 1, 0)
			m.Resources.Sru = tc.sru
			w.ResetEvents()
			_, err := w.GridMsg.UpdateNode(w.Ctx, m)
			require.NoError(t, err)
			n := w.node(1)
			require.Equal(t, tc.sru, n.Resources.Sru)
			if tc.certified {
				require.Equal(t, types.NodeCertificationCertified, n.Certification)
				require.Equal(t, uint64(2), n.FarmingPolicyId)
				require.Equal(t, []string{"tfgrid.tfgrid.v1.EventNodeUpdated"}, w.eventTypes())
				return
			}
			require.Equal(t, types.NodeCertificationDIY, n.Certification)
			require.Equal(t, uint64(1), n.FarmingPolicyId, "a node that lost its certification falls back to default-diy")
			require.Equal(t, `"NODE_CERTIFICATION_DIY"`, w.eventAttrs("tfgrid.tfgrid.v1.EventNodeCertificationSet")["certification"])
		})
	}
}

func TestUpdateNodeErrors(t *testing.T) {
	w := newNodeWorld(t)
	// Farm 3 is closed and does not allow node 1's twin.
	require.Equal(t, uint64(3), w.CreateFarm(w.farmer2, "gamma"))
	update := func(mutate func(*types.MsgUpdateNode)) func() error {
		return func() error {
			m := updateMsg(w.node1, 1, 0)
			mutate(m)
			_, err := w.GridMsg.UpdateNode(w.Ctx, m)
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another node's twin", update(func(m *types.MsgUpdateNode) { m.Creator = w.node2 }), types.ErrNotNodeTwin,
			[]string{w.node2, "twin 4", "node 1"}},
		{"the farmer", update(func(m *types.MsgUpdateNode) { m.Creator = w.farmer }), types.ErrNotNodeTwin, []string{"node 1"}},
		{"a twin without node", update(func(m *types.MsgUpdateNode) { m.Creator = w.stranger }), types.ErrNotNodeTwin, []string{"twin 5"}},
		{"signer without twin", update(func(m *types.MsgUpdateNode) { m.Creator = w.noTwin }), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown node", update(func(m *types.MsgUpdateNode) { m.NodeId = 9 }), types.ErrNodeNotFound, []string{"node 9"}},
		{"invalid resources", update(func(m *types.MsgUpdateNode) { m.Resources.Cru = 0 }), types.ErrInvalidCRU, []string{"cru 0"}},
		{"2^64-1 of everything", update(func(m *types.MsgUpdateNode) {
			m.Resources = types.Resources{Cru: math.MaxUint64, Sru: math.MaxUint64, Hru: math.MaxUint64, Mru: math.MaxUint64}
		}), types.ErrInvalidCRU, []string{"cru 18446744073709551615"}},
		{"link rate 2^64-1", update(func(m *types.MsgUpdateNode) { m.LinkRate = math.MaxUint64 }), types.ErrInvalidLinkRate, []string{"link_rate 18446744073709551615"}},
		{"invalid location", update(func(m *types.MsgUpdateNode) { m.Location.Latitude = "" }), types.ErrInvalidLatitude, []string{"latitude"}},
		{"invalid interface", update(func(m *types.MsgUpdateNode) { m.Interfaces[0].Mac = "zz:bb:cc:dd:ee:ff" }), types.ErrInvalidMAC,
			[]string{"zz:bb:cc:dd:ee:ff"}},
		{"farm that does not admit the twin", update(func(m *types.MsgUpdateNode) { m.FarmId = 3 }), types.ErrNodeTwinNotAllowed,
			[]string{"farm 3", "twin 3"}},
		{"unknown farm", update(func(m *types.MsgUpdateNode) { m.FarmId = 30 }), types.ErrFarmNotFound, []string{"farm 30"}},
	})
	// A certified node that would lose its certification keeps everything when the move fails.
	w.certify(1, types.NodeCertificationCertified)
	w.runErrCases([]errCase{
		{"certified node, bad move", update(func(m *types.MsgUpdateNode) { m.FarmId, m.Resources.Cru = 3, 64 }),
			types.ErrNodeTwinNotAllowed, []string{"farm 3"}},
	})
}

func TestSetNodePublicConfig(t *testing.T) {
	w := newNodeWorld(t)
	cfg := &types.PublicConfig{Ipv4: "185.206.122.50/24", Gw4: "185.206.122.1", Ipv6: "2a02:1802:5e::50/64", Gw6: "2a02:1802:5e::1", Domain: "gw1.grid.tf"}

	w.ResetEvents()
	_, err := w.GridMsg.SetNodePublicConfig(w.Ctx, &types.MsgSetNodePublicConfig{Creator: w.farmer, NodeId: 1, PublicConfig: cfg})
	require.NoError(t, err)
	require.Equal(t, cfg, w.node(1).PublicConfig)
	require.Contains(t, w.eventAttrs("tfgrid.tfgrid.v1.EventNodePublicConfigSet")["public_config"], "gw1.grid.tf")

	// IPv6 and domain are optional.
	_, err = w.GridMsg.SetNodePublicConfig(w.Ctx, &types.MsgSetNodePublicConfig{Creator: w.farmer, NodeId: 1,
		PublicConfig: &types.PublicConfig{Ipv4: "185.206.122.50/24", Gw4: "185.206.122.1"}})
	require.NoError(t, err)
	require.Empty(t, w.node(1).PublicConfig.Domain)

	// No config, or an empty one, clears it.
	for _, clear := range []*types.PublicConfig{nil, {}} {
		_, err = w.GridMsg.SetNodePublicConfig(w.Ctx, &types.MsgSetNodePublicConfig{Creator: w.farmer, NodeId: 1, PublicConfig: cfg})
		require.NoError(t, err)
		_, err = w.GridMsg.SetNodePublicConfig(w.Ctx, &types.MsgSetNodePublicConfig{Creator: w.farmer, NodeId: 1, PublicConfig: clear})
		require.NoError(t, err)
		require.Nil(t, w.node(1).PublicConfig)
	}
}

func TestSetNodePublicConfigErrors(t *testing.T) {
	w := newNodeWorld(t)
	set := func(signer string, nodeID uint64, cfg *types.PublicConfig) func() error {
		return func() error {
			_, err := w.GridMsg.SetNodePublicConfig(w.Ctx, &types.MsgSetNodePublicConfig{Creator: signer, NodeId: nodeID, PublicConfig: cfg})
			return err
		}
	}
	good := func(mutate func(*types.PublicConfig)) *types.PublicConfig {
		c := &types.PublicConfig{Ipv4: "185.206.122.50/24", Gw4: "185.206.122.1"}
		mutate(c)
		return c
	}
	none := func(*types.PublicConfig) {}
	w.runErrCases([]errCase{
		{"the node twin is not the farmer", set(w.node1, 1, good(none)), types.ErrNotFarmer, []string{w.node1, "farm 1"}},
		{"another farmer", set(w.farmer2, 1, good(none)), types.ErrNotFarmer, []string{w.farmer2, "farm 1"}},
		{"signer without twin", set(w.noTwin, 1, good(none)), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown node", set(w.farmer, 12, good(none)), types.ErrNodeNotFound, []string{"node 12"}},
		{"private ipv4", set(w.farmer, 1, good(func(c *types.PublicConfig) { c.Ipv4, c.Gw4 = "192.168.1.5/24", "192.168.1.1" })),
			types.ErrInvalidPublicConfig, []string{`ipv4 "192.168.1.5/24"`}},
		{"missing gw4", set(w.farmer, 1, good(func(c *types.PublicConfig) { c.Gw4 = "" })), types.ErrInvalidPublicConfig, []string{"gw4"}},
		{"ipv6 without gw6", set(w.farmer, 1, good(func(c *types.PublicConfig) { c.Ipv6 = "2a02:1802:5e::50/64" })),
			types.ErrInvalidPublicConfig, []string{"gw6", "2a02:1802:5e::50/64"}},
		{"link-local ipv6", set(w.farmer, 1, good(func(c *types.PublicConfig) { c.Ipv6, c.Gw6 = "fe80::5/64", "fe80::1" })),
			types.ErrInvalidPublicConfig, []string{`"fe80::5/64"`}},
		{"bad domain", set(w.farmer, 1, good(func(c *types.PublicConfig) { c.Domain = "under_score.tf" })),
			types.ErrInvalidDomain, []string{`"under_score.tf"`}},
	})
}

func TestDeleteNode(t *testing.T) {
	for _, by := range []string{"node twin", "farmer"} {
		t.Run(by, func(t *testing.T) {
			w := newNodeWorld(t)
			signer := w.node1
			if by == "farmer" {
				signer = w.farmer
			}
			w.ResetEvents()
			_, err := w.GridMsg.DeleteNode(w.Ctx, &types.MsgDeleteNode{Creator: signer, NodeId: 1})
			require.NoError(t, err)

			require.Len(t, w.hooks.deleted, 1)
			require.Equal(t, uint64(1), w.hooks.deleted[0].Id)
			require.Equal(t, map[string]string{"node_id": `"1"`, "farm_id": `"1"`, "twin_id": `"3"`},
				w.eventAttrs("tfgrid.tfgrid.v1.EventNodeDeleted"))

			_, err = w.q.Node(w.Ctx, &types.QueryNodeRequest{Id: 1})
			requireerr.Is(t, err, types.ErrNodeNotFound, "node 1")
			_, err = w.q.NodeByTwin(w.Ctx, &types.QueryNodeByTwinRequest{TwinId: 3})
			requireerr.Is(t, err, types.ErrNodeNotFound, "twin 3")
			require.Empty(t, w.farmNodeIDs(1))
			require.Equal(t, []uint64{2}, w.farmNodeIDs(0))

			// The twin is free to register a new node, under a new id.
			require.Equal(t, uint64(3), w.createNode(w.node1, 1))
			byTwin, err := w.q.NodeByTwin(w.Ctx, &types.QueryNodeByTwinRequest{TwinId: 3})
			require.NoError(t, err)
			require.Equal(t, uint64(3), byTwin.Node.Id)
		})
	}
}

func TestDeleteNodeErrors(t *testing.T) {
	w := newNodeWorld(t)
	del := func(signer string, nodeID uint64) func() error {
		return func() error {
			_, err := w.GridMsg.DeleteNode(w.Ctx, &types.MsgDeleteNode{Creator: signer, NodeId: nodeID})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another farmer", del(w.farmer2, 1), types.ErrNotNodeTwin, []string{w.farmer2, "node 1"}},
		{"another node's twin", del(w.node2, 1), types.ErrNotNodeTwin, []string{w.node2, "node 1"}},
		{"signer without twin", del(w.noTwin, 1), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown node", del(w.node1, 5), types.ErrNodeNotFound, []string{"node 5"}},
	})
	require.Empty(t, w.hooks.deleted)

	// A failing hook aborts the deletion.
	w.hooks.deleteErr = errors.New("contracts module says no")
	w.runErrCases([]errCase{
		{"hook fails", del(w.node1, 1), w.hooks.deleteErr, []string{"says no"}},
	})
}
