// Package store is the node agent's persistent state in one bbolt file: deployments by contract
// (with an owner-twin index), each deployment's change log, the job queue, the report outbox, the
// system objects the backends created per workload, and the last chain height processed. Every
// change is one bolt transaction, so a crash leaves either the old or the new state, never half.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

var (
	// ErrNotFound: no deployment under this contract id.
	ErrNotFound = errors.New("deployment not found")
	// ErrExists: a deployment under this contract id is already stored.
	ErrExists = errors.New("deployment already exists")
)

var (
	bucketDeployments = []byte("deployments") // contract → Record
	bucketByTwin      = []byte("by_twin")     // twin‖contract → nothing
	bucketChanges     = []byte("changes")     // contract → {seq → Workload}
	bucketJobs        = []byte("jobs")        // seq → Job
	bucketOutbox      = []byte("outbox")      // seq → Batch
	bucketMeta        = []byte("meta")        // name → value

	keyHeight      = []byte("height")
	keyLastReport  = []byte("last_report")
	keyNetCounters = []byte("net_counters")
)

// Record is one stored deployment: the document with each workload's current result, and what the
// backends created for each workload (by workload name), so a restarted agent finds it again.
type Record struct {
	Deployment deployment.Deployment      `json:"deployment"`
	Objects    map[string]json.RawMessage `json:"objects,omitempty"`
}

// Active reports whether any workload is neither deleted nor in error.
func (r *Record) Active() bool {
	for _, w := range r.Deployment.Workloads {
		if w.Result.State != deployment.StateDeleted && w.Result.State != deployment.StateError {
			return true
		}
	}
	return false
}

// Store is the agent's database.
type Store struct {
	db *bolt.DB
}

// Open opens (or creates) the database file at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open agent database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDeployments, bucketByTwin, bucketChanges, bucketJobs, bucketOutbox, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func twinKey(twin, contract uint64) []byte { return append(u64(twin), u64(contract)...) }

// Create stores a new deployment and enqueues its first job in one transaction; the workloads'
// results as given (normally init) open the change log.
func (s *Store) Create(rec Record, job Job) error {
	contract := rec.Deployment.ContractID
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDeployments).Get(u64(contract)) != nil {
			return fmt.Errorf("contract %d: %w", contract, ErrExists)
		}
		if err := putRecord(tx, rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketByTwin).Put(twinKey(rec.Deployment.TwinID, contract), nil); err != nil {
			return err
		}
		for _, w := range rec.Deployment.Workloads {
			if err := appendChange(tx, contract, w); err != nil {
				return err
			}
		}
		return putJob(tx, job)
	})
}

// Get returns the deployment under contract.
func (s *Store) Get(contract uint64) (Record, error) {
	var rec Record
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = getRecord(tx, contract)
		return err
	})
	return rec, err
}

// Update changes a stored deployment with fn in one transaction; every workload whose result
// changed (or that fn added) gets an entry in the change log, and a job is enqueued when one is
// given. fn's error aborts the transaction and is returned.
func (s *Store) Update(contract uint64, job *Job, fn func(*Record) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		rec, err := getRecord(tx, contract)
		if err != nil {
			return err
		}
		before := map[string]deployment.Result{}
		for _, w := range rec.Deployment.Workloads {
			before[w.Name] = w.Result
		}
		if err := fn(&rec); err != nil {
			return err
		}
		for _, w := range rec.Deployment.Workloads {
			if old, ok := before[w.Name]; !ok || !sameResult(old, w.Result) {
				if err := appendChange(tx, contract, w); err != nil {
					return err
				}
			}
		}
		if job != nil {
			if err := putJob(tx, *job); err != nil {
				return err
			}
		}
		return putRecord(tx, rec)
	})
}

func sameResult(a, b deployment.Result) bool {
	return a.State == b.State && a.Message == b.Message && a.Created == b.Created && string(a.Data) == string(b.Data)
}

// List returns every stored deployment, by contract id.
func (s *Store) List() ([]Record, error) {
	var recs []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeployments).ForEach(func(_, v []byte) error {
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			recs = append(recs, rec)
			return nil
		})
	})
	return recs, err
}

// ListByTwin returns the deployments owned by twin, by contract id.
func (s *Store) ListByTwin(twin uint64) ([]Record, error) {
	var recs []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByTwin).Cursor()
		prefix := u64(twin)
		for k, _ := c.Seek(prefix); k != nil && slices.Equal(k[:8], prefix); k, _ = c.Next() {
			rec, err := getRecord(tx, binary.BigEndian.Uint64(k[8:]))
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		return nil
	})
	return recs, err
}

// Changes is the deployment's change log: one workload snapshot per state change, oldest first.
func (s *Store) Changes(contract uint64) ([]deployment.Workload, error) {
	var out []deployment.Workload
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDeployments).Get(u64(contract)) == nil {
			return fmt.Errorf("contract %d: %w", contract, ErrNotFound)
		}
		b := tx.Bucket(bucketChanges).Bucket(u64(contract))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var w deployment.Workload
			if err := json.Unmarshal(v, &w); err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	})
	return out, err
}

func getRecord(tx *bolt.Tx, contract uint64) (Record, error) {
	v := tx.Bucket(bucketDeployments).Get(u64(contract))
	if v == nil {
		return Record{}, fmt.Errorf("contract %d: %w", contract, ErrNotFound)
	}
	var rec Record
	if err := json.Unmarshal(v, &rec); err != nil {
		return Record{}, fmt.Errorf("contract %d: stored record: %w", contract, err)
	}
	return rec, nil
}

func putRecord(tx *bolt.Tx, rec Record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketDeployments).Put(u64(rec.Deployment.ContractID), v)
}

func appendChange(tx *bolt.Tx, contract uint64, w deployment.Workload) error {
	b, err := tx.Bucket(bucketChanges).CreateBucketIfNotExists(u64(contract))
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// Height is the last chain height whose events were processed (0: none yet).
func (s *Store) Height() (int64, error) { return s.metaInt(keyHeight) }

// SetHeight records that every block up to height was processed.
func (s *Store) SetHeight(height int64) error { return s.setMetaInt(keyHeight, height) }

func (s *Store) metaInt(key []byte) (int64, error) {
	var v int64
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketMeta).Get(key); raw != nil {
			v = int64(binary.BigEndian.Uint64(raw))
		}
		return nil
	})
	return v, err
}

func (s *Store) setMetaInt(key []byte, v int64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(key, u64(uint64(v))) })
}
