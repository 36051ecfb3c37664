package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/config"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// Two nodes on one PostgreSQL database: a ticket changed through node A
// reaches the live subscribers of node B, and so does presence; A does not
// hear its own changes twice.
func TestLiveRelayBetweenNodes(t *testing.T) {
	db := testdb.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	nodes := []*app.Desk{startNode(t, db, t.TempDir()), startNode(t, db, t.TempDir())}
	for _, d := range nodes {
		go d.RelayIn(ctx)
	}
	// Cleanups run last-registered first: stop the listeners, which hold
	// pool connections, before the pools close.
	t.Cleanup(cancel)
	a, b := nodes[0], nodes[1]
	fromA, stopA := a.Hub.Subscribe()
	defer stopA()
	fromB, stopB := b.Hub.Subscribe()
	defer stopB()

	wait := func(ch <-chan live.Event, match func(live.Event) bool, d time.Duration) bool {
		deadline := time.After(d)
		for {
			select {
			case e := <-ch:
				if match(e) {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	// LISTEN starts asynchronously: create tickets until node B hears one.
	var got int64
	for i := 0; i < 50 && got == 0; i++ {
		res, err := a.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: "relay", BodyText: "x", Requester: ticket.Requester{Email: "r@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if wait(fromB, func(e live.Event) bool { return e.Type == "ticket" && e.Ticket == res.Ticket.ID && e.What == "created" }, 200*time.Millisecond) {
			got = res.Ticket.ID
		}
	}
	if got == 0 {
		t.Fatal("node B never heard of tickets created on node A")
	}
	// Node A saw each of its own creations once, not again from the relay.
	for {
		select {
		case <-fromA:
			continue
		case <-time.After(300 * time.Millisecond):
		}
		break
	}
	pr := ticket.PriorityHigh
	if _, err := a.Tickets.Update(ctx, ticket.System, got, ticket.Patch{Priority: &pr}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for wait(fromA, func(e live.Event) bool { return e.Ticket == got && e.What == "updated" }, 400*time.Millisecond) {
		seen++
	}
	if seen != 1 {
		t.Errorf("node A saw its own update %d times, want once", seen)
	}
	a.Hub.SetPresence(got, live.ScopeOf(nil, nil), 42, "Giulia Rossi", "typing")
	if !wait(fromB, func(e live.Event) bool { return e.Type == "presence" && e.Ticket == got && len(e.Agents) == 1 }, 3*time.Second) {
		t.Fatal("presence did not reach node B")
	}
	if p := b.Hub.Presence(got); len(p) != 1 || p[0].Name != "Giulia Rossi" || p[0].State != "typing" {
		t.Errorf("node B's presence view: %+v", p)
	}
}

// startNode opens one node of a desk on database db with its own data
// folder dir, closing it when t ends.
func startNode(t testing.TB, db testdb.DB, dir string) *app.Desk {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir, cfg.DatabaseURL = dir, db.URL
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
