package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/demo"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// The demo desk has the promised shape on both databases, and its tickets
// carry the histories real use would record.
func TestFill(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo desk takes a few seconds to fill")
	}
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := db.Open(t)
		now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
		sum, err := demo.Fill(ctx, st, now, 7)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Teams != 3 || sum.Agents != 8 || sum.Contacts != 300 || sum.Organisations != 40 || sum.Tickets < 1300 || sum.Tickets > 1800 {
			t.Fatalf("demo shape: %+v", sum)
		}
		all, err := st.Tickets(ctx, ticket.Filter{Limit: 5000, Sort: "created"})
		if err != nil {
			t.Fatal(err)
		}
		count := map[ticket.Status]int{}
		langs := map[string]int{}
		for _, tk := range all {
			count[tk.Status]++
			langs[tk.Language]++
			if tk.CreatedAt.Before(now.Add(-91*24*time.Hour)) || tk.CreatedAt.After(now) {
				t.Fatalf("ticket %d created %v, outside the last 90 days", tk.ID, tk.CreatedAt)
			}
		}
		for _, s := range []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusSolved, ticket.StatusClosed} {
			if count[s] == 0 {
				t.Errorf("no %s tickets: %v", s, count)
			}
		}
		if langs["it"] < langs["en"] || langs["en"] == 0 {
			t.Errorf("languages %v", langs)
		}
		evs, err := st.Events(ctx, all[0].ID)
		if err != nil || len(evs) < 3 {
			t.Errorf("oldest ticket history: %v %v", err, evs)
		}

		// The demo's SLA: the starter policy, and clocks on open tickets
		// derived from their histories, quietly (no notice storm).
		svc := sla.NewService(st, func() time.Time { return now })
		if ok, err := svc.InstallStarter(ctx); err != nil || !ok {
			t.Fatalf("starter policy: %v %v", ok, err)
		}
		if fired, err := svc.Scan(ctx); err != nil || fired != 0 {
			t.Fatalf("recompute: %d alarms fired (want 0, quiet), %v", fired, err)
		}
		breached, err := st.Tickets(ctx, ticket.Filter{SLA: ticket.SLABreached, SLANow: now, Sort: "deadline", Limit: 5000})
		if err != nil || len(breached) == 0 {
			t.Fatalf("no breached tickets in a 90-day backlog: %v", err)
		}
		running := 0
		for _, tk := range all {
			if !tk.Status.Unsolved() {
				continue
			}
			clocks, err := svc.Clocks(ctx, tk.ID)
			if err != nil || len(clocks) == 0 {
				t.Fatalf("open ticket %d has no clocks: %v", tk.ID, err)
			}
			for _, c := range clocks {
				if c.State == sla.Active {
					running++
				}
			}
		}
		if running == 0 {
			t.Error("no running clock on any open ticket")
		}
	})
}
