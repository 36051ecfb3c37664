// Package testdb gives each test its own database on every engine Sportello
// supports: a fresh SQLite file always, and a fresh PostgreSQL database when
// SPORTELLO_TEST_POSTGRES holds a server URL (CI sets it). Tests written
// with Each run once per engine, so one suite covers both.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/store"
)

// Env is the variable naming the PostgreSQL server used by tests.
const Env = "SPORTELLO_TEST_POSTGRES"

// DB is one test database.
type DB struct {
	Engine  string // "sqlite" or "postgres"
	URL     string // "" for SQLite (the file lives in DataDir)
	DataDir string
}

var warnOnce sync.Once

// Each runs fn as a subtest once per available engine.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, DB{Engine: "sqlite", DataDir: t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, Postgres(t))
	})
}

// Postgres creates a fresh PostgreSQL database for t and drops it when t
// ends; it skips t, saying why, when SPORTELLO_TEST_POSTGRES is not set.
func Postgres(t testing.TB) DB {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		warnOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "testdb: %s is not set; PostgreSQL subtests are skipped (CI sets it)\n", Env)
		})
		t.Skipf("PostgreSQL tests need %s=postgres://user@host:port/db?sslmode=disable", Env)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", Env, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "sportello_t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	u.Path = "/" + name
	return DB{Engine: "postgres", URL: u.String(), DataDir: t.TempDir()}
}

// Name is a label for logs.
func (d DB) Name() string { return strings.ToUpper(d.Engine[:1]) + d.Engine[1:] }

// Open opens and migrates the store for db, closing it when t ends.
func (d DB) Open(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, d.URL, d.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
