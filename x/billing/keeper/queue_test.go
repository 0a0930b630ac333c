package keeper_test

import (
	"errors"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"
)

// due is Queue.Due's ids, failing the test on an error.
func (f *fixture) due(now int64, limit uint32) []uint64 {
	f.T.Helper()
	keys, err := f.k.Queue.Due(f.Ctx, now, limit)
	require.NoError(f.T, err)
	ids := make([]uint64, len(keys))
	for i, key := range keys {
		ids[i] = key.K2()
	}
	return ids
}

func (f *fixture) queueFloor() (int64, bool) {
	f.T.Helper()
	floor, err := f.k.Queue.Floor.Get(f.Ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, false
	}
	require.NoError(f.T, err)
	return floor, true
}

func TestDueQueueFloor(t *testing.T) {
	f := newBareFixture(t)
	add := func(due int64, id uint64) { require.NoError(t, f.k.Queue.Add(f.Ctx, due, id)) }
	add(100, 1)
	add(200, 2)
	add(200, 3)
	add(300, 4)

	// No floor yet: the walk starts at the queue's beginning; the floor then stands at the first due key.
	_, found := f.queueFloor()
	require.False(t, found)
	require.Equal(t, []uint64{1, 2}, f.due(250, 2))
	floor, found := f.queueFloor()
	require.True(t, found)
	require.Equal(t, int64(100), floor)

	// Those listed go; the next walk finds the rest due, from the floor on.
	require.NoError(t, f.k.Queue.Remove(f.Ctx, 100, 1))
	require.NoError(t, f.k.Queue.Remove(f.Ctx, 200, 2))
	require.Equal(t, []uint64{3}, f.due(250, 2))
	floor, _ = f.queueFloor()
	require.Equal(t, int64(200), floor)
	require.NoError(t, f.k.Queue.Remove(f.Ctx, 200, 3))

	// Nothing due: the floor moves past now, and keys before it are not walked any more.
	require.Empty(t, f.due(250, 2))
	floor, _ = f.queueFloor()
	require.Equal(t, int64(251), floor)
	require.NoError(t, f.k.Queue.Keys.Set(f.Ctx, collections.Join(int64(120), uint64(9)))) // behind Add's back
	require.Empty(t, f.due(260, 2), "a walk from the floor does not see a key before it")
	require.NoError(t, f.k.Queue.Keys.Remove(f.Ctx, collections.Join(int64(120), uint64(9))))

	// Adding before the floor lowers it, so nothing queued is ever skipped.
	add(150, 5)
	floor, _ = f.queueFloor()
	require.Equal(t, int64(150), floor)
	require.Equal(t, []uint64{5, 4}, f.due(300, 5))

	// A limit of 0 lists nothing and keeps the floor.
	require.Empty(t, f.due(300, 0))
	floor, _ = f.queueFloor()
	require.Equal(t, int64(150), floor)
}
