-- +goose Up
-- On SQLite attachment content stays in the data folder (one process, one
-- folder to back up); PostgreSQL stores it in the database from this
-- version. The version exists here so both engines carry the same set.
SELECT 1;

-- +goose Down
SELECT 1;
