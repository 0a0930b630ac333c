package keeper

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// farmIPIndex lists a farm's IPs. An IP never moves to another farm, so unlike the plain multi index
// it writes nothing when a contract takes or frees an IP: only adding and removing IPs touch it.
type farmIPIndex struct {
	*indexes.Multi[uint64, string, types.PublicIP]
}

// Reference implements collections.Index.
func (i farmIPIndex) Reference(ctx context.Context, addr string, ip types.PublicIP, lazyOld func() (types.PublicIP, error)) error {
	old, err := lazyOld()
	if err == nil && old.FarmId == ip.FarmId {
		return nil
	}
	return i.Multi.Reference(ctx, addr, ip, func() (types.PublicIP, error) { return old, err })
}

// FreeIPIndex holds, per farm, the addresses of its free IPs (contract_id 0) as one sorted list of
// big-endian uint32s. A reservation reads the list instead of the farm's IPs, and the list is one
// key: the reservations of a block on a farm rewrite it once in the tree, where a key per free IP
// would cost a deletion each (and later scans would step over the deleted keys).
type FreeIPIndex struct {
	lists collections.Map[uint64, []byte]
}

// NewFreeIPIndex creates the index under prefix.
func NewFreeIPIndex(sb *collections.SchemaBuilder, prefix collections.Prefix) *FreeIPIndex {
	return &FreeIPIndex{lists: collections.NewMap(sb, prefix, "free_public_ips_by_farm", collections.Uint64Key, collections.BytesValue)}
}

// Reference implements collections.Index.
func (i *FreeIPIndex) Reference(ctx context.Context, addr string, ip types.PublicIP, lazyOld func() (types.PublicIP, error)) error {
	old, err := lazyOld()
	switch {
	case err == nil:
		if old.FarmId == ip.FarmId && (old.ContractId == 0) == (ip.ContractId == 0) {
			return nil // still free, or still held
		}
		if err := i.unreference(ctx, addr, old); err != nil {
			return err
		}
	case !errors.Is(err, collections.ErrNotFound):
		return err
	}
	if ip.ContractId != 0 {
		return nil
	}
	return i.update(ctx, addr, ip.FarmId, true)
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
	return i.update(ctx, addr, ip.FarmId, false)
}

// update adds (free) or removes an address in its farm's list.
func (i *FreeIPIndex) update(ctx context.Context, addr string, farmID uint64, free bool) error {
	a, err := addrKey(addr)
	if err != nil {
		return err
	}
	list, err := i.list(ctx, farmID)
	if err != nil {
		return err
	}
	at, found := slices.BinarySearch(list, a)
	switch {
	case free && !found:
		list = slices.Insert(list, at, a)
	case !free && found:
		list = slices.Delete(list, at, at+1)
	default:
		return nil
	}
	if len(list) == 0 {
		return i.lists.Remove(ctx, farmID)
	}
	return i.lists.Set(ctx, farmID, encodeAddrs(list))
}

// First returns the bare addresses of up to n free IPs of a farm, lowest first.
func (i *FreeIPIndex) First(ctx context.Context, farmID uint64, n uint32) ([]string, error) {
	list, err := i.list(ctx, farmID)
	if err != nil {
		return nil, err
	}
	list = list[:min(uint32(len(list)), n)]
	addrs := make([]string, 0, len(list))
	for _, a := range list {
		addrs = append(addrs, addrString(a))
	}
	return addrs, nil
}

// Page is one page of a farm's free IPs in address order (descending with reverse). A key is the
// 4-byte big-endian address to start from, as next_key returns it. The list is one value bounded by
// max_farm_public_ips, so offsets and totals cost nothing more.
func (i *FreeIPIndex) Page(ctx context.Context, farmID uint64, p *query.PageRequest) ([]string, *query.PageResponse, error) {
	if p == nil {
		p = &query.PageRequest{}
	}
	if len(p.Key) != 0 && len(p.Key) != 4 {
		return nil, nil, types.ErrInvalidQuery.Wrapf("pagination key %x: want the 4-byte next_key of a previous page", p.Key)
	}
	list, err := i.list(ctx, farmID)
	if err != nil {
		return nil, nil, err
	}
	if p.Reverse {
		slices.Reverse(list)
	}
	start := min(p.Offset, uint64(len(list)))
	if len(p.Key) == 4 {
		key := binary.BigEndian.Uint32(p.Key)
		at := slices.IndexFunc(list, func(a uint32) bool { return a == key || (a > key) != p.Reverse })
		start = uint64(len(list))
		if at >= 0 {
			start = uint64(at)
		}
	}
	limit := p.Limit
	if limit == 0 {
		limit = query.DefaultLimit
	}
	end := start + min(limit, uint64(len(list))-start)
	resp := &query.PageResponse{}
	if end < uint64(len(list)) {
		resp.NextKey = binary.BigEndian.AppendUint32(nil, list[end])
	}
	if p.CountTotal {
		resp.Total = uint64(len(list))
	}
	addrs := make([]string, 0, end-start)
	for _, a := range list[start:end] {
		addrs = append(addrs, addrString(a))
	}
	return addrs, resp, nil
}

// Count is the number of free IPs of a farm.
func (i *FreeIPIndex) Count(ctx context.Context, farmID uint64) (uint64, error) {
	list, err := i.list(ctx, farmID)
	return uint64(len(list)), err
}

// list decodes a farm's list (empty when the farm has no free IP).
func (i *FreeIPIndex) list(ctx context.Context, farmID uint64) ([]uint32, error) {
	bz, err := i.lists.Get(ctx, farmID)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bz)%4 != 0 {
		return nil, fmt.Errorf("free IPs of farm %d: %d bytes is not a list of IPv4 addresses", farmID, len(bz))
	}
	list := make([]uint32, len(bz)/4)
	for k := range list {
		list[k] = binary.BigEndian.Uint32(bz[4*k:])
	}
	return list, nil
}

// farmAddr is a farm IP as a comparable value.
type farmAddr struct {
	farm uint64
	addr uint32
}

// check compares the index with free, every IP whose contract_id is 0, and requires each list to be
// sorted without duplicates.
func (i *FreeIPIndex) check(ctx context.Context, free map[farmAddr]bool) error {
	var farms []uint64
	if err := i.lists.Walk(ctx, nil, func(farmID uint64, _ []byte) (bool, error) {
		farms = append(farms, farmID)
		return false, nil
	}); err != nil {
		return err
	}
	for _, farmID := range farms {
		list, err := i.list(ctx, farmID)
		if err != nil {
			return err
		}
		if len(list) == 0 || !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
			return types.ErrInvariantBroken.Wrapf("the free-IP list of farm %d is empty, unsorted or repeats an address", farmID)
		}
		for _, a := range list {
			fa := farmAddr{farmID, a}
			if !free[fa] {
				return types.ErrInvariantBroken.Wrapf("the free-IP index lists farm %d IP %s, which is held or gone", farmID, addrString(a))
			}
			delete(free, fa)
		}
	}
	for fa := range free {
		return types.ErrInvariantBroken.Wrapf("farm %d IP %s is free but not in the free-IP index", fa.farm, addrString(fa.addr))
	}
	return nil
}

// addrKey is a bare IPv4 address (the PublicIPs key) as a big-endian uint32.
func addrKey(addr string) (uint32, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("public IP key %q is not a bare IPv4 address", addr)
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:]), nil
}

func addrString(a uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.AddrFrom4(b).String()
}

func encodeAddrs(list []uint32) []byte {
	bz := make([]byte, 4*len(list))
	for k, a := range list {
		binary.BigEndian.PutUint32(bz[4*k:], a)
	}
	return bz
}
