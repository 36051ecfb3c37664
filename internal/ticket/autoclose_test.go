package ticket_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

type noFiles struct{}

func (noFiles) Put(context.Context, []byte) (string, string, error) { return "", "", nil }

// Solved tickets close after the delay; reopened and recent ones stay; a
// second pass (another node, or after a restart) changes nothing.
func TestCloseSolved(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := db.Open(t)
		now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		svc := ticket.NewService(st, noFiles{}, func() time.Time { return now }, ticket.Options{})
		mk := func() int64 {
			r, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "s", BodyText: "b", Requester: ticket.Requester{Email: "c@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			return r.Ticket.ID
		}
		solved := ticket.StatusSolved
		old, reopened, recent := mk(), mk(), mk()
		for _, id := range []int64{old, reopened} {
			if _, err := svc.Update(ctx, ticket.System, id, ticket.Patch{Status: &solved}); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(24 * time.Hour)
		if _, err := svc.AddMessage(ctx, ticket.System, reopened, ticket.NewMessage{Kind: ticket.KindCustomer, BodyText: "Non funziona ancora"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Update(ctx, ticket.System, recent, ticket.Patch{Status: &solved}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(3*24*time.Hour + time.Hour) // 4 days and an hour after the first solve
		n, err := svc.CloseSolved(ctx, st, 4*24*time.Hour, 100)
		if err != nil || n != 1 {
			t.Fatalf("closed %d, %v; want 1", n, err)
		}
		for id, want := range map[int64]ticket.Status{old: ticket.StatusClosed, reopened: ticket.StatusOpen, recent: ticket.StatusSolved} {
			got, _ := st.Ticket(ctx, id)
			if got.Status != want {
				t.Errorf("ticket %d is %s, want %s", id, got.Status, want)
			}
		}
		if n, err := svc.CloseSolved(ctx, st, 4*24*time.Hour, 100); err != nil || n != 0 {
			t.Fatalf("second pass closed %d, %v", n, err)
		}
		evs, _ := st.Events(ctx, old)
		last := evs[len(evs)-1]
		if last.Field != "status" || last.After != "closed" || last.ActorType != ticket.ActorSystem {
			t.Errorf("closing not recorded as a system change: %+v", last)
		}
	})
}
