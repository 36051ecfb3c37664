-- +goose Up
-- A ticket's version rises with every change written to its row: the API
-- serves it as the ETag and honours If-Match, so that a client holding an
-- older copy is told (412) instead of overwriting a colleague's change.
ALTER TABLE tickets ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE tickets DROP COLUMN version;
