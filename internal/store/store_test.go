package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

func TestMigrationSetsMatch(t *testing.T) {
	a, err := store.MigrationVersions(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.MigrationVersions(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("migration versions differ: sqlite %v, postgres %v", a, b)
	}
}

func open(t *testing.T, db testdb.DB) *store.Store { return db.Open(t) }

type noFiles struct{}

func (noFiles) Put(context.Context, []byte) (string, string, error) { return "x", "text/plain", nil }

func TestMigrateIsIdempotentAndReportsStatus(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		applied, err := st.Migrate(context.Background())
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, err %v", applied, err)
		}
		states, err := st.MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.AppliedAt == nil {
				t.Errorf("migration %d not applied", s.Version)
			}
		}
	})
}

func TestTicketRoundTripAndEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		now := time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)
		svc := ticket.NewService(st, noFiles{}, func() time.Time { return now }, ticket.Options{})
		org := &contact.Organisation{Name: "Ottica Venturi", Domains: []string{"otticaventuri.it"}, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Create(ctx, ticket.System, ticket.NewTicket{
			Subject: "Occhiali rotti", BodyText: "Si è staccata una stanghetta",
			Requester: ticket.Requester{Email: "Anna.Serra@OtticaVenturi.it", Name: "Anna Serra"},
			CCEmails:  []string{"ufficio@otticaventuri.it"}, Tags: []string{"Garanzia", "urgente ora"},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Ticket(ctx, res.Ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Errorf("created_at %v, want %v", got.CreatedAt, now)
		}
		if !slices.Equal(got.Tags, []string{"garanzia", "urgente-ora"}) {
			t.Errorf("tags %v", got.Tags)
		}
		if len(got.CCIDs) != 1 {
			t.Errorf("ccs %v", got.CCIDs)
		}
		c, err := st.Contact(ctx, got.RequesterID)
		if err != nil {
			t.Fatal(err)
		}
		if c.OrganisationID == nil || *c.OrganisationID != org.ID {
			t.Errorf("contact not joined to the organisation of its domain: %+v", c)
		}
		if c.Emails[0] != "anna.serra@otticaventuri.it" {
			t.Errorf("email not normalised: %v", c.Emails)
		}
		evs, err := st.Events(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for _, e := range evs {
			fields = append(fields, e.Field)
		}
		if !slices.Contains(fields, "created") || !slices.Contains(fields, "tags") || !slices.Contains(fields, "cc") {
			t.Errorf("creation events %v", fields)
		}
	})
}

// A change that fails half-way leaves nothing behind: the ticket row, its
// events and its tags are written in one transaction.
func TestFailedChangeWritesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		now := time.Now()
		svc := ticket.NewService(st, noFiles{}, func() time.Time { return now }, ticket.Options{})
		res, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "x", BodyText: "y", Requester: ticket.Requester{Email: "a@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := st.Events(ctx, res.Ticket.ID)
		bad := ticket.StatusClosed // a new ticket must be solved before it closes
		_, err = svc.Update(ctx, ticket.System, res.Ticket.ID, ticket.Patch{AddTags: []string{"nuovo"}, Status: &bad, Subject: ptr("changed")})
		if err == nil {
			t.Fatal("new → closed must be refused")
		}
		got, _ := st.Ticket(ctx, res.Ticket.ID)
		after, _ := st.Events(ctx, res.Ticket.ID)
		if got.Subject != "x" || len(got.Tags) != 0 || len(after) != len(before) {
			t.Fatalf("half-written change: subject %q tags %v events %d→%d", got.Subject, got.Tags, len(before), len(after))
		}
		// An unknown requester email in the same call as an invalid
		// custom field must not leave a contact behind.
		_, err = svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "x", BodyText: "y", Requester: ticket.Requester{Email: "ghost@example.com"},
			CustomFields: map[string]any{"nope": 1.0}})
		if !errors.Is(err, fault.Invalid) {
			t.Fatalf("unknown field: %v", err)
		}
		cs, _ := st.Contacts(ctx, contact.Filter{Query: "ghost", Limit: 10})
		if len(cs) != 0 {
			t.Fatalf("contact left behind by a failed create: %+v", cs)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Concurrent creations for the same new email end with one contact.
func TestConcurrentFindOrCreateContact(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		svc := ticket.NewService(st, noFiles{}, time.Now, ticket.Options{})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "s", BodyText: "b", Requester: ticket.Requester{Email: "same@example.com"}})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		cs, err := st.Contacts(ctx, contact.Filter{Query: "same@", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 {
			t.Fatalf("%d contacts for one email", len(cs))
		}
	})
}

func TestDeactivationRevokesAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		now := time.Now().UTC()
		a := &agent.Agent{Email: "x@example.com", Name: "X", Role: agent.RoleAgent, Language: "it", Timezone: "Europe/Rome",
			Availability: agent.Offline, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSession(ctx, "h1", a.ID, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionAgent(ctx, "h1", now); err != nil {
			t.Fatal(err)
		}
		a.Active = false
		if err := st.UpdateAgent(ctx, a, agent.Patch{Active: &a.Active}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionAgent(ctx, "h1", now); !errors.Is(err, fault.Unauthorized) {
			t.Fatalf("session survived deactivation: %v", err)
		}
		dup := *a
		dup.ID = 0
		if err := st.CreateAgent(ctx, &dup); !errors.Is(err, fault.Conflict) {
			t.Fatalf("duplicate email: %v", err)
		}
	})
}

func TestListFiltersAndVisibility(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		svc := ticket.NewService(st, noFiles{}, time.Now, ticket.Options{})
		now := time.Now()
		a := &agent.Agent{Email: "ag@example.com", Name: "Ag", Role: agent.RoleAgent, Language: "it", Timezone: "Europe/Rome",
			Availability: agent.Offline, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		mine, other := createTeam(t, st, "L1", a.ID), createTeam(t, st, "L2")
		a.TeamIDs = []int64{mine}
		mk := func(team *int64, tags ...string) int64 {
			r, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "s", BodyText: "b", Requester: ticket.Requester{Email: "c@example.com"}, TeamID: team, Tags: tags})
			if err != nil {
				t.Fatal(err)
			}
			return r.Ticket.ID
		}
		t1 := mk(&mine, "vip")
		t2 := mk(&other)
		t3 := mk(nil)
		actor := ticket.AgentActor(a)
		got, err := svc.List(ctx, actor, ticket.Filter{Limit: 10, Sort: "number"})
		if err != nil {
			t.Fatal(err)
		}
		if ids := idsOf(got); !slices.Equal(ids, []int64{t1, t3}) {
			t.Errorf("agent sees %v, want %v (not %d of another team)", ids, []int64{t1, t3}, t2)
		}
		if _, err := svc.Get(ctx, actor, t2); !errors.Is(err, fault.NotFound) {
			t.Errorf("another team's ticket: %v", err)
		}
		got, _ = svc.List(ctx, ticket.System, ticket.Filter{Limit: 10, Tag: "VIP"})
		if ids := idsOf(got); !slices.Equal(ids, []int64{t1}) {
			t.Errorf("tag filter %v", ids)
		}
		got, _ = svc.List(ctx, ticket.System, ticket.Filter{Limit: 10, NoTeam: true})
		if ids := idsOf(got); !slices.Equal(ids, []int64{t3}) {
			t.Errorf("no-team filter %v", ids)
		}
		got, _ = svc.List(ctx, ticket.System, ticket.Filter{Limit: 2, Offset: 2, Sort: "number"})
		if ids := idsOf(got); !slices.Equal(ids, []int64{t3}) {
			t.Errorf("second page %v", ids)
		}
	})
}

func createTeam(t *testing.T, st *store.Store, name string, members ...int64) int64 {
	t.Helper()
	tm := teamOf(name, members)
	if err := st.CreateTeam(context.Background(), tm); err != nil {
		t.Fatal(err)
	}
	return tm.ID
}

func idsOf(ts []ticket.Ticket) []int64 {
	var out []int64
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// Many writers mixing every kind of change on a fresh store (so every
// query is new to the statement cache) finish: no deadlock between the one
// SQLite writer connection and statement preparation.
func TestConcurrentMixedWritesFinish(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		st := open(t, db)
		svc := ticket.NewService(st, noFiles{}, time.Now, ticket.Options{})
		done := make(chan error, 16)
		for g := 0; g < 16; g++ {
			go func() {
				for i := 0; i < 15; i++ {
					res, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "s", BodyText: "b",
						Requester: ticket.Requester{Email: "w@example.com"}, Tags: []string{"t" + string(rune('a'+i))}})
					if err != nil {
						done <- err
						return
					}
					pr := ticket.PriorityHigh
					if _, err := svc.Update(ctx, ticket.System, res.Ticket.ID, ticket.Patch{Priority: &pr, AddTags: []string{"x"}}); err != nil {
						done <- err
						return
					}
					if _, err := svc.AddMessage(ctx, ticket.System, res.Ticket.ID, ticket.NewMessage{Kind: ticket.KindNote, BodyText: "n"}); err != nil {
						done <- err
						return
					}
					if _, err := svc.Get(ctx, ticket.System, res.Ticket.ID); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
		for g := 0; g < 16; g++ {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-ctx.Done():
				t.Fatal("concurrent writers did not finish within 60s: deadlock")
			}
		}
		if n, _ := st.CountTickets(context.Background()); n != 240 {
			t.Fatalf("%d tickets, want 240", n)
		}
	})
}

// Listing several statuses merges per-status ranges: the result must be
// the same order and pages as one sorted list, and counts may be capped.
func TestMultiStatusListOrderAndPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		clock := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
		svc := ticket.NewService(st, noFiles{}, func() time.Time { return clock }, ticket.Options{})
		statuses := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusSolved}
		var want []int64 // new and open, newest update first
		for i := 0; i < 40; i++ {
			clock = clock.Add(time.Minute)
			r, err := svc.Create(ctx, ticket.System, ticket.NewTicket{Subject: "s", BodyText: "b", Requester: ticket.Requester{Email: "m@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			s := statuses[(i*7)%len(statuses)]
			if s != ticket.StatusNew {
				if _, err := svc.Update(ctx, ticket.System, r.Ticket.ID, ticket.Patch{Status: &s}); err != nil {
					t.Fatal(err)
				}
			}
			if s == ticket.StatusNew || s == ticket.StatusOpen {
				want = append([]int64{r.Ticket.ID}, want...)
			}
		}
		var got []int64
		for page := 0; ; page++ {
			ts, err := st.Tickets(ctx, ticket.Filter{Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen}, Sort: "-updated", Limit: 7, Offset: page * 7})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, idsOf(ts)...)
			if len(ts) < 7 {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("merged pages %v, want %v", got, want)
		}
		n, err := st.CountMatching(ctx, ticket.Filter{Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen}})
		if err != nil || n != int64(len(want)) {
			t.Fatalf("count %d %v, want %d", n, err, len(want))
		}
		if n, _ := st.CountMatching(ctx, ticket.Filter{Limit: 5}); n != 5 {
			t.Fatalf("capped count %d, want 5", n)
		}
	})
}
