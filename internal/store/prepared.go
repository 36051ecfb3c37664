package store

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// stmts caches prepared statements for SQLite, whose driver otherwise parses
// every query from scratch (a fifth of the cost of creating a ticket).
// pgx caches prepared statements per connection by itself, so PostgreSQL
// goes straight through.
type stmts struct {
	db      *sqlx.DB
	m       sync.Map        // query → *sqlx.Stmt
	pendMu  sync.Mutex      // guards pending; never held while waiting
	pending map[string]bool // queries to prepare once the writer is free
}

// cached returns the statement for q if it was prepared already.
func (c *stmts) cached(q string) *sqlx.Stmt {
	if st, ok := c.m.Load(q); ok {
		return st.(*sqlx.Stmt)
	}
	return nil
}

// want queues q for preparing after the current transaction: preparing on
// the pool now would wait for the one writer connection the transaction
// holds.
func (c *stmts) want(q string) {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	if c.pending == nil {
		c.pending = map[string]bool{}
	}
	if len(c.pending) < 256 {
		c.pending[q] = true
	}
}

// preparePending prepares the queued queries; call it with no transaction open.
func (c *stmts) preparePending(ctx context.Context) {
	c.pendMu.Lock()
	qs := c.pending
	c.pending = nil
	c.pendMu.Unlock()
	for q := range qs {
		_, _ = c.get(ctx, q)
	}
}

func (c *stmts) get(ctx context.Context, q string) (*sqlx.Stmt, error) {
	if st, ok := c.m.Load(q); ok {
		return st.(*sqlx.Stmt), nil
	}
	// No lock is held while preparing (it may wait for a connection): two
	// callers may both prepare q, and the one that loses closes its copy.
	st, err := c.db.PreparexContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sqlx.Stmt), nil
	}
	return st, nil
}

func (c *stmts) close() {
	c.m.Range(func(_, v any) bool { v.(*sqlx.Stmt).Close(); return true })
}

// txStmt returns the cached statement bound to this transaction, or nil on
// PostgreSQL.
func (tx *Tx) txStmt(ctx context.Context, q string) (*sqlx.Stmt, error) {
	if tx.s.wstmts == nil {
		return nil, nil
	}
	st := tx.s.wstmts.cached(q)
	if st == nil {
		tx.s.wstmts.want(q)
		return nil, nil
	}
	return tx.tx.StmtxContext(ctx, st), nil
}

// queryRow runs a ?-placeholder query returning one row in the transaction.
func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sqlx.Row {
	st, err := tx.txStmt(ctx, q)
	if err == nil && st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return tx.tx.QueryRowxContext(ctx, tx.s.q(q), args...)
}

// exec runs a ?-placeholder statement in the transaction.
func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := tx.txStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, tx.s.q(q), args...)
}

// sel reads rows into dest inside the transaction.
func (tx *Tx) sel(ctx context.Context, dest any, q string, args ...any) error {
	st, err := tx.txStmt(ctx, q)
	if err == nil && st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return tx.tx.SelectContext(ctx, dest, tx.s.q(q), args...)
}

// txQuerier runs already-rebound queries in a transaction through the
// statement cache (for code shared with the reader pool).
type txQuerier struct{ tx *Tx }

func (q txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.tx.tx.QueryContext(ctx, query, args...)
}

func (q txQuerier) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if st, err := q.tx.txStmt(ctx, query); err == nil && st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return q.tx.tx.QueryxContext(ctx, query, args...)
}

func (q txQuerier) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	return q.tx.tx.QueryRowxContext(ctx, query, args...)
}

// readStmt returns a cached statement on the reader pool, or nil on
// PostgreSQL.
func (s *Store) readStmt(ctx context.Context, q string) *sqlx.Stmt {
	if s.rstmts == nil {
		return nil
	}
	st, err := s.rstmts.get(ctx, q)
	if err != nil {
		return nil
	}
	return st
}

// get reads one row into dest from the reader pool.
func (s *Store) get(ctx context.Context, dest any, q string, args ...any) error {
	if st := s.readStmt(ctx, q); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return sqlx.GetContext(ctx, s.r, dest, s.q(q), args...)
}

// sel reads rows into dest from the reader pool.
func (s *Store) sel(ctx context.Context, dest any, q string, args ...any) error {
	if st := s.readStmt(ctx, q); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, s.r, dest, s.q(q), args...)
}
