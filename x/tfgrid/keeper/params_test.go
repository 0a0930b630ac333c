package keeper_test

import (
	"fmt"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestUpdateParams(t *testing.T) {
	f := newFixture(t)
	certifier := f.NewAccount()
	p := types.DefaultParams()
	p.MaxFarmPublicIps, p.TimestampDrift, p.NodeCertifiers = 4096, 3600, []string{certifier}
	p.MaxNodeCru, p.MaxLinkRate = 128, 1_250_000_000

	f.ResetEvents()
	_, err := f.GridMsg.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	res, err := f.q.Params(f.Ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, p, res.Params)
	require.Contains(t, f.eventAttrs("tfgrid.tfgrid.v1.EventParamsUpdated")["params"], certifier)
}

func TestUpdateParamsErrors(t *testing.T) {
	w := newFarmWorld(t) // farm 1 holds 2 public IPs
	certifier := w.NewAccount()
	update := func(signer string, mutate func(*types.Params)) func() error {
		return func() error {
			p := types.DefaultParams()
			mutate(&p)
			_, err := w.GridMsg.UpdateParams(w.Ctx, &types.MsgUpdateParams{Authority: signer, Params: p})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"not the authority", update(w.farmer, func(*types.Params) {}), sdkerrors.ErrUnauthorized, []string{w.farmer}},
		{"max ips 0", update(w.Authority, func(p *types.Params) { p.MaxFarmPublicIps = 0 }), types.ErrInvalidParams,
			[]string{"max_farm_public_ips 0"}},
		{"max ips over 4096", update(w.Authority, func(p *types.Params) { p.MaxFarmPublicIps = 4097 }), types.ErrInvalidParams,
			[]string{"max_farm_public_ips 4097"}},
		{"max ips below a farm's ips", update(w.Authority, func(p *types.Params) { p.MaxFarmPublicIps = 1 }), types.ErrInvalidParams,
			[]string{"max_farm_public_ips 1", "farm 1", "2 public IPs"}},
		{"drift 0", update(w.Authority, func(p *types.Params) { p.TimestampDrift = 0 }), types.ErrInvalidParams, []string{"timestamp_drift 0"}},
		{"drift over an hour", update(w.Authority, func(p *types.Params) { p.TimestampDrift = 3601 }), types.ErrInvalidParams,
			[]string{"timestamp_drift 3601"}},
		{"bad certifier", update(w.Authority, func(p *types.Params) { p.NodeCertifiers = []string{"cosmos1zzz"} }), types.ErrInvalidParams,
			[]string{`node_certifiers[0] "cosmos1zzz"`}},
		{"duplicate certifier", update(w.Authority, func(p *types.Params) { p.NodeCertifiers = []string{certifier, certifier} }),
			types.ErrInvalidParams, []string{"node_certifiers[1]", "duplicate"}},
	})
	// Exactly the largest farm's count is fine.
	w.setParams(func(p *types.Params) { p.MaxFarmPublicIps = 2 })
}

// TestGovernanceMessagesNeedAuthority sends every authority-only message from accounts that are not the
// authority: a farmer, a node certifier and an account without twin.
func TestGovernanceMessagesNeedAuthority(t *testing.T) {
	w := newNodeWorld(t)
	certifier := w.NewAccount()
	w.setParams(func(p *types.Params) { p.NodeCertifiers = []string{certifier} })
	specialID := w.createFarmingPolicy(farmingPolicy("special"))

	msgs := map[string]func(signer string) error{
		"create pricing policy": func(s string) error {
			_, err := w.GridMsg.CreatePricingPolicy(w.Ctx, &types.MsgCreatePricingPolicy{Authority: s, Policy: w.pricingPolicy("premium")})
			return err
		},
		"update pricing policy": func(s string) error {
			p := w.pricingPolicy("default")
			p.Id = 1
			_, err := w.GridMsg.UpdatePricingPolicy(w.Ctx, &types.MsgUpdatePricingPolicy{Authority: s, Policy: p})
			return err
		},
		"create farming policy": func(s string) error {
			_, err := w.GridMsg.CreateFarmingPolicy(w.Ctx, &types.MsgCreateFarmingPolicy{Authority: s, Policy: farmingPolicy("other")})
			return err
		},
		"update farming policy": func(s string) error {
			p := farmingPolicy("special")
			p.Id = specialID
			_, err := w.GridMsg.UpdateFarmingPolicy(w.Ctx, &types.MsgUpdateFarmingPolicy{Authority: s, Policy: p})
			return err
		},
		"attach policy to farm": func(s string) error {
			_, err := w.GridMsg.AttachPolicyToFarm(w.Ctx, &types.MsgAttachPolicyToFarm{Authority: s, FarmId: 1,
				Limits: &types.FarmingPolicyLimits{FarmingPolicyId: specialID, Cu: 10, Su: 10, NodeCount: 1}})
			return err
		},
		"set farm certification": func(s string) error {
			_, err := w.GridMsg.SetFarmCertification(w.Ctx, &types.MsgSetFarmCertification{Authority: s, FarmId: 1, Certification: types.FarmCertificationGold})
			return err
		},
		"set farm dedicated": func(s string) error {
			_, err := w.GridMsg.SetFarmDedicated(w.Ctx, &types.MsgSetFarmDedicated{Authority: s, FarmId: 1, Dedicated: true})
			return err
		},
		"update params": func(s string) error {
			_, err := w.GridMsg.UpdateParams(w.Ctx, &types.MsgUpdateParams{Authority: s, Params: types.DefaultParams()})
			return err
		},
	}
	var cases []errCase
	for name, send := range msgs {
		for who, signer := range map[string]string{"farmer": w.farmer, "certifier": certifier, "no twin": w.noTwin, "empty": ""} {
			cases = append(cases, errCase{name + " by " + who, func() error { return send(signer) }, sdkerrors.ErrUnauthorized,
				[]string{"expected " + w.Authority}})
		}
	}
	w.runErrCases(cases)

	// Every one of them passes when the authority sends it.
	for name, send := range msgs {
		require.NoError(t, send(w.Authority), name)
	}

	// A consensus-params authority replaces the keeper's authority.
	consensusAuthority := w.NewAccount()
	w.Ctx = w.Ctx.WithConsensusParams(cmtproto.ConsensusParams{Authority: &cmtproto.AuthorityParams{Authority: consensusAuthority}})
	w.runErrCases([]errCase{
		{"gov authority overridden", func() error { return msgs["set farm dedicated"](w.Authority) }, sdkerrors.ErrUnauthorized,
			[]string{consensusAuthority}},
		{"gov authority cannot certify nodes either", func() error {
			_, err := w.GridMsg.SetNodeCertification(w.Ctx, &types.MsgSetNodeCertification{Signer: w.Authority, NodeId: 1, Certification: types.NodeCertificationCertified})
			return err
		}, types.ErrNotCertifier, []string{w.Authority}},
	})
	require.NoError(t, msgs["set farm dedicated"](consensusAuthority))
	_, err := w.GridMsg.SetNodeCertification(w.Ctx, &types.MsgSetNodeCertification{Signer: consensusAuthority, NodeId: 1, Certification: types.NodeCertificationCertified})
	require.NoError(t, err)
}

// TestUpdateParamsGasIndependentOfPublicIPs: checking a lowered max_farm_public_ips reads the farm
// with the most IPs only, so the gas is the same with 2 and with 60 public IPs on the chain, whether
// the new cap is accepted or refused.
func TestUpdateParamsGasIndependentOfPublicIPs(t *testing.T) {
	gasOfLowering := func(nIPs int, lowerBy uint32) (uint64, error) {
		f := newFixture(t)
		farmer, _ := f.newTwin()
		var ips []types.PublicIPInput
		for h := range nIPs {
			ips = append(ips, ip(10+h))
		}
		farmID := f.CreateFarm(farmer, "alpha", ips...)
		p := f.params()
		p.MaxFarmPublicIps = uint32(nIPs) - lowerBy
		ctx, _ := f.Ctx.CacheContext()
		ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		_, err := f.GridMsg.UpdateParams(ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
		if err != nil {
			requireerr.Is(t, err, types.ErrInvalidParams, fmt.Sprintf("farm %d holds %d public IPs", farmID, nIPs))
		}
		return ctx.GasMeter().GasConsumed(), err
	}
	for _, tc := range []struct {
		name    string
		lowerBy uint32
		refused bool
	}{{"lowered to the largest farm's count", 0, false}, {"lowered below it", 1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			few, err := gasOfLowering(2, tc.lowerBy)
			require.Equal(t, tc.refused, err != nil, "error: %v", err)
			many, err := gasOfLowering(60, tc.lowerBy)
			require.Equal(t, tc.refused, err != nil, "error: %v", err)
			require.Positive(t, few)
			require.Equal(t, few, many, "gas with 2 and with 60 public IPs")
		})
	}
}

// TestInvariantsCatchWrongFarmIPCounts: counts that disagree with the IP table are reported.
func TestInvariantsCatchWrongFarmIPCounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		corrupt  func(w *farmWorld) error
		contains string
	}{
		{"count too high", func(w *farmWorld) error { return w.Grid.PublicIPCountByFarm.Set(w.Ctx, 1, 3) }, "public_ip_count_by_farm maps 1 to 3, want 2"},
		{"count of a farm without IPs", func(w *farmWorld) error { return w.Grid.PublicIPCountByFarm.Set(w.Ctx, 2, 1) }, "public_ip_count_by_farm has 2 → 1, which nothing needs"},
		{"count missing", func(w *farmWorld) error { return w.Grid.PublicIPCountByFarm.Remove(w.Ctx, 1) }, "public_ip_count_by_farm lacks 1 (→ 2)"},
		{"ordering entry stale", func(w *farmWorld) error {
			return w.Grid.FarmsByPublicIPCount.Set(w.Ctx, collections.Join(uint64(5), uint64(1)))
		}, "farms_by_public_ip_count has {5 1}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newFarmWorld(t)
			require.NoError(t, w.Grid.CheckInvariants(w.Ctx))
			require.NoError(t, tc.corrupt(w))
			requireerr.Is(t, w.Grid.CheckInvariants(w.Ctx), types.ErrInvariantBroken, tc.contains)
		})
	}
}
