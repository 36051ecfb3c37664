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
    -- Receiving by IMAP (empty host: the SMTP listener only). The
    -- password is sealed with the desk's secret key, never stored plain.
    imap_host     TEXT NOT NULL DEFAULT '',
    imap_port     INTEGER NOT NULL DEFAULT 993,
    imap_tls      TEXT NOT NULL DEFAULT 'tls' CHECK (imap_tls IN ('tls', 'starttls', 'none')),
    imap_user     TEXT NOT NULL DEFAULT '',
    imap_password TEXT NOT NULL DEFAULT '',
    imap_folder   TEXT NOT NULL DEFAULT 'INBOX',
    imap_after    TEXT NOT NULL DEFAULT 'seen' CHECK (imap_after IN ('seen', 'move', 'delete')),
    imap_move_to  TEXT NOT NULL DEFAULT '',
    poll_seconds  INTEGER NOT NULL DEFAULT 60,
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

-- Where each mailbox's IMAP import stands: the folder's UIDVALIDITY and
-- the highest UID stored. It moves only after a mail is stored, so a
-- crash in between fetches that mail again (and intake stores it once).
CREATE TABLE imap_cursors (
    mailbox_id   INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL
);

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
DROP TABLE imap_cursors;
DROP TABLE mail_ids;
DROP TABLE mailboxes;
