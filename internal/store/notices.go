package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/notice"
)

// InsertNotices writes one notice per agent about a ticket.
func (tx *Tx) InsertNotices(ctx context.Context, agentIDs []int64, ticketID int64, kind, detail string, now time.Time) error {
	for _, a := range agentIDs {
		if _, err := tx.exec(ctx, `INSERT INTO notices (agent_id, ticket_id, kind, detail, created_at) VALUES (?,?,?,?,?)`, a, ticketID, kind, detail, utc(now)); err != nil {
			return fmt.Errorf("storing notice: %w", err)
		}
	}
	return nil
}

// Notices lists an agent's latest notices, newest first.
func (s *Store) Notices(ctx context.Context, agentID int64, limit int) ([]notice.Notice, error) {
	var out []notice.Notice
	err := s.r.SelectContext(ctx, &out, s.q(`SELECT n.id, n.agent_id, n.ticket_id, n.kind, n.detail, n.created_at, n.read_at, COALESCE(t.subject, '') AS subject,
t.team_id AS ticket_team_id, t.assignee_id AS ticket_assignee_id
FROM notices n LEFT JOIN tickets t ON t.id = n.ticket_id WHERE n.agent_id = ? ORDER BY n.id DESC LIMIT ?`), agentID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	return out, nil
}

// UnreadNotices counts an agent's unread notices.
func (s *Store) UnreadNotices(ctx context.Context, agentID int64) (int, error) {
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM notices WHERE agent_id = ? AND read_at IS NULL`, agentID); err != nil {
		return 0, fmt.Errorf("counting notices: %w", err)
	}
	return n, nil
}

// MarkNoticesRead marks every unread notice of the agent read.
func (s *Store) MarkNoticesRead(ctx context.Context, agentID int64, now time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE notices SET read_at = ? WHERE agent_id = ? AND read_at IS NULL`), utc(now), agentID); err != nil {
		return fmt.Errorf("marking notices read: %w", err)
	}
	return nil
}

// MarkNoticeRead marks one notice of the agent read (false when the agent
// has no such notice).
func (s *Store) MarkNoticeRead(ctx context.Context, agentID, id int64, now time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE notices SET read_at = COALESCE(read_at, ?) WHERE agent_id = ? AND id = ?`), utc(now), agentID, id)
	if err != nil {
		return false, fmt.Errorf("marking a notice read: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkTicketNoticesRead marks the agent's unread notices about one ticket
// read: opening the ticket is reading them.
func (s *Store) MarkTicketNoticesRead(ctx context.Context, agentID, ticketID int64, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE notices SET read_at = ? WHERE agent_id = ? AND ticket_id = ? AND read_at IS NULL`), utc(now), agentID, ticketID)
	if err != nil {
		return 0, fmt.Errorf("marking a ticket's notices read: %w", err)
	}
	return res.RowsAffected()
}

// NoticeMembers lists the active agents (for @mentions).
func (tx *Tx) NoticeMembers(ctx context.Context) ([]notice.Member, error) {
	var out []notice.Member
	if err := tx.sel(ctx, &out, `SELECT id, name, email FROM agents WHERE active = TRUE ORDER BY id`); err != nil {
		return nil, fmt.Errorf("listing agents for mentions: %w", err)
	}
	return out, nil
}

// WantsNotice reports whether an active agent wants a kind of in-app
// notice, and the acting agent's name.
func (tx *Tx) WantsNotice(ctx context.Context, agentID int64, kind string) (bool, error) {
	var rows []struct {
		Notices string `db:"app_notices"`
	}
	if err := tx.sel(ctx, &rows, `SELECT app_notices FROM agents WHERE id = ? AND active = TRUE`, agentID); err != nil || len(rows) == 0 {
		return false, err
	}
	for _, k := range strings.Split(rows[0].Notices, ",") {
		if k == kind {
			return true, nil
		}
	}
	return false, nil
}

// AgentName returns an agent's name ("" for none).
func (tx *Tx) AgentName(ctx context.Context, id int64) (string, error) {
	var names []string
	if err := tx.sel(ctx, &names, `SELECT name FROM agents WHERE id = ?`, id); err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}
