package mountinfo

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line    string
		want    Mount
		wantErr bool
	}{
		{
			line: "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory",
			want: Mount{MountPoint: "/sys/fs/cgroup/memory", FSType: "cgroup", Source: "cgroup", SuperOptions: []string{"rw", "memory"}},
		},
		{
			line: `90 23 7:0 / /data/with\040space rw - ext4 /dev/loop0 rw`,
			want: Mount{MountPoint: "/data/with space", FSType: "ext4", Source: "/dev/loop0", SuperOptions: []string{"rw"}},
		},
		{line: "1 2 3:4 / /x rw no-separator ext4", wantErr: true},
		{line: "short", wantErr: true},
	} {
		got, err := parseLine(tc.line)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseLine(%q) error = %v, want error %v", tc.line, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && (got.MountPoint != tc.want.MountPoint || got.FSType != tc.want.FSType ||
			got.Source != tc.want.Source || !slices.Equal(got.SuperOptions, tc.want.SuperOptions)) {
			t.Errorf("parseLine(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestIsMountPointReadsTheTable(t *testing.T) {
	fixture := filepath.Join(t.TempDir(), "mountinfo")
	table := "22 1 0:21 / /proc rw - proc proc rw\n23 1 8:1 / /mnt/disk rw - ext4 /dev/sda1 rw\n"
	if err := os.WriteFile(fixture, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	old := Path
	Path = fixture
	t.Cleanup(func() { Path = old })
	for path, want := range map[string]bool{"/mnt/disk": true, "/proc": true, "/mnt": false} {
		if got, err := IsMountPoint(path); err != nil || got != want {
			t.Errorf("IsMountPoint(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
}
