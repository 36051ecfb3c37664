// Package notice is the in-app notification list of each agent: SLA
// warnings and breaches today, automations' notifications later. A notice
// names a ticket and what happened to it; the workspace shows the unread
// count live and the list on its own page.
package notice

import (
	"context"
	"time"
)

// Notice is one notification for one agent.
type Notice struct {
	ID        int64      `db:"id"`
	AgentID   int64      `db:"agent_id"`
	TicketID  *int64     `db:"ticket_id"`
	Kind      string     `db:"kind"`   // e.g. "sla_warning", "sla_breach"
	Detail    string     `db:"detail"` // e.g. the SLA metric
	CreatedAt time.Time  `db:"created_at"`
	ReadAt    *time.Time `db:"read_at"`
	Subject   string     `db:"subject"` // the ticket's subject, for the list
	// TicketTeamID and TicketAssigneeID are where the ticket stands now:
	// the list shows the subject only while the agent may open the ticket.
	TicketTeamID     *int64 `db:"ticket_team_id"`
	TicketAssigneeID *int64 `db:"ticket_assignee_id"`
}

// Store is what the notice list needs.
type Store interface {
	Notices(ctx context.Context, agentID int64, limit int) ([]Notice, error)
	UnreadNotices(ctx context.Context, agentID int64) (int, error)
	MarkNoticesRead(ctx context.Context, agentID int64, now time.Time) error
}

// Service reads and acknowledges an agent's notices.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds the service; now is the clock.
func NewService(store Store, now func() time.Time) *Service { return &Service{store, now} }

// List returns an agent's latest notices, newest first.
func (s *Service) List(ctx context.Context, agentID int64) ([]Notice, error) {
	return s.store.Notices(ctx, agentID, 100)
}

// Unread counts an agent's unread notices.
func (s *Service) Unread(ctx context.Context, agentID int64) (int, error) {
	return s.store.UnreadNotices(ctx, agentID)
}

// MarkAllRead marks every notice of the agent read.
func (s *Service) MarkAllRead(ctx context.Context, agentID int64) error {
	return s.store.MarkNoticesRead(ctx, agentID, s.now().UTC())
}
