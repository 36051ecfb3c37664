-- +goose Up
-- Full-text search over ticket subjects and messages. Sportello stems the
-- text in Go (Italian and English, see internal/search) and FTS5 indexes the
-- ready-made terms; rowid is the ticket id. Contentless: the text lives in
-- tickets and messages, the index only holds terms.
CREATE VIRTUAL TABLE ticket_fts USING fts5(title, body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
-- Tickets written before this index existed are indexed at the next start.
CREATE TABLE search_backfill (pending BOOLEAN NOT NULL);
INSERT INTO search_backfill (pending) VALUES (TRUE);

-- +goose Down
DROP TABLE search_backfill;
DROP TABLE ticket_fts;
