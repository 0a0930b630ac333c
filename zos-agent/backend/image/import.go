package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// refNameAnnotation is where an OCI layout's index names an image.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// Import adds the image in file (an OCI layout directory, a tar of one, or a rootfs tarball, plain
// or gzip) to the store and unpacks it unless its digest is already there. A non-empty name
// points at it afterwards; without one, an OCI image is named by its layout's ref.name annotation
// and a rootfs tarball only by its digest.
func (s *Store) Import(file, name string) (Image, error) {
	if name != "" {
		if err := ValidateRef(name); err != nil {
			return Image{}, err
		}
	}
	img, err := s.importFile(file, name)
	if err != nil {
		return Image{}, fmt.Errorf("import %s: %w", file, err)
	}
	if img.Name != "" {
		if err := s.tag(img.Name, img.Digest); err != nil {
			return Image{}, fmt.Errorf("import %s: %w", file, err)
		}
	}
	return img, nil
}

func (s *Store) importFile(file, name string) (Image, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return Image{}, err
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(file, "oci-layout")); err != nil {
			return Image{}, fmt.Errorf("directory is not an OCI image layout (no oci-layout file)")
		}
		return s.importLayout(file, name)
	}
	isLayout, err := withTar(file, tarHoldsLayout)
	if err != nil {
		return Image{}, err
	}
	if isLayout {
		return s.importLayoutTar(file, name)
	}
	return s.importRootfsTar(file, name)
}

// withTar runs read over the file as a tar stream, gunzipping it first when it is gzip.
func withTar[T any](file string, read func(*tar.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(file)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	buffered := bufio.NewReader(f)
	var r io.Reader = buffered
	if magic, _ := buffered.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(buffered)
		if err != nil {
			return zero, err
		}
		defer gz.Close()
		r = gz
	}
	return read(tar.NewReader(r))
}

func tarHoldsLayout(tr *tar.Reader) (bool, error) {
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("not a tar archive: %w", err)
		}
		if entryPath(hdr.Name) == "oci-layout" {
			return true, nil
		}
	}
}

func (s *Store) importLayoutTar(file, name string) (Image, error) {
	dir, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "layout-*")
	if err != nil {
		return Image{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := withTar(file, func(tr *tar.Reader) (struct{}, error) {
		return struct{}{}, extractTar(dir, tr)
	}); err != nil {
		return Image{}, err
	}
	return s.importLayout(dir, name)
}

func (s *Store) importRootfsTar(file, name string) (Image, error) {
	digest, err := fileDigest(file)
	if err != nil {
		return Image{}, err
	}
	img, err := s.commitBase(Image{Digest: digest, Kind: KindRootfs}, func(rootfs string) error {
		_, err := withTar(file, func(tr *tar.Reader) (struct{}, error) {
			return struct{}{}, extractTar(rootfs, tr)
		})
		return err
	})
	img.Name = name
	return img, err
}

func fileDigest(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Store) importLayout(dir, name string) (Image, error) {
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return Image{}, err
	}
	desc, img, err := pickImage(index)
	if err != nil {
		return Image{}, err
	}
	if name == "" {
		name = desc.Annotations[refNameAnnotation]
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return Image{}, fmt.Errorf("image %s config: %w", desc.Digest, err)
	}
	meta := Image{
		Digest:     desc.Digest.String(),
		Kind:       KindOCI,
		Entrypoint: cfg.Config.Entrypoint,
		Cmd:        cfg.Config.Cmd,
		Env:        cfg.Config.Env,
		WorkDir:    cfg.Config.WorkingDir,
	}
	stored, err := s.commitBase(meta, func(rootfs string) error {
		flat := mutate.Extract(img)
		defer flat.Close()
		return extractTar(rootfs, tar.NewReader(flat))
	})
	stored.Name = name
	return stored, err
}

// pickImage finds the one image in a layout: the only one, or the only one for this machine's
// platform (looking one level into nested indexes, as multi-platform layouts have).
func pickImage(index v1.ImageIndex) (v1.Descriptor, v1.Image, error) {
	type candidate struct {
		desc v1.Descriptor
		from v1.ImageIndex
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	var all []candidate
	for _, desc := range manifest.Manifests {
		switch {
		case desc.MediaType.IsImage():
			all = append(all, candidate{desc, index})
		case desc.MediaType.IsIndex():
			child, err := index.ImageIndex(desc.Digest)
			if err != nil {
				return v1.Descriptor{}, nil, err
			}
			childManifest, err := child.IndexManifest()
			if err != nil {
				return v1.Descriptor{}, nil, err
			}
			for _, d := range childManifest.Manifests {
				if d.MediaType.IsImage() {
					if d.Annotations == nil {
						d.Annotations = desc.Annotations
					}
					all = append(all, candidate{d, child})
				}
			}
		}
	}
	if len(all) > 1 {
		var forHere []candidate
		for _, c := range all {
			if c.desc.Platform == nil || (c.desc.Platform.OS == "linux" && c.desc.Platform.Architecture == runtime.GOARCH) {
				forHere = append(forHere, c)
			}
		}
		all = forHere
	}
	if len(all) != 1 {
		return v1.Descriptor{}, nil, fmt.Errorf("OCI layout must hold exactly one image for linux/%s, it holds %d", runtime.GOARCH, len(all))
	}
	img, err := all[0].from.Image(all[0].desc.Digest)
	return all[0].desc, img, err
}

func isNotEmpty(err error) bool { return errors.Is(err, syscall.ENOTEMPTY) }
