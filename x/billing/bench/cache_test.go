package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	dbm "github.com/cosmos/cosmos-db"

	"github.com/tfgrid/tfgrid/app"
)

// layoutVersion names the shape of the built state in the cache's keys: bump it whenever build
// writes something different, so no run measures a state built by older code.
const layoutVersion = 1

// metaFile, next to the database in a cached state's directory, is its builtState.
const metaFile = "meta.json"

// builtState is what a run needs to know of a built state besides the store itself.
type builtState struct {
	LayoutVersion int
	Contracts     int
	Schedule      schedule
	Height        int64  // of the last commit
	Cap           uint32 // max_settlements_per_block
	// Spacing is the seconds from a contract's last settlement to its due time.
	Spacing             int64
	Twins, Nodes, Farms int
	ToppedUp            int // user twins funded up to fundedHours of their ceilings
	BuildTime           time.Duration
}

// prepare returns the state of n contracts on the schedule, opened for measuring. With
// BILLING_BENCH_CACHE (a directory; goleveldb only) a state is built once per (layout version,
// schedule, size) into it and every run measures a copy, so repeated runs start from the same state.
func prepare(b *testing.B, n int, backend dbm.BackendType, sched schedule) *state {
	b.Helper()
	if backend == dbm.MemDBBackend {
		db := dbm.NewMemDB()
		return open(b, build(b, n, sched, db), db, backend, "")
	}
	root := os.Getenv("BILLING_BENCH_CACHE")
	if root == "" {
		dir := tempDir(b)
		return openDir(b, buildInDir(b, n, sched, dir), dir)
	}
	cached := filepath.Join(root, fmt.Sprintf("v%d-%s-%d", layoutVersion, sched, n))
	built, found := readMeta(b, cached)
	if !found {
		// Built aside and renamed into place only when complete: an interrupted build is never used.
		partial := cached + ".partial"
		if err := os.RemoveAll(partial); err != nil {
			b.Fatal(err)
		}
		built = buildInDir(b, n, sched, partial)
		writeMeta(b, partial, built)
		if err := os.Rename(partial, cached); err != nil {
			b.Fatal(err)
		}
		b.Logf("cached the state in %s", cached)
	}
	dir := tempDir(b)
	start := time.Now()
	copyDir(b, cached, dir)
	s := openDir(b, built, dir)
	s.cached = found
	b.Logf("state of %d contracts (%s schedule) copied from the cache in %s", n, sched, time.Since(start).Round(time.Millisecond))
	return s
}

func tempDir(b *testing.B) string {
	dir, err := os.MkdirTemp("", "billing-bench-")
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// buildInDir builds the state into a goleveldb database in dir and closes it.
func buildInDir(b *testing.B, n int, sched schedule, dir string) builtState {
	db, err := app.OpenDataDB(dir, dbm.GoLevelDBBackend)
	if err != nil {
		b.Fatal(err)
	}
	built := build(b, n, sched, db)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return built
}

// openDir opens the state in dir for measuring, as tfgridd opens its database (app.OpenDataDB) or,
// with BILLING_BENCH_LEVELDB=sdk, as the SDK's default opener does (goleveldb's 8 MiB block cache);
// closing the state removes dir.
func openDir(b *testing.B, built builtState, dir string) *state {
	opener, opts := app.OpenDataDB, "app"
	switch env := os.Getenv("BILLING_BENCH_LEVELDB"); env {
	case "", "app":
	case "sdk":
		opts = env
		opener = func(dir string, backend dbm.BackendType) (dbm.DB, error) {
			return dbm.NewDB("application", backend, dir)
		}
	default:
		b.Fatalf("BILLING_BENCH_LEVELDB %q: want app (tfgridd's options) or sdk (the SDK's defaults)", env)
	}
	db, err := opener(dir, dbm.GoLevelDBBackend)
	if err != nil {
		b.Fatal(err)
	}
	s := open(b, built, db, dbm.GoLevelDBBackend, dir)
	s.leveldbOpts = opts
	return s
}

// open starts a fresh app on the built state in db, as a restarted node would: its IAVL cache is cold.
func open(b *testing.B, built builtState, db dbm.DB, backend dbm.BackendType, dir string) *state {
	s := &state{built: built, app: newApp(b, db), db: db, dir: dir, backend: backend, height: built.Height, time: t0}
	if v := s.app.CommitMultiStore().LastCommitID().Version; v != built.Height {
		b.Fatalf("the state's last commit is %d, its build ended at %d", v, built.Height)
	}
	if dir != "" {
		s.stateMiB = dirSize(dir) >> 20
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.heapMiB = m.HeapInuse >> 20
	b.Logf("opened %d contracts: %d MiB on disk, heap in use %d MiB", built.Contracts, s.stateMiB, s.heapMiB)
	return s
}

func (s *state) close() {
	_ = s.db.Close()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
	s.app = nil
	runtime.GC()
}

// readMeta reads a cached state's metadata; found is false when there is no complete cached state.
func readMeta(b *testing.B, dir string) (built builtState, found bool) {
	bz, err := os.ReadFile(filepath.Join(dir, metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return built, false
	} else if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(bz, &built); err != nil {
		b.Fatalf("%s: %v", filepath.Join(dir, metaFile), err)
	}
	return built, true
}

func writeMeta(b *testing.B, dir string, built builtState) {
	bz, err := json.MarshalIndent(built, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, metaFile), bz, 0o644); err != nil {
		b.Fatal(err)
	}
}

// copyDir copies the regular files under src to dst.
func copyDir(b *testing.B, src, dst string) {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(path, target)
	})
	if err != nil {
		b.Fatalf("copy %s: %v", src, err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	return total
}
