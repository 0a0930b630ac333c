package relay

import (
	"context"
	"errors"
	"fmt"
)

// ErrQueueFull is returned by Store.Push when the queue would exceed its count or byte bound.
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

// Limits bound every queue of a store.
type Limits struct {
	MaxCount int   // envelopes per queue
	MaxBytes int64 // bytes of envelopes per queue
}

// Store keeps envelopes for destinations that are not connected, in per-destination queues, so that
// they survive a relay restart. Queue names are "s/<twin>/<session>" (a peer session) and
// "f/<twin>" (envelopes waiting to be forwarded to the twin's relays).
type Store interface {
	// Push appends data to queue q, or fails with ErrQueueFull.
	Push(ctx context.Context, q string, deadline int64, data []byte) error
	// Peek returns up to n oldest entries of q (nil when empty).
	Peek(ctx context.Context, q string, n int) ([]Entry, error)
	// Ack removes entries of q by id (absent ids are ignored).
	Ack(ctx context.Context, q string, ids ...string) error
	// Expire removes and returns up to max entries whose deadline is before now.
	Expire(ctx context.Context, now int64, max int) ([]Expired, error)
	// Queues lists the non-empty queues whose name starts with prefix.
	Queues(ctx context.Context, prefix string) ([]string, error)
	// Stats returns the number of queues, entries and bytes kept.
	Stats(ctx context.Context) (queues, entries int, bytes int64, err error)
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
