package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bulk inserts many rows fast, for the data generator: COPY on PostgreSQL,
// multi-row INSERTs inside one transaction on SQLite. Rows must give every
// column, ids included (see MaxID).
func (s *Store) Bulk(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if s.dialect == Postgres {
		_, err := s.pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("copying into %s: %w", table, err)
		}
		return nil
	}
	per := max(1, 30000/len(cols))
	return s.InTx(ctx, func(tx *Tx) error {
		ph := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
		for start := 0; start < len(rows); start += per {
			end := min(start+per, len(rows))
			var b strings.Builder
			b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") VALUES ")
			args := make([]any, 0, (end-start)*len(cols))
			for i := start; i < end; i++ {
				if i > start {
					b.WriteByte(',')
				}
				b.WriteString(ph)
				args = append(args, rows[i]...)
			}
			if _, err := tx.tx.ExecContext(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("inserting into %s: %w", table, err)
			}
		}
		return nil
	})
}

// MaxID returns the largest id in table (0 when empty).
func (s *Store) MaxID(ctx context.Context, table string) (int64, error) {
	var n *int64
	if err := s.w.GetContext(ctx, &n, "SELECT MAX(id) FROM "+table); err != nil {
		return 0, err
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// SyncSequences moves PostgreSQL identity sequences past ids inserted
// explicitly by Bulk. SQLite needs nothing.
func (s *Store) SyncSequences(ctx context.Context, tables ...string) error {
	if s.dialect != Postgres {
		return nil
	}
	for _, t := range tables {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), GREATEST((SELECT MAX(id) FROM %s), 1))`, t, t)
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("syncing sequence of %s: %w", t, err)
		}
	}
	return nil
}

// Analyze refreshes the planner's statistics after a bulk load.
func (s *Store) Analyze(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, "ANALYZE")
	return err
}

// CountTickets counts every ticket.
func (s *Store) CountTickets(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.GetContext(ctx, &n, "SELECT COUNT(*) FROM tickets")
	return n, err
}

// SolvedBefore lists tickets solved before a moment, oldest first.
func (s *Store) SolvedBefore(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.sel(ctx, &ids, `SELECT id FROM tickets WHERE status = 'solved' AND solved_at < ? ORDER BY solved_at LIMIT ?`, utc(before), limit)
	return ids, err
}
