// Package live carries what agents must see without reloading: ticket
// changes and who is viewing or typing on a ticket. Subscribers (the
// workspace's Server-Sent Events streams) receive small events naming a
// ticket; pages then fetch what changed through their normal, permission-
// checked routes, so an event never carries data the viewer may not see.
//
// The hub is per process. With several nodes on PostgreSQL, each hub hands
// the events that start on its node to a relay (LISTEN/NOTIFY, wired in app)
// and receives the other nodes' events through Deliver.
package live

import (
	"slices"
	"sync"
	"time"
)

// Event is one thing that happened.
type Event struct {
	Type   string     `json:"type"`            // "ticket", "presence", "notice" or "revoked"
	Ticket int64      `json:"ticket"`          // the ticket concerned
	Agent  int64      `json:"agent,omitempty"` // notice: the agent it is for; revoked: whose access ended
	What   string     `json:"what,omitempty"`
	Agents []Presence `json:"agents,omitempty"` // for presence events
	// By is the agent whose action this was (0: a customer or the system).
	By int64 `json:"by,omitempty"`
	// Scope says who may hear of the ticket: streams pass an event only to
	// agents who may open the ticket (issue 9).
	Scope Scope `json:"scope"`
}

// Scope is where a ticket stands for visibility: its team (0 for none)
// and assignee (0 for none), as written by the change.
type Scope struct {
	Team     int64 `json:"team,omitempty"`
	Assignee int64 `json:"assignee,omitempty"`
	// Known is false for events that carry no scope: only admins hear
	// of those.
	Known bool `json:"known,omitempty"`
}

// Ticket is the scope as the ticket fields that decide visibility, for
// ticket.Actor.CanSee: streams apply the same rule as every page.
func (sc Scope) Ticket() (team, assignee *int64) {
	if sc.Team != 0 {
		team = &sc.Team
	}
	if sc.Assignee != 0 {
		assignee = &sc.Assignee
	}
	return team, assignee
}

// ScopeOf is the scope of a ticket with the given team and assignee.
func ScopeOf(team, assignee *int64) Scope {
	sc := Scope{Known: true}
	if team != nil {
		sc.Team = *team
	}
	if assignee != nil {
		sc.Assignee = *assignee
	}
	return sc
}

// Presence is one agent on a ticket.
type Presence struct {
	AgentID int64  `json:"agent_id"`
	Name    string `json:"name"`
	State   string `json:"state"` // viewing or typing
	until   time.Time
}

// PresenceTTL is how long a presence lasts without a heartbeat.
const PresenceTTL = 45 * time.Second

// Hub fans events out to subscribers.
type Hub struct {
	now   func() time.Time
	relay func(Event) // events that start here, for the other nodes

	mu       sync.Mutex
	subs     map[chan Event]struct{}
	presence map[int64][]Presence
}

// NewHub builds a hub; now is the clock; relay, when not nil, receives the
// events that start on this node so that other nodes can Deliver them.
func NewHub(now func() time.Time, relay func(Event)) *Hub {
	return &Hub{now: now, relay: relay, subs: map[chan Event]struct{}{}, presence: map[int64][]Presence{}}
}

// Deliver takes an event that started on another node: ticket events go to
// the subscribers, presence replaces this node's view of the ticket.
func (h *Hub) Deliver(e Event) {
	if e.Type == "presence" {
		h.mu.Lock()
		until := h.now().Add(PresenceTTL)
		list := make([]Presence, len(e.Agents))
		for i, p := range e.Agents {
			p.until = until
			list[i] = p
		}
		if len(list) == 0 {
			delete(h.presence, e.Ticket)
		} else {
			h.presence[e.Ticket] = list
		}
		h.mu.Unlock()
	}
	h.Publish(e)
}

// Subscribe returns a channel of events; call the returned func to stop.
// A subscriber that falls behind loses events rather than slowing others
// (pages re-fetch on the next one anyway).
func (h *Hub) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// Publish sends e to every subscriber without blocking.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// TicketChanged is the hook the ticket service calls after a commit: by
// is the acting agent (0 for none), sc where the ticket now stands.
func (h *Hub) TicketChanged(id int64, what string, by int64, sc Scope) {
	e := Event{Type: "ticket", Ticket: id, What: what, By: by, Scope: sc}
	h.Publish(e)
	if h.relay != nil {
		h.relay(e)
	}
}

// SetPresence records that an agent is viewing or typing on a ticket
// ("left" removes them) and tells everyone.
func (h *Hub) SetPresence(ticketID int64, sc Scope, agentID int64, name, state string) {
	h.mu.Lock()
	now := h.now()
	list := slices.DeleteFunc(h.presence[ticketID], func(p Presence) bool { return p.AgentID == agentID || now.After(p.until) })
	if state != "left" {
		list = append(list, Presence{AgentID: agentID, Name: name, State: state, until: now.Add(PresenceTTL)})
	}
	slices.SortFunc(list, func(a, b Presence) int { return int(a.AgentID - b.AgentID) })
	if len(list) == 0 {
		delete(h.presence, ticketID)
	} else {
		h.presence[ticketID] = list
	}
	e := Event{Type: "presence", Ticket: ticketID, Agents: slices.Clone(list), Scope: sc}
	h.mu.Unlock()
	if e.Agents == nil {
		e.Agents = []Presence{}
	}
	h.Publish(e)
	if h.relay != nil {
		h.relay(e)
	}
}

// Revoke ends the streams of an agent whose access ended (deactivated),
// on every node.
func (h *Hub) Revoke(agentID int64) {
	e := Event{Type: "revoked", Agent: agentID}
	h.Publish(e)
	if h.relay != nil {
		h.relay(e)
	}
}

// Presence lists who is on a ticket now.
func (h *Hub) Presence(ticketID int64) []Presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	out := []Presence{}
	for _, p := range h.presence[ticketID] {
		if !now.After(p.until) {
			out = append(out, p)
		}
	}
	return out
}
