package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrQueueFull is returned by Store.Push when the destination twin's queues, or the whole store,
// would exceed a count or byte bound.
var ErrQueueFull = errors.New("queue full")

// Entry is one kept envelope.
type Entry struct {
	ID       string // store-assigned, increasing within a queue
	Deadline int64  // unix seconds after which it is dropped
	Data     []byte // the envelope as received
}

// Expired is an entry removed by Store.Expire, with its queue.
type Expired struct {
	Queue string
	Entry
}

// Limits bound a store. The per-destination bounds hold for all the queues of one twin together
// (every session queue "s/<twin>/…"; its forward queue "f/<twin>" is bounded apart), so a sender
// cannot multiply them by naming more sessions. Zero means unbounded.
type Limits struct {
	MaxCount      int   // envelopes per destination twin
	MaxBytes      int64 // bytes of envelopes per destination twin
	MaxTotalCount int   // envelopes in the whole store
	MaxTotalBytes int64 // bytes in the whole store
}

// usage is a count of kept envelopes and their bytes.
type usage struct {
	n     int
	bytes int64
}

// full tells which bound (if any) one more envelope of size bytes would break.
func (l Limits) full(owner, total usage, size int64) string {
	switch {
	case l.MaxCount > 0 && owner.n+1 > l.MaxCount, l.MaxBytes > 0 && owner.bytes+size > l.MaxBytes:
		return fmt.Sprintf("holds %d envelopes, %d bytes (bounds %d, %d per destination twin)", owner.n, owner.bytes, l.MaxCount, l.MaxBytes)
	case l.MaxTotalCount > 0 && total.n+1 > l.MaxTotalCount, l.MaxTotalBytes > 0 && total.bytes+size > l.MaxTotalBytes:
		return fmt.Sprintf("the store holds %d envelopes, %d bytes (bounds %d, %d in all)", total.n, total.bytes, l.MaxTotalCount, l.MaxTotalBytes)
	}
	return ""
}

// queueOwner is the group a queue's bounds count in: "s/<twin>" for every session of a twin,
// "f/<twin>" for its forward queue.
func queueOwner(q string) string {
	if rest, ok := strings.CutPrefix(q, "s/"); ok {
		if twin, _, ok := strings.Cut(rest, "/"); ok {
			return "s/" + twin
		}
	}
	return q
}

// Store keeps envelopes for destinations that are not connected, in per-destination queues, so that
// they survive a relay restart. Queue names are "s/<twin>/<session>" (a peer session) and
// "f/<twin>" (envelopes waiting to be forwarded to the twin's relays).
type Store interface {
	// Push appends data to queue q, or fails with ErrQueueFull.
	Push(ctx context.Context, q string, deadline int64, data []byte) error
	// Peek returns up to n oldest entries of q (nil when empty).
	Peek(ctx context.Context, q string, n int) ([]Entry, error)
	// Take removes and returns up to n oldest entries of q, atomically: two callers (two connections
	// of one session, on one relay or on relays sharing the store) never both get an entry.
	Take(ctx context.Context, q string, n int) ([]Entry, error)
	// Ack removes entries of q by id (absent ids are ignored).
	Ack(ctx context.Context, q string, ids ...string) error
	// Expire removes and returns up to max entries whose deadline is before now.
	Expire(ctx context.Context, now int64, max int) ([]Expired, error)
	// Queues lists the non-empty queues whose name starts with prefix.
	Queues(ctx context.Context, prefix string) ([]string, error)
	// Stats returns the number of queues, entries and bytes kept: only what is stored durably.
	Stats(ctx context.Context) (queues, entries int, bytes int64, err error)
	// Remember records key (with value) for ttl. Unless replace, an existing key is kept. fresh tells
	// whether the key was absent. Relays remember used tokens, federation bodies, forwarded envelopes
	// and recently connected sessions with it.
	Remember(ctx context.Context, key, value string, ttl time.Duration, replace bool) (fresh bool, err error)
	// Recall returns the value of a remembered key that has not expired, removing it when take.
	Recall(ctx context.Context, key string, take bool) (value string, ok bool, err error)
	// Close releases the store.
	Close() error
}

// Bus connects relay processes that share a store (Redis): they tell each other that a queue got an
// envelope, or that a session connected (so the older connection is evicted).
type Bus interface {
	// Notify tells every relay that queue q has new entries.
	Notify(ctx context.Context, q string) error
	// Connected tells every relay that instance holds a new connection for queue q.
	Connected(ctx context.Context, q, instance string) error
	// Subscribe calls onNotify and onConnected for the messages of other relays until ctx ends.
	Subscribe(ctx context.Context, onNotify func(q string), onConnected func(q, instance string)) error
}

// SessionQueue is the queue name of a session.
func SessionQueue(twin uint64, session string) string { return fmt.Sprintf("s/%d/%s", twin, session) }

// ForwardQueue is the queue name of envelopes waiting to be forwarded to twin's relays.
func ForwardQueue(twin uint64) string { return fmt.Sprintf("f/%d", twin) }
