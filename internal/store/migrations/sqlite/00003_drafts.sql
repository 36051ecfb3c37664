-- +goose Up
-- Composer drafts, saved server-side per agent and ticket so that they
-- survive reloads and browser crashes.
CREATE TABLE drafts (
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('reply','note')),
    body       TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (agent_id, ticket_id)
);

-- +goose Down
DROP TABLE drafts;
