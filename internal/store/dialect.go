package store

import (
	"database/sql"

	"github.com/jmoiron/sqlx"
)

var errNoRows = sql.ErrNoRows

// in expands a query with IN (?) for the slice arguments and rebinds it.
func (s *Store) in(query string, args ...any) (string, []any, error) {
	q, a, err := sqlx.In(query, args...)
	if err != nil {
		return "", nil, err
	}
	return s.q(q), a, nil
}
