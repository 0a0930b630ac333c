// Package mountinfo reads the calling process's mount table (/proc/self/mountinfo).
package mountinfo

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of the mount table.
type Mount struct {
	MountPoint   string
	FSType       string
	Source       string
	SuperOptions []string
}

// Path of the table; a variable so a unit test can point it at a fixture.
var Path = "/proc/self/mountinfo"

// Read parses the whole table.
func Read() ([]Mount, error) {
	f, err := os.Open(Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mounts []Mount
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		m, err := parseLine(scanner.Text())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Path, err)
		}
		mounts = append(mounts, m)
	}
	return mounts, scanner.Err()
}

// parseLine reads "id parent major:minor root mountpoint options [optional...] - fstype source superoptions".
func parseLine(line string) (Mount, error) {
	fields := strings.Fields(line)
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	if len(fields) < 5 || sep < 0 || sep+3 > len(fields) {
		return Mount{}, fmt.Errorf("malformed line %q", line)
	}
	return Mount{
		MountPoint:   unescape(fields[4]),
		FSType:       fields[sep+1],
		Source:       unescape(fields[sep+2]),
		SuperOptions: strings.Split(fields[sep+3], ","),
	}, nil
}

// unescape decodes the octal escapes (\040 for a space, ...) the kernel writes in paths.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// IsMountPoint says whether path is a mount point in the table.
func IsMountPoint(path string) (bool, error) {
	mounts, err := Read()
	if err != nil {
		return false, err
	}
	for _, m := range mounts {
		if m.MountPoint == path {
			return true, nil
		}
	}
	return false, nil
}
