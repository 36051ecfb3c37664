package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
)

// CreateSession stores a session by the hash of its token.
func (s *Store) CreateSession(ctx context.Context, tokenHash string, agentID int64, now, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO sessions (token_hash, agent_id, created_at, expires_at) VALUES (?,?,?,?)`),
		tokenHash, agentID, utc(now), utc(expires))
	if err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// SessionAgent returns the active agent owning an unexpired session.
func (s *Store) SessionAgent(ctx context.Context, tokenHash string, now time.Time) (*agent.Agent, error) {
	var id int64
	err := s.r.QueryRowxContext(ctx, s.q(`SELECT s.agent_id FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.token_hash = ? AND s.expires_at > ? AND a.active = TRUE`), tokenHash, utc(now)).Scan(&id)
	if err != nil {
		return nil, notFound(err, auth.ErrNoSession)
	}
	return s.Agent(ctx, id)
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.w.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE token_hash = ?`), tokenHash)
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ?`), utc(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreateToken stores an API token by its hash and sets its ID.
func (s *Store) CreateToken(ctx context.Context, t *auth.Token) error {
	t.CreatedAt = utc(t.CreatedAt)
	err := s.w.QueryRowxContext(ctx, s.q(`INSERT INTO api_tokens (agent_id, name, token_hash, prefix, created_at) VALUES (?,?,?,?,?) RETURNING id`),
		t.AgentID, t.Name, t.Hash, t.Prefix, t.CreatedAt).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("creating token: %w", err)
	}
	return nil
}

// TokenAgent returns the active agent owning a token and records its use.
func (s *Store) TokenAgent(ctx context.Context, hash string, now time.Time) (*agent.Agent, error) {
	var row struct {
		ID       int64      `db:"id"`
		AgentID  int64      `db:"agent_id"`
		LastUsed *time.Time `db:"last_used_at"`
	}
	err := sqlx.GetContext(ctx, s.r, &row, s.q(`SELECT t.id, t.agent_id, t.last_used_at FROM api_tokens t JOIN agents a ON a.id = t.agent_id
WHERE t.token_hash = ? AND a.active = TRUE`), hash)
	if err != nil {
		return nil, notFound(err, auth.ErrNoSession)
	}
	// Record use at most once a minute: a busy integration must not turn
	// every read into a write.
	if row.LastUsed == nil || now.Sub(*row.LastUsed) > time.Minute {
		if _, err := s.w.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), utc(now), row.ID); err != nil {
			return nil, fmt.Errorf("recording token use: %w", err)
		}
	}
	return s.Agent(ctx, row.AgentID)
}

// Tokens lists an agent's tokens (never their secrets).
func (s *Store) Tokens(ctx context.Context, agentID int64) ([]auth.Token, error) {
	var out []auth.Token
	err := sqlx.SelectContext(ctx, s.r, &out, s.q(`SELECT id, agent_id, name, token_hash, prefix, created_at, last_used_at
FROM api_tokens WHERE agent_id = ? ORDER BY id`), agentID)
	return out, err
}

// DeleteToken revokes one of an agent's tokens.
func (s *Store) DeleteToken(ctx context.Context, agentID, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM api_tokens WHERE id = ? AND agent_id = ?`), id, agentID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.ErrTokenNotFound
	}
	return nil
}
