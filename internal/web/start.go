package web

import (
	"net/http"

	"github.com/sportello/sportello/internal/ticket"
)

// startData is the admin's first-run checklist, derived from the desk
// itself: it shows until the desk has teams, colleagues and a ticket, so
// there is no flag to forget or to reset.
type startData struct {
	Teams, Agents, Tickets bool
}

// startSteps returns the checklist, or nil once every step is done.
func (h *handler) startSteps(r *http.Request) (*startData, error) {
	ctx := r.Context()
	teams, err := h.Store.Teams(ctx)
	if err != nil {
		return nil, err
	}
	agents, err := h.Store.Agents(ctx, 2, 0)
	if err != nil {
		return nil, err
	}
	n, err := h.Tickets.Count(ctx, ticket.System, ticket.Filter{Limit: 1})
	if err != nil {
		return nil, err
	}
	s := &startData{Teams: len(teams) > 0, Agents: len(agents) > 1, Tickets: n > 0}
	if s.Teams && s.Agents && s.Tickets {
		return nil, nil
	}
	return s, nil
}
