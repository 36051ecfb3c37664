-- +goose Up
-- Contact search matches the start of a name or an email address; these
-- indexes turn it into two range scans instead of reading every contact.
CREATE INDEX contacts_name_lower ON contacts(LOWER(name));

-- +goose Down
DROP INDEX contacts_name_lower;
