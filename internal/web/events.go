package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/ticket"
)

// events: GET /events — the Server-Sent Events stream that keeps open pages
// current. Events name tickets only, and only tickets this agent may open
// (by the scope the change wrote); pages re-fetch through their own
// permission-checked routes. The stream ends when the agent's access ends:
// at once on deactivation (a "revoked" event), and at the next heartbeat
// when the session is gone otherwise.
func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	me := current(r)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ch, stop := h.Hub.Subscribe()
	defer stop()
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(25 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-beat.C:
			a := h.session(r)
			if a == nil || !a.Active {
				return nil
			}
			me = a // teams may have changed
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			switch e.Type {
			case "revoked":
				if e.Agent == me.ID {
					return nil
				}
				continue
			case "notice":
				if e.Agent != me.ID {
					continue // a notice is for one agent
				}
			default:
				if !mayHear(me, e.Scope) {
					continue
				}
			}
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b)
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// mayHear reports whether agent a may hear of a ticket in scope sc: the
// rule of ticket.Actor.CanSee, applied to the fields the change wrote.
// Events without a scope reach admins only.
func mayHear(a *agent.Agent, sc live.Scope) bool {
	if !sc.Known {
		return a.Role == agent.RoleAdmin
	}
	team, assignee := sc.Ticket()
	return ticket.AgentActor(a).CanSee(&ticket.Ticket{TeamID: team, AssigneeID: assignee})
}
