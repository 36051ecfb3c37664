-- +goose Up
-- Creates and replies remember the key they were sent with (the API's
-- Idempotency-Key header, the workspace forms' one-time token), written in
-- the same transaction as the ticket or message: a retry or a Back-and-
-- resubmit with the same key answers with what the first one made and
-- writes nothing, also after a crash between the two.
CREATE TABLE idempotency_keys (
    agent_id    BIGINT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    message_id  BIGINT,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (agent_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- +goose Down
DROP TABLE idempotency_keys;
