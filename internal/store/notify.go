package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LiveChannel is the PostgreSQL notification channel for live updates.
const LiveChannel = "sportello_live"

// CanNotify reports whether the engine relays notifications between nodes
// (PostgreSQL; an SQLite desk is a single process).
func (s *Store) CanNotify() bool { return s.dialect == Postgres }

// Notify sends payload to every node listening on LiveChannel.
func (s *Store) Notify(ctx context.Context, payload string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, LiveChannel, payload); err != nil {
		return fmt.Errorf("notifying: %w", err)
	}
	return nil
}

// Listen calls fn with each payload on LiveChannel until ctx ends,
// reconnecting after errors. It holds a connection of its own, outside the
// pool, so that listening never takes a connection a request needs.
func (s *Store) Listen(ctx context.Context, fn func(payload string), onError func(error)) {
	if s.dialect != Postgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return
		}
		if onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, fn func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+LiveChannel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		fn(n.Payload)
	}
}
