package store

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/internal/ticket"
)

const viewCols = `id, name, agent_id, team_id, query, created_at`

// CreateView stores a saved view and sets its ID.
func (s *Store) CreateView(ctx context.Context, v *ticket.SavedView) error {
	v.CreatedAt = utc(v.CreatedAt)
	return s.InTx(ctx, func(tx *Tx) error {
		return tx.queryRow(ctx, `INSERT INTO saved_views (name, agent_id, team_id, query, created_at) VALUES (?,?,?,?,?) RETURNING id`,
			v.Name, v.AgentID, v.TeamID, v.Query, v.CreatedAt).Scan(&v.ID)
	})
}

// View reads one saved view.
func (s *Store) View(ctx context.Context, id int64) (*ticket.SavedView, error) {
	var v ticket.SavedView
	if err := s.get(ctx, &v, `SELECT `+viewCols+` FROM saved_views WHERE id = ?`, id); err != nil {
		return nil, notFound(err, ticket.ErrViewNotFound)
	}
	return &v, nil
}

// ViewsFor lists an agent's own views and those shared with their teams,
// by name.
func (s *Store) ViewsFor(ctx context.Context, agentID int64, teamIDs []int64) ([]ticket.SavedView, error) {
	ids := append([]int64{-1}, teamIDs...)
	q, args, err := s.in(`SELECT `+viewCols+` FROM saved_views WHERE agent_id = ? OR team_id IN (?) ORDER BY LOWER(name), id`, agentID, ids)
	if err != nil {
		return nil, err
	}
	var out []ticket.SavedView
	if err := s.r.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("listing views: %w", err)
	}
	return out, nil
}

// DeleteView removes a saved view.
func (s *Store) DeleteView(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM saved_views WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting view: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ticket.ErrViewNotFound
	}
	return nil
}
