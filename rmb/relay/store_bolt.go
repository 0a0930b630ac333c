package relay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is the embedded Store: one bbolt file, one bucket per queue, keys the big-endian
// sequence, values deadline (8 bytes, big-endian) || envelope. Writes are fsynced (batched across
// concurrent callers), so an acknowledged Push survives a crash. Remembered keys live in memory:
// they are short-lived (tokens, replay windows) and a restart forgets them.
type BoltStore struct {
	db     *bolt.DB
	limits Limits

	mu     sync.Mutex
	counts map[string]*queueCount
	owners map[string]*usage // by queueOwner
	total  usage
	marks  map[string]mark
	// writing is what counts and total already hold (so the bounds see it) but is not committed
	// yet: Stats leaves it out, so what it reports survives a crash.
	writing  usage
	writingQ map[string]int
}

type mark struct {
	value string
	until time.Time
}

// maxMarks bounds the remembered keys; past it, expired ones are dropped, then Remember fails.
const maxMarks = 1 << 20

type queueCount struct {
	n           int
	bytes       int64
	minDeadline int64 // a lower bound of the queue's deadlines
}

// OpenBoltStore opens (creating) the store file at path.
func OpenBoltStore(path string, limits Limits) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &BoltStore{db: db, limits: limits, counts: map[string]*queueCount{}, owners: map[string]*usage{}, marks: map[string]mark{},
		writingQ: map[string]int{}}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			c := &queueCount{minDeadline: 1<<63 - 1}
			err := b.ForEach(func(_, v []byte) error {
				if len(v) < 8 {
					return nil
				}
				c.n++
				c.bytes += int64(len(v) - 8)
				c.minDeadline = min(c.minDeadline, int64(binary.BigEndian.Uint64(v)))
				return nil
			})
			if c.n > 0 {
				s.counts[string(name)] = c
				s.count(string(name), c.n, c.bytes)
			}
			return err
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read store %s: %w", path, err)
	}
	return s, nil
}

// Push implements Store.
func (s *BoltStore) Push(_ context.Context, q string, deadline int64, data []byte) error {
	s.mu.Lock()
	owner := s.owners[queueOwner(q)]
	if owner == nil {
		owner = &usage{}
	}
	if why := s.limits.full(*owner, s.total, int64(len(data))); why != "" {
		s.mu.Unlock()
		return fmt.Errorf("%w: queue %s: %s", ErrQueueFull, q, why)
	}
	c := s.counts[q]
	if c == nil {
		c = &queueCount{minDeadline: deadline}
		s.counts[q] = c
	}
	c.minDeadline = min(c.minDeadline, deadline)
	c.n++
	c.bytes += int64(len(data))
	s.count(q, 1, int64(len(data)))
	s.writing.n++
	s.writing.bytes += int64(len(data))
	s.writingQ[q]++
	s.mu.Unlock()
	defer s.written(q, int64(len(data)))

	val := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(val, uint64(deadline))
	copy(val[8:], data)
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(q))
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), val)
	})
	if err != nil {
		s.uncount(q, 1, int64(len(data)))
		return fmt.Errorf("store push %s: %w", q, err)
	}
	return nil
}

// written ends the write of one envelope of size bytes to q, committed or not.
func (s *BoltStore) written(q string, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writing.n--
	s.writing.bytes -= size
	if s.writingQ[q]--; s.writingQ[q] <= 0 {
		delete(s.writingQ, q)
	}
}

// count adds n envelopes of bytes to q's owner and the total; the caller holds s.mu.
func (s *BoltStore) count(q string, n int, bytes int64) {
	o := queueOwner(q)
	u := s.owners[o]
	if u == nil {
		u = &usage{}
		s.owners[o] = u
	}
	u.n += n
	u.bytes += bytes
	if u.n <= 0 {
		delete(s.owners, o)
	}
	s.total.n += n
	s.total.bytes += bytes
}

func (s *BoltStore) uncount(q string, n int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.counts[q]; c != nil {
		c.n -= n
		c.bytes -= bytes
		if c.n <= 0 {
			delete(s.counts, q)
		}
		s.count(q, -n, -bytes)
	}
}

// Peek implements Store.
func (s *BoltStore) Peek(_ context.Context, q string, n int) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(q))
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		for k, v := cur.First(); k != nil && len(out) < n; k, v = cur.Next() {
			if e, ok := boltEntry(k, v); ok {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// boltEntry decodes a bucket's key (sequence) and value (deadline ‖ envelope).
func boltEntry(k, v []byte) (Entry, bool) {
	if len(k) != 8 || len(v) < 8 {
		return Entry{}, false
	}
	return Entry{
		ID:       strconv.FormatUint(binary.BigEndian.Uint64(k), 10),
		Deadline: int64(binary.BigEndian.Uint64(v)),
		Data:     bytes.Clone(v[8:]),
	}, true
}

// Take implements Store: one transaction reads and deletes the oldest n entries.
func (s *BoltStore) Take(_ context.Context, q string, n int) ([]Entry, error) {
	var out []Entry
	var removed int64
	err := s.db.Batch(func(tx *bolt.Tx) error {
		out, removed = nil, 0
		b := tx.Bucket([]byte(q))
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		for k, v := cur.First(); k != nil && len(out) < n; k, v = cur.First() {
			if e, ok := boltEntry(k, v); ok {
				out = append(out, e)
				removed += int64(len(e.Data))
			}
			if err := cur.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store take %s: %w", q, err)
	}
	s.uncount(q, len(out), removed)
	return out, nil
}

// Ack implements Store.
func (s *BoltStore) Ack(_ context.Context, q string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.remove(q, ids); err != nil {
		return fmt.Errorf("store ack %s: %w", q, err)
	}
	return nil
}

// remove deletes ids from q and returns those it deleted.
func (s *BoltStore) remove(q string, ids []string) ([]string, error) {
	var gone []string
	var removed int64
	err := s.db.Batch(func(tx *bolt.Tx) error {
		gone, removed = nil, 0
		b := tx.Bucket([]byte(q))
		if b == nil {
			return nil
		}
		for _, id := range ids {
			seq, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				continue
			}
			k := binary.BigEndian.AppendUint64(nil, seq)
			if v := b.Get(k); v != nil {
				gone = append(gone, id)
				removed += int64(len(v) - 8)
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.uncount(q, len(gone), removed)
	return gone, nil
}

// Expire implements Store. It reads only the queues whose earliest deadline has passed (tracked in
// memory), and writes (one fsynced transaction) only when something expired.
func (s *BoltStore) Expire(_ context.Context, now int64, max int) ([]Expired, error) {
	s.dropExpiredMarks(time.Unix(now, 0))
	s.mu.Lock()
	var due []string
	for q, c := range s.counts {
		if c.n > 0 && c.minDeadline < now {
			due = append(due, q)
		}
	}
	s.mu.Unlock()
	if len(due) == 0 {
		return nil, nil
	}
	var out []Expired
	mins := map[string]int64{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, q := range due {
			b := tx.Bucket([]byte(q))
			if b == nil {
				continue
			}
			min := int64(1<<63 - 1)
			err := b.ForEach(func(k, v []byte) error {
				if len(k) != 8 || len(v) < 8 {
					return nil
				}
				d := int64(binary.BigEndian.Uint64(v))
				if d < now && len(out) < max {
					out = append(out, Expired{Queue: q, Entry: Entry{
						ID: strconv.FormatUint(binary.BigEndian.Uint64(k), 10), Deadline: d, Data: bytes.Clone(v[8:]),
					}})
				} else if d < min {
					min = d
				}
				return nil
			})
			if err != nil {
				return err
			}
			mins[q] = min
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store expire: %w", err)
	}
	s.mu.Lock()
	for q, m := range mins {
		if c := s.counts[q]; c != nil {
			c.minDeadline = m
		}
	}
	s.mu.Unlock()
	if len(out) == 0 {
		return nil, nil
	}
	// Remove them; an entry acknowledged meanwhile (delivered) is not reported.
	byQueue := map[string][]string{}
	for _, e := range out {
		byQueue[e.Queue] = append(byQueue[e.Queue], e.ID)
	}
	removed := map[string]bool{}
	for q, ids := range byQueue {
		gone, err := s.remove(q, ids)
		if err != nil {
			return nil, fmt.Errorf("store expire: %w", err)
		}
		for _, id := range gone {
			removed[q+"\x00"+id] = true
		}
	}
	kept := out[:0]
	for _, e := range out {
		if removed[e.Queue+"\x00"+e.ID] {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// Queues implements Store.
func (s *BoltStore) Queues(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for q, c := range s.counts {
		if c.n > 0 && len(q) >= len(prefix) && q[:len(prefix)] == prefix {
			out = append(out, q)
		}
	}
	return out, nil
}

// Stats implements Store: envelopes whose write is not committed yet are left out.
func (s *BoltStore) Stats(context.Context) (int, int, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queues := 0
	for q, c := range s.counts {
		if c.n > s.writingQ[q] {
			queues++
		}
	}
	return queues, s.total.n - s.writing.n, s.total.bytes - s.writing.bytes, nil
}

// Remember implements Store.
func (s *BoltStore) Remember(_ context.Context, key, value string, ttl time.Duration, replace bool) (bool, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m, exists := s.marks[key]
	fresh := !exists || !now.Before(m.until)
	if !fresh && !replace {
		return false, nil
	}
	if fresh && len(s.marks) >= maxMarks {
		s.pruneMarks(now)
		if len(s.marks) >= maxMarks {
			return false, fmt.Errorf("store remember %s: %d keys remembered, at most %d", key, len(s.marks), maxMarks)
		}
	}
	s.marks[key] = mark{value: value, until: now.Add(ttl)}
	return fresh, nil
}

// Recall implements Store.
func (s *BoltStore) Recall(_ context.Context, key string, take bool) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.marks[key]
	if !ok {
		return "", false, nil
	}
	if take || !time.Now().Before(m.until) {
		delete(s.marks, key)
	}
	if !time.Now().Before(m.until) {
		return "", false, nil
	}
	return m.value, true, nil
}

// dropExpiredMarks forgets remembered keys past their time (the expiry sweep calls it).
func (s *BoltStore) dropExpiredMarks(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneMarks(now)
}

// pruneMarks drops expired remembered keys; the caller holds s.mu.
func (s *BoltStore) pruneMarks(now time.Time) {
	for k, m := range s.marks {
		if !now.Before(m.until) {
			delete(s.marks, k)
		}
	}
}

// Close implements Store.
func (s *BoltStore) Close() error {
	if s.db == nil {
		return errors.New("store already closed")
	}
	err := s.db.Close()
	return err
}
