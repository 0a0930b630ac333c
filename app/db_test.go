package app_test

import (
	"os"
	"path/filepath"
	"testing"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/app"
)

// OpenDB only sizes goleveldb's caches: the database it writes is where the SDK's own opener (export,
// rollback, pruning) looks for it and reads the same.
func TestOpenDBIsTheSDKsDatabase(t *testing.T) {
	root := t.TempDir()
	db, err := app.OpenDB(root, dbm.GoLevelDBBackend)
	require.NoError(t, err)
	require.NoError(t, db.Set([]byte("k"), []byte("v")))
	require.NoError(t, db.Close())

	_, err = os.Stat(filepath.Join(root, "data", "application.db"))
	require.NoError(t, err)
	sdkDB, err := dbm.NewDB("application", dbm.GoLevelDBBackend, filepath.Join(root, "data"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sdkDB.Close() })
	v, err := sdkDB.Get([]byte("k"))
	require.NoError(t, err)
	require.Equal(t, []byte("v"), v)
}

func TestOpenDBOtherBackends(t *testing.T) {
	db, err := app.OpenDB(t.TempDir(), dbm.MemDBBackend)
	require.NoError(t, err)
	require.IsType(t, &dbm.MemDB{}, db)
}
