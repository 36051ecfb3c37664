-- +goose Up
-- The customer side: the help centre's knowledge base, customers' portal
-- sign-in and sessions, closure confirmations and satisfaction surveys.

-- Settings of the desk an admin changes on a page (the help centre's
-- brand, the survey's delay, what the portal shows), one JSON value each.
CREATE TABLE desk_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Custom fields an admin shows on the contact form.
ALTER TABLE field_defs ADD COLUMN customer_visible BOOLEAN NOT NULL DEFAULT FALSE;

-- Categories group articles; each has a name and an address (slug) per
-- language.
CREATE TABLE kb_categories (
    id         INTEGER PRIMARY KEY,
    position   INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE TABLE kb_category_names (
    category_id INTEGER NOT NULL REFERENCES kb_categories(id) ON DELETE CASCADE,
    lang        TEXT NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (category_id, lang),
    UNIQUE (lang, slug)
);
-- An article, with its counters: votes ("was this helpful?", counted, not
-- per person), views, and how often the contact form's suggestion of it
-- was opened (deflection).
CREATE TABLE kb_articles (
    id          INTEGER PRIMARY KEY,
    category_id INTEGER REFERENCES kb_categories(id) ON DELETE SET NULL,
    internal    BOOLEAN NOT NULL DEFAULT FALSE,
    position    INTEGER NOT NULL DEFAULT 0,
    helpful     INTEGER NOT NULL DEFAULT 0,
    unhelpful   INTEGER NOT NULL DEFAULT 0,
    views       INTEGER NOT NULL DEFAULT 0,
    deflected   INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
-- One version of an article per language, in Markdown and rendered.
CREATE TABLE kb_texts (
    id           INTEGER PRIMARY KEY,
    article_id   INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    lang         TEXT NOT NULL,
    title        TEXT NOT NULL,
    slug         TEXT NOT NULL,
    body         TEXT NOT NULL,
    html         TEXT NOT NULL,
    summary      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('draft', 'published')),
    published_at DATETIME,
    updated_at   DATETIME NOT NULL,
    UNIQUE (article_id, lang),
    UNIQUE (lang, slug)
);
-- Full-text search over the versions, stemmed in Go like ticket search.
CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');

-- Customers sign in to the portal with a one-time link sent by mail; the
-- link's secret and the session's are kept hashed.
CREATE TABLE portal_links (
    hash       TEXT PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);
CREATE TABLE portal_sessions (
    hash       TEXT PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX portal_sessions_contact ON portal_sessions (contact_id);

-- Satisfaction: one survey per resolution (a resolution is known by the
-- instant the ticket was solved, in Unix seconds), one rating per survey.
CREATE TABLE csat_surveys (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    resolution BIGINT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    sent_at    DATETIME NOT NULL,
    PRIMARY KEY (ticket_id, resolution)
);
CREATE TABLE csat_ratings (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    resolution BIGINT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    agent_id   INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    team_id    INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    UNIQUE (ticket_id, resolution)
);
CREATE INDEX csat_ratings_created ON csat_ratings (created_at);
CREATE INDEX csat_ratings_contact ON csat_ratings (contact_id);

-- Mail to customers beyond replies and acknowledgements: the portal's
-- sign-in link, "solved: can you confirm?", the satisfaction survey.
-- SQLite cannot widen a CHECK in place: the table is rebuilt.
CREATE TABLE outbound_mails_new (
    id          INTEGER PRIMARY KEY,
    mailbox_id  INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    ticket_id   INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    message_id  INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('reply', 'ack', 'notify', 'portal', 'solved', 'survey')),
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
INSERT INTO outbound_mails_new SELECT * FROM outbound_mails;
DROP TABLE outbound_mails;
ALTER TABLE outbound_mails_new RENAME TO outbound_mails;
CREATE INDEX outbound_mails_message ON outbound_mails(message_id);
CREATE INDEX outbound_mails_ticket ON outbound_mails(ticket_id, created_at);
CREATE INDEX outbound_mails_auto ON outbound_mails(to_addr, created_at) WHERE auto <> '';

-- +goose Down
DROP TABLE csat_ratings;
DROP TABLE csat_surveys;
DROP TABLE portal_sessions;
DROP TABLE portal_links;
DROP TABLE kb_fts;
DROP TABLE kb_texts;
DROP TABLE kb_articles;
DROP TABLE kb_category_names;
DROP TABLE kb_categories;
DROP TABLE desk_settings;
ALTER TABLE field_defs DROP COLUMN customer_visible;
