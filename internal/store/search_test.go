package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/search"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

func numbers(ts []ticket.Ticket) []int64 {
	out := []int64{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestSearchFollowsTheThread(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		svc := ticket.NewService(st, noFiles{}, func() time.Time { return now }, ticket.Options{})
		mk := func(subject, body, email string) int64 {
			t.Helper()
			res, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: subject, BodyText: body,
				Requester: ticket.Requester{Email: email}})
			if err != nil {
				t.Fatal(err)
			}
			return res.Ticket.ID
		}
		printer := mk("Stampante guasta", "La stampante dell'ufficio non stampa più.", "anna@example.it")
		invoice := mk("Wrong invoice", "I was charged twice on my last invoice.", "john@example.com")
		router := mk("Connessione lenta", "Il router si spegne ogni sera.", "luca@example.it")
		find := func(q string, f ticket.Filter) []int64 {
			t.Helper()
			f.Text, f.Limit = search.Parse(q), 50
			ts, err := svc.List(ctx, ticket.System, f)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			return numbers(ts)
		}
		if got := find("stampanti", ticket.Filter{}); !slices.Equal(got, []int64{printer}) {
			t.Fatalf("stampanti found %v, want [%d]", got, printer)
		}
		if got := find("invoices charged", ticket.Filter{}); !slices.Equal(got, []int64{invoice}) {
			t.Fatalf("invoices charged found %v, want [%d]", got, invoice)
		}
		if got := find("stampante router", ticket.Filter{}); len(got) != 0 {
			t.Fatalf("every word must match, found %v", got)
		}

		// A reply and an internal note become findable at once.
		if _, err := svc.AddMessage(ctx, ticket.System, router, ticket.NewMessage{Kind: ticket.KindNote, BodyText: "Sostituito il modem in garanzia"}); err != nil {
			t.Fatal(err)
		}
		if got := find("modem garanzia", ticket.Filter{}); !slices.Equal(got, []int64{router}) {
			t.Fatalf("note not indexed: %v", got)
		}

		// A new subject replaces the old one in the index.
		sub := "Fattura sbagliata"
		if _, err := svc.Update(ctx, ticket.System, invoice, ticket.Patch{Subject: &sub}); err != nil {
			t.Fatal(err)
		}
		if got := find("fatture", ticket.Filter{}); !slices.Equal(got, []int64{invoice}) {
			t.Fatalf("new subject not indexed: %v", got)
		}

		// The subject weighs more than the messages.
		both := mk("Stampa lenta", "niente di grave", "anna@example.it")
		if got := find("stampa", ticket.Filter{}); len(got) < 2 || got[0] != both {
			t.Fatalf("subject match should rank first: %v (want %d first)", got, both)
		}

		// Filters combine with the text.
		st2 := []ticket.Status{ticket.StatusSolved}
		if got := find("stampante", ticket.Filter{Statuses: st2}); len(got) != 0 {
			t.Fatalf("status filter ignored: %v", got)
		}
		if n, err := svc.Count(ctx, ticket.System, ticket.Filter{Text: search.Parse("stampa")}); err != nil || n != 2 {
			t.Fatalf("count of stampa = %d, %v; want 2", n, err)
		}

		// Merging moves the words with the messages.
		if _, err := svc.Merge(ctx, ticket.System, router, printer); err != nil {
			t.Fatal(err)
		}
		if got := find("modem", ticket.Filter{}); !slices.Equal(got, []int64{printer}) {
			t.Fatalf("merged note should be found on the target: %v", got)
		}

		// An agent sees only what they may see.
		tm := teamOf("Amministrazione", nil)
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Update(ctx, ticket.System, invoice, ticket.Patch{TeamID: ticket.Ref{Set: true, ID: &tm.ID}}); err != nil {
			t.Fatal(err)
		}
		outsider := ticket.AgentActor(&agent.Agent{ID: 999, Role: agent.RoleAgent})
		ts, err := svc.List(ctx, outsider, ticket.Filter{Text: search.Parse("fattura"), Limit: 10})
		if err != nil || len(ts) != 0 {
			t.Fatalf("agent outside the team found %v, %v", numbers(ts), err)
		}

		// Relevance without a query is refused, naming the field.
		if _, err := svc.List(ctx, ticket.System, ticket.Filter{Sort: "relevance"}); err == nil {
			t.Fatal("relevance without q accepted")
		}
	})
}

func TestSearchBackfillIndexesOldTickets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		svc := ticket.NewService(st, noFiles{}, func() time.Time { return now }, ticket.Options{})
		res, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "Pacco smarrito", BodyText: "Il corriere non trova il pacco",
			Requester: ticket.Requester{Email: "anna@example.it"}})
		if err != nil {
			t.Fatal(err)
		}
		// As if the ticket predated the index: clear it and mark the backfill due.
		if err := st.ForgetSearchIndexForTest(ctx); err != nil {
			t.Fatal(err)
		}
		f := ticket.Filter{Text: search.Parse("corriere"), Limit: 5}
		if ts, _ := svc.List(ctx, ticket.System, f); len(ts) != 0 {
			t.Fatalf("index not cleared: %v", numbers(ts))
		}
		n, err := st.BackfillSearch(ctx)
		if err != nil || n != res.Ticket.ID {
			t.Fatalf("backfill indexed up to %d, %v", n, err)
		}
		if ts, _ := svc.List(ctx, ticket.System, f); !slices.Equal(numbers(ts), []int64{res.Ticket.ID}) {
			t.Fatalf("backfill did not index: %v", numbers(ts))
		}
		if n, err := st.BackfillSearch(ctx); err != nil || n != 0 {
			t.Fatalf("second backfill ran again: %d, %v", n, err)
		}
	})
}

// Contacts stored before contact search by any word get their terms at
// the next start, in batches that each read their own rows only: 1,200
// contacts (three batches), each found afterwards; a second pass does
// nothing.
func TestContactTermsBackfill(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		for i := range 1200 {
			c := &contact.Contact{Name: fmt.Sprintf("Cliente Numero%d", i), Emails: []string{fmt.Sprintf("c%d@ditta%d.example", i, i)}, CreatedAt: now, UpdatedAt: now}
			if err := st.CreateContact(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.ForgetContactTermsForTest(ctx); err != nil {
			t.Fatal(err)
		}
		if cs, _ := st.Contacts(ctx, contact.Filter{Query: "numero1199", Limit: 5}); len(cs) != 0 {
			t.Fatalf("terms not cleared")
		}
		n, err := st.BackfillContactTerms(ctx)
		if err != nil || n != 1200 {
			t.Fatalf("backfill indexed %d, %v", n, err)
		}
		for _, q := range []string{"numero1199", "ditta7.example", "numero0"} {
			if cs, err := st.Contacts(ctx, contact.Filter{Query: q, Limit: 5}); err != nil || len(cs) != 1 {
				t.Errorf("%q found %d contacts, %v", q, len(cs), err)
			}
		}
		if n, err := st.BackfillContactTerms(ctx); err != nil || n != 0 {
			t.Errorf("second pass indexed %d, %v", n, err)
		}
	})
}
