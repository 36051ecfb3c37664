-- +goose Up
-- Attachment content (and, with the email channel, raw mail) lives in the
-- database on PostgreSQL, so that several nodes share nothing but the
-- database: a file uploaded through one node downloads from any other.
-- Content is addressed by SHA-256 (stored once however often it is
-- uploaded) and kept in chunks of at most 256 KiB, read one at a time.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    chunks     INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    data   BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- +goose Down
DROP TABLE blob_chunks;
DROP TABLE blobs;
