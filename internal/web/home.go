package web

import (
	"net/http"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/ticket"
)

type homeRow struct {
	Number              int64
	Subject             string
	Status, StatusLabel string
	Priority, PrioLabel string
	UpdatedAgo, Updated string
}

// home: GET / — the agent's start page: the tickets they can see, most
// recently updated first.
func (h *handler) home(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	ts, err := h.Tickets.List(r.Context(), ticket.AgentActor(a), ticket.Filter{Limit: 25, Sort: "-updated"})
	if err != nil {
		return err
	}
	now := h.Now()
	rows := make([]homeRow, len(ts))
	for i, t := range ts {
		rows[i] = homeRow{Number: t.ID, Subject: t.Subject, Status: string(t.Status), StatusLabel: pr.T("status." + string(t.Status)),
			Priority: t.Priority.String(), PrioLabel: pr.T("priority." + t.Priority.String()),
			UpdatedAgo: pr.Ago(t.UpdatedAt, now), Updated: pr.Date(t.UpdatedAt)}
	}
	return h.render(w, r, http.StatusOK, "home", page{P: pr, Agent: a, Title: pr.T("home.title"), Now: now,
		Data: map[string]any{"Rows": rows, "Admin": a.Role == agent.RoleAdmin, "Role": pr.T("role." + string(a.Role))}})
}
