// Package store is all of Sportello's SQL. One Store serves both engines:
// SQLite (embedded, the default: one writer connection and a pool of
// readers, WAL) and PostgreSQL (one pgx pool shared with database/sql).
// Queries are written once in the portable subset with ? placeholders and
// rebound for PostgreSQL; the few differences live in dialect.go.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sportello/sportello/internal/fault"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database engine.
type Dialect string

// Supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the database handle shared by every service.
type Store struct {
	w       *sqlx.DB // writes and transactions (SQLite: exactly one connection)
	r       *sqlx.DB // reads (PostgreSQL: the same pool as w)
	pool    *pgxpool.Pool
	dialect Dialect
	wstmts  *stmts // SQLite only: prepared statements on the writer
	rstmts  *stmts // SQLite only: prepared statements on the readers
	// Where is a human description of the database, safe to log (no password).
	Where string
}

// Open connects to the database named by url: a postgres:// URL selects
// PostgreSQL, anything else (including "") is the SQLite file in dataDir.
func Open(ctx context.Context, url, dataDir string) (*Store, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgres(ctx, url)
	}
	path := strings.TrimPrefix(url, "sqlite://")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data folder: %w", err)
		}
		path = filepath.Join(dataDir, "sportello.db")
	}
	return openSQLite(ctx, path)
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
	w, err := sqlx.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening sqlite: %w", err)
	}
	// One writer: SQLite serialises writes anyway, and a single connection
	// turns lock contention into an orderly queue in database/sql.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sqlx.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite readers: %w", err)
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s := &Store{w: rebindAs(w, "sqlite3"), r: rebindAs(r, "sqlite3"), dialect: SQLite, Where: "sqlite " + path}
	s.wstmts, s.rstmts = &stmts{db: s.w}, &stmts{db: s.r}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening sqlite %s: %w", path, err)
	}
	return s, nil
}

func openPostgres(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing database URL: %w", err)
	}
	// pgxpool's default (4 or the CPU count) is small for a web server;
	// an explicit pool_max_conns in the URL is kept as given (the
	// concurrency tests run desks on a pool of one or two connections).
	if !strings.Contains(url, "pool_max_conns=") && cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	db := sqlx.NewDb(stdlib.OpenDBFromPool(pool), "pgx")
	return &Store{w: db, r: db, pool: pool, dialect: Postgres,
		Where: fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}, nil
}

// rebindAs wraps a database/sql handle so sqlx rebinds for driverName.
func rebindAs(db *sqlx.DB, driverName string) *sqlx.DB { return sqlx.NewDb(db.DB, driverName) }

// Dialect tells which engine this store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close releases every connection.
func (s *Store) Close() error {
	var errs []error
	if s.wstmts != nil {
		s.wstmts.close()
		s.rstmts.close()
	}
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if s.pool != nil {
		s.pool.Close()
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers (used by /readyz).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.r.PingContext(ctx)
}

func (s *Store) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	d := goose.DialectSQLite3
	if s.dialect == Postgres {
		d = goose.DialectPostgres
	}
	return goose.NewProvider(d, s.w.DB, sub)
}

// Migrate applies every pending migration, then indexes for search any
// tickets written before the search index existed (once; instant on a new
// desk).
func (s *Store) Migrate(ctx context.Context) (applied []int64, err error) {
	p, err := s.migrator()
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	if len(applied) > 0 && s.dialect == SQLite {
		if err := s.analyseNew(ctx); err != nil {
			return applied, err
		}
	}
	if _, err := s.BackfillSearch(ctx); err != nil {
		return applied, err
	}
	if _, err := s.BackfillContactTerms(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// analyseNew gives statistics to the indexes a migration added, and only
// to them: without any SQLite may pick an index that cannot serve the
// ORDER BY, while re-analysing everything with a bound (to keep a start
// quick) would replace the full statistics of the big tables with rough
// ones, and a rough guess of how many tickets a status has sent the
// million-ticket inbox from 5 ms to 60 ms.
func (s *Store) analyseNew(ctx context.Context) error {
	var fresh []string
	if err := s.w.SelectContext(ctx, &fresh, `SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'
AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)`); err != nil {
		// No statistics table yet (a new desk): analyse it all, it is small.
		_, err = s.w.ExecContext(ctx, `PRAGMA analysis_limit=1000; ANALYZE`)
		if err != nil {
			return fmt.Errorf("analysing after migrations: %w", err)
		}
		return nil
	}
	for _, idx := range fresh {
		if _, err := s.w.ExecContext(ctx, `PRAGMA analysis_limit=1000; ANALYZE "`+strings.ReplaceAll(idx, `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("analysing index %s: %w", idx, err)
		}
	}
	return nil
}

// Optimize refreshes the query planner's statistics as the data grows
// (SQLite's PRAGMA optimize, bounded; PostgreSQL's autovacuum does this
// by itself). Run it periodically.
func (s *Store) Optimize(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	// Unbounded: a bounded analysis guesses a status holds a thousand
	// tickets of a million (see analyseNew), and optimize re-analyses a
	// table only when it has grown much since, so the full pass is rare.
	_, err := s.w.ExecContext(ctx, `PRAGMA optimize`)
	return err
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Version   int64
	Name      string
	AppliedAt *time.Time
}

// MigrationStatus lists every known migration and its state.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := s.migrator()
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	out := make([]MigrationState, len(st))
	for i, m := range st {
		out[i] = MigrationState{Version: m.Source.Version, Name: filepath.Base(m.Source.Path)}
		if m.State == goose.StateApplied {
			t := m.AppliedAt
			out[i].AppliedAt = &t
		}
	}
	return out, nil
}

// MigrationVersions lists the versions embedded for a dialect; a test
// checks both dialects carry the same set.
func MigrationVersions(d Dialect) ([]string, error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+string(d))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if v, _, ok := strings.Cut(e.Name(), "_"); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// Tx is one write transaction.
type Tx struct {
	tx    *sqlx.Tx
	s     *Store
	after []func()
}

// AfterCommit runs fn once the transaction has committed (never when it
// rolls back): what must reach other nodes or the network waits for the
// commit, and never takes a pool connection while the transaction holds one.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// InTx runs fn in a write transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) (err error) {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	t := &Tx{tx: tx, s: s}
	if err = fn(t); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	if s.wstmts != nil {
		s.wstmts.preparePending(ctx)
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// q rebinds a ?-placeholder query for the engine.
func (s *Store) q(query string) string { return s.w.Rebind(query) }

// forUpdate is the row-lock suffix: SQLite's single writer already
// serialises transactions.
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

func conflict(field, detail string) error {
	return fmt.Errorf("%w: %w", fault.Conflict, fault.Field(field, "unique", detail))
}

func notFound(err, sentinel error) error {
	if errors.Is(err, errNoRows) {
		return sentinel
	}
	return err
}

// now is the UTC, microsecond-truncated form every timestamp is stored in,
// so that both engines round-trip the same value.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func errField(field, rule, detail string) error { return fault.Field(field, rule, detail) }

// ErrChanged refuses a write based on a copy older than the stored row:
// someone changed it since the caller read it.
var ErrChanged = fmt.Errorf("it was changed by someone else since it was read; read it again and repeat the change: %w", fault.Conflict)

// unchangedSince locks row id of table and checks that it was last
// written at since (the updated_at the caller's copy was read with), so
// that a form or request read earlier never undoes someone else's change.
// A zero since skips the check; a missing row is notFound.
func (tx *Tx) unchangedSince(ctx context.Context, table string, id int64, since time.Time, notFoundErr error) error {
	if since.IsZero() {
		return nil
	}
	var cur time.Time
	if err := tx.queryRow(ctx, `SELECT updated_at FROM `+table+` WHERE id = ?`+tx.s.forUpdate(), id).Scan(&cur); err != nil {
		return notFound(err, notFoundErr)
	}
	if cur.UnixMicro() != since.UnixMicro() {
		return ErrChanged
	}
	return nil
}

// Handles returns the database/sql handle transactions run on (SQLite:
// the single writer connection) and, on PostgreSQL, the pgx pool, for
// the job queue that shares them.
func (s *Store) Handles() (*sql.DB, *pgxpool.Pool) { return s.w.DB, s.pool }
