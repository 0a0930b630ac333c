package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// Op is what a job does to a deployment.
type Op string

// Job operations.
const (
	OpProvision Op = "provision"
	OpUpdate    Op = "update"
	OpDelete    Op = "delete"
	OpPause     Op = "pause"
	OpResume    Op = "resume"
	// OpRecover reattaches what runs and brings back what a reboot removed; never creates twice.
	OpRecover Op = "recover"
	// OpNameSuspend, OpNameRestore and OpNameRevoke act on the gateway workloads serving under
	// the job's NameContract: it entered grace, left it, or is gone.
	OpNameSuspend Op = "name-suspend"
	OpNameRestore Op = "name-restore"
	OpNameRevoke  Op = "name-revoke"
)

// Job is one unit of engine work. ID is assigned when the job is stored.
type Job struct {
	ID       uint64 `json:"id"`
	Op       Op     `json:"op"`
	Contract uint64 `json:"contract"`
	// Target is the new deployment of an update.
	Target *deployment.Deployment `json:"target,omitempty"`
	// Reason is why a deletion happens (shown in the workloads' results).
	Reason string `json:"reason,omitempty"`
	// NameContract is the name contract of an OpName* job.
	NameContract uint64 `json:"name_contract,omitempty"`
}

// Enqueue appends a job to the queue.
func (s *Store) Enqueue(job Job) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJob(tx, job) })
}

func putJob(tx *bolt.Tx, job Job) error {
	b := tx.Bucket(bucketJobs)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	job.ID = seq
	v, err := json.Marshal(job)
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// NextJob returns the oldest job without removing it (false: the queue is empty). A job stays in
// the queue until Done, so one interrupted by a crash runs again.
func (s *Store) NextJob() (Job, bool, error) {
	var job Job
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketJobs).Cursor().First()
		if k == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(v, &job); err != nil {
			return fmt.Errorf("job %d: %w", binary.BigEndian.Uint64(k), err)
		}
		return nil
	})
	return job, found, err
}

// Done removes a finished job.
func (s *Store) Done(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketJobs).Delete(u64(id)) })
}

// QueueDepth is the number of jobs waiting (including the one running).
func (s *Store) QueueDepth() int {
	n := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketJobs).Stats().KeyN
		return nil
	})
	return n
}

// Report is one contract's consumption over a window, as the agent sends it to the chain.
type Report struct {
	Contract  uint64 `json:"contract"`
	Timestamp int64  `json:"timestamp"`
	Window    uint64 `json:"window"`
	CRU       uint64 `json:"cru"`
	MRU       uint64 `json:"mru"`
	SRU       uint64 `json:"sru"`
	HRU       uint64 `json:"hru"`
	NRU       uint64 `json:"nru"`
}

// Batch is the reports of one period, sent in one transaction.
type Batch struct {
	ID      uint64   `json:"id"`
	Reports []Report `json:"reports"`
}

// AddBatch stores a batch in the outbox and records at the same time that the period ending at
// until was reported, so a crash can neither lose the period nor measure it twice.
func (s *Store) AddBatch(reports []Report, until int64) error {
	return s.AddMeteredBatch(reports, until, nil)
}

// AddMeteredBatch is AddBatch that also records, in the same transaction, the network counters
// the batch's nru was measured up to (nil: unchanged), so after a crash no traffic is billed twice.
func (s *Store) AddMeteredBatch(reports []Report, until int64, counters json.RawMessage) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(keyLastReport, u64(uint64(until))); err != nil {
			return err
		}
		if counters != nil {
			if err := tx.Bucket(bucketMeta).Put(keyNetCounters, counters); err != nil {
				return err
			}
		}
		if len(reports) == 0 {
			return nil
		}
		b := tx.Bucket(bucketOutbox)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(Batch{ID: seq, Reports: reports})
		if err != nil {
			return err
		}
		return b.Put(u64(seq), v)
	})
}

// NetCounters are the network counters recorded with the last metered batch (nil: none).
func (s *Store) NetCounters() (json.RawMessage, error) {
	var out json.RawMessage
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketMeta).Get(keyNetCounters); raw != nil {
			out = append(json.RawMessage(nil), raw...)
		}
		return nil
	})
	return out, err
}

// LastReport is the unix time the last reported period ended (0: never).
func (s *Store) LastReport() (int64, error) { return s.metaInt(keyLastReport) }

// Outbox returns the batches not yet accepted by the chain, oldest first.
func (s *Store) Outbox() ([]Batch, error) {
	var out []Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var b Batch
			if err := json.Unmarshal(v, &b); err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	return out, err
}

// Sent removes a batch from the outbox.
func (s *Store) Sent(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Delete(u64(id)) })
}
