-- +goose Up
-- Automation and routing (issue 13): agents' skills, teams' assignment and
-- escalation, rules, macros, outbound webhooks and their delivery log.

-- Languages an agent speaks to customers and topics they know (lower-case,
-- comma-separated); none means the workspace language and every topic.
ALTER TABLE agents ADD COLUMN skill_languages TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN skill_topics TEXT NOT NULL DEFAULT '';

-- How a team's new tickets find an agent: manual, round_robin or
-- least_loaded; assign_cap bounds an agent's new and open tickets (0: no
-- cap); escalate_to_id is the next tier (none: the next higher tier).
ALTER TABLE teams ADD COLUMN assign_mode TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE teams ADD COLUMN assign_cap INTEGER NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN reassign_away BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE teams ADD COLUMN escalate_to_id INTEGER REFERENCES teams(id) ON DELETE SET NULL;
-- Rule notices by mail, for agents who get SLA alarms by mail.
UPDATE agents SET mail_notices = mail_notices || ',rule' WHERE mail_notices LIKE '%sla%';
-- Round-robin's turn: the member assigned longest ago goes next.
ALTER TABLE team_members ADD COLUMN last_assigned_at DATETIME;

-- Rules: ordered; definition holds trigger, conditions and actions (JSON).
CREATE TABLE rules (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    active     BOOLEAN NOT NULL DEFAULT FALSE,
    definition TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
-- A time rule considers a ticket once per anchor (the instant it counts
-- from: its creation or last update), matching or not.
CREATE TABLE rule_runs (
    rule_id    INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    anchor     DATETIME NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (rule_id, ticket_id, anchor)
);

-- Macros (reply scripts): a text per language, optional field changes,
-- personal (owner) or shared (no owner).
CREATE TABLE macros (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    owner_id      INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL DEFAULT 'other',
    variants      TEXT NOT NULL DEFAULT '{}',
    actions       TEXT NOT NULL DEFAULT '{}',
    kb_article_id INTEGER REFERENCES kb_articles(id) ON DELETE SET NULL,
    usage_count   INTEGER NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

-- Outbound webhooks and what each delivery attempt got.
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    events        TEXT NOT NULL DEFAULT '[]',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    allow_private BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    ticket_id   INTEGER,
    attempt     INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    ok          BOOLEAN NOT NULL DEFAULT FALSE,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE macros;
DROP TABLE rule_runs;
DROP TABLE rules;
ALTER TABLE team_members DROP COLUMN last_assigned_at;
ALTER TABLE teams DROP COLUMN escalate_to_id;
ALTER TABLE teams DROP COLUMN reassign_away;
ALTER TABLE teams DROP COLUMN assign_cap;
ALTER TABLE teams DROP COLUMN assign_mode;
ALTER TABLE agents DROP COLUMN skill_topics;
ALTER TABLE agents DROP COLUMN skill_languages;
