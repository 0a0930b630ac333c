package store

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(twin, contract uint64, names ...string) Record {
	d := deployment.Deployment{TwinID: twin, ContractID: contract}
	for _, n := range names {
		d.Workloads = append(d.Workloads, deployment.Workload{Name: n, Type: deployment.TypeVolume,
			Result: deployment.Result{State: deployment.StateInit}})
	}
	return Record{Deployment: d}
}

func TestDeploymentsChangesAndIndexSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	s := open(t, path)
	if err := s.Create(record(7, 1, "a", "b"), Job{Op: OpProvision, Contract: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(record(8, 2, "c"), Job{Op: OpProvision, Contract: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(record(7, 1, "x"), Job{Op: OpProvision, Contract: 1}); !errors.Is(err, ErrExists) {
		t.Fatalf("second create of contract 1: %v, want ErrExists", err)
	}
	err := s.Update(1, nil, func(r *Record) error {
		r.Deployment.Workloads[0].Result.State = deployment.StateOk
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An aborted update changes nothing.
	boom := errors.New("boom")
	if err := s.Update(1, &Job{Op: OpDelete, Contract: 1}, func(r *Record) error {
		r.Deployment.Workloads[1].Result.State = deployment.StateOk
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	changes, err := s.Changes(1)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, w := range changes {
		states = append(states, w.Name+":"+string(w.Result.State))
	}
	if got, want := len(states), 3; got != want {
		t.Fatalf("changes %v, want a:init b:init a:ok", states)
	}
	if states[2] != "a:ok" {
		t.Fatalf("last change %s, want a:ok", states[2])
	}
	mine, err := s.ListByTwin(7)
	if err != nil || len(mine) != 1 || mine[0].Deployment.ContractID != 1 {
		t.Fatalf("twin 7 lists %+v (%v), want contract 1 only", mine, err)
	}
	if _, err := s.Get(3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get 3: %v", err)
	}
	if n := s.QueueDepth(); n != 2 {
		t.Fatalf("queue depth %d, want 2 (the aborted update added no job)", n)
	}
	job, ok, err := s.NextJob()
	if err != nil || !ok || job.Contract != 1 || job.Op != OpProvision {
		t.Fatalf("next job %+v %v %v", job, ok, err)
	}
	if err := s.Done(job.ID); err != nil {
		t.Fatal(err)
	}
	if job, _, _ := s.NextJob(); job.Contract != 2 {
		t.Fatalf("next job after done: %+v", job)
	}
}

func TestOutboxAndMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	s := open(t, path)
	if err := s.AddBatch([]Report{{Contract: 1, CRU: 2}}, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.AddBatch(nil, 160); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHeight(42); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	if h, _ := s.Height(); h != 42 {
		t.Fatalf("height %d", h)
	}
	if last, _ := s.LastReport(); last != 160 {
		t.Fatalf("last report %d, want 160 (an empty period still moves the mark)", last)
	}
	out, err := s.Outbox()
	if err != nil || len(out) != 1 || out[0].Reports[0].CRU != 2 {
		t.Fatalf("outbox %+v %v", out, err)
	}
	if err := s.Sent(out[0].ID); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.Outbox(); len(out) != 0 {
		t.Fatalf("outbox after sent: %+v", out)
	}
}
