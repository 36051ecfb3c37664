package live

import (
	"testing"
	"time"
)

func TestHub(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	h := NewHub(func() time.Time { return now }, nil)
	ch, stop := h.Subscribe()
	defer stop()
	h.TicketChanged(7, "reply", 0, ScopeOf(nil, nil))
	if e := <-ch; e.Type != "ticket" || e.Ticket != 7 || e.What != "reply" {
		t.Fatalf("event %+v", e)
	}
	h.SetPresence(7, ScopeOf(nil, nil), 1, "Giulia", "viewing")
	h.SetPresence(7, ScopeOf(nil, nil), 2, "Marco", "typing")
	<-ch
	if e := <-ch; len(e.Agents) != 2 || e.Agents[1].State != "typing" {
		t.Fatalf("presence %+v", e)
	}
	now = now.Add(PresenceTTL + time.Second)
	if p := h.Presence(7); len(p) != 0 {
		t.Fatalf("presence outlived its heartbeat: %+v", p)
	}
	h.SetPresence(7, ScopeOf(nil, nil), 1, "Giulia", "left")
	if e := <-ch; len(e.Agents) != 0 {
		t.Fatalf("left: %+v", e)
	}
	// A slow subscriber never blocks publishing.
	for i := 0; i < 200; i++ {
		h.TicketChanged(int64(i), "updated", 0, Scope{})
	}
}
