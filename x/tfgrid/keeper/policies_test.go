package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// pricingPolicy is a valid pricing policy paying the foundation account of the default one.
func (f *fixture) pricingPolicy(name string) types.PricingPolicy {
	f.T.Helper()
	def, err := f.Grid.GetPricingPolicy(f.Ctx, 1)
	require.NoError(f.T, err)
	def.Id, def.Name, def.Cu = 0, name, 400000
	return def
}

// farmingPolicy is a valid, non-default farming policy for DIY nodes in any farm.
func farmingPolicy(name string) types.FarmingPolicy {
	return types.FarmingPolicy{
		Name: name, Cu: 5000, Su: 2000, Nu: 40, Ipv4: 7, MinimalUptime: 98,
		NodeCertification: types.NodeCertificationDIY, FarmCertification: types.FarmCertificationNotCertified,
	}
}

func (f *fixture) createFarmingPolicy(p types.FarmingPolicy) uint64 {
	f.T.Helper()
	res, err := f.GridMsg.CreateFarmingPolicy(f.Ctx, &types.MsgCreateFarmingPolicy{Authority: f.Authority, Policy: p})
	require.NoError(f.T, err)
	return res.FarmingPolicyId
}

func (f *fixture) attach(farmID uint64, limits *types.FarmingPolicyLimits) {
	f.T.Helper()
	_, err := f.GridMsg.AttachPolicyToFarm(f.Ctx, &types.MsgAttachPolicyToFarm{Authority: f.Authority, FarmId: farmID, Limits: limits})
	require.NoError(f.T, err)
}

func TestCreatePricingPolicy(t *testing.T) {
	f := newFixture(t)
	p := f.pricingPolicy("premium")
	p.Id = 1 // ids are never taken from the message

	f.ResetEvents()
	res, err := f.GridMsg.CreatePricingPolicy(f.Ctx, &types.MsgCreatePricingPolicy{Authority: f.Authority, Policy: p})
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.PricingPolicyId)
	require.Equal(t, map[string]string{"pricing_policy_id": `"2"`, "name": `"premium"`},
		f.eventAttrs("tfgrid.tfgrid.v1.EventPricingPolicyCreated"))

	got, err := f.q.PricingPolicy(f.Ctx, &types.QueryPricingPolicyRequest{Id: 2})
	require.NoError(t, err)
	p.Id = 2
	require.Equal(t, p, got.PricingPolicy)
	one, err := f.Grid.GetPricingPolicy(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "default", one.Name, "policy 1 is not overwritten")
	all, err := f.q.PricingPolicies(f.Ctx, &types.QueryPricingPoliciesRequest{})
	require.NoError(t, err)
	require.Len(t, all.PricingPolicies, 2)
}

func TestCreatePricingPolicyErrors(t *testing.T) {
	f := newFixture(t)
	stranger := f.NewAccount()
	create := func(signer string, mutate func(*types.PricingPolicy)) func() error {
		return func() error {
			p := f.pricingPolicy("premium")
			mutate(&p)
			_, err := f.GridMsg.CreatePricingPolicy(f.Ctx, &types.MsgCreatePricingPolicy{Authority: signer, Policy: p})
			return err
		}
	}
	none := func(*types.PricingPolicy) {}
	f.runErrCases([]errCase{
		{"not the authority", create(stranger, none), sdkerrors.ErrUnauthorized, []string{stranger}},
		{"name taken", create(f.Authority, func(p *types.PricingPolicy) { p.Name = "default" }), types.ErrPricingPolicyNameTaken,
			[]string{`"default"`, "policy 1"}},
		{"invalid name", create(f.Authority, func(p *types.PricingPolicy) { p.Name = "x" }), types.ErrInvalidPricingPolicy, []string{`"x"`}},
		{"discount over 100", create(f.Authority, func(p *types.PricingPolicy) { p.DedicatedNodeDiscountPercent = 101 }),
			types.ErrInvalidPricingPolicy, []string{"dedicated_node_discount_percent 101"}},
		{"bad foundation account", create(f.Authority, func(p *types.PricingPolicy) { p.FoundationAccount = "cosmos1abc" }),
			types.ErrInvalidPricingPolicy, []string{"foundation_account", "cosmos1abc"}},
		{"bad sales account", create(f.Authority, func(p *types.PricingPolicy) { p.CertifiedSalesAccount = "" }),
			types.ErrInvalidPricingPolicy, []string{"certified_sales_account"}},
	})
	// No id was used up by the failures.
	res, err := f.GridMsg.CreatePricingPolicy(f.Ctx, &types.MsgCreatePricingPolicy{Authority: f.Authority, Policy: f.pricingPolicy("premium")})
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.PricingPolicyId)
}

func TestUpdatePricingPolicy(t *testing.T) {
	f := newFixture(t)
	_, err := f.GridMsg.CreatePricingPolicy(f.Ctx, &types.MsgCreatePricingPolicy{Authority: f.Authority, Policy: f.pricingPolicy("premium")})
	require.NoError(t, err)

	// Policy 1 keeps its own name.
	p1, err := f.Grid.GetPricingPolicy(f.Ctx, 1)
	require.NoError(t, err)
	p1.Cu = 1
	f.ResetEvents()
	_, err = f.GridMsg.UpdatePricingPolicy(f.Ctx, &types.MsgUpdatePricingPolicy{Authority: f.Authority, Policy: p1})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"pricing_policy_id": `"1"`, "name": `"default"`},
		f.eventAttrs("tfgrid.tfgrid.v1.EventPricingPolicyUpdated"))
	got, err := f.Grid.GetPricingPolicy(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, p1, got)

	// Policy 2 is renamed; its old name is free again.
	p2 := f.pricingPolicy("gold")
	p2.Id = 2
	_, err = f.GridMsg.UpdatePricingPolicy(f.Ctx, &types.MsgUpdatePricingPolicy{Authority: f.Authority, Policy: p2})
	require.NoError(t, err)
	id, err := f.Grid.PricingPolicies.Indexes.Name.MatchExact(f.Ctx, "gold")
	require.NoError(t, err)
	require.Equal(t, uint64(2), id)
	_, err = f.Grid.PricingPolicies.Indexes.Name.MatchExact(f.Ctx, "premium")
	require.ErrorIs(t, err, collections.ErrNotFound)

	// Updates never touch the id sequence.
	require.Equal(t, uint64(3), f.export().NextPricingPolicyId)
}

func TestUpdatePricingPolicyErrors(t *testing.T) {
	f := newFixture(t)
	farmer, _ := f.newTwin()
	_, err := f.GridMsg.CreatePricingPolicy(f.Ctx, &types.MsgCreatePricingPolicy{Authority: f.Authority, Policy: f.pricingPolicy("premium")})
	require.NoError(t, err)
	update := func(signer string, id uint64, mutate func(*types.PricingPolicy)) func() error {
		return func() error {
			p := f.pricingPolicy("premium")
			p.Id = id
			mutate(&p)
			_, err := f.GridMsg.UpdatePricingPolicy(f.Ctx, &types.MsgUpdatePricingPolicy{Authority: signer, Policy: p})
			return err
		}
	}
	none := func(*types.PricingPolicy) {}
	f.runErrCases([]errCase{
		{"not the authority", update(farmer, 2, none), sdkerrors.ErrUnauthorized, []string{farmer}},
		{"unknown id", update(f.Authority, 7, none), types.ErrPricingPolicyNotFound, []string{"pricing policy 7"}},
		{"id 0", update(f.Authority, 0, none), types.ErrPricingPolicyNotFound, []string{"pricing policy 0"}},
		{"name of another policy", update(f.Authority, 2, func(p *types.PricingPolicy) { p.Name = "default" }),
			types.ErrPricingPolicyNameTaken, []string{`"default"`, "policy 1"}},
		{"policy 1 takes policy 2's name", update(f.Authority, 1, none), types.ErrPricingPolicyNameTaken, []string{`"premium"`, "policy 2"}},
		{"invalid", update(f.Authority, 2, func(p *types.PricingPolicy) { p.DedicatedNodeDiscountPercent = 200 }),
			types.ErrInvalidPricingPolicy, []string{"200"}},
	})
}

func TestCreateFarmingPolicy(t *testing.T) {
	f := newFixture(t)
	p := farmingPolicy("special")
	p.Id, p.PolicyCreated = 1, 5 // both are set by the chain

	f.ResetEvents()
	res, err := f.GridMsg.CreateFarmingPolicy(f.Ctx, &types.MsgCreateFarmingPolicy{Authority: f.Authority, Policy: p})
	require.NoError(t, err)
	require.Equal(t, uint64(3), res.FarmingPolicyId)
	require.Equal(t, map[string]string{"farming_policy_id": `"3"`, "name": `"special"`},
		f.eventAttrs("tfgrid.tfgrid.v1.EventFarmingPolicyCreated"))

	got, err := f.q.FarmingPolicy(f.Ctx, &types.QueryFarmingPolicyRequest{Id: 3})
	require.NoError(t, err)
	p.Id, p.PolicyCreated = 3, keepertest.BlockTime.Unix()
	require.Equal(t, p, got.FarmingPolicy)
	one, err := f.Grid.GetFarmingPolicy(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "default-diy", one.Name)
	all, err := f.q.FarmingPolicies(f.Ctx, &types.QueryFarmingPoliciesRequest{})
	require.NoError(t, err)
	require.Len(t, all.FarmingPolicies, 3)
}

func TestCreateFarmingPolicyErrors(t *testing.T) {
	f := newFixture(t)
	stranger := f.NewAccount()
	create := func(signer string, mutate func(*types.FarmingPolicy)) func() error {
		return func() error {
			p := farmingPolicy("special")
			mutate(&p)
			_, err := f.GridMsg.CreateFarmingPolicy(f.Ctx, &types.MsgCreateFarmingPolicy{Authority: signer, Policy: p})
			return err
		}
	}
	none := func(*types.FarmingPolicy) {}
	f.runErrCases([]errCase{
		{"not the authority", create(stranger, none), sdkerrors.ErrUnauthorized, []string{stranger}},
		{"invalid name", create(f.Authority, func(p *types.FarmingPolicy) { p.Name = "no spaces" }), types.ErrInvalidFarmingPolicy,
			[]string{`"no spaces"`}},
		{"uptime over 100", create(f.Authority, func(p *types.FarmingPolicy) { p.MinimalUptime = 101 }), types.ErrInvalidFarmingPolicy,
			[]string{"minimal_uptime 101"}},
		{"negative end", create(f.Authority, func(p *types.FarmingPolicy) { p.PolicyEnd = -1 }), types.ErrInvalidFarmingPolicy,
			[]string{"policy_end -1"}},
		{"unspecified node certification", create(f.Authority, func(p *types.FarmingPolicy) { p.NodeCertification = 0 }),
			types.ErrInvalidCertification, []string{"node certification 0"}},
		{"unspecified farm certification", create(f.Authority, func(p *types.FarmingPolicy) { p.FarmCertification = 0 }),
			types.ErrInvalidCertification, []string{"farm certification 0"}},
	})
}

func TestUpdateFarmingPolicy(t *testing.T) {
	f := newFixture(t)
	id := f.createFarmingPolicy(farmingPolicy("special"))
	f.Ctx = f.Ctx.WithBlockTime(keepertest.BlockTime.Add(1000))

	p := farmingPolicy("special-v2")
	p.Id, p.Cu, p.Immutable = id, 9999, true
	f.ResetEvents()
	_, err := f.GridMsg.UpdateFarmingPolicy(f.Ctx, &types.MsgUpdateFarmingPolicy{Authority: f.Authority, Policy: p})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"farming_policy_id": `"3"`, "name": `"special-v2"`},
		f.eventAttrs("tfgrid.tfgrid.v1.EventFarmingPolicyUpdated"))
	got, err := f.Grid.GetFarmingPolicy(f.Ctx, id)
	require.NoError(t, err)
	p.PolicyCreated = keepertest.BlockTime.Unix() // kept from creation
	require.Equal(t, p, got)

	// Now immutable: any further update is refused.
	stranger := f.NewAccount()
	update := func(signer string, id uint64, mutate func(*types.FarmingPolicy)) func() error {
		return func() error {
			p := farmingPolicy("special-v3")
			p.Id = id
			mutate(&p)
			_, err := f.GridMsg.UpdateFarmingPolicy(f.Ctx, &types.MsgUpdateFarmingPolicy{Authority: signer, Policy: p})
			return err
		}
	}
	none := func(*types.FarmingPolicy) {}
	f.runErrCases([]errCase{
		{"immutable", update(f.Authority, 3, none), types.ErrFarmingPolicyImmutable, []string{"farming policy 3"}},
		{"not the authority", update(stranger, 1, none), sdkerrors.ErrUnauthorized, []string{stranger}},
		{"unknown id", update(f.Authority, 4, none), types.ErrFarmingPolicyNotFound, []string{"farming policy 4"}},
		{"invalid", update(f.Authority, 1, func(p *types.FarmingPolicy) { p.MinimalUptime = 150 }), types.ErrInvalidFarmingPolicy,
			[]string{"150"}},
	})
}

func TestSetNodeCertification(t *testing.T) {
	w := newNodeWorld(t)
	certifier := w.NewAccount()
	w.setParams(func(p *types.Params) { p.NodeCertifiers = []string{certifier} })

	// The authority certifies node 1: it moves to the certified default policy.
	w.ResetEvents()
	_, err := w.GridMsg.SetNodeCertification(w.Ctx, &types.MsgSetNodeCertification{Signer: w.Authority, NodeId: 1, Certification: types.NodeCertificationCertified})
	require.NoError(t, err)
	n := w.node(1)
	require.Equal(t, types.NodeCertificationCertified, n.Certification)
	require.Equal(t, uint64(2), n.FarmingPolicyId)
	require.Equal(t, []string{"tfgrid.tfgrid.v1.EventNodeCertificationSet", "tfgrid.tfgrid.v1.EventNodeFarmingPolicySet"}, w.eventTypes())
	require.Equal(t, `"2"`, w.eventAttrs("tfgrid.tfgrid.v1.EventNodeFarmingPolicySet")["farming_policy_id"])

	// A node certifier may do it too, both ways.
	_, err = w.GridMsg.SetNodeCertification(w.Ctx, &types.MsgSetNodeCertification{Signer: certifier, NodeId: 2, Certification: types.NodeCertificationCertified})
	require.NoError(t, err)
	require.Equal(t, uint64(2), w.node(2).FarmingPolicyId)
	_, err = w.GridMsg.SetNodeCertification(w.Ctx, &types.MsgSetNodeCertification{Signer: certifier, NodeId: 1, Certification: types.NodeCertificationDIY})
	require.NoError(t, err)
	require.Equal(t, types.NodeCertificationDIY, w.node(1).Certification)
	require.Equal(t, uint64(1), w.node(1).FarmingPolicyId)

	set := func(signer string, nodeID uint64, c types.NodeCertification) func() error {
		return func() error {
			_, err := w.GridMsg.SetNodeCertification(w.Ctx, &types.MsgSetNodeCertification{Signer: signer, NodeId: nodeID, Certification: c})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"the farmer", set(w.farmer, 1, types.NodeCertificationCertified), types.ErrNotCertifier, []string{w.farmer}},
		{"the node twin", set(w.node1, 1, types.NodeCertificationCertified), types.ErrNotCertifier, []string{w.node1}},
		{"unspecified", set(w.Authority, 1, types.NodeCertificationUnspecified), types.ErrInvalidCertification, []string{"node certification 0"}},
		{"unknown value", set(certifier, 1, types.NodeCertification(3)), types.ErrInvalidCertification, []string{"node certification 3"}},
		{"unknown node", set(w.Authority, 9, types.NodeCertificationCertified), types.ErrNodeNotFound, []string{"node 9"}},
	})
}

// TestFarmingPolicyResolution covers how a node's farming policy is chosen.
func TestFarmingPolicyResolution(t *testing.T) {
	t.Run("best default for the farm certification", func(t *testing.T) {
		w := newNodeWorld(t)
		gold := farmingPolicy("default-gold")
		gold.IsDefault, gold.FarmCertification = true, types.FarmCertificationGold
		goldID := w.createFarmingPolicy(gold)
		// Farm 2 turns gold; a new DIY node there gets the gold default, one in farm 1 does not.
		_, err := w.GridMsg.SetFarmCertification(w.Ctx, &types.MsgSetFarmCertification{Authority: w.Authority, FarmId: 2, Certification: types.FarmCertificationGold})
		require.NoError(t, err)
		acc, _ := w.newTwin()
		id := w.createNode(acc, 2)
		require.Equal(t, goldID, w.node(id).FarmingPolicyId)
		w.allow(w.farmer, 1, w.strangerTwin)
		require.Equal(t, uint64(1), w.node(w.createNode(w.stranger, 1)).FarmingPolicyId)

		// A newer default of the same level wins.
		newer := gold
		newer.Name = "default-gold-2"
		newerID := w.createFarmingPolicy(newer)
		acc2, _ := w.newTwin()
		require.Equal(t, newerID, w.node(w.createNode(acc2, 2)).FarmingPolicyId)
	})

	t.Run("no default fits", func(t *testing.T) {
		w := newNodeWorld(t)
		diy, err := w.Grid.GetFarmingPolicy(w.Ctx, 1)
		require.NoError(t, err)
		diy.PolicyEnd = keepertest.BlockTime.Unix() // ended now
		_, err = w.GridMsg.UpdateFarmingPolicy(w.Ctx, &types.MsgUpdateFarmingPolicy{Authority: w.Authority, Policy: diy})
		require.NoError(t, err)
		w.runErrCases([]errCase{
			{"create node", func() error { _, err := w.GridMsg.CreateNode(w.Ctx, nodeMsg(w.stranger, 2)); return err },
				types.ErrNoFarmingPolicy, []string{"farm 2", "NODE_CERTIFICATION_DIY"}},
		})
		// Certified nodes still get default-certified, and ids were not used up.
		w.certify(2, types.NodeCertificationCertified)
		require.Equal(t, uint64(2), w.node(2).FarmingPolicyId)
		require.Equal(t, uint64(3), w.export().NextNodeId)
	})
}

func TestAttachPolicyToFarm(t *testing.T) {
	w := newNodeWorld(t)
	special := farmingPolicy("special")
	special.FarmCertification = types.FarmCertificationGold
	specialID := w.createFarmingPolicy(special)

	// Node 1 (CU 1, SU 2) holds default-diy and is re-resolved into the attached policy.
	limits := &types.FarmingPolicyLimits{FarmingPolicyId: specialID, Cu: 2, Su: 3, NodeCount: 5}
	w.ResetEvents()
	w.attach(1, limits)
	farm := w.farm(1)
	require.Equal(t, types.FarmCertificationGold, farm.Certification, "the farm takes the policy's certification")
	require.Equal(t, &types.FarmingPolicyLimits{FarmingPolicyId: specialID, Cu: 1, Su: 1, NodeCount: 4}, farm.FarmingPolicyLimits)
	require.Equal(t, specialID, w.node(1).FarmingPolicyId)
	require.Equal(t, []string{"tfgrid.tfgrid.v1.EventFarmFarmingPolicyAttached", "tfgrid.tfgrid.v1.EventNodeFarmingPolicySet"}, w.eventTypes())

	// The next node still fits (CU 1 ≤ 1) but has too little SU left (2 > 1): default policy, budget kept.
	w.allow(w.farmer, 1, w.strangerTwin)
	id := w.createNode(w.stranger, 1)
	require.Equal(t, uint64(1), w.node(id).FarmingPolicyId)
	require.Equal(t, uint64(1), w.farm(1).FarmingPolicyLimits.Cu)

	// A smaller node (HDD only: CU 0, SU 1) fits and consumes the rest.
	acc, twinID := w.newTwin()
	w.allow(w.farmer, 1, twinID)
	m := nodeMsg(acc, 1)
	m.Resources = types.Resources{Cru: 1, Mru: 4 * gib, Hru: 1200 * gib}
	res, err := w.GridMsg.CreateNode(w.Ctx, m)
	require.NoError(t, err)
	require.Equal(t, specialID, w.node(res.NodeId).FarmingPolicyId)
	require.Equal(t, &types.FarmingPolicyLimits{FarmingPolicyId: specialID, Cu: 1, Su: 0, NodeCount: 3}, w.farm(1).FarmingPolicyLimits)

	// Detaching keeps the granted policies and the farm certification.
	w.ResetEvents()
	w.attach(1, nil)
	require.Nil(t, w.farm(1).FarmingPolicyLimits)
	require.Equal(t, types.FarmCertificationGold, w.farm(1).Certification)
	require.Equal(t, specialID, w.node(1).FarmingPolicyId)
	require.Equal(t, []string{"tfgrid.tfgrid.v1.EventFarmFarmingPolicyAttached"}, w.eventTypes())
}

func TestAttachPolicyLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits types.FarmingPolicyLimits
		gets   bool
	}{
		{"fits", types.FarmingPolicyLimits{Cu: 1, Su: 2, NodeCount: 1}, true},
		{"no node count left", types.FarmingPolicyLimits{Cu: 10, Su: 10, NodeCount: 0}, false},
		{"not enough cu", types.FarmingPolicyLimits{Cu: 0, Su: 10, NodeCount: 1}, false},
		{"not enough su", types.FarmingPolicyLimits{Cu: 10, Su: 1, NodeCount: 1}, false},
		{"limits ended", types.FarmingPolicyLimits{Cu: 10, Su: 10, NodeCount: 1, End: keepertest.BlockTime.Unix()}, false},
		{"limits end later", types.FarmingPolicyLimits{Cu: 10, Su: 10, NodeCount: 1, End: keepertest.BlockTime.Unix() + 1}, true},
		{"certification required", types.FarmingPolicyLimits{Cu: 10, Su: 10, NodeCount: 1, NodeCertification: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newNodeWorld(t)
			specialID := w.createFarmingPolicy(farmingPolicy("special"))
			limits := tc.limits
			limits.FarmingPolicyId = specialID
			w.attach(1, &limits)
			got := w.farm(1).FarmingPolicyLimits
			if tc.gets {
				require.Equal(t, specialID, w.node(1).FarmingPolicyId)
				require.Equal(t, limits.NodeCount-1, got.NodeCount)
				require.Equal(t, limits.Cu-1, got.Cu)
				require.Equal(t, limits.Su-2, got.Su)
				return
			}
			require.Equal(t, uint64(1), w.node(1).FarmingPolicyId)
			require.Equal(t, &limits, got, "limits not consumed")
		})
	}

	// A limit that requires certification is granted once the node is certified.
	w := newNodeWorld(t)
	specialID := w.createFarmingPolicy(farmingPolicy("special"))
	w.attach(1, &types.FarmingPolicyLimits{FarmingPolicyId: specialID, Cu: 10, Su: 10, NodeCount: 1, NodeCertification: true})
	require.Equal(t, uint64(1), w.node(1).FarmingPolicyId)
	w.certify(1, types.NodeCertificationCertified)
	require.Equal(t, specialID, w.node(1).FarmingPolicyId)
	require.Equal(t, uint64(0), w.farm(1).FarmingPolicyLimits.NodeCount)
	// The granted policy is not a default one: losing certification keeps it.
	w.certify(1, types.NodeCertificationDIY)
	require.Equal(t, specialID, w.node(1).FarmingPolicyId)
}

func TestAttachPolicyToFarmErrors(t *testing.T) {
	w := newNodeWorld(t)
	ended := farmingPolicy("ended")
	ended.PolicyEnd = keepertest.BlockTime.Unix()
	endedID := w.createFarmingPolicy(ended)
	live := farmingPolicy("live")
	live.PolicyEnd = keepertest.BlockTime.Unix() + 1
	liveID := w.createFarmingPolicy(live)

	attach := func(signer string, farmID uint64, limits *types.FarmingPolicyLimits) func() error {
		return func() error {
			_, err := w.GridMsg.AttachPolicyToFarm(w.Ctx, &types.MsgAttachPolicyToFarm{Authority: signer, FarmId: farmID, Limits: limits})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"the farmer", attach(w.farmer, 1, &types.FarmingPolicyLimits{FarmingPolicyId: liveID}), sdkerrors.ErrUnauthorized, []string{w.farmer}},
		{"unknown farm", attach(w.Authority, 7, &types.FarmingPolicyLimits{FarmingPolicyId: liveID}), types.ErrFarmNotFound, []string{"farm 7"}},
		{"unknown policy", attach(w.Authority, 1, &types.FarmingPolicyLimits{FarmingPolicyId: 70}), types.ErrFarmingPolicyNotFound,
			[]string{"farming policy 70"}},
		{"expired policy", attach(w.Authority, 1, &types.FarmingPolicyLimits{FarmingPolicyId: endedID}), types.ErrFarmingPolicyExpired,
			[]string{"farming policy 3", "1750000000"}},
	})
	w.attach(1, &types.FarmingPolicyLimits{FarmingPolicyId: liveID})
}
