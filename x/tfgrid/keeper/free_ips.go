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
type FreeIPIndex struct {
	keys collections.KeySet[collections.Pair[uint64, uint32]]
}

// NewFreeIPIndex creates the index under prefix.
func NewFreeIPIndex(sb *collections.SchemaBuilder, prefix collections.Prefix, name string) *FreeIPIndex {
	return &FreeIPIndex{keys: collections.NewKeySet(sb, prefix, name,
		collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), collections.WithKeySetSecondaryIndex())}
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
	return i.keys.Set(ctx, key)
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

// First returns the bare addresses of up to n free IPs of a farm, lowest address first.
func (i *FreeIPIndex) First(ctx context.Context, farmID uint64, n uint32) ([]string, error) {
	iter, err := i.keys.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint32](farmID))
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var addrs []string
	for ; iter.Valid() && uint32(len(addrs)) < n; iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return nil, err
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], key.K2())
		addrs = append(addrs, netip.AddrFrom4(b).String())
	}
	return addrs, nil
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
