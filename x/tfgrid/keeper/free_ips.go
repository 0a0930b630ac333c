package keeper

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// FreeIPIndex lists each farm's free public IPs in address order, keyed (farm id, address as a
// big-endian uint32), so that a reservation reads only the IPs it takes instead of the whole farm.
// It implements collections.Index over PublicIPs and holds an IP exactly while its contract_id is 0.
//
// Reservations always take the lowest free addresses, so the deleted keys pile up at the low end of
// a farm's range, where every later scan would have to step over them (in the block's cache and in
// the database until compaction). A per-farm floor, at or below every free address of the farm,
// lets a scan start past them: Take raises it, a new free IP below it lowers it.
type FreeIPIndex struct {
	keys   collections.KeySet[collections.Pair[uint64, uint32]]
	floors collections.Map[uint64, uint32]
}

// NewFreeIPIndex creates the index under prefix and its floors under floorPrefix.
func NewFreeIPIndex(sb *collections.SchemaBuilder, prefix, floorPrefix collections.Prefix) *FreeIPIndex {
	return &FreeIPIndex{
		keys: collections.NewKeySet(sb, prefix, "free_public_ips_by_farm",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), collections.WithKeySetSecondaryIndex()),
		floors: collections.NewMap(sb, floorPrefix, "free_public_ip_floors", collections.Uint64Key, collections.Uint32Value),
	}
}

// Reference implements collections.Index.
func (i *FreeIPIndex) Reference(ctx context.Context, addr string, ip types.PublicIP, lazyOld func() (types.PublicIP, error)) error {
	old, err := lazyOld()
	switch {
	case err == nil:
		if err := i.unreference(ctx, addr, old); err != nil {
			return err
		}
	case !errors.Is(err, collections.ErrNotFound):
		return err
	}
	if ip.ContractId != 0 {
		return nil
	}
	key, err := freeIPKey(addr, ip.FarmId)
	if err != nil {
		return err
	}
	if err := i.keys.Set(ctx, key); err != nil {
		return err
	}
	floor, err := i.floor(ctx, ip.FarmId)
	if err != nil || key.K2() >= floor {
		return err
	}
	return i.floors.Set(ctx, ip.FarmId, key.K2())
}

// Unreference implements collections.Index.
func (i *FreeIPIndex) Unreference(ctx context.Context, addr string, get func() (types.PublicIP, error)) error {
	ip, err := get()
	if err != nil {
		return err
	}
	return i.unreference(ctx, addr, ip)
}

func (i *FreeIPIndex) unreference(ctx context.Context, addr string, ip types.PublicIP) error {
	if ip.ContractId != 0 {
		return nil
	}
	key, err := freeIPKey(addr, ip.FarmId)
	if err != nil {
		return err
	}
	return i.keys.Remove(ctx, key)
}

// Take returns the bare addresses of the n lowest free IPs of a farm, for the caller to reserve
// all of them in the same transaction, and raises the farm's floor past the last one. With fewer
// than n free it returns those and changes nothing.
func (i *FreeIPIndex) Take(ctx context.Context, farmID uint64, n uint32) ([]string, error) {
	keys, err := i.first(ctx, farmID, n)
	if err != nil || n == 0 || uint32(len(keys)) < n {
		return addrsOf(keys), err
	}
	if last := keys[len(keys)-1]; last < ^uint32(0) {
		if err := i.floors.Set(ctx, farmID, last+1); err != nil {
			return nil, err
		}
	}
	return addrsOf(keys), nil
}

// First returns the bare addresses of up to n free IPs of a farm, lowest first, changing nothing.
func (i *FreeIPIndex) First(ctx context.Context, farmID uint64, n uint32) ([]string, error) {
	keys, err := i.first(ctx, farmID, n)
	return addrsOf(keys), err
}

func (i *FreeIPIndex) first(ctx context.Context, farmID uint64, n uint32) ([]uint32, error) {
	floor, err := i.floor(ctx, farmID)
	if err != nil {
		return nil, err
	}
	rng := new(collections.Range[collections.Pair[uint64, uint32]]).
		StartInclusive(collections.Join(farmID, floor)).
		EndInclusive(collections.Join(farmID, ^uint32(0)))
	iter, err := i.keys.Iterate(ctx, rng)
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var keys []uint32
	for ; iter.Valid() && uint32(len(keys)) < n; iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, key.K2())
	}
	return keys, nil
}

// floor is the farm's floor, 0 when none was set.
func (i *FreeIPIndex) floor(ctx context.Context, farmID uint64) (uint32, error) {
	floor, err := i.floors.Get(ctx, farmID)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return floor, err
}

func addrsOf(keys []uint32) []string {
	addrs := make([]string, 0, len(keys))
	for _, k := range keys {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], k)
		addrs = append(addrs, netip.AddrFrom4(b).String())
	}
	return addrs
}

// farmAddr is a farm IP as a comparable value (collections.Pair holds pointers).
type farmAddr struct {
	farm uint64
	addr uint32
}

// check compares the index with free, every IP whose contract_id is 0, and each listed address
// with its farm's floor.
func (i *FreeIPIndex) check(ctx context.Context, free map[farmAddr]bool) error {
	err := i.keys.Walk(ctx, nil, func(key collections.Pair[uint64, uint32]) (bool, error) {
		addr := addrsOf([]uint32{key.K2()})[0]
		fa := farmAddr{key.K1(), key.K2()}
		if !free[fa] {
			return true, types.ErrInvariantBroken.Wrapf("the free-IP index lists farm %d IP %s, which is held or gone", key.K1(), addr)
		}
		delete(free, fa)
		floor, err := i.floor(ctx, key.K1())
		if err == nil && key.K2() < floor {
			err = types.ErrInvariantBroken.Wrapf("farm %d: free IP %s lies below the floor %s", key.K1(), addr, addrsOf([]uint32{floor})[0])
		}
		return err != nil, err
	})
	if err != nil {
		return err
	}
	for fa := range free {
		return types.ErrInvariantBroken.Wrapf("farm %d IP %s is free but not in the free-IP index", fa.farm, addrsOf([]uint32{fa.addr})[0])
	}
	return nil
}

// freeIPKey is the index key of a farm's IP given by its bare IPv4 address (the PublicIPs key).
func freeIPKey(addr string, farmID uint64) (collections.Pair[uint64, uint32], error) {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		return collections.Pair[uint64, uint32]{}, fmt.Errorf("public IP key %q is not a bare IPv4 address", addr)
	}
	b := a.As4()
	return collections.Join(farmID, binary.BigEndian.Uint32(b[:])), nil
}
