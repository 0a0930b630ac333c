package peer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReplayCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newReplayCache(2)
	for _, s := range []struct {
		twin uint64
		uid  string
		at   time.Time
		want bool
	}{
		{1, "a", now, true},
		{1, "a", now.Add(59 * time.Second), false}, // replay before the deadline
		{2, "a", now, true},                        // same uid, other source
		{3, "b", now, false},                       // full of live entries
		{1, "a", now.Add(60 * time.Second), true},  // deadline passed: room again, a new entry
		{3, "b", now.Add(61 * time.Second), true},
	} {
		require.Equal(t, s.want, c.first(s.twin, s.uid, s.at.Add(60*time.Second), s.at), "%d %s at %s", s.twin, s.uid, s.at)
	}
}
