// Package notice is the in-app notification list of each agent: tickets
// assigned to them, customers writing on their tickets, colleagues'
// @mentions in notes, SLA warnings and breaches (automations' later). A notice
// names a ticket and what happened to it; the workspace shows the unread
// count live and the list on its own page.
package notice

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/ticket"
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
	MarkNoticeRead(ctx context.Context, agentID, id int64, now time.Time) (bool, error)
	MarkTicketNoticesRead(ctx context.Context, agentID, ticketID int64, now time.Time) (int64, error)
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

// MarkRead marks one of the agent's notices read; false when the agent
// has no notice id.
func (s *Service) MarkRead(ctx context.Context, agentID, id int64) (bool, error) {
	return s.store.MarkNoticeRead(ctx, agentID, id, s.now().UTC())
}

// MarkTicketRead marks the agent's unread notices about ticketID read and
// says how many there were.
func (s *Service) MarkTicketRead(ctx context.Context, agentID, ticketID int64) (int64, error) {
	return s.store.MarkTicketNoticesRead(ctx, agentID, ticketID, s.now().UTC())
}

// Kinds of notice an agent can switch (SLA alarms are always noted).
const (
	Assigned = "assigned" // a colleague assigned a ticket to you
	Customer = "customer" // the customer wrote on your ticket
	Mention  = "mention"  // a colleague @mentioned you in a note
)

// Kinds lists the switchable kinds in display order.
var Kinds = []string{Assigned, Customer, Mention}

// Member is an agent as mentions know them.
type Member struct {
	ID          int64
	Name, Email string
}

// Due is a notice a change calls for.
type Due struct {
	AgentID int64
	Kind    string
	Detail  string // who did it (a colleague's name), for the list
}

// For says which notices a ticket change calls for: its new assignee
// (unless they assigned themselves), its assignee when the customer
// writes, and the colleagues a note @mentions (not its author). members
// are the desk's active agents; by is the acting agent's name.
func For(r ticket.Reaction, members []Member, by string) []Due {
	var out []Due
	actor := int64(0)
	if r.Actor.Type == ticket.ActorAgent {
		actor = r.Actor.ID
	}
	for _, e := range r.Events {
		if e.Field != "assignee" || e.TicketID != r.Ticket.ID || e.After == "" {
			continue
		}
		if id, err := strconv.ParseInt(e.After, 10, 64); err == nil && id != actor {
			out = append(out, Due{AgentID: id, Kind: Assigned, Detail: by})
		}
	}
	m := r.Message
	if m == nil {
		return out
	}
	if m.Kind == ticket.KindCustomer && !r.Created && r.Ticket.AssigneeID != nil {
		out = append(out, Due{AgentID: *r.Ticket.AssigneeID, Kind: Customer})
	}
	if m.Kind == ticket.KindNote {
		for _, id := range Mentioned(m.BodyText, members) {
			if id != actor {
				out = append(out, Due{AgentID: id, Kind: Mention, Detail: by})
			}
		}
	}
	return out
}

// Mentioned returns the agents a text @mentions: "@Giulia Rossi" (the
// full name), "@giulia.rossi" (the address before the @) or "@Giulia"
// (a first name no other agent has), case-insensitively.
func Mentioned(text string, members []Member) []int64 {
	low := strings.ToLower(text)
	if !strings.Contains(low, "@") {
		return nil
	}
	first := map[string]int{}
	for _, a := range members {
		if f := strings.Fields(strings.ToLower(a.Name)); len(f) > 0 {
			first[f[0]]++
		}
	}
	var out []int64
	for _, a := range members {
		name := strings.ToLower(strings.TrimSpace(a.Name))
		local, _, _ := strings.Cut(strings.ToLower(a.Email), "@")
		cands := []string{name, local}
		if f := strings.Fields(name); len(f) > 0 && first[f[0]] == 1 {
			cands = append(cands, f[0])
		}
		for _, c := range cands {
			if c != "" && mentions(low, "@"+c) {
				out = append(out, a.ID)
				break
			}
		}
	}
	return out
}

// mentions reports whether text has tag followed by something that ends a
// name (not a letter or digit).
func mentions(text, tag string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], tag)
		if j < 0 {
			return false
		}
		end := i + j + len(tag)
		if end == len(text) {
			return true
		}
		if r, _ := utf8.DecodeRuneInString(text[end:]); !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return true
		}
		i = end
	}
}
