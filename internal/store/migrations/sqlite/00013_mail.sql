-- +goose Up
-- The email channel. A mailbox is an address the desk receives at (the
-- SMTP listener today; IMAP and sending come next), with the team its new
-- tickets go to.
CREATE TABLE mailboxes (
    id           INTEGER PRIMARY KEY,
    address      TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL DEFAULT '',
    team_id      INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    auto_ack     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);

-- Every mail a mailbox took in (and, later, sent), by Message-ID: a mail
-- delivered twice is stored once, and replies thread by In-Reply-To and
-- References against any id here. raw_sha256 names the raw MIME in the
-- attachment store, kept whatever the mail turned out to be.
CREATE TABLE mail_ids (
    mailbox_id   INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    ticket_id    INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    class        TEXT NOT NULL,
    raw_sha256   TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (mailbox_id, message_id)
);
CREATE INDEX mail_ids_message ON mail_ids(message_id);

-- A permanent bounce (5.x.x) marks the address: the status it returned.
ALTER TABLE contact_emails ADD COLUMN undeliverable TEXT NOT NULL DEFAULT '';

-- Secrets every node of a desk shares, made once (the key that signs the
-- ticket tokens of reply addresses).
CREATE TABLE desk_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE desk_secrets;
ALTER TABLE contact_emails DROP COLUMN undeliverable;
DROP TABLE mail_ids;
DROP TABLE mailboxes;
