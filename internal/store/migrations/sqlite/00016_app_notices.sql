-- +goose Up
-- Which in-app notices an agent wants (assigned, customer, mention); SLA
-- alarms are always noted.
ALTER TABLE agents ADD COLUMN app_notices TEXT NOT NULL DEFAULT 'assigned,customer,mention';

-- +goose Down
ALTER TABLE agents DROP COLUMN app_notices;
