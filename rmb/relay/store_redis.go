package relay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store (and Bus) in Redis, shared by every relay process that uses the same Redis
// and prefix: queues are streams "<prefix>q:<queue>" with fields d (envelope), x (deadline) and n
// (size); the hash "<prefix>bytes" holds each queue's byte count, the set "<prefix>queues" the
// non-empty queues, and the channel "<prefix>events" carries notifications between relays.
type RedisStore struct {
	c      *redis.Client
	prefix string
	limits Limits
}

// OpenRedisStore connects to Redis at url (redis://[user:password@]host:port/db) and checks it.
func OpenRedisStore(ctx context.Context, url, prefix string, limits Limits) (*RedisStore, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL %q: %w", url, err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis %s: %w", opts.Addr, err)
	}
	if prefix == "" {
		prefix = "rmb:"
	}
	return &RedisStore{c: c, prefix: prefix, limits: limits}, nil
}

func (s *RedisStore) stream(q string) string { return s.prefix + "q:" + q }
func (s *RedisStore) bytesKey() string       { return s.prefix + "bytes" }
func (s *RedisStore) queuesKey() string      { return s.prefix + "queues" }
func (s *RedisStore) channel() string        { return s.prefix + "events" }

func (s *RedisStore) ownersKey() string       { return s.prefix + "owners" }
func (s *RedisStore) totalKey() string        { return s.prefix + "total" }
func (s *RedisStore) markKey(k string) string { return s.prefix + "m:" + k }

// keys of the push, ack and take scripts: the queue's stream, then the counters.
func (s *RedisStore) scriptKeys(q string) []string {
	return []string{s.stream(q), s.bytesKey(), s.queuesKey(), s.ownersKey(), s.totalKey()}
}

// pushScript appends an entry when the owner's (destination twin's) and the store's bounds allow.
// KEYS: stream, bytes, queues, owners, total. ARGV: queue, data, deadline, owner, max count, max
// bytes (per owner), max total count, max total bytes.
var pushScript = redis.NewScript(`
local size = string.len(ARGV[2])
local on = tonumber(redis.call('HGET', KEYS[4], ARGV[4] .. ':n') or '0')
local ob = tonumber(redis.call('HGET', KEYS[4], ARGV[4] .. ':b') or '0')
local tn = tonumber(redis.call('HGET', KEYS[5], 'n') or '0')
local tb = tonumber(redis.call('HGET', KEYS[5], 'b') or '0')
local maxn, maxb, maxtn, maxtb = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if (maxn > 0 and on + 1 > maxn) or (maxb > 0 and ob + size > maxb) then
  return {0, on, ob}
end
if (maxtn > 0 and tn + 1 > maxtn) or (maxtb > 0 and tb + size > maxtb) then
  return {2, tn, tb}
end
redis.call('XADD', KEYS[1], '*', 'd', ARGV[2], 'x', ARGV[3], 'n', size)
redis.call('HINCRBY', KEYS[2], ARGV[1], size)
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], ARGV[4] .. ':n', 1)
redis.call('HINCRBY', KEYS[4], ARGV[4] .. ':b', size)
redis.call('HINCRBY', KEYS[5], 'n', 1)
redis.call('HINCRBY', KEYS[5], 'b', size)
return {1, 0, 0}
`)

// removeLua deletes stream entries by id and keeps every counter right; the ack and take scripts
// share it. ARGV[1] is the queue, ARGV[2] its owner.
const removeLua = `
local function remove(ids)
  local removed, n, gone = 0, 0, {}
  for _, id in ipairs(ids) do
    local e = redis.call('XRANGE', KEYS[1], id, id)
    if #e > 0 then
      local f = e[1][2]
      for j = 1, #f, 2 do
        if f[j] == 'n' then removed = removed + tonumber(f[j + 1]) end
      end
      redis.call('XDEL', KEYS[1], id)
      n = n + 1
      table.insert(gone, e[1])
    end
  end
  if n > 0 then
    redis.call('HINCRBY', KEYS[2], ARGV[1], -removed)
    if redis.call('HINCRBY', KEYS[4], ARGV[2] .. ':n', -n) <= 0 then
      redis.call('HDEL', KEYS[4], ARGV[2] .. ':n', ARGV[2] .. ':b')
    else
      redis.call('HINCRBY', KEYS[4], ARGV[2] .. ':b', -removed)
    end
    redis.call('HINCRBY', KEYS[5], 'n', -n)
    redis.call('HINCRBY', KEYS[5], 'b', -removed)
  end
  if redis.call('XLEN', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('SREM', KEYS[3], ARGV[1])
  end
  return gone
end
`

// ackScript deletes ids (ARGV[3..]) and returns the ids it deleted (so concurrent sweepers of
// several relays never both report an entry).
var ackScript = redis.NewScript(removeLua + `
local ids = {}
for i = 3, #ARGV do table.insert(ids, ARGV[i]) end
local out = {}
for _, e in ipairs(remove(ids)) do table.insert(out, e[1]) end
return out
`)

// takeScript removes and returns the ARGV[3] oldest entries as [id, fields] pairs.
var takeScript = redis.NewScript(removeLua + `
local ids = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[3]))) do
  table.insert(ids, e[1])
end
return remove(ids)
`)

// Push implements Store.
func (s *RedisStore) Push(ctx context.Context, q string, deadline int64, data []byte) error {
	res, err := pushScript.Run(ctx, s.c, s.scriptKeys(q), q, data, deadline, queueOwner(q),
		s.limits.MaxCount, s.limits.MaxBytes, s.limits.MaxTotalCount, s.limits.MaxTotalBytes).Int64Slice()
	if err != nil {
		return fmt.Errorf("redis push %s: %w", q, err)
	}
	if len(res) != 3 {
		return fmt.Errorf("redis push %s: unexpected script answer %v", q, res)
	}
	switch res[0] {
	case 0:
		return fmt.Errorf("%w: queue %s: holds %d envelopes, %d bytes (bounds %d, %d per destination twin)", ErrQueueFull, q, res[1], res[2], s.limits.MaxCount, s.limits.MaxBytes)
	case 2:
		return fmt.Errorf("%w: queue %s: the store holds %d envelopes, %d bytes (bounds %d, %d in all)", ErrQueueFull, q, res[1], res[2], s.limits.MaxTotalCount, s.limits.MaxTotalBytes)
	}
	return nil
}

// Take implements Store.
func (s *RedisStore) Take(ctx context.Context, q string, n int) ([]Entry, error) {
	res, err := takeScript.Run(ctx, s.c, s.scriptKeys(q), q, queueOwner(q), n).Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis take %s: %w", q, err)
	}
	out := make([]Entry, 0, len(res))
	for _, r := range res {
		pair, ok := r.([]any)
		if !ok || len(pair) != 2 {
			continue
		}
		id, _ := pair[0].(string)
		fields, _ := pair[1].([]any)
		values := map[string]any{}
		for i := 0; i+1 < len(fields); i += 2 {
			if k, ok := fields[i].(string); ok {
				values[k] = fields[i+1]
			}
		}
		if e, ok := entryOf(redis.XMessage{ID: id, Values: values}); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// Peek implements Store.
func (s *RedisStore) Peek(ctx context.Context, q string, n int) ([]Entry, error) {
	msgs, err := s.c.XRangeN(ctx, s.stream(q), "-", "+", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis peek %s: %w", q, err)
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		if e, ok := entryOf(m); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func entryOf(m redis.XMessage) (Entry, bool) {
	d, ok := m.Values["d"].(string)
	if !ok {
		return Entry{}, false
	}
	x, _ := m.Values["x"].(string)
	deadline, _ := strconv.ParseInt(x, 10, 64)
	return Entry{ID: m.ID, Deadline: deadline, Data: []byte(d)}, true
}

// Ack implements Store.
func (s *RedisStore) Ack(ctx context.Context, q string, ids ...string) error {
	_, err := s.ack(ctx, q, ids)
	return err
}

func (s *RedisStore) ack(ctx context.Context, q string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(ids)+2)
	args = append(args, q, queueOwner(q))
	for _, id := range ids {
		args = append(args, id)
	}
	gone, err := ackScript.Run(ctx, s.c, s.scriptKeys(q), args...).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis ack %s: %w", q, err)
	}
	return gone, nil
}

// Expire implements Store.
func (s *RedisStore) Expire(ctx context.Context, now int64, max int) ([]Expired, error) {
	queues, err := s.c.SMembers(ctx, s.queuesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis expire: %w", err)
	}
	var out []Expired
	for _, q := range queues {
		msgs, err := s.c.XRange(ctx, s.stream(q), "-", "+").Result()
		if err != nil {
			return out, fmt.Errorf("redis expire %s: %w", q, err)
		}
		var ids []string
		byID := map[string]Entry{}
		for _, m := range msgs {
			if e, ok := entryOf(m); ok && e.Deadline < now && len(ids) < max-len(out) {
				ids = append(ids, e.ID)
				byID[e.ID] = e
			}
		}
		if len(ids) == 0 {
			if len(msgs) == 0 {
				s.c.SRem(ctx, s.queuesKey(), q)
			}
			continue
		}
		gone, err := s.ack(ctx, q, ids)
		if err != nil {
			return out, err
		}
		for _, id := range gone {
			out = append(out, Expired{Queue: q, Entry: byID[id]})
		}
		if len(out) >= max {
			break
		}
	}
	return out, nil
}

// Queues implements Store.
func (s *RedisStore) Queues(ctx context.Context, prefix string) ([]string, error) {
	all, err := s.c.SMembers(ctx, s.queuesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis queues: %w", err)
	}
	var out []string
	for _, q := range all {
		if strings.HasPrefix(q, prefix) {
			out = append(out, q)
		}
	}
	return out, nil
}

// Stats implements Store.
func (s *RedisStore) Stats(ctx context.Context) (int, int, int64, error) {
	sizes, err := s.c.HGetAll(ctx, s.bytesKey()).Result()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("redis stats: %w", err)
	}
	var bytes int64
	pipe := s.c.Pipeline()
	lens := make([]*redis.IntCmd, 0, len(sizes))
	for q, v := range sizes {
		n, _ := strconv.ParseInt(v, 10, 64)
		bytes += n
		lens = append(lens, pipe.XLen(ctx, s.stream(q)))
	}
	if len(lens) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return 0, 0, 0, fmt.Errorf("redis stats: %w", err)
		}
	}
	entries := 0
	for _, l := range lens {
		entries += int(l.Val())
	}
	return len(sizes), entries, bytes, nil
}

// Remember implements Store.
func (s *RedisStore) Remember(ctx context.Context, key, value string, ttl time.Duration, replace bool) (bool, error) {
	if replace {
		prev, err := s.c.SetArgs(ctx, s.markKey(key), value, redis.SetArgs{TTL: ttl, Get: true}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, fmt.Errorf("redis remember %s: %w", key, err)
		}
		return errors.Is(err, redis.Nil) && prev == "", nil
	}
	fresh, err := s.c.SetNX(ctx, s.markKey(key), value, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis remember %s: %w", key, err)
	}
	return fresh, nil
}

// Recall implements Store.
func (s *RedisStore) Recall(ctx context.Context, key string, take bool) (string, bool, error) {
	cmd := s.c.Get
	if take {
		cmd = s.c.GetDel
	}
	v, err := cmd(ctx, s.markKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis recall %s: %w", key, err)
	}
	return v, true, nil
}

// Close implements Store.
func (s *RedisStore) Close() error { return s.c.Close() }

// Notify implements Bus.
func (s *RedisStore) Notify(ctx context.Context, q string) error {
	return s.c.Publish(ctx, s.channel(), "n "+q).Err()
}

// Connected implements Bus.
func (s *RedisStore) Connected(ctx context.Context, q, instance string) error {
	return s.c.Publish(ctx, s.channel(), "c "+instance+" "+q).Err()
}

// Subscribe implements Bus.
func (s *RedisStore) Subscribe(ctx context.Context, onNotify func(string), onConnected func(q, instance string)) error {
	ps := s.c.Subscribe(ctx, s.channel())
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		return fmt.Errorf("redis subscribe: %w", err)
	}
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-ch:
			if !ok {
				return errors.New("redis subscription closed")
			}
			kind, rest, _ := strings.Cut(m.Payload, " ")
			switch kind {
			case "n":
				onNotify(rest)
			case "c":
				inst, q, ok := strings.Cut(rest, " ")
				if ok {
					onConnected(q, inst)
				}
			}
		}
	}
}
