package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/live"
)

// relayed is a live event on its way between nodes.
type relayed struct {
	Node  string     `json:"node"`
	Event live.Event `json:"event"`
}

// relayOut sends the events that start on this node to the others. It runs
// after the change has committed and must not block the caller for long.
func (d *Desk) relayOut(e live.Event) {
	b, err := json.Marshal(relayed{Node: d.node, Event: e})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := d.Store.Notify(ctx, string(b)); err != nil {
		d.Log.Warn("relaying a live event to other nodes", "err", err)
	}
}

// RelayIn delivers the other nodes' events to this node's hub until ctx
// ends (PostgreSQL only; a no-op on SQLite).
func (d *Desk) RelayIn(ctx context.Context) {
	d.Store.Listen(ctx, func(payload string) {
		var r relayed
		if json.Unmarshal([]byte(payload), &r) != nil || r.Node == d.node {
			return // our own echo, or not ours to read
		}
		d.Hub.Deliver(r.Event)
	}, func(err error) { d.Log.Warn("listening for other nodes' live events", "err", err) })
}

func newNodeID() string { return auth.RandomSecret(9) }
