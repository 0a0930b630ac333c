package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// farmWorld is a farmer with farm 1 ("alpha", IPs .10 and .11) and a second twin with farm 2 ("beta").
type farmWorld struct {
	*fixture
	farmer, other, noTwin string
	farmerTwin, otherTwin uint64
}

func newFarmWorld(t *testing.T) *farmWorld {
	f := newFixture(t)
	w := &farmWorld{fixture: f}
	w.farmer, w.farmerTwin = f.newTwin()
	w.other, w.otherTwin = f.newTwin()
	w.noTwin = f.NewAccount()
	require.Equal(t, uint64(1), f.CreateFarm(w.farmer, "alpha", ip(10), ip(11)))
	require.Equal(t, uint64(2), f.CreateFarm(w.other, "beta"))
	return w
}

func (f *fixture) farmIPs(farmID uint64) []types.PublicIP {
	f.T.Helper()
	res, err := f.q.FarmPublicIps(f.Ctx, &types.QueryFarmPublicIpsRequest{Id: farmID})
	require.NoError(f.T, err)
	return res.PublicIps
}

func TestCreateFarm(t *testing.T) {
	f := newFixture(t)
	acc, twinID := f.newTwin()

	f.ResetEvents()
	res, err := f.GridMsg.CreateFarm(f.Ctx, &types.MsgCreateFarm{Creator: acc, Name: "my_farm-1",
		PublicIps: []types.PublicIPInput{ip(33), {Ip: "185.206.123.2/31", Gateway: "185.206.123.3"}}})
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.FarmId)

	require.Equal(t, types.Farm{
		Id: 1, Name: "my_farm-1", TwinId: twinID, PricingPolicyId: keeper.DefaultPricingPolicyID,
		Certification: types.FarmCertificationNotCertified,
	}, f.farm(1))
	require.Equal(t, []types.PublicIP{
		{Ip: "185.206.122.33/24", Gateway: "185.206.122.1", FarmId: 1},
		{Ip: "185.206.123.2/31", Gateway: "185.206.123.3", FarmId: 1},
	}, f.farmIPs(1))
	// Each IP is stored under its bare address.
	stored, err := f.Grid.PublicIPs.Get(f.Ctx, "185.206.122.33")
	require.NoError(t, err)
	require.Equal(t, uint64(1), stored.FarmId)
	ips, err := f.Grid.FarmPublicIPs(f.Ctx, 1)
	require.NoError(t, err)
	require.Len(t, ips, 2)

	require.Equal(t, []string{
		"tfgrid.tfgrid.v1.EventFarmCreated",
		"tfgrid.tfgrid.v1.EventFarmPublicIpAdded",
		"tfgrid.tfgrid.v1.EventFarmPublicIpAdded",
	}, f.eventTypes())
	created := f.eventAttrs("tfgrid.tfgrid.v1.EventFarmCreated")
	require.Equal(t, `"my_farm-1"`, created["name"])
	require.Equal(t, `"1"`, created["farm_id"])
	require.Equal(t, `"1"`, created["twin_id"])

	byName, err := f.q.FarmByName(f.Ctx, &types.QueryFarmByNameRequest{Name: "my_farm-1"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), byName.Farm.Id)

	// A twin may own several farms; ids go on.
	require.Equal(t, uint64(2), f.CreateFarm(acc, "second"))
}

func TestCreateFarmErrors(t *testing.T) {
	w := newFarmWorld(t)
	w.setParams(func(p *types.Params) { p.MaxFarmPublicIps = 2 })

	create := func(name string, ips ...types.PublicIPInput) func() error {
		return func() error {
			_, err := w.GridMsg.CreateFarm(w.Ctx, &types.MsgCreateFarm{Creator: w.farmer, Name: name, PublicIps: ips})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"signer without twin", func() error {
			_, err := w.GridMsg.CreateFarm(w.Ctx, &types.MsgCreateFarm{Creator: w.noTwin, Name: "gamma"})
			return err
		}, types.ErrTwinNotFound, []string{w.noTwin}},
		{"bad signer address", func() error {
			_, err := w.GridMsg.CreateFarm(w.Ctx, &types.MsgCreateFarm{Creator: "nope", Name: "gamma"})
			return err
		}, sdkerrors.ErrInvalidAddress, []string{"nope"}},
		{"name too short", create("ab"), types.ErrInvalidFarmName, []string{`"ab"`, "length 2"}},
		{"name with space", create("my farm"), types.ErrInvalidFarmName, []string{`"my farm"`}},
		{"name taken", create("alpha"), types.ErrFarmNameTaken, []string{`"alpha"`, "farm 1"}},
		{"name taken by another twin", create("beta"), types.ErrFarmNameTaken, []string{`"beta"`, "farm 2"}},
		{"name taken in another case", create("ALPHA"), types.ErrFarmNameTaken, []string{`"ALPHA"`, "farm 1", "any letter case"}},
		{"name taken in mixed case", create("Beta"), types.ErrFarmNameTaken, []string{`"Beta"`, "farm 2"}},
		{"private ip", create("gamma", types.PublicIPInput{Ip: "10.0.0.5/24", Gateway: "10.0.0.1"}),
			types.ErrInvalidPublicIP, []string{"10.0.0.5/24", "private"}},
		{"not a cidr", create("gamma", types.PublicIPInput{Ip: "185.206.122.40", Gateway: "185.206.122.1"}),
			types.ErrInvalidPublicIP, []string{"185.206.122.40"}},
		{"gateway outside subnet", create("gamma", types.PublicIPInput{Ip: "185.206.122.40/24", Gateway: "185.206.9.1"}),
			types.ErrInvalidGateway, []string{"185.206.9.1"}},
		{"second ip invalid: nothing created", create("gamma", ip(40), types.PublicIPInput{Ip: "185.206.122.41/24", Gateway: "185.206.122.41"}),
			types.ErrInvalidGateway, []string{"185.206.122.41", "equals the ip"}},
		{"ip of another farm", create("gamma", ip(10)), types.ErrPublicIPExists, []string{"185.206.122.10", "farm 1"}},
		{"same address other prefix length", create("gamma", types.PublicIPInput{Ip: "185.206.122.11/25", Gateway: "185.206.122.1"}),
			types.ErrPublicIPExists, []string{"185.206.122.11", "farm 1"}},
		{"duplicate within the message", create("gamma", ip(40), types.PublicIPInput{Ip: "185.206.122.40/25", Gateway: "185.206.122.1"}),
			types.ErrPublicIPExists, []string{"185.206.122.40"}},
		{"more ips than max_farm_public_ips", create("gamma", ip(40), ip(41), ip(42)),
			types.ErrTooManyPublicIPs, []string{"max_farm_public_ips 2"}},
	})
	// The failures created nothing: no farm "gamma", no IP .40, and the next farm is 3.
	_, err := w.q.FarmByName(w.Ctx, &types.QueryFarmByNameRequest{Name: "gamma"})
	requireerr.Is(t, err, types.ErrFarmNotFound, `"gamma"`)
	has, err := w.Grid.PublicIPs.Has(w.Ctx, "185.206.122.40")
	require.NoError(t, err)
	require.False(t, has)
	require.Equal(t, uint64(3), w.CreateFarm(w.farmer, "gamma", ip(40), ip(41)))
}

func TestUpdateFarm(t *testing.T) {
	w := newFarmWorld(t)

	w.ResetEvents()
	_, err := w.GridMsg.UpdateFarm(w.Ctx, &types.MsgUpdateFarm{Creator: w.farmer, FarmId: 1, Name: "alpha-renamed"})
	require.NoError(t, err)
	require.Equal(t, "alpha-renamed", w.farm(1).Name)
	require.Equal(t, `"alpha-renamed"`, w.eventAttrs("tfgrid.tfgrid.v1.EventFarmUpdated")["name"])

	// The old name is free again, the new one is indexed.
	_, err = w.q.FarmByName(w.Ctx, &types.QueryFarmByNameRequest{Name: "alpha"})
	requireerr.Is(t, err, types.ErrFarmNotFound, "alpha")
	res, err := w.q.FarmByName(w.Ctx, &types.QueryFarmByNameRequest{Name: "alpha-renamed"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Farm.Id)
	require.Equal(t, uint64(3), w.CreateFarm(w.other, "alpha"))

	// Renaming to the same name is a no-op without event.
	before := w.export()
	w.ResetEvents()
	_, err = w.GridMsg.UpdateFarm(w.Ctx, &types.MsgUpdateFarm{Creator: w.farmer, FarmId: 1, Name: "alpha-renamed"})
	require.NoError(t, err)
	require.Empty(t, w.eventTypes())
	require.Equal(t, before, w.export())
}

func TestUpdateFarmErrors(t *testing.T) {
	w := newFarmWorld(t)
	update := func(signer string, farmID uint64, name string) func() error {
		return func() error {
			_, err := w.GridMsg.UpdateFarm(w.Ctx, &types.MsgUpdateFarm{Creator: signer, FarmId: farmID, Name: name})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another twin", update(w.other, 1, "mine-now"), types.ErrNotFarmer, []string{w.other, "farm 1"}},
		{"signer without twin", update(w.noTwin, 1, "mine-now"), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown farm", update(w.farmer, 99, "whatever"), types.ErrFarmNotFound, []string{"farm 99"}},
		{"invalid name", update(w.farmer, 1, "a/b"), types.ErrInvalidFarmName, []string{`"a/b"`}},
		{"name taken", update(w.farmer, 1, "beta"), types.ErrFarmNameTaken, []string{`"beta"`, "farm 2"}},
		{"name taken in another case", update(w.farmer, 1, "BETA"), types.ErrFarmNameTaken, []string{`"BETA"`, "farm 2"}},
	})
	// a farm may change the case of its own name
	_, err := w.GridMsg.UpdateFarm(w.Ctx, &types.MsgUpdateFarm{Creator: w.farmer, FarmId: 1, Name: "ALPHA"})
	require.NoError(t, err)
	farm, err := w.Grid.GetFarm(w.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "ALPHA", farm.Name)
}

func TestAddFarmIP(t *testing.T) {
	w := newFarmWorld(t)
	w.ResetEvents()
	_, err := w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: w.farmer, FarmId: 1, Ip: "185.206.122.12/24", Gateway: "185.206.122.1"})
	require.NoError(t, err)
	attrs := w.eventAttrs("tfgrid.tfgrid.v1.EventFarmPublicIpAdded")
	require.Equal(t, `"185.206.122.12/24"`, attrs["ip"])
	require.Equal(t, `"185.206.122.1"`, attrs["gateway"])
	require.Len(t, w.farmIPs(1), 3)
	// The farm object is not rewritten by IP changes.
	require.Equal(t, "alpha", w.farm(1).Name)
}

func TestAddFarmIPErrors(t *testing.T) {
	w := newFarmWorld(t)
	w.setParams(func(p *types.Params) { p.MaxFarmPublicIps = 2 })
	add := func(signer string, farmID uint64, cidr, gw string) func() error {
		return func() error {
			_, err := w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: signer, FarmId: farmID, Ip: cidr, Gateway: gw})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another twin", add(w.other, 1, "185.206.122.50/24", "185.206.122.1"), types.ErrNotFarmer, []string{w.other, "farm 1"}},
		{"signer without twin", add(w.noTwin, 1, "185.206.122.50/24", "185.206.122.1"), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown farm", add(w.farmer, 42, "185.206.122.50/24", "185.206.122.1"), types.ErrFarmNotFound, []string{"farm 42"}},
		{"loopback", add(w.other, 2, "127.0.0.2/8", "127.0.0.1"), types.ErrInvalidPublicIP, []string{"127.0.0.2/8", "loopback"}},
		{"network address", add(w.other, 2, "185.206.122.0/24", "185.206.122.1"), types.ErrInvalidPublicIP, []string{"network address"}},
		{"broadcast gateway", add(w.other, 2, "185.206.122.50/24", "185.206.122.255"), types.ErrInvalidGateway, []string{"185.206.122.255", "broadcast"}},
		{"ipv6", add(w.other, 2, "2a02:1802::5/64", "2a02:1802::1"), types.ErrInvalidPublicIP, []string{"2a02:1802::5/64"}},
		{"own duplicate", add(w.farmer, 1, "185.206.122.10/24", "185.206.122.1"), types.ErrPublicIPExists, []string{"185.206.122.10", "farm 1"}},
		{"other farm's ip", add(w.other, 2, "185.206.122.10/24", "185.206.122.1"), types.ErrPublicIPExists, []string{"185.206.122.10", "farm 1"}},
		{"same address other prefix", add(w.other, 2, "185.206.122.11/28", "185.206.122.1"), types.ErrPublicIPExists, []string{"185.206.122.11"}},
		{"cap reached", add(w.farmer, 1, "185.206.122.12/24", "185.206.122.1"), types.ErrTooManyPublicIPs, []string{"farm 1", "2 public IPs"}},
	})
	// Farm 2 still has room.
	_, err := w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: w.other, FarmId: 2, Ip: "185.206.122.12/24", Gateway: "185.206.122.1"})
	require.NoError(t, err)
}

func TestRemoveFarmIP(t *testing.T) {
	w := newFarmWorld(t)
	w.ResetEvents()
	// The ip may be given in CIDR form...
	_, err := w.GridMsg.RemoveFarmIp(w.Ctx, &types.MsgRemoveFarmIp{Creator: w.farmer, FarmId: 1, Ip: "185.206.122.10/24"})
	require.NoError(t, err)
	require.Equal(t, `"185.206.122.10/24"`, w.eventAttrs("tfgrid.tfgrid.v1.EventFarmPublicIpRemoved")["ip"])
	// ...or as a bare address.
	_, err = w.GridMsg.RemoveFarmIp(w.Ctx, &types.MsgRemoveFarmIp{Creator: w.farmer, FarmId: 1, Ip: "185.206.122.11"})
	require.NoError(t, err)
	require.Empty(t, w.farmIPs(1))
	// A removed IP can be registered again, by anyone.
	_, err = w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: w.other, FarmId: 2, Ip: "185.206.122.10/24", Gateway: "185.206.122.1"})
	require.NoError(t, err)
}

func TestRemoveFarmIPErrors(t *testing.T) {
	w := newFarmWorld(t)
	// Simulate a reservation by x/smartcontract: the IP entry holds a contract.
	reserved, err := w.Grid.PublicIPs.Get(w.Ctx, "185.206.122.11")
	require.NoError(t, err)
	reserved.ContractId = 77
	require.NoError(t, w.Grid.PublicIPs.Set(w.Ctx, "185.206.122.11", reserved))

	remove := func(signer string, farmID uint64, addr string) func() error {
		return func() error {
			_, err := w.GridMsg.RemoveFarmIp(w.Ctx, &types.MsgRemoveFarmIp{Creator: signer, FarmId: farmID, Ip: addr})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another twin", remove(w.other, 1, "185.206.122.10"), types.ErrNotFarmer, []string{w.other, "farm 1"}},
		{"signer without twin", remove(w.noTwin, 1, "185.206.122.10"), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown farm", remove(w.farmer, 9, "185.206.122.10"), types.ErrFarmNotFound, []string{"farm 9"}},
		{"not an ip", remove(w.farmer, 1, "not-an-ip"), types.ErrInvalidPublicIP, []string{"not-an-ip"}},
		{"unknown ip", remove(w.farmer, 1, "185.206.122.99"), types.ErrPublicIPNotFound, []string{"185.206.122.99", "farm 1"}},
		{"ip of another farm", remove(w.other, 2, "185.206.122.10"), types.ErrPublicIPNotFound, []string{"185.206.122.10", "farm 2"}},
		{"reserved ip", remove(w.farmer, 1, "185.206.122.11/24"), types.ErrPublicIPInUse, []string{"185.206.122.11", "contract 77"}},
	})
}

func TestAllowAndDisallowNodeTwin(t *testing.T) {
	w := newFarmWorld(t)
	nodeAcc, nodeTwin := w.newTwin()

	w.ResetEvents()
	_, err := w.GridMsg.AllowNodeTwin(w.Ctx, &types.MsgAllowNodeTwin{Creator: w.farmer, FarmId: 1, TwinId: nodeTwin})
	require.NoError(t, err)
	attrs := w.eventAttrs("tfgrid.tfgrid.v1.EventFarmNodeTwinAllowed")
	require.Equal(t, `"3"`, attrs["twin_id"])
	has, err := w.Grid.AllowedNodeTwins.Has(w.Ctx, collections.Join(uint64(1), nodeTwin))
	require.NoError(t, err)
	require.True(t, has)

	// Allowing twice is a no-op.
	w.ResetEvents()
	_, err = w.GridMsg.AllowNodeTwin(w.Ctx, &types.MsgAllowNodeTwin{Creator: w.farmer, FarmId: 1, TwinId: nodeTwin})
	require.NoError(t, err)
	require.Empty(t, w.eventTypes())

	res, err := w.q.FarmAllowedNodeTwins(w.Ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: 1})
	require.NoError(t, err)
	require.Equal(t, []uint64{nodeTwin}, res.TwinIds)

	// The allowed twin can register; disallowing keeps its node but blocks a new registration.
	nodeID := w.createNode(nodeAcc, 1)
	w.ResetEvents()
	_, err = w.GridMsg.DisallowNodeTwin(w.Ctx, &types.MsgDisallowNodeTwin{Creator: w.farmer, FarmId: 1, TwinId: nodeTwin})
	require.NoError(t, err)
	require.Equal(t, `"3"`, w.eventAttrs("tfgrid.tfgrid.v1.EventFarmNodeTwinDisallowed")["twin_id"])
	require.Equal(t, uint64(1), w.node(nodeID).FarmId)
	res, err = w.q.FarmAllowedNodeTwins(w.Ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: 1})
	require.NoError(t, err)
	require.Empty(t, res.TwinIds)
}

func TestAllowNodeTwinErrors(t *testing.T) {
	w := newFarmWorld(t)
	allow := func(signer string, farmID, twinID uint64) func() error {
		return func() error {
			_, err := w.GridMsg.AllowNodeTwin(w.Ctx, &types.MsgAllowNodeTwin{Creator: signer, FarmId: farmID, TwinId: twinID})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another twin", allow(w.other, 1, w.otherTwin), types.ErrNotFarmer, []string{w.other, "farm 1"}},
		{"signer without twin", allow(w.noTwin, 1, w.otherTwin), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown farm", allow(w.farmer, 5, w.otherTwin), types.ErrFarmNotFound, []string{"farm 5"}},
		{"unknown twin", allow(w.farmer, 1, 55), types.ErrTwinNotFound, []string{"twin 55"}},
	})
}

func TestDisallowNodeTwinErrors(t *testing.T) {
	w := newFarmWorld(t)
	w.allow(w.farmer, 1, w.otherTwin)
	disallow := func(signer string, farmID, twinID uint64) func() error {
		return func() error {
			_, err := w.GridMsg.DisallowNodeTwin(w.Ctx, &types.MsgDisallowNodeTwin{Creator: signer, FarmId: farmID, TwinId: twinID})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another twin", disallow(w.other, 1, w.otherTwin), types.ErrNotFarmer, []string{w.other, "farm 1"}},
		{"signer without twin", disallow(w.noTwin, 1, w.otherTwin), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown farm", disallow(w.farmer, 5, w.otherTwin), types.ErrFarmNotFound, []string{"farm 5"}},
		{"twin not allowed", disallow(w.farmer, 1, w.farmerTwin), types.ErrNodeTwinNotAllowed, []string{"twin 1", "farm 1"}},
	})
}

func TestSetFarmOpenRegistration(t *testing.T) {
	w := newFarmWorld(t)
	w.ResetEvents()
	_, err := w.GridMsg.SetFarmOpenRegistration(w.Ctx, &types.MsgSetFarmOpenRegistration{Creator: w.farmer, FarmId: 1, Open: true})
	require.NoError(t, err)
	require.True(t, w.farm(1).OpenNodeRegistration)
	require.Equal(t, "true", w.eventAttrs("tfgrid.tfgrid.v1.EventFarmOpenRegistrationSet")["open"])

	// Setting the same value again is a no-op.
	w.ResetEvents()
	_, err = w.GridMsg.SetFarmOpenRegistration(w.Ctx, &types.MsgSetFarmOpenRegistration{Creator: w.farmer, FarmId: 1, Open: true})
	require.NoError(t, err)
	require.Empty(t, w.eventTypes())

	_, err = w.GridMsg.SetFarmOpenRegistration(w.Ctx, &types.MsgSetFarmOpenRegistration{Creator: w.farmer, FarmId: 1, Open: false})
	require.NoError(t, err)
	require.False(t, w.farm(1).OpenNodeRegistration)

	set := func(signer string, farmID uint64) func() error {
		return func() error {
			_, err := w.GridMsg.SetFarmOpenRegistration(w.Ctx, &types.MsgSetFarmOpenRegistration{Creator: signer, FarmId: farmID, Open: true})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"another twin", set(w.other, 1), types.ErrNotFarmer, []string{w.other, "farm 1"}},
		{"signer without twin", set(w.noTwin, 1), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown farm", set(w.farmer, 3), types.ErrFarmNotFound, []string{"farm 3"}},
	})
}

func TestSetFarmCertification(t *testing.T) {
	w := newFarmWorld(t)
	w.ResetEvents()
	_, err := w.GridMsg.SetFarmCertification(w.Ctx, &types.MsgSetFarmCertification{Authority: w.Authority, FarmId: 1, Certification: types.FarmCertificationGold})
	require.NoError(t, err)
	require.Equal(t, types.FarmCertificationGold, w.farm(1).Certification)
	require.Equal(t, `"FARM_CERTIFICATION_GOLD"`, w.eventAttrs("tfgrid.tfgrid.v1.EventFarmCertificationSet")["certification"])

	set := func(signer string, farmID uint64, c types.FarmCertification) func() error {
		return func() error {
			_, err := w.GridMsg.SetFarmCertification(w.Ctx, &types.MsgSetFarmCertification{Authority: signer, FarmId: farmID, Certification: c})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"farmer is not the authority", set(w.farmer, 1, types.FarmCertificationNotCertified), sdkerrors.ErrUnauthorized,
			[]string{w.Authority, w.farmer}},
		{"unspecified", set(w.Authority, 1, types.FarmCertificationUnspecified), types.ErrInvalidCertification, []string{"farm certification 0"}},
		{"unknown value", set(w.Authority, 1, types.FarmCertification(9)), types.ErrInvalidCertification, []string{"farm certification 9"}},
		{"unknown farm", set(w.Authority, 8, types.FarmCertificationGold), types.ErrFarmNotFound, []string{"farm 8"}},
	})
}

func TestSetFarmDedicated(t *testing.T) {
	w := newFarmWorld(t)
	w.ResetEvents()
	_, err := w.GridMsg.SetFarmDedicated(w.Ctx, &types.MsgSetFarmDedicated{Authority: w.Authority, FarmId: 2, Dedicated: true})
	require.NoError(t, err)
	require.True(t, w.farm(2).Dedicated)
	require.Equal(t, "true", w.eventAttrs("tfgrid.tfgrid.v1.EventFarmDedicatedSet")["dedicated"])

	set := func(signer string, farmID uint64) func() error {
		return func() error {
			_, err := w.GridMsg.SetFarmDedicated(w.Ctx, &types.MsgSetFarmDedicated{Authority: signer, FarmId: farmID, Dedicated: false})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"farmer is not the authority", set(w.other, 2), sdkerrors.ErrUnauthorized, []string{w.other}},
		{"unknown farm", set(w.Authority, 8), types.ErrFarmNotFound, []string{"farm 8"}},
	})
}

func TestQueryFarmsByTwin(t *testing.T) {
	w := newFarmWorld(t)
	require.Equal(t, uint64(3), w.CreateFarm(w.farmer, "gamma"))
	farmIDs := func(twinID uint64, page *query.PageRequest) ([]uint64, *query.PageResponse) {
		res, err := w.q.FarmsByTwin(w.Ctx, &types.QueryFarmsByTwinRequest{TwinId: twinID, Pagination: page})
		require.NoError(t, err)
		var ids []uint64
		for _, farm := range res.Farms {
			require.Equal(t, w.farm(farm.Id), farm, "full farms are served")
			require.Equal(t, twinID, farm.TwinId)
			ids = append(ids, farm.Id)
		}
		return ids, res.Pagination
	}
	got, page := farmIDs(w.farmerTwin, &query.PageRequest{Limit: 1, CountTotal: true})
	require.Equal(t, []uint64{1}, got)
	require.Equal(t, uint64(2), page.Total)
	got, page = farmIDs(w.farmerTwin, &query.PageRequest{Key: page.NextKey, Limit: 1})
	require.Equal(t, []uint64{3}, got)
	require.Empty(t, page.NextKey)

	got, _ = farmIDs(w.otherTwin, nil)
	require.Equal(t, []uint64{2}, got)
	got, _ = farmIDs(999, nil)
	require.Empty(t, got)

	_, err := w.q.FarmsByTwin(w.Ctx, &types.QueryFarmsByTwinRequest{TwinId: w.farmerTwin, Pagination: &query.PageRequest{Limit: 1001}})
	require.ErrorIs(t, err, sdkerrors.ErrInvalidRequest)
	require.ErrorContains(t, err, "limit 1001 above the maximum 1000")
}
