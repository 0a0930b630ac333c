package capacity

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestSystemReserve(t *testing.T) {
	for _, tc := range []struct{ ram, want uint64 }{
		{0, 0},
		{1 * gib, 1 * gib},        // never more than the RAM
		{8 * gib, 2 * gib},        // 10 % is less than 2 GiB
		{20 * gib, 2 * gib},       // exactly 10 %
		{64 * gib, 64 * gib / 10}, // 10 %
	} {
		require.Equal(t, tc.want, SystemReserve(tc.ram), "ram %d", tc.ram)
	}
}

func TestMemTotal(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "meminfo")
	require.NoError(t, os.WriteFile(good, []byte("MemFree: 10 kB\nMemTotal:       24576000 kB\n"), 0o600))
	v, err := memTotal(good)
	require.NoError(t, err)
	require.Equal(t, uint64(24576000*1024), v)
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("MemFree: 10 kB\n"), 0o600))
	_, err = memTotal(bad)
	require.ErrorContains(t, err, "no MemTotal line")
}

func TestMeasureThisMachine(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	n, err := Measure([]PoolConfig{{Path: dir, Kind: "hdd"}, {Path: dir}})
	require.NoError(t, err)
	require.Equal(t, uint64(runtime.NumCPU()), n.Total.CRU)
	require.Equal(t, n.RAM-SystemReserve(n.RAM), n.Total.MRU)
	size := st.Blocks * uint64(st.Bsize)
	wantHRU := size // the pool configured as hdd, plus the second if its device is rotational
	if n.Pools[1].Kind == "hdd" {
		wantHRU += size
	}
	require.Equal(t, wantHRU, n.Total.HRU)
	require.Equal(t, "config", n.Pools[0].KindSource)
	require.Contains(t, []string{"ssd", "hdd"}, n.Pools[1].Kind)
	require.NotEmpty(t, n.Pools[1].KindSource)
	require.Equal(t, size*2, n.Total.HRU+n.Total.SRU)

	_, err = Measure([]PoolConfig{{Path: filepath.Join(dir, "missing")}})
	require.ErrorContains(t, err, "storage pool "+filepath.Join(dir, "missing"))
}
