-- +goose Up
-- Sending mail. A mailbox sends through its SMTP server, signs in by
-- password or OAuth2 (secrets sealed with the desk's key), and signs its
-- mail with a signature per language.
ALTER TABLE mailboxes ADD COLUMN smtp_host TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN smtp_port INTEGER NOT NULL DEFAULT 587;
ALTER TABLE mailboxes ADD COLUMN smtp_tls TEXT NOT NULL DEFAULT 'starttls' CHECK (smtp_tls IN ('tls', 'starttls', 'none'));
ALTER TABLE mailboxes ADD COLUMN smtp_user TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN smtp_password TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN auth TEXT NOT NULL DEFAULT 'password' CHECK (auth IN ('password', 'oauth2'));
-- OAuth2: the provider's endpoints and client, and the tokens it gave
-- (client secret and tokens sealed).
ALTER TABLE mailboxes ADD COLUMN oauth TEXT NOT NULL DEFAULT '{}';
ALTER TABLE mailboxes ADD COLUMN signatures TEXT NOT NULL DEFAULT '{}';

-- The outbox: every mail the desk sends, written in the transaction of
-- the change that causes it (an agent's reply, a new ticket's
-- acknowledgement, a notice to an agent) and sent by a job. The row keeps
-- what was sent and what the server answered.
CREATE TABLE outbound_mails (
    id          INTEGER PRIMARY KEY,
    mailbox_id  INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    ticket_id   INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    message_id  INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('reply', 'ack', 'notify')),
    mail_id     TEXT NOT NULL UNIQUE,
    from_name   TEXT NOT NULL DEFAULT '',
    reply_to    TEXT NOT NULL DEFAULT '',
    to_addr     TEXT NOT NULL,
    cc_addrs    TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    body_html   TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT NOT NULL DEFAULT '',
    refs        TEXT NOT NULL DEFAULT '',
    auto        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    sent_at     DATETIME
);
CREATE INDEX outbound_mails_message ON outbound_mails(message_id);
CREATE INDEX outbound_mails_ticket ON outbound_mails(ticket_id, created_at);
-- Automatic mail per address in a window: the loop breaker's count.
CREATE INDEX outbound_mails_auto ON outbound_mails(to_addr, created_at) WHERE auto <> '';

-- Which mail notices an agent wants (assigned, customer, sla).
ALTER TABLE agents ADD COLUMN mail_notices TEXT NOT NULL DEFAULT 'assigned,customer,sla';

-- Customer-facing templates an admin changed, per language; the shipped
-- text is used where there is no row.
CREATE TABLE mail_templates (
    name       TEXT NOT NULL,
    language   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (name, language)
);

-- +goose Down
DROP TABLE mail_templates;
ALTER TABLE agents DROP COLUMN mail_notices;
DROP TABLE outbound_mails;
ALTER TABLE mailboxes DROP COLUMN signatures;
ALTER TABLE mailboxes DROP COLUMN oauth;
ALTER TABLE mailboxes DROP COLUMN auth;
ALTER TABLE mailboxes DROP COLUMN smtp_password;
ALTER TABLE mailboxes DROP COLUMN smtp_user;
ALTER TABLE mailboxes DROP COLUMN smtp_tls;
ALTER TABLE mailboxes DROP COLUMN smtp_port;
ALTER TABLE mailboxes DROP COLUMN smtp_host;
