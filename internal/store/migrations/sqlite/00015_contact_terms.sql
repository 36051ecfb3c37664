-- +goose Up
-- Contact search by any word of the name, any part of an email (the
-- domain included) and a phone number in any format: every contact's
-- search terms (see contact.SearchTerms), found by prefix with a range
-- scan of the primary key. The desk fills it for contacts stored before.
CREATE TABLE contact_terms (
    term       TEXT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (term, contact_id)
);
CREATE INDEX contact_terms_contact ON contact_terms(contact_id);

-- +goose Down
DROP TABLE contact_terms;
