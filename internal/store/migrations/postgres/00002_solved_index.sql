-- +goose Up
-- Finds solved tickets due for automatic closing without scanning them all.
CREATE INDEX tickets_status_solved ON tickets(status, solved_at);

-- +goose Down
DROP INDEX tickets_status_solved;
