-- +goose Up
-- Full-text search over ticket subjects and messages. Sportello stems the
-- text in Go (Italian and English, see internal/search) and the tsvector
-- holds the ready-made terms (config 'simple'); the subject weighs A.
CREATE TABLE ticket_search (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    doc       TSVECTOR NOT NULL
);
CREATE INDEX ticket_search_doc ON ticket_search USING GIN (doc);
-- Tickets written before this index existed are indexed at the next start.
CREATE TABLE search_backfill (pending BOOLEAN NOT NULL);
INSERT INTO search_backfill (pending) VALUES (TRUE);

-- +goose Down
DROP TABLE search_backfill;
DROP TABLE ticket_search;
