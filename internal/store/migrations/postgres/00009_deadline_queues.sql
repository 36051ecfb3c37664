-- +goose Up
-- Queues sorted by next SLA deadline, and the Breached queue, read one
-- status at a time (see store.Tickets), overall or for a set of teams:
-- these indexes give each of those reads its rows in deadline order.
CREATE INDEX tickets_status_due ON tickets(status, sla_due, id);
CREATE INDEX tickets_team_status_due ON tickets(team_id, status, sla_due, id);

-- +goose Down
DROP INDEX tickets_team_status_due;
DROP INDEX tickets_status_due;
