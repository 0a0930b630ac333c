package relay

import (
	"sync"
	"time"
)

// rateLimiter counts messages and bytes per twin in fixed windows (shared by the twin's sessions).
type rateLimiter struct {
	messages int
	bytes    int64
	window   time.Duration

	mu     sync.Mutex
	start  time.Time
	counts map[uint64]*rateCount
}

type rateCount struct {
	n     int
	bytes int64
}

func newRateLimiter(messages int, bytes int64, window time.Duration) *rateLimiter {
	if messages <= 0 && bytes <= 0 {
		return nil
	}
	if window <= 0 {
		window = time.Minute
	}
	return &rateLimiter{messages: messages, bytes: bytes, window: window, counts: map[uint64]*rateCount{}}
}

// allow counts one message of size bytes for twin and tells whether it is within the limits.
func (l *rateLimiter) allow(twin uint64, size int, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		l.start = now
		clear(l.counts) // a fresh window for everyone: memory stays bounded by the active twins
	}
	c := l.counts[twin]
	if c == nil {
		c = &rateCount{}
		l.counts[twin] = c
	}
	if (l.messages > 0 && c.n+1 > l.messages) || (l.bytes > 0 && c.bytes+int64(size) > l.bytes) {
		return false
	}
	c.n++
	c.bytes += int64(size)
	return true
}
