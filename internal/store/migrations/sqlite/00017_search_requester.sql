-- +goose Up
-- Ticket search finds tickets by the requester's name and organisation:
-- every ticket's search document is rebuilt once, at the next start.
UPDATE search_backfill SET pending = TRUE;

-- +goose Down
SELECT 1;
