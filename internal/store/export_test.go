package store

import "context"

// ForgetSearchIndexForTest empties the search index and marks the backfill
// due, as on a desk that predates the index.
func (s *Store) ForgetSearchIndexForTest(ctx context.Context) error {
	clear := `DELETE FROM ticket_search`
	if s.dialect == SQLite {
		clear = `DELETE FROM ticket_fts`
	}
	if _, err := s.w.ExecContext(ctx, clear); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, `UPDATE search_backfill SET pending = TRUE`)
	return err
}

// ForgetContactTermsForTest empties the contacts' search terms, as on a
// desk that predates contact search by any word.
func (s *Store) ForgetContactTermsForTest(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM contact_terms`)
	return err
}
