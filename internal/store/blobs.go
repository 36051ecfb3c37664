package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// blobChunk is the most content one row of blob_chunks holds.
const blobChunk = 256 << 10

// ErrBlobNotFound reports content that is not stored.
var ErrBlobNotFound = errors.New("attachment content not found")

// Blobs is attachment content kept in PostgreSQL, addressed by SHA-256 and
// stored in chunks, so that every node of a desk reads what any node
// wrote. It has the interface of blob.FS, the folder store SQLite desks use.
type Blobs struct{ s *Store }

// Blobs returns the database content store (PostgreSQL only).
func (s *Store) Blobs() *Blobs { return &Blobs{s: s} }

// Put stores data once per content and returns its hex SHA-256 and the
// content type sniffed from its bytes. Chunks are written before the row
// that names the content, in one transaction: a reader never finds a
// blob whose chunks are missing, and concurrent puts of the same content
// are harmless.
func (b *Blobs) Put(ctx context.Context, data []byte) (string, string, error) {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	ct := http.DetectContentType(data)
	var n int
	if err := b.s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM blobs WHERE sha256 = $1`, sum).Scan(&n); err != nil {
		return "", "", fmt.Errorf("looking up attachment content: %w", err)
	}
	if n > 0 {
		return sum, ct, nil
	}
	chunks := (len(data) + blobChunk - 1) / blobChunk
	err := pgx.BeginFunc(ctx, b.s.pool, func(tx pgx.Tx) error {
		for i := range chunks {
			part := data[i*blobChunk : min((i+1)*blobChunk, len(data))]
			if _, err := tx.Exec(ctx, `INSERT INTO blob_chunks (sha256, seq, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, sum, i, part); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO blobs (sha256, size, chunks, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			sum, len(data), chunks, time.Now().UTC())
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("storing attachment content: %w", err)
	}
	return sum, ct, nil
}

// Has reports whether content sum is stored.
func (b *Blobs) Has(ctx context.Context, sum string) (bool, error) {
	var n int
	err := b.s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM blobs WHERE sha256 = $1`, sum).Scan(&n)
	return n > 0, err
}

// Open returns the content stored under sum, read a chunk at a time as
// the caller reads or seeks (HTTP range requests read only what they ask).
func (b *Blobs) Open(ctx context.Context, sum string) (io.ReadSeekCloser, error) {
	r := &blobReader{ctx: ctx, b: b, sum: sum, cur: -1}
	err := b.s.pool.QueryRow(ctx, `SELECT size FROM blobs WHERE sha256 = $1`, sum).Scan(&r.size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", sum, ErrBlobNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening attachment content: %w", err)
	}
	return r, nil
}

type blobReader struct {
	ctx  context.Context
	b    *Blobs
	sum  string
	size int64
	off  int64
	cur  int64 // the chunk in buf, -1 for none
	buf  []byte
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	seq := r.off / blobChunk
	if seq != r.cur {
		r.buf = r.buf[:0]
		if err := r.b.s.pool.QueryRow(r.ctx, `SELECT data FROM blob_chunks WHERE sha256 = $1 AND seq = $2`, r.sum, seq).Scan(&r.buf); err != nil {
			return 0, fmt.Errorf("reading attachment content: %w", err)
		}
		r.cur = seq
	}
	n := copy(p, r.buf[r.off-seq*blobChunk:])
	r.off += int64(n)
	return n, nil
}

func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	r.off = offset
	return offset, nil
}

func (r *blobReader) Close() error { return nil }
