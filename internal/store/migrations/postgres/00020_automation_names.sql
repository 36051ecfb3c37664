-- +goose Up
-- A rule's name is what the ticket history shows for everything it did
-- ("Rule: remind after 3 days"), a webhook's what the delivery log shows,
-- a macro's what agents pick in the composer: two with one name would be
-- told apart by nobody. Unique names also make a create sent twice (Back,
-- a double click, a retry) a refusal instead of a copy.
CREATE UNIQUE INDEX rules_name ON rules (lower(name));
CREATE UNIQUE INDEX webhooks_name ON webhooks (lower(name));
CREATE UNIQUE INDEX macros_name ON macros (COALESCE(owner_id, 0), lower(name));

-- How many tickets each rule acted on (the rules page): read from the
-- rules' own history events, without scanning every ticket's history.
CREATE INDEX ticket_events_rule_runs ON ticket_events (actor_id, ticket_id) WHERE actor_type = 'rule' AND field = 'rule';

-- +goose Down
DROP INDEX ticket_events_rule_runs;
DROP INDEX macros_name;
DROP INDEX webhooks_name;
DROP INDEX rules_name;
