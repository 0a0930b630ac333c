package app

import (
	"path/filepath"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// LevelDBBlockCache is the goleveldb block cache of the application database. goleveldb's default (8
// MiB) holds almost none of a large state's index and filter blocks, so every cold key read — a
// contract settled once a day — re-reads and decodes them from disk; at 1M contracts (a 2.3 GiB
// state) that was a third of a settlement's CPU (docs/benchmarks.md, issue 13).
const LevelDBBlockCache = 256 << 20

// OpenDB opens the application database under rootDir/data, as the SDK's node does, with goleveldb's
// caches sized for a grid's state; other backends open with their defaults. tfgridd's start command
// and the billing benchmark open it this way.
func OpenDB(rootDir string, backend dbm.BackendType) (dbm.DB, error) {
	return OpenDataDB(filepath.Join(rootDir, "data"), backend)
}

// OpenDataDB is OpenDB on the data directory itself.
func OpenDataDB(dataDir string, backend dbm.BackendType) (dbm.DB, error) {
	if backend != dbm.GoLevelDBBackend {
		return dbm.NewDB("application", backend, dataDir)
	}
	return dbm.NewGoLevelDBWithOpts("application", dataDir, &opt.Options{
		Filter:             filter.NewBloomFilter(10), // as cosmos-db's default
		BlockCacheCapacity: LevelDBBlockCache,
	})
}
