package vm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netlink"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// tapName is the host end of card index of machine id: the interface's name, or one derived from
// the id and index, unique on the node, at most 15 characters.
func (ifc Interface) tapName(id string, index int) string {
	if ifc.Name != "" {
		return ifc.Name
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "tap/%s/%d", id, index))
	return "tfzq" + hex.EncodeToString(sum[:])[:10]
}

// openTap makes a tap named name in bridge (in the namespace netNS), up, and returns its queue's
// file for QEMU. The tap is not persistent: the kernel removes it when the last holder of the
// file (the QEMU process) closes it, so a machine never leaves its tap behind.
func openTap(netNS, bridge, name string) (*os.File, error) {
	var file *os.File
	err := netnsutil.Do(netNS, func() error {
		br, err := netlink.LinkByName(bridge)
		if err != nil {
			return fmt.Errorf("%w: bridge %q in network namespace %q: %w", ErrInvalidSpec, bridge, netNS, err)
		}
		if br.Type() != "bridge" {
			return fmt.Errorf("%w: bridge %q in network namespace %q is a %s link", ErrInvalidSpec, bridge, netNS, br.Type())
		}
		tap := &netlink.Tuntap{
			LinkAttrs:  netlink.LinkAttrs{Name: name, MasterIndex: br.Attrs().Index},
			Mode:       netlink.TUNTAP_MODE_TAP,
			Flags:      netlink.TUNTAP_NO_PI | netlink.TUNTAP_VNET_HDR,
			Queues:     1,
			NonPersist: true,
		}
		if err := netlink.LinkAdd(tap); err != nil {
			return fmt.Errorf("create tap %s in bridge %s: %w", name, bridge, err)
		}
		file = tap.Fds[0]
		if err := netlink.LinkSetUp(tap); err != nil {
			file.Close()
			return fmt.Errorf("bring up tap %s: %w", name, err)
		}
		return nil
	})
	return file, err
}

// removeTap deletes a tap that outlived its machine (it should not: it is not persistent); one
// that is gone, or whose namespace is gone, is not an error.
func removeTap(netNS, name string) error {
	if netNS != "" {
		if _, err := os.Stat(netNS); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	h, err := netnsutil.Handle(netNS)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil
	}
	if err == nil {
		err = h.LinkDel(link)
	}
	if err != nil {
		return fmt.Errorf("remove tap %s: %w", name, err)
	}
	return nil
}
