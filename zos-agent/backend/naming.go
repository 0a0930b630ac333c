// Package backend holds the node agent's system backends (containers, images, disks) and the
// start-up check that says which of them this machine supports.
package backend

import (
	"crypto/sha256"
	"fmt"
	"net"
	"regexp"
)

// Prefix marks everything the agent creates on the machine (runc container ids, cgroups, loop-backed
// files and mount points), so an operator can tell it apart and crash recovery can find it.
const Prefix = "tfz-"

// idPattern keeps ids usable verbatim as runc container ids, cgroup and file names.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// ValidateID rejects an id that could not name a container, cgroup or file.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("id %q: must be 1 to 63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit", id)
	}
	return nil
}

// Name is the machine-wide name of the object with this id.
func Name(id string) string { return Prefix + id }

// MAC is a locally administered unicast Ethernet address derived from key (a workload id, or an
// id and a card index): the same on every restart, so neighbours' ARP caches stay right.
func MAC(key string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("mac/" + key))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}
