package gen_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/gen"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// The generator's rows are readable by the normal store, ids keep working
// for later inserts (sequences synced), and a second run appends.
func TestFillAppends(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := db.Open(t)
		for i := 0; i < 2; i++ {
			if err := gen.Fill(ctx, st, gen.Options{Tickets: 12000, Messages: 3, Teams: 3, Seed: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := st.CountTickets(ctx)
		if err != nil || n != 24000 {
			t.Fatalf("count %d %v", n, err)
		}
		ts, err := st.Tickets(ctx, ticket.Filter{Limit: 1, Sort: "-number"})
		if err != nil || len(ts) != 1 {
			t.Fatal(err)
		}
		msgs, err := st.Messages(ctx, ts[0].ID)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("messages of the last ticket: %v %v", err, msgs)
		}
		svc := ticket.NewService(st, nil, time.Now, ticket.Options{})
		res, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "after gen", BodyText: "x", Requester: ticket.Requester{Email: "after@example.com"}})
		if err != nil || res.Ticket.ID != 24001 {
			t.Fatalf("insert after gen: %v %+v", err, res)
		}
	})
}
