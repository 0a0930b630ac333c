package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
)

// dueQueue orders ids by due time, as (due, id) keys, and remembers a floor: a due time at or before
// every key's. EndBlock takes the head of a queue as it comes due and re-adds the ids further back, so
// the store under IAVL (an LSM tree) holds the deleted head keys until a compaction drops them; a walk
// from the queue's start stepped over every one of them each block (a fifth of EndBlock's CPU at 1M
// contracts, docs/benchmarks.md). Walks start at the floor instead.
type dueQueue struct {
	Keys collections.KeySet[collections.Pair[int64, uint64]]
	// Floor is at or before every due time in Keys; absent (a fresh or imported state), walks start at
	// the queue's beginning.
	Floor collections.Item[int64]
}

func newDueQueue(sb *collections.SchemaBuilder, keys, floor collections.Prefix, name string) dueQueue {
	return dueQueue{
		Keys:  collections.NewKeySet(sb, keys, name, collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		Floor: collections.NewItem(sb, floor, name+"_floor", collections.Int64Value),
	}
}

// Add queues id at due, lowering the floor to due if it stood after it.
func (q dueQueue) Add(ctx context.Context, due int64, id uint64) error {
	if err := q.Keys.Set(ctx, collections.Join(due, id)); err != nil {
		return err
	}
	floor, found, err := q.floor(ctx)
	if err != nil || !found || floor <= due {
		return err
	}
	return q.Floor.Set(ctx, due)
}

// Remove takes id, queued at due, out of the queue.
func (q dueQueue) Remove(ctx context.Context, due int64, id uint64) error {
	return q.Keys.Remove(ctx, collections.Join(due, id))
}

// Due lists in due order up to limit keys due at or before now, and raises the floor to the first of
// them (after now when there is none): no key is due before the first one found, whatever the caller
// does with those listed.
func (q dueQueue) Due(ctx context.Context, now int64, limit uint32) ([]collections.Pair[int64, uint64], error) {
	if limit == 0 {
		return nil, nil
	}
	floor, found, err := q.floor(ctx)
	if err != nil {
		return nil, err
	}
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndExclusive(collections.Join(now+1, uint64(0)))
	if found {
		rng = rng.StartInclusive(collections.Join(floor, uint64(0)))
	}
	var due []collections.Pair[int64, uint64]
	err = q.Keys.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		due = append(due, key)
		return uint32(len(due)) >= limit, nil
	})
	if err != nil {
		return nil, err
	}
	next := now + 1
	if len(due) > 0 {
		next = due[0].K1()
	}
	if found && floor >= next {
		return due, nil
	}
	return due, q.Floor.Set(ctx, next)
}

// floor is the queue's floor, found false when it has none.
func (q dueQueue) floor(ctx context.Context) (int64, bool, error) {
	floor, err := q.Floor.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, false, nil
	}
	return floor, err == nil, err
}

// checkFloor: no key of the queue is due before its floor.
func (q dueQueue) checkFloor(ctx context.Context, name string) error {
	floor, found, err := q.floor(ctx)
	if err != nil || !found {
		return err
	}
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndExclusive(collections.Join(floor, uint64(0)))
	return q.Keys.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		return true, broken("%s: id %d is due at %d, before the queue's floor %d", name, key.K2(), key.K1(), floor)
	})
}
