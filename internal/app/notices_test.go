package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// In-app notices that matter (issue 11), on both databases: the agent a
// colleague assigns a ticket to, the assignee when the customer writes,
// and a colleague @mentioned in a note are notified (the header's count
// and the list say so in words); assigning yourself or mentioning
// yourself notifies nobody; an agent who switched a kind off gets none.
func TestNoticesThatMatter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		ag, lead := k.agents["agent"], k.agents["lead"]
		unread := func(who string) int {
			n, err := k.d.Notices.Unread(ctx, k.agents[who].ID)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		num := k.must(201, "lead", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura doppia", "body": "Mi avete addebitato due volte.",
			"requester": map[string]any{"email": "sara.neri@example.it", "name": "Sara Neri"}, "team_id": k.teamID, "assignee_id": ag.ID}).num("number")
		if n := unread("agent"); n != 1 {
			t.Fatalf("the agent the lead assigned has %d notices, want 1", n)
		}
		b := signedIn(t, k, "agent")
		if _, _, body := b.req("GET", "/notices", nil, ""); !strings.Contains(body, "Lead Person ti ha assegnato questo ticket") || !strings.Contains(body, "Fattura doppia") {
			t.Fatalf("the notices page does not say who assigned what")
		}
		// Reading the list marks nothing; "mark all as read" does.
		if n := unread("agent"); n != 1 {
			t.Fatalf("opening the list changed the unread count to %d", n)
		}
		if st, _, _ := b.req("POST", "/notices/read", url.Values{}, ""); st != 303 {
			t.Fatalf("mark all read: %d", st)
		}
		if n := unread("agent"); n != 0 {
			t.Fatalf("after mark all read: %d unread", n)
		}
		// The customer writes: the assignee hears.
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "customer", "body": "Ecco l'estratto conto."})
		if n := unread("agent"); n != 1 {
			t.Errorf("after the customer wrote the agent has %d unread, want 1", n)
		}
		// A note mentions the lead by first name and the agent themself.
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "note", "body": "@Lead puoi autorizzare il rimborso? (cc @agent)"})
		if n := unread("lead"); n != 1 {
			t.Errorf("the mentioned lead has %d notices, want 1", n)
		}
		if n := unread("agent"); n != 1 {
			t.Errorf("mentioning yourself notified you: %d unread", n)
		}
		lb := signedIn(t, k, "lead")
		if _, _, body := lb.req("GET", "/", nil, ""); !strings.Contains(body, `unread-count">1<`) {
			t.Errorf("the lead's header count does not show the mention")
		}
		if _, _, body := lb.req("GET", "/notices", nil, ""); !strings.Contains(body, "Agent Person ti ha menzionato in una nota") {
			t.Errorf("the mention is not in the lead's list")
		}
		// One notice is marked read by its own button; another agent's
		// notice is not found; opening a ticket reads its notices.
		ln, err := k.d.Notices.List(ctx, lead.ID)
		if err != nil || len(ln) != 1 {
			t.Fatalf("lead's notices: %v %v", ln, err)
		}
		if st, _, _ := b.req("POST", fmt.Sprintf("/notices/%d/read", ln[0].ID), url.Values{}, ""); st != 404 {
			t.Errorf("the agent marked the lead's notice read: %d", st)
		}
		if st, _, _ := lb.req("POST", fmt.Sprintf("/notices/%d/read", ln[0].ID), url.Values{}, ""); st != 303 || unread("lead") != 0 {
			t.Errorf("mark one read: %d, %d unread", st, unread("lead"))
		}
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "note", "body": "@Lead ancora tu"})
		if n := unread("lead"); n != 1 {
			t.Fatalf("second mention: %d unread", n)
		}
		if st, _, _ := lb.req("GET", fmt.Sprintf("/tickets/%d", num), nil, ""); st != 200 || unread("lead") != 0 {
			t.Errorf("opening the ticket left %d notices about it unread (%d)", unread("lead"), st)
		}
		// The lead switches mentions off in the profile.
		if st, _, _ := lb.req("POST", "/profile", url.Values{"name": {"Lead Person"}, "language": {"it"}, "timezone": {"Europe/Rome"}, "availability": {"online"},
			"app_notices_shown": {"1"}, "app_notices": {"assigned", "customer"}}, ""); st != 303 {
			t.Fatalf("profile: %d", st)
		}
		if got, _ := k.d.Store.Agent(ctx, lead.ID); got.AppNotices != "assigned,customer" || !got.WantsNotice("assigned") {
			t.Fatalf("app notices saved as %q", got.AppNotices)
		}
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "note", "body": "@lead ci sei?"})
		if n := unread("lead"); n != 0 {
			t.Errorf("a lead who switched mentions off got %d", n)
		}
		// Taking a ticket yourself is no news.
		k.must(200, "lead", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", num), map[string]any{"assignee_id": lead.ID})
		if n := unread("lead"); n != 0 {
			t.Errorf("assigning yourself notified you: %d", n)
		}
	})
}

// Smaller defects of the review (issue 11): a too-long subject says the
// limit; a breached clock says "violato — scadeva …", not "in corso"
// with a past date; the ticket page shows the channel and the time.
func TestWorkspaceSaysWhatIsWrong(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00")
		k := newDeskWith(t, db, app.Options{Now: clk.Now})
		b := signedIn(t, k, "agent")
		st, _, body := b.req("POST", "/tickets/new", url.Values{"email": {"a@example.it"}, "subject": {strings.Repeat("lungo ", 60)}, "body": {"x"},
			"channel": {"phone"}, "priority": {"normal"}}, "")
		if st != 422 || !strings.Contains(body, "Al massimo 250 caratteri.") || !strings.Contains(body, `maxlength="250"`) {
			t.Fatalf("a too-long subject: %d", st)
		}
		k.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{"name": "Rapida",
			"targets": map[string]any{"normal": map[string]any{"first_reply": map[string]any{"minutes": 30}}}})
		num := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Rete lenta", "body": "Va piano.",
			"requester": map[string]any{"email": "b@example.it"}, "team_id": k.teamID, "channel": "phone"}).num("number")
		clk.Set("2026-03-02 10:00")
		if _, err := k.d.SLA.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, _, body = b.req("GET", fmt.Sprintf("/tickets/%d", num), nil, "")
		if !strings.Contains(body, ">violato<") || !strings.Contains(body, "scadeva 2 mar 2026, 09:30") {
			t.Errorf("the breached clock is not said to be breached: %s", snippet(body, "Prima risposta"))
		}
		if !strings.Contains(body, "Team: — → Supporto L1") || strings.Contains(body, "customer:") {
			t.Errorf("the history shows internal values or a team change without from and to: %s", snippet(body, "history"))
		}
		if !strings.Contains(body, "telefono · aperto il 2 mar 2026, 09:00") {
			t.Errorf("the ticket page does not show channel and opening time: %s", snippet(body, "ticket-head"))
		}
	})
}
