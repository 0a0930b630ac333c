// Package image is the node's local image store: OCI image layouts (a directory or a tar of one) and
// plain rootfs tarballs, imported from files (never pulled from a registry), unpacked once per
// digest into a read-only base, and given to each container as its own overlay root.
package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotFound: no imported image has this name or digest.
var ErrNotFound = errors.New("image not found in the local store")

// Kinds of imported files.
const (
	KindOCI    = "oci"
	KindRootfs = "rootfs"
)

// Image is one unpacked image. Digest is its identity: the OCI manifest digest, or the SHA-256 of
// a rootfs tarball's bytes.
type Image struct {
	Digest string `json:"digest"`
	Kind   string `json:"kind"`
	// From the OCI image config; empty for a rootfs tarball. The engine uses them when a workload
	// gives no entrypoint of its own.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	Env        []string `json:"env,omitempty"`
	WorkDir    string   `json:"workdir,omitempty"`
	// Name is the name the image was imported or resolved under, if any.
	Name string `json:"name,omitempty"`
	// Rootfs is the read-only base directory; containers never write into it.
	Rootfs string `json:"-"`
}

// Store keeps everything under <data dir>/images:
//
//	refs/<escaped name>         the digest a name points at
//	bases/sha256-<hex>/rootfs   the unpacked image, written once
//	bases/sha256-<hex>/image.json
//	containers/tfz-<id>/        one container's overlay (upper, work, rootfs)
//	tmp/                        staging; a base appears by one rename, so it is whole or absent
type Store struct {
	dir string
}

// Open creates the store's directories under dataDir.
func Open(dataDir string) (*Store, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "images"))
	if err != nil {
		return nil, err
	}
	// Overlay mount options are comma and colon separated, so the paths must not contain either.
	if strings.ContainsAny(dir, ",:") {
		return nil, fmt.Errorf("image store directory %q: must not contain ',' or ':'", dir)
	}
	for _, sub := range []string{"refs", "bases", "containers", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	return &Store{dir: dir}, nil
}

var (
	namePattern   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,254}$`)
	digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// ValidateRef checks a workload's image reference: a name or a "sha256:<64 hex>" digest.
func ValidateRef(ref string) error {
	if strings.HasPrefix(ref, "sha256:") {
		if !digestPattern.MatchString(ref) {
			return fmt.Errorf("image digest %q: must be sha256: followed by 64 lowercase hex digits", ref)
		}
		return nil
	}
	if !namePattern.MatchString(ref) {
		return fmt.Errorf("image name %q: must be 1 to 255 characters of letters, digits and ._/:@-, starting with a letter or digit", ref)
	}
	return nil
}

// Resolve finds an imported image by name or digest.
func (s *Store) Resolve(ref string) (Image, error) {
	if err := ValidateRef(ref); err != nil {
		return Image{}, err
	}
	digest, name := ref, ""
	if !strings.HasPrefix(ref, "sha256:") {
		name = ref
		data, err := os.ReadFile(s.refPath(ref))
		if errors.Is(err, os.ErrNotExist) {
			return Image{}, fmt.Errorf("image %q: %w", ref, ErrNotFound)
		}
		if err != nil {
			return Image{}, err
		}
		digest = strings.TrimSpace(string(data))
	}
	img, err := s.load(digest)
	if errors.Is(err, os.ErrNotExist) {
		return Image{}, fmt.Errorf("image %q: %w", ref, ErrNotFound)
	}
	img.Name = name
	return img, err
}

func (s *Store) refPath(name string) string {
	return filepath.Join(s.dir, "refs", url.PathEscape(name))
}

func (s *Store) baseDir(digest string) string {
	return filepath.Join(s.dir, "bases", strings.Replace(digest, ":", "-", 1))
}

func (s *Store) load(digest string) (Image, error) {
	data, err := os.ReadFile(filepath.Join(s.baseDir(digest), "image.json"))
	if err != nil {
		return Image{}, err
	}
	var img Image
	if err := json.Unmarshal(data, &img); err != nil {
		return Image{}, fmt.Errorf("image %s: corrupt metadata: %w", digest, err)
	}
	img.Rootfs = filepath.Join(s.baseDir(digest), "rootfs")
	return img, nil
}

// tag points name at digest, replacing what it pointed at before (like a registry tag).
func (s *Store) tag(name, digest string) error {
	if err := ValidateRef(name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "sha256:") {
		return fmt.Errorf("image name %q: names starting with sha256: are reserved for digests", name)
	}
	return writeFileAtomic(s.refPath(name), []byte(digest+"\n"), filepath.Join(s.dir, "tmp"))
}

func writeFileAtomic(path string, data []byte, tmpDir string) error {
	f, err := os.CreateTemp(tmpDir, "write-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// commitBase unpacks an image into staging with unpack and renames it into place, unless a base
// for the digest already exists: each digest is unpacked once.
func (s *Store) commitBase(img Image, unpack func(rootfs string) error) (Image, error) {
	if existing, err := s.load(img.Digest); err == nil {
		return existing, nil
	}
	staging, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "base-*")
	if err != nil {
		return Image{}, err
	}
	defer os.RemoveAll(staging)
	rootfs := filepath.Join(staging, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return Image{}, err
	}
	if err := unpack(rootfs); err != nil {
		return Image{}, fmt.Errorf("unpack image %s: %w", img.Digest, err)
	}
	meta, err := json.Marshal(img)
	if err != nil {
		return Image{}, err
	}
	if err := os.WriteFile(filepath.Join(staging, "image.json"), meta, 0o600); err != nil {
		return Image{}, err
	}
	// A concurrent import of the same digest may have won the rename; its base is as good as ours.
	if err := os.Rename(staging, s.baseDir(img.Digest)); err != nil && !errors.Is(err, os.ErrExist) && !isNotEmpty(err) {
		return Image{}, err
	}
	return s.load(img.Digest)
}
