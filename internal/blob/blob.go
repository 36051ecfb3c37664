// Package blob keeps attachment content, addressed by SHA-256 so that the
// same file uploaded twice is stored once. FS keeps it in the data folder
// (SQLite desks: one process, one folder to back up), with atomic writes
// (temporary file, then rename); PostgreSQL desks keep it in the database
// (store.Blobs), which every node shares.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
)

// Store is where attachment content lives.
type Store interface {
	// Put stores data and returns its hex SHA-256 and sniffed content type.
	Put(ctx context.Context, data []byte) (sum, contentType string, err error)
	// Open returns the content stored under sum.
	Open(ctx context.Context, sum string) (io.ReadSeekCloser, error)
}

// FS is a content-addressed file store rooted at a directory.
type FS struct{ root string }

// New returns a store rooted at dir, creating it.
func New(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating attachment folder: %w", err)
	}
	return &FS{root: dir}, nil
}

var sumRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f *FS) path(sum string) string { return filepath.Join(f.root, sum[:2], sum[2:4], sum) }

// Put stores data and returns its SHA-256 and sniffed content type. The type
// is sniffed from the bytes, never trusted from the uploader.
func (f *FS) Put(ctx context.Context, data []byte) (string, string, error) {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	ct := http.DetectContentType(data)
	p := f.path(sum)
	if _, err := os.Stat(p); err == nil {
		return sum, ct, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", "", err
	}
	if err := tmp.Close(); err != nil {
		return "", "", err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", "", err
	}
	return sum, ct, nil
}

// Open returns the content stored under sum.
func (f *FS) Open(_ context.Context, sum string) (io.ReadSeekCloser, error) {
	if !sumRe.MatchString(sum) {
		return nil, fmt.Errorf("bad attachment key %q", sum)
	}
	return os.Open(f.path(sum))
}

// Each calls fn with the content key of every stored file (to move a
// folder's files into another store).
func (f *FS) Each(fn func(sum string) error) error {
	return filepath.WalkDir(f.root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !sumRe.MatchString(d.Name()) {
			return err
		}
		return fn(d.Name())
	})
}
