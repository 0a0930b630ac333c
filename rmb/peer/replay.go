package peer

import (
	"sync"
	"time"
)

// maxReplayEntries bounds the replay cache; when it is full of live entries, new envelopes are
// dropped (the sender retries or times out) rather than accepted unchecked.
const maxReplayEntries = 1 << 20

type replayKey struct {
	twin uint64
	uid  string
}

// replayCache remembers the (source twin, uid) of every envelope accepted, until its deadline: an
// envelope delivered twice (a relay replaying it, a re-delivery after a reconnect) is handled once.
type replayCache struct {
	mu   sync.Mutex
	seen map[replayKey]time.Time
	max  int
}

func newReplayCache(max int) *replayCache {
	return &replayCache{seen: map[replayKey]time.Time{}, max: max}
}

// first records (twin, uid) until deadline and tells whether it was new and there was room.
func (c *replayCache) first(twin uint64, uid string, deadline, now time.Time) bool {
	k := replayKey{twin, uid}
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[k]; ok && now.Before(until) {
		return false
	}
	if len(c.seen) >= c.max {
		for k, until := range c.seen {
			if !now.Before(until) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			return false
		}
	}
	c.seen[k] = deadline
	return true
}
