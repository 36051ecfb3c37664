-- +goose Up
-- Queues sorted by next SLA deadline, and the Breached queue, read one
-- status at a time (see store.Tickets): this index gives each read its rows
-- already in deadline order. (Team queues walk it and skip other teams'
-- rows; a team index more would slow every ticket write.)
CREATE INDEX tickets_status_due ON tickets(status, sla_due, id);

-- +goose Down
DROP INDEX tickets_status_due;
