package keeper_test

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// TestPublicIPReservation covers the keeper API x/smartcontract uses to hand IPs to contracts.
func TestPublicIPReservation(t *testing.T) {
	w := newFarmWorld(t) // farm 1: .10 and .11 free
	_, err := w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: w.farmer, FarmId: 1, Ip: ip(12).Ip, Gateway: ip(12).Gateway})
	require.NoError(t, err)

	// Asking for more than is free reserves nothing.
	before := w.export()
	_, err = w.Grid.ReservePublicIPs(w.Ctx, 1, 4, 100)
	requireerr.Is(t, err, types.ErrNotEnoughPublicIPs, "farm 1", "3 free", "contract 100", "asks 4")
	require.Equal(t, before, w.export())
	_, err = w.Grid.ReservePublicIPs(w.Ctx, 2, 1, 100)
	requireerr.Is(t, err, types.ErrNotEnoughPublicIPs, "farm 2", "0 free")

	// Two IPs for contract 100, the next free one for contract 101.
	got, err := w.Grid.ReservePublicIPs(w.Ctx, 1, 2, 100)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, x := range got {
		require.Equal(t, uint64(100), x.ContractId)
		stored, err := w.Grid.GetPublicIP(w.Ctx, x.Ip)
		require.NoError(t, err)
		require.Equal(t, x, stored)
	}
	third, err := w.Grid.ReservePublicIPs(w.Ctx, 1, 1, 101)
	require.NoError(t, err)
	require.Len(t, third, 1)
	require.NotContains(t, []string{got[0].Ip, got[1].Ip}, third[0].Ip)
	_, err = w.Grid.ReservePublicIPs(w.Ctx, 1, 1, 102)
	requireerr.Is(t, err, types.ErrNotEnoughPublicIPs, "0 free")
	none, err := w.Grid.ReservePublicIPs(w.Ctx, 1, 0, 102)
	require.NoError(t, err)
	require.Empty(t, none)

	// A reserved IP cannot be removed by its farmer.
	_, err = w.GridMsg.RemoveFarmIp(w.Ctx, &types.MsgRemoveFarmIp{Creator: w.farmer, FarmId: 1, Ip: third[0].Ip})
	requireerr.Is(t, err, types.ErrPublicIPInUse, "contract 101")

	// Release frees only what the contract holds in that farm; unknown IPs are skipped.
	require.NoError(t, w.Grid.ReleasePublicIPs(w.Ctx, 1, 100, []string{got[0].Ip, third[0].Ip, "185.206.122.99/24"}))
	require.NoError(t, w.Grid.ReleasePublicIPs(w.Ctx, 2, 100, []string{got[1].Ip}))
	held := map[string]uint64{}
	for _, x := range w.farmIPs(1) {
		held[x.Ip] = x.ContractId
	}
	require.Equal(t, map[string]uint64{got[0].Ip: 0, got[1].Ip: 100, third[0].Ip: 101}, held)
	requireerr.Is(t, w.Grid.ReleasePublicIPs(w.Ctx, 1, 100, []string{"not-an-ip"}), types.ErrInvalidPublicIP, "not-an-ip")

	// SetPublicIPContract rewrites one entry, given in CIDR form.
	ipv, err := w.Grid.GetPublicIP(w.Ctx, "185.206.122.10")
	require.NoError(t, err)
	require.NoError(t, w.Grid.SetPublicIPContract(w.Ctx, ipv, 7))
	ipv, err = w.Grid.GetPublicIP(w.Ctx, "185.206.122.10/24")
	require.NoError(t, err)
	require.Equal(t, uint64(7), ipv.ContractId)
	requireerr.Is(t, w.Grid.SetPublicIPContract(w.Ctx, types.PublicIP{Ip: "bogus"}, 1), types.ErrInvalidPublicIP, "bogus")

	_, err = w.Grid.GetPublicIP(w.Ctx, "185.206.122.99")
	requireerr.Is(t, err, types.ErrPublicIPNotFound, "185.206.122.99")
	_, err = w.Grid.GetPublicIP(w.Ctx, "::1")
	requireerr.Is(t, err, types.ErrInvalidPublicIP, "::1")

	// WalkPublicIPs visits every IP and stops at the first error.
	var seen []string
	require.NoError(t, w.Grid.WalkPublicIPs(w.Ctx, func(x types.PublicIP) error { seen = append(seen, x.Ip); return nil }))
	require.Len(t, seen, 3)
	stop := errors.New("stop")
	calls := 0
	err = w.Grid.WalkPublicIPs(w.Ctx, func(types.PublicIP) error { calls++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

// TestFreeIPIndex checks that reservations take the lowest free addresses numerically, and that the
// free-IP index holds exactly the IPs without a contract through reserve, release, add, remove and a
// genesis round trip.
func TestFreeIPIndex(t *testing.T) {
	w := newFarmWorld(t) // farm 1: .10 and .11; farm 2: none
	for _, host := range []int{100, 9, 2} {
		_, err := w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: w.farmer, FarmId: 1, Ip: ip(host).Ip, Gateway: ip(host).Gateway})
		require.NoError(t, err)
	}
	requireFreeIndexExact(t, w.fixture)

	reserve := func(n uint32, contract uint64) []string {
		t.Helper()
		got, err := w.Grid.ReservePublicIPs(w.Ctx, 1, n, contract)
		require.NoError(t, err)
		var cidrs []string
		for _, x := range got {
			cidrs = append(cidrs, x.Ip)
		}
		requireFreeIndexExact(t, w.fixture)
		return cidrs
	}
	// Numeric order: .2 before .9 before .10, though ".10" < ".2" as strings.
	require.Equal(t, []string{ip(2).Ip}, reserve(1, 50))
	require.Equal(t, []string{ip(9).Ip, ip(10).Ip}, reserve(2, 51))
	require.NoError(t, w.Grid.ReleasePublicIPs(w.Ctx, 1, 51, []string{ip(9).Ip}))
	requireFreeIndexExact(t, w.fixture)
	require.Equal(t, []string{ip(9).Ip}, reserve(1, 52))
	// A new IP below every taken one is the next one taken.
	_, err := w.GridMsg.AddFarmIp(w.Ctx, &types.MsgAddFarmIp{Creator: w.farmer, FarmId: 1, Ip: ip(3).Ip, Gateway: ip(3).Gateway})
	require.NoError(t, err)
	requireFreeIndexExact(t, w.fixture)
	require.Equal(t, []string{ip(3).Ip}, reserve(1, 55))
	// A refused reservation leaves the index as it was.
	_, err = w.Grid.ReservePublicIPs(w.Ctx, 1, 3, 56)
	requireerr.Is(t, err, types.ErrNotEnoughPublicIPs, "farm 1 has 2 free", "asks 3")
	requireFreeIndexExact(t, w.fixture)

	// Removing a free IP drops it from the index; the last free one is then .11.
	_, err = w.GridMsg.RemoveFarmIp(w.Ctx, &types.MsgRemoveFarmIp{Creator: w.farmer, FarmId: 1, Ip: ip(100).Ip})
	require.NoError(t, err)
	requireFreeIndexExact(t, w.fixture)
	_, err = w.Grid.ReservePublicIPs(w.Ctx, 1, 2, 53)
	requireerr.Is(t, err, types.ErrNotEnoughPublicIPs, "farm 1 has 1 free", "asks 2")

	// A chain started from the exported state rebuilds the same index.
	gs := w.export()
	g := newFixture(t)
	require.NoError(t, g.Grid.InitGenesis(g.Ctx, *gs))
	requireFreeIndexExact(t, g)
	got, err := g.Grid.ReservePublicIPs(g.Ctx, 1, 1, 54)
	require.NoError(t, err)
	require.Equal(t, ip(11).Ip, got[0].Ip)
}

// requireFreeIndexExact checks the registry invariants (the free-IP index holds exactly the IPs
// whose contract_id is 0) and that the index lists each farm's free IPs in address order.
func requireFreeIndexExact(t *testing.T, f *fixture) {
	t.Helper()
	require.NoError(t, f.Grid.CheckInvariants(f.Ctx))
	for farmID := uint64(1); farmID <= 3; farmID++ {
		addrs, err := f.Grid.PublicIPs.Indexes.Free.First(f.Ctx, farmID, 1000)
		require.NoError(t, err)
		require.True(t, slices.IsSortedFunc(addrs, func(a, b string) int {
			return netip.MustParseAddr(a).Compare(netip.MustParseAddr(b))
		}), "farm %d: %v not in address order", farmID, addrs)
	}
}

// TestInvariantsCatchAStaleFreeIndex writes farm IPs behind the index's back: both ways it can go
// stale are caught.
func TestInvariantsCatchAStaleFreeIndex(t *testing.T) {
	w := newFarmWorld(t) // farm 1: .10 and .11 free
	require.NoError(t, w.Grid.CheckInvariants(w.Ctx))
	raw := collections.NewMap(collections.NewSchemaBuilder(w.faults), types.PublicIPsKey, "raw_public_ips",
		collections.StringKey, codec.CollValue[types.PublicIP](w.Cdc))

	// Marked held without the index hearing of it: the index still lists it.
	held, err := w.Grid.GetPublicIP(w.Ctx, "185.206.122.10")
	require.NoError(t, err)
	held.ContractId = 77
	require.NoError(t, raw.Set(w.Ctx, "185.206.122.10", held))
	requireerr.Is(t, w.Grid.CheckInvariants(w.Ctx), types.ErrInvariantBroken, "farm 1 IP 185.206.122.10", "held or gone")

	// A free IP the index never heard of.
	require.NoError(t, raw.Set(w.Ctx, "185.206.122.99", types.PublicIP{Ip: ip(99).Ip, Gateway: ip(99).Gateway, FarmId: 1}))
	held.ContractId = 0
	require.NoError(t, raw.Set(w.Ctx, "185.206.122.10", held))
	requireerr.Is(t, w.Grid.CheckInvariants(w.Ctx), types.ErrInvariantBroken, "farm 1 IP 185.206.122.99 is free but not in the free-IP index")
}
