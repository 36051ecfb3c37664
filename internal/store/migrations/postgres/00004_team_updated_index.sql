-- +goose Up
-- Team queues sorted by last update (the inbox default) read in index order.
CREATE INDEX tickets_team_status_updated ON tickets(team_id, status, updated_at, id);

-- +goose Down
DROP INDEX tickets_team_status_updated;
