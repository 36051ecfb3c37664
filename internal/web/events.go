package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// events: GET /events — the Server-Sent Events stream that keeps open pages
// current. Events name tickets only; pages re-fetch through their own
// permission-checked routes.
func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
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
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			if e.Type == "notice" && e.Agent != current(r).ID {
				continue // a notice is for one agent
			}
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b)
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}
