package store

import (
	"context"
	"fmt"
	"time"
)

// Draft is an unsent composer text.
type Draft struct {
	Kind      string    `db:"kind"`
	Body      string    `db:"body"`
	UpdatedAt time.Time `db:"updated_at"`
}

// SaveDraft stores (or replaces) an agent's draft on a ticket; an empty
// body deletes it.
func (s *Store) SaveDraft(ctx context.Context, agentID, ticketID int64, kind, body string, now time.Time) error {
	if body == "" {
		return s.DeleteDraft(ctx, agentID, ticketID)
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO drafts (agent_id, ticket_id, kind, body, updated_at) VALUES (?,?,?,?,?)
ON CONFLICT (agent_id, ticket_id) DO UPDATE SET kind = excluded.kind, body = excluded.body, updated_at = excluded.updated_at`),
		agentID, ticketID, kind, body, utc(now))
	if err != nil {
		return fmt.Errorf("saving draft: %w", err)
	}
	return nil
}

// LoadDraft returns an agent's draft on a ticket, or nil.
func (s *Store) LoadDraft(ctx context.Context, agentID, ticketID int64) (*Draft, error) {
	var d Draft
	err := s.r.GetContext(ctx, &d, s.q(`SELECT kind, body, updated_at FROM drafts WHERE agent_id = ? AND ticket_id = ?`), agentID, ticketID)
	if err == errNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading draft: %w", err)
	}
	return &d, nil
}

// DeleteDraft removes an agent's draft on a ticket.
func (s *Store) DeleteDraft(ctx context.Context, agentID, ticketID int64) error {
	_, err := s.w.ExecContext(ctx, s.q(`DELETE FROM drafts WHERE agent_id = ? AND ticket_id = ?`), agentID, ticketID)
	return err
}
