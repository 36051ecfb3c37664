-- +goose Up
-- Contact search matches the start of a name or an email address; these
-- pattern indexes serve LIKE 'prefix%' whatever the database's collation.
CREATE INDEX contacts_name_lower ON contacts (LOWER(name) text_pattern_ops);
CREATE INDEX contact_emails_prefix ON contact_emails (email text_pattern_ops);

-- +goose Down
DROP INDEX contact_emails_prefix;
DROP INDEX contacts_name_lower;
