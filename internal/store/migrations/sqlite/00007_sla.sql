-- +goose Up
-- SLA (DOMAIN.md §3): business-hours calendars, ordered policies, each
-- ticket's clocks and metric record, in-app notices, and the state of a
-- recompute after a configuration change. Instants that queues sort on
-- are Unix seconds on the ticket row; 253402300799 (9999-12-31) means none,
-- and tickets without a running clock stay out of the warning and alarm
-- indexes (queries repeat the index's condition so that they may use it).
CREATE TABLE calendars (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    timezone   TEXT NOT NULL,
    week       TEXT NOT NULL DEFAULT '[]',
    holidays   TEXT NOT NULL DEFAULT '[]',
    overrides  TEXT NOT NULL DEFAULT '[]',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE sla_policies (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    position     INTEGER NOT NULL DEFAULT 0,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    calendar_id  INTEGER REFERENCES calendars(id),
    conditions   TEXT NOT NULL DEFAULT '{}',
    targets      TEXT NOT NULL DEFAULT '{}',
    pauses       TEXT NOT NULL DEFAULT '{}',
    warn_seconds INTEGER NOT NULL DEFAULT 0,
    warn_percent INTEGER NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);

CREATE TABLE ticket_sla (
    ticket_id        INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    metric           TEXT NOT NULL,
    policy_id        INTEGER NOT NULL,
    target_seconds   INTEGER NOT NULL,
    business         BOOLEAN NOT NULL,
    state            TEXT NOT NULL,
    cycle            INTEGER NOT NULL,
    started_at       DATETIME NOT NULL,
    stopped_at       DATETIME,
    deadline         DATETIME,
    warn_at          DATETIME,
    elapsed_business INTEGER NOT NULL,
    elapsed_calendar INTEGER NOT NULL,
    breached         BOOLEAN NOT NULL,
    breaches         INTEGER NOT NULL,
    warned_cycle     INTEGER NOT NULL,
    breached_cycle   INTEGER NOT NULL,
    computed_at      DATETIME NOT NULL,
    PRIMARY KEY (ticket_id, metric)
);

CREATE TABLE ticket_metrics (
    ticket_id                 INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    policy_id                 INTEGER,
    first_reply_business      INTEGER,
    first_reply_calendar      INTEGER,
    first_resolution_business INTEGER,
    first_resolution_calendar INTEGER,
    full_resolution_business  INTEGER,
    full_resolution_calendar  INTEGER,
    breaches_first_reply      INTEGER NOT NULL DEFAULT 0,
    breaches_next_reply       INTEGER NOT NULL DEFAULT 0,
    breaches_resolution       INTEGER NOT NULL DEFAULT 0,
    breaches_periodic_update  INTEGER NOT NULL DEFAULT 0,
    reopens                   INTEGER NOT NULL DEFAULT 0,
    updated_at                DATETIME NOT NULL
);

ALTER TABLE tickets ADD COLUMN sla_due BIGINT NOT NULL DEFAULT 253402300799;
ALTER TABLE tickets ADD COLUMN sla_warn BIGINT NOT NULL DEFAULT 253402300799;
ALTER TABLE tickets ADD COLUMN sla_alarm BIGINT NOT NULL DEFAULT 253402300799;
CREATE INDEX tickets_sla_warn ON tickets(sla_warn) WHERE sla_warn < 253402300799;
CREATE INDEX tickets_sla_alarm ON tickets(sla_alarm) WHERE sla_alarm < 253402300799;

CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    ticket_id  INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    read_at    DATETIME
);
CREATE INDEX notices_agent ON notices(agent_id, id);

CREATE TABLE sla_recompute (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    pending    BOOLEAN NOT NULL,
    after_id   BIGINT NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO sla_recompute (id, pending, after_id, generation) VALUES (1, FALSE, 0, 0);

-- +goose Down
DROP TABLE sla_recompute;
DROP TABLE notices;
DROP INDEX tickets_sla_alarm;
DROP INDEX tickets_sla_warn;
ALTER TABLE tickets DROP COLUMN sla_alarm;
ALTER TABLE tickets DROP COLUMN sla_warn;
ALTER TABLE tickets DROP COLUMN sla_due;
DROP TABLE ticket_metrics;
DROP TABLE ticket_sla;
DROP TABLE sla_policies;
DROP TABLE calendars;
