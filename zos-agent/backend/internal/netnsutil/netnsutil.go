// Package netnsutil runs code inside network namespaces and manages the named ones the network
// backends create. A namespace is entered on a locked OS thread that is restored (or, if that
// fails, thrown away) afterwards, so no other goroutine ever runs in a namespace it did not ask for.
package netnsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Dir is where named network namespaces are bind-mounted (the place `ip netns` uses too).
const Dir = "/var/run/netns"

// Path is the file of the named network namespace name.
func Path(name string) string { return filepath.Join(Dir, name) }

// Do runs fn on an OS thread inside the network namespace at path; "" is the caller's own.
// Sockets and devices fn creates belong to that namespace for their whole life.
func Do(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	defer target.Close()
	return onLockedThread(func() error {
		if err := netns.Set(target); err != nil {
			return fmt.Errorf("enter network namespace %s: %w", path, err)
		}
		return fn()
	})
}

// onLockedThread runs fn on a fresh locked OS thread and restores the thread's network namespace
// afterwards; a thread that cannot be restored stays locked and dies with its goroutine.
func onLockedThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			done <- fmt.Errorf("read the thread's network namespace: %w", err)
			return
		}
		defer origin.Close()
		fnErr := fn()
		if err := netns.Set(origin); err != nil {
			done <- errors.Join(fnErr, fmt.Errorf("return to the original network namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		done <- fnErr
	}()
	return <-done
}

// Create makes the named network namespace (bind-mounted under Dir) with its loopback up and
// returns its path; an existing one of that name is kept.
func Create(name string) (string, error) {
	path := Path(name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	err := onLockedThread(func() error {
		ns, err := netns.NewNamed(name)
		if err != nil {
			return fmt.Errorf("create network namespace %s: %w", name, err)
		}
		defer ns.Close()
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			return fmt.Errorf("network namespace %s: bring up lo: %w", name, err)
		}
		return nil
	})
	if err != nil {
		_ = Delete(name)
		return "", err
	}
	return path, nil
}

// Delete removes the named network namespace; one that does not exist is not an error. The kernel
// destroys the namespace, and every link in it, once nothing else holds it.
func Delete(name string) error {
	path := Path(name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := netns.DeleteNamed(name); err != nil {
		// A file left by an interrupted Create is not a mount point: remove it alone.
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return fmt.Errorf("delete network namespace %s: %w", name, err)
		}
	}
	return nil
}

// Handle opens a netlink handle working inside the network namespace at path ("" is the caller's).
func Handle(path string) (*netlink.Handle, error) {
	if path == "" {
		return netlink.NewHandle()
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink in network namespace %s: %w", path, err)
	}
	return h, nil
}

// Fd opens the network namespace at path for moving links into it; the caller closes it.
func Fd(path string) (netns.NsHandle, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("network namespace %s: %w", path, err)
	}
	return ns, nil
}

// EnableForwarding turns on IPv4 forwarding inside the network namespace at path (the setting is
// per namespace: /proc/sys/net shows the namespace of the thread that opens it).
func EnableForwarding(path string) error {
	return Do(path, func() error {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("enable IPv4 forwarding in %s: %w", path, err)
		}
		return nil
	})
}
