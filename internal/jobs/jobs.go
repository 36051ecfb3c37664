// Package jobs is Sportello's job queue: riverqueue/river on the desk's
// own database (riversqlite on SQLite, riverpgxv5 on PostgreSQL), for
// work that is sent or retried — outbound mail today, webhooks, surveys
// and reminders later. Jobs are inserted inside the transaction of the
// change that causes them, so a change and its consequences commit or
// vanish together, and a restart picks up whatever was left.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// SendMail sends one row of the outbox.
type SendMail struct {
	OutboxID int64 `json:"outbox_id"`
}

// Kind names the job in river's table.
func (SendMail) Kind() string { return "send_mail" }

// InsertOpts gives outbound mail its own queue and a long retry budget
// (with the worker's backoff, about 7 hours before it is given up).
func (SendMail) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: 20}
}

// Survey sends the satisfaction survey of one resolution of a ticket (a
// resolution is known by the instant the ticket was solved). It is
// queued when the ticket is solved, to run a delay later; a ticket
// reopened meanwhile gets none (the worker checks), and a resolution gets
// one survey at most (unique by its arguments, and the survey's row).
type Survey struct {
	TicketID   int64 `json:"ticket_id"`
	Resolution int64 `json:"resolution"`
}

// Kind names the job in river's table.
func (Survey) Kind() string { return "csat_survey" }

// InsertOpts: one job per resolution, whatever retries the change had.
func (Survey) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Queues: mail and webhooks each have their own, so that a slow SMTP
// server or a receiver that hangs never delays the other, nor the rest.
const (
	QueueMail     = "mail"
	QueueWebhooks = "webhooks"
)

// Config tunes the queue.
type Config struct {
	// MailWorkers is how many mails are sent at once (default 10: each
	// waits mostly on its SMTP server).
	MailWorkers int
	// Poll is how often a node looks for due jobs when it was not told
	// (default 1s; PostgreSQL nodes are also told by LISTEN/NOTIFY).
	Poll time.Duration
	Log  *slog.Logger
}

type runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Queue inserts jobs inside the desk's transactions and runs the workers.
type Queue struct {
	insert *river.Client[*sql.Tx]
	run    runner
	pool   *pgxpool.Pool // PostgreSQL: the queue's own connections
}

// Open builds the queue on a database: db is the handle transactions run
// on (on SQLite, the single writer connection); pool is PostgreSQL's pgx
// pool (nil on SQLite). River's own tables are migrated here.
func Open(ctx context.Context, db *sql.DB, pool *pgxpool.Pool, workers *river.Workers, cfg Config) (*Queue, error) {
	if cfg.MailWorkers <= 0 {
		cfg.MailWorkers = 10
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{
		Queues: map[string]river.QueueConfig{QueueMail: {MaxWorkers: cfg.MailWorkers}, QueueWebhooks: {MaxWorkers: 5},
			river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		FetchPollInterval: cfg.Poll,
		// River fetches at most the free workers' worth of jobs, then
		// waits this long before fetching again (default 100 ms, which
		// caps a queue at workers × 10 jobs a second).
		FetchCooldown: 20 * time.Millisecond,
		Logger:        cfg.Log.With("in", "jobs"),
		JobTimeout:    2 * time.Minute,
		// A node killed mid-job leaves it running; another node (or this
		// one, restarted) takes it again after this long.
		RescueStuckJobsAfter: 5 * time.Minute,
	}
	if pool == nil {
		// SQLite has no LISTEN: river's listener would poll a table every
		// 50 ms on the desk's single writer connection. Polling for due
		// jobs every Poll instead costs the writer far less.
		rc.PollOnly = true
		drv := riversqlite.New(db)
		if err := migrate(ctx, drv); err != nil {
			return nil, err
		}
		c, err := river.NewClient(drv, rc)
		if err != nil {
			return nil, fmt.Errorf("starting the job queue: %w", err)
		}
		return &Queue{insert: c, run: c}, nil
	}
	// River gets its own small pool on the same database: its listener
	// holds a connection for good and its fetches and completions come and
	// go, none of which may take a connection the desk's requests wait for
	// (a desk may run on pool_max_conns=2).
	pc := pool.Config()
	pc.MaxConns, pc.MinConns = 4, 0
	own, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("job queue connections: %w", err)
	}
	work := riverpgxv5.New(own)
	if err := migrate(ctx, work); err != nil {
		own.Close()
		return nil, err
	}
	wc, err := river.NewClient(work, rc)
	if err != nil {
		own.Close()
		return nil, fmt.Errorf("starting the job queue: %w", err)
	}
	// The desk's transactions are database/sql ones over the same pool:
	// an insert-only client writes jobs inside them.
	ic, err := river.NewClient(riverdatabasesql.New(db), &river.Config{Logger: rc.Logger})
	if err != nil {
		own.Close()
		return nil, fmt.Errorf("starting the job queue: %w", err)
	}
	return &Queue{insert: ic, run: wc, pool: own}, nil
}

func migrate[TTx any](ctx context.Context, drv riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return fmt.Errorf("job queue tables: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue tables: %w", err)
	}
	return nil
}

// InsertTx adds a job inside tx: it runs once tx commits, never if tx
// rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs) error {
	if _, err := q.insert.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("queueing %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertAtTx adds a job inside tx that runs at at (or soon after).
func (q *Queue) InsertAtTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, at time.Time) error {
	opts := &river.InsertOpts{ScheduledAt: at}
	if o, ok := args.(river.JobArgsWithInsertOpts); ok {
		base := o.InsertOpts()
		base.ScheduledAt = at
		opts = &base
	}
	if _, err := q.insert.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("queueing %s: %w", args.Kind(), err)
	}
	return nil
}

// Start runs the workers until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.run.Start(ctx) }

// Stop lets running jobs finish (up to ctx) and stops fetching.
func (q *Queue) Stop(ctx context.Context) error { return q.run.Stop(ctx) }

// Close releases the queue's own connections (after Stop).
func (q *Queue) Close() {
	if q.pool != nil {
		q.pool.Close()
	}
}

// Backoff is the wait before retry n (1-based) of a job: base doubled
// each time, at most max, so a server that is down for a minute is tried
// again soon after it is back, and one down for a day is not hammered.
func Backoff(n int, base, most time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}
