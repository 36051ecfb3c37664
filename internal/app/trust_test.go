package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// Issue 9, defect 2: a profile edit holding the copy of the agent read
// when its request began (before an admin demoted and deactivated them)
// writes only profile fields, so role and access stay as the admin left
// them; and an admin's agents form left open applies only what it changed.
func TestStaleProfileCannotRestoreRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		lead := k.agents["lead"]
		stale, err := k.d.Store.Agent(ctx, lead.ID) // the request's copy
		if err != nil {
			t.Fatal(err)
		}
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", lead.ID), map[string]any{"role": "agent", "active": false})
		name := "Lead Rinominato"
		p := agent.Patch{Name: &name}
		if err := stale.Apply(p); err != nil {
			t.Fatal(err)
		}
		if err := k.d.Store.UpdateAgent(ctx, stale, p); err != nil {
			t.Fatal(err)
		}
		now, err := k.d.Store.Agent(ctx, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if now.Role != agent.RoleAgent || now.Active || now.Name != name {
			t.Fatalf("after a stale profile edit: role %s active %v name %q; want agent, inactive, the new name", now.Role, now.Active, now.Name)
		}

		// The agents page: admin A's form still shows "agent, active" for
		// the test agent; admin B (the API) makes them a lead meanwhile.
		a := signedIn(t, k, "admin")
		target := k.agents["agent"]
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", target.ID), map[string]any{"role": "lead"})
		// A only unticks "active": the role B set stays.
		st, _, _ := a.req("POST", fmt.Sprintf("/admin/agents/%d", target.ID), url.Values{"role": {"agent"}, "role_was": {"agent"}, "active_was": {"on"}, "confirm": {"1"}}, "en")
		if st != http.StatusSeeOther {
			t.Fatalf("admin form: %d", st)
		}
		got, _ := k.d.Store.Agent(ctx, target.ID)
		if got.Role != agent.RoleLead || got.Active {
			t.Fatalf("after the stale form: role %s active %v; want lead (B's change kept), inactive (A's change)", got.Role, got.Active)
		}
		// A changes the role that B changed meanwhile: reported, not applied.
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", target.ID), map[string]any{"role": "admin"})
		st, _, body := a.req("POST", fmt.Sprintf("/admin/agents/%d", target.ID), url.Values{"role": {"agent"}, "role_was": {"lead"}, "active_was": {""}}, "en")
		if st != http.StatusConflict || !strings.Contains(body, "Un altro amministratore ha modificato") {
			t.Fatalf("conflicting role change: %d %s", st, body)
		}
		if got, _ := k.d.Store.Agent(ctx, target.ID); got.Role != agent.RoleAdmin {
			t.Fatalf("the conflicting change was applied: role %s", got.Role)
		}
	})
}

// Issue 9, defect 3: a properties form left open applies only what its
// agent changed (a colleague's assignee and tags stay), a change of the
// same field meanwhile is refused with the colleague's name, and the API
// honours If-Match with the ticket's ETag.
func TestPropertiesFormKeepsColleagueChanges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		num := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura doppia", "body": "Mi avete addebitato due volte",
			"requester": map[string]any{"email": "rosa.greco@example.it"}, "team_id": k.teamID, "tags": []string{"fatture"}}).num("number")
		path := fmt.Sprintf("/tickets/%d", num)
		b := signedIn(t, k, "agent")
		if st, _, page := b.req("GET", path, nil, ""); st != 200 || !strings.Contains(page, `name="was_assignee_id" value="0"`) || !strings.Contains(page, `name="was_tags" value="fatture"`) {
			t.Fatalf("the properties form carries what it shows: %d", st)
		}
		// The form as drawn: new, normal, team, nobody, "fatture".
		form := func(prio, assignee, tags, wasPrio string) url.Values {
			return url.Values{"status": {"new"}, "priority": {prio}, "team_id": {fmt.Sprint(k.teamID)}, "assignee_id": {assignee}, "tags": {tags},
				"was_status": {"new"}, "was_priority": {wasPrio}, "was_team_id": {fmt.Sprint(k.teamID)}, "was_assignee_id": {"0"}, "was_tags": {"fatture"}}
		}
		// Meanwhile the lead assigns the ticket to the agent and tags it.
		k.must(200, "lead", "PATCH", "/api/v1/tickets/"+fmt.Sprint(num), map[string]any{"assignee_id": k.agents["agent"].ID, "add_tags": []string{"rimborso"}})
		st, _, _ := b.req("POST", path, form("high", "0", "fatture, urgente", "normal"), "")
		if st != http.StatusSeeOther {
			t.Fatalf("saving the stale form: %d", st)
		}
		got := k.must(200, "agent", "GET", "/api/v1/tickets/"+fmt.Sprint(num), nil)
		if got.JSON["priority"] != "high" || got.num("assignee_id") != k.agents["agent"].ID || fmt.Sprint(got.JSON["tags"]) != "[fatture rimborso urgente]" {
			t.Fatalf("after the stale form: priority %v assignee %v tags %v; want high, the lead's assignee, all three tags", got.JSON["priority"], got.JSON["assignee_id"], got.JSON["tags"])
		}
		// The lead raises the priority; the agent's form (still showing
		// "high") lowers it: refused, with the lead's name, nothing written.
		k.must(200, "lead", "PATCH", "/api/v1/tickets/"+fmt.Sprint(num), map[string]any{"priority": "urgent"})
		st, _, page := b.req("POST", path, form("low", "0", "fatture", "high"), "")
		if st != http.StatusConflict || !strings.Contains(page, "Lead Person ha cambiato Priorità") || !strings.Contains(page, "Ricarica il ticket") {
			t.Fatalf("conflicting change: %d %s", st, page)
		}
		if got := k.must(200, "agent", "GET", "/api/v1/tickets/"+fmt.Sprint(num), nil); got.JSON["priority"] != "urgent" || fmt.Sprint(got.JSON["tags"]) != "[fatture rimborso urgente]" {
			t.Fatalf("the refused form wrote something: %s", got)
		}

		// The API: ETag and If-Match.
		cur := k.must(200, "agent", "GET", "/api/v1/tickets/"+fmt.Sprint(num), nil)
		etag := cur.Header.Get("ETag")
		if etag != fmt.Sprintf(`"v%d"`, cur.num("version")) {
			t.Fatalf("ETag %q for version %d", etag, cur.num("version"))
		}
		k.must(200, "lead", "PATCH", "/api/v1/tickets/"+fmt.Sprint(num), map[string]any{"add_tags": []string{"visto"}})
		r := k.doWith("agent", "PATCH", "/api/v1/tickets/"+fmt.Sprint(num), map[string]any{"priority": "low"}, map[string]string{"If-Match": etag})
		if r.Status != http.StatusPreconditionFailed {
			t.Fatalf("PATCH with an old If-Match: %d %s", r.Status, r)
		}
		fresh := k.must(200, "agent", "GET", "/api/v1/tickets/"+fmt.Sprint(num), nil).Header.Get("ETag")
		r = k.doWith("agent", "PATCH", "/api/v1/tickets/"+fmt.Sprint(num), map[string]any{"priority": "low"}, map[string]string{"If-Match": fresh})
		if r.Status != 200 || r.JSON["priority"] != "low" || r.Header.Get("ETag") == fresh {
			t.Fatalf("PATCH with the current If-Match: %d %s (ETag %s)", r.Status, r, r.Header.Get("ETag"))
		}
		if r := k.doWith("agent", "PATCH", "/api/v1/tickets/"+fmt.Sprint(num), map[string]any{"priority": "low"}, map[string]string{"If-Match": "abc"}); r.Status != 400 || problemField(r) != "If-Match" {
			t.Fatalf("a malformed If-Match: %d %s", r.Status, r)
		}
	})
}

// Issue 9, defect 9: the live stream tells an agent only about tickets
// they may open, and it ends as soon as the agent is deactivated.
func TestLiveStreamScopeAndRevocation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		other := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Amministrazione", "tier": 1}).num("id")
		b := signedIn(t, k, "agent")
		req, _ := http.NewRequest("GET", k.srv.URL+"/events", nil)
		res, err := b.c.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("opening the stream: %v %v", err, res)
		}
		defer res.Body.Close()
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		hidden := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Stipendi di marzo", "body": "riservato",
			"requester": map[string]any{"email": "hr@example.it"}, "team_id": other}).num("number")
		mine := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Stampante", "body": "non stampa",
			"requester": map[string]any{"email": "ufficio@example.it"}, "team_id": k.teamID}).num("number")
		var seen []string
		deadline := time.After(5 * time.Second)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("the stream ended early")
				}
				if strings.HasPrefix(l, "data: ") {
					seen = append(seen, l)
					if strings.Contains(l, fmt.Sprintf(`"ticket":%d,`, mine)) {
						break read
					}
				}
			case <-deadline:
				t.Fatalf("no event for the agent's own team's ticket; saw %v", seen)
			}
		}
		for _, l := range seen {
			if strings.Contains(l, fmt.Sprintf(`"ticket":%d,`, hidden)) {
				t.Fatalf("the stream told the agent about another team's ticket: %s", l)
			}
		}
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", k.agents["agent"].ID), map[string]any{"active": false})
		end := time.After(5 * time.Second)
		for {
			select {
			case _, ok := <-lines:
				if !ok {
					return // the stream ended
				}
			case <-end:
				t.Fatal("the stream of a deactivated agent kept going")
			}
		}
	})
}

// Issue 9, defect 4: retries and Back never make a second ticket or reply.
// The API honours Idempotency-Key on creates and replies; the workspace
// forms carry a one-time token; a create in a team the caller is not in
// is refused before anything is written.
func TestIdempotentCreatesAndReplies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		count := func() int64 {
			n, err := k.d.Tickets.Count(ctx, ticketSystem, ticketAll)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		body := map[string]any{"subject": "Consegna in ritardo", "body": "Il pacco non è arrivato", "requester": map[string]any{"email": "piero.wright@example.com"}, "team_id": k.teamID}
		key := map[string]string{"Idempotency-Key": "8d1c1c9e-retry"}
		first := k.doWith("agent", "POST", "/api/v1/tickets", body, key)
		again := k.doWith("agent", "POST", "/api/v1/tickets", body, key)
		if first.Status != 201 || again.Status != 201 || first.num("number") != again.num("number") || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a retried create: %d #%d, then %d #%d (replayed %q)", first.Status, first.num("number"), again.Status, again.num("number"), again.Header.Get("Idempotent-Replayed"))
		}
		if n := count(); n != 1 {
			t.Fatalf("%d tickets after a retried create, want 1", n)
		}
		other := map[string]any{"subject": "Altro", "body": "x", "requester": map[string]any{"email": "a@example.com"}}
		if r := k.doWith("agent", "POST", "/api/v1/tickets", other, key); r.Status != 422 || problemField(r) != "Idempotency-Key" {
			t.Fatalf("the same key with another body: %d %s", r.Status, r)
		}
		num := first.num("number")
		msgPath := fmt.Sprintf("/api/v1/tickets/%d/messages", num)
		reply := map[string]any{"kind": "reply", "body": "Lo verifichiamo subito"}
		rk := map[string]string{"Idempotency-Key": "reply-1"}
		m1 := k.doWith("agent", "POST", msgPath, reply, rk)
		m2 := k.doWith("agent", "POST", msgPath, reply, rk)
		id1, _ := m1.JSON["message"].(map[string]any)
		id2, _ := m2.JSON["message"].(map[string]any)
		if m1.Status != 201 || m2.Status != 201 || id1["id"] != id2["id"] || id2["body"] != "Lo verifichiamo subito" {
			t.Fatalf("a retried reply: %d %v, then %d %v", m1.Status, id1, m2.Status, id2)
		}
		th := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", num), nil)
		if n := len(th.JSON["messages"].([]any)); n != 2 {
			t.Fatalf("%d messages after a retried reply, want 2", n)
		}
		// Twenty concurrent retries of one create make one ticket.
		var wg sync.WaitGroup
		nums := make([]int64, 20)
		ck := map[string]string{"Idempotency-Key": "storm"}
		cb := map[string]any{"subject": "Doppio clic", "body": "x", "requester": map[string]any{"email": "b@example.com"}}
		for i := range nums {
			wg.Go(func() { nums[i] = k.doWith("agent", "POST", "/api/v1/tickets", cb, ck).num("number") })
		}
		wg.Wait()
		for _, n := range nums {
			if n == 0 || n != nums[0] {
				t.Fatalf("concurrent retries answered %v", nums)
			}
		}
		if n := count(); n != 2 {
			t.Fatalf("%d tickets after concurrent retries, want 2", n)
		}

		// The workspace: Back and send again.
		b := signedIn(t, k, "agent")
		_, _, page := b.req("GET", "/tickets/new", nil, "")
		tok := hiddenValue(t, page, "form_token")
		form := url.Values{"form_token": {tok}, "email": {"c@example.com"}, "subject": {"Telefonata"}, "body": {"chiede un richiamo"}, "channel": {"phone"}, "priority": {"normal"}, "team_id": {fmt.Sprint(k.teamID)}}
		st1, h1, _ := b.req("POST", "/tickets/new", form, "")
		st2, h2, _ := b.req("POST", "/tickets/new", form, "")
		if st1 != 303 || st2 != 303 || h1.Get("Location") != h2.Get("Location") {
			t.Fatalf("a form sent twice: %d %s, %d %s", st1, h1.Get("Location"), st2, h2.Get("Location"))
		}
		_, _, page = b.req("GET", h1.Get("Location"), nil, "")
		rtok := hiddenValue(t, page, "form_token")
		rf := url.Values{"form_token": {rtok}, "kind": {"reply"}, "body": {"La richiamiamo oggi"}}
		b.req("POST", h1.Get("Location")+"/messages", rf, "")
		b.req("POST", h1.Get("Location")+"/messages", rf, "")
		tn := strings.TrimPrefix(h1.Get("Location"), "/tickets/")
		if n := len(k.must(200, "agent", "GET", "/api/v1/tickets/"+tn, nil).JSON["messages"].([]any)); n != 2 {
			t.Fatalf("%d messages after a reply form sent twice, want 2", n)
		}
		if n := count(); n != 3 {
			t.Fatalf("%d tickets after a form sent twice, want 3", n)
		}

		// A team the agent is not in: refused, nothing written.
		other2 := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Legale", "tier": 2}).num("id")
		r := k.do("agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Altrove", "body": "x", "requester": map[string]any{"email": "nuovo@example.com"}, "team_id": other2})
		if r.Status != 422 || problemField(r) != "team_id" {
			t.Fatalf("create in another team: %d %s", r.Status, r)
		}
		if n := count(); n != 3 {
			t.Fatalf("%d tickets after a refused create, want 3", n)
		}
		if c := k.must(200, "admin", "GET", "/api/v1/contacts?q=nuovo%40example.com", nil); strings.Contains(c.String(), "nuovo@example.com") {
			t.Fatalf("the refused create left its contact behind: %s", c)
		}
	})
}

var (
	ticketSystem = ticket.System
	ticketAll    = ticket.Filter{}
)

// hiddenValue reads a hidden input's value from a page.
func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in the page", name)
	}
	return m[1]
}

// Issue 9, defect 5: a closed ticket's page is read-only and offers a
// follow-up ticket; a merged source links to its target; a refused write
// says what happened instead of a code that was never logged.
func TestClosedTicketsAreReadOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		mk := func(subject string) int64 {
			return k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": subject, "body": "x",
				"requester": map[string]any{"email": "laura.greco@example.it", "name": "Laura Greco"}, "team_id": k.teamID}).num("number")
		}
		closed, src, dst := mk("Reso"), mk("Doppione"), mk("Originale")
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", closed), map[string]any{"status": "solved"})
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", closed), map[string]any{"status": "closed"})
		k.must(200, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", src), map[string]any{"into": dst})
		b := signedIn(t, k, "agent")
		_, _, page := b.req("GET", fmt.Sprintf("/tickets/%d", closed), nil, "")
		if strings.Contains(page, `id="composer"`) || strings.Contains(page, `id="props"`) || !strings.Contains(page, fmt.Sprintf(`href="/tickets/new?follow_up=%d"`, closed)) {
			t.Fatalf("closed ticket page: composer or properties form shown, or no follow-up link")
		}
		_, _, page = b.req("GET", fmt.Sprintf("/tickets/%d", src), nil, "")
		if strings.Contains(page, `id="composer"`) || !strings.Contains(page, fmt.Sprintf(`<a href="/tickets/%d">#%d</a>`, dst, dst)) {
			t.Fatalf("merged source page: no link to the target, or a composer")
		}
		st, _, page := b.req("POST", fmt.Sprintf("/tickets/%d/messages", closed), url.Values{"kind": {"reply"}, "body": {"ciao"}}, "")
		if st != http.StatusConflict || strings.Contains(page, "codice") || !strings.Contains(page, "Non è stato possibile") {
			t.Fatalf("reply on a closed ticket: %d %s", st, page)
		}
		// The follow-up form is filled from the closed ticket and links to it.
		_, _, page = b.req("GET", fmt.Sprintf("/tickets/new?follow_up=%d", closed), nil, "")
		if !strings.Contains(page, `value="laura.greco@example.it"`) || !strings.Contains(page, `value="Reso"`) {
			t.Fatalf("follow-up form not filled in")
		}
		st, h, _ := b.req("POST", "/tickets/new", url.Values{"form_token": {hiddenValue(t, page, "form_token")}, "follow_up": {fmt.Sprint(closed)},
			"email": {"laura.greco@example.it"}, "subject": {"Reso"}, "body": {"Richiama per il reso"}, "channel": {"phone"}, "priority": {"normal"}, "team_id": {fmt.Sprint(k.teamID)}}, "")
		if st != 303 {
			t.Fatalf("follow-up create: %d", st)
		}
		fu := k.must(200, "agent", "GET", "/api/v1"+h.Get("Location"), nil)
		if fu.num("follow_up_of") != closed {
			t.Fatalf("follow-up not linked: %s", fu)
		}
	})
}

// Issue 9, defect 6: successful sign-ins cost an address nothing; the
// account lockout counts each attempt before its password is evaluated,
// so twenty parallel guesses get five evaluations; the current-password
// check of a password change is under the same lockout.
func TestSignInThrottlingAndLockout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		for i := range 30 {
			if _, _, err := k.d.Auth.Login(ctx, "agent@example.com", "password-agent", "192.0.2.10"); err != nil {
				t.Fatalf("sign-in %d from an office address: %v", i+1, err)
			}
		}
		if _, _, err := k.d.Auth.Login(ctx, "agent@example.com", "wrong-password", "192.0.2.10"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("a mistyped password: %v", err)
		}
		if _, _, err := k.d.Auth.Login(ctx, "agent@example.com", "password-agent", "192.0.2.10"); err != nil {
			t.Fatalf("signing in after one typo: %v", err)
		}

		var bad, locked atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				_, _, err := k.d.Auth.Login(ctx, "lead@example.com", fmt.Sprintf("guess-%02d-xyz", i), fmt.Sprintf("198.51.100.%d", i+1))
				switch {
				case errors.Is(err, auth.ErrBadCredentials):
					bad.Add(1)
				case errors.Is(err, auth.ErrLocked):
					locked.Add(1)
				default:
					t.Errorf("guess %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if bad.Load() != 5 || locked.Load() != 15 {
			t.Fatalf("20 parallel guesses: %d evaluated, %d refused as locked; want 5 and 15", bad.Load(), locked.Load())
		}
		if _, _, err := k.d.Auth.Login(ctx, "lead@example.com", "password-lead", "198.51.100.99"); !errors.Is(err, auth.ErrLocked) {
			t.Fatalf("the right password on a locked account: %v", err)
		}

		// Guessing the current password through a session is throttled too.
		for i := range 5 {
			r := k.do("admin", "PUT", "/api/v1/me/password", map[string]any{"current_password": fmt.Sprintf("nope-%d-nope", i), "new_password": "una password nuova e lunga"})
			if r.Status != 422 {
				t.Fatalf("wrong current password %d: %d %s", i+1, r.Status, r)
			}
		}
		if r := k.do("admin", "PUT", "/api/v1/me/password", map[string]any{"current_password": "password-admin", "new_password": "una password nuova e lunga"}); r.Status != 429 {
			t.Fatalf("the sixth try after five wrong current passwords: %d %s, want 429", r.Status, r)
		}
		// A common password is refused by name.
		r := k.do("agent", "PUT", "/api/v1/me/password", map[string]any{"current_password": "password-agent", "new_password": "Password123"})
		if r.Status != 422 || problemField(r) != "new_password" || !strings.Contains(r.String(), "common") {
			t.Fatalf("a common new password: %d %s", r.Status, r)
		}
	})
}

// Issue 9, defect 9: the notices page keeps a notice about a ticket that
// moved out of the agent's teams, but no longer shows its subject or link.
func TestNoticesHideTicketsOutOfReach(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		num := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Contratto riservato", "body": "x",
			"requester": map[string]any{"email": "legale@example.it"}, "team_id": k.teamID}).num("number")
		if err := k.d.Store.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertNotices(ctx, []int64{k.agents["agent"].ID}, num, "sla_warning", "first_reply", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		b := signedIn(t, k, "agent")
		if _, _, page := b.req("GET", "/notices", nil, ""); !strings.Contains(page, "Contratto riservato") {
			t.Fatal("the notice does not show its ticket while the agent may open it")
		}
		other := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Legale", "tier": 2}).num("id")
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", num), map[string]any{"team_id": other})
		_, _, page := b.req("GET", "/notices", nil, "")
		if strings.Contains(page, "Contratto riservato") || strings.Contains(page, fmt.Sprintf(`href="/tickets/%d"`, num)) {
			t.Fatal("the notices page shows a ticket the agent can no longer open")
		}
		if !strings.Contains(page, "Una notifica su un ticket che non puoi più aprire.") {
			t.Fatal("the notice itself disappeared")
		}
	})
}

// Issue 9, defect 2 for the other edited records: a team, contact or
// organisation form drawn before a colleague's change is refused (409)
// instead of undoing it; a fresh form saves.
func TestStaleRecordFormsAreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		contact := k.must(201, "admin", "POST", "/api/v1/contacts", map[string]any{"name": "Rita Sanna", "emails": []string{"rita@example.com"}}).num("id")
		org := k.must(201, "admin", "POST", "/api/v1/organisations", map[string]any{"name": "Caseificio Valle Verde"}).num("id")
		b := signedIn(t, k, "admin")
		for _, c := range []struct {
			page, action string
			form         url.Values
			colleague    func()
			kept         func() bool
		}{
			{"/admin/teams", fmt.Sprintf("/admin/teams/%d", k.teamID),
				url.Values{"name": {"Supporto L1"}, "tier": {"1"}, "members": {fmt.Sprint(k.agents["lead"].ID)}},
				func() {
					k.must(200, "lead", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"member_ids": []int64{k.agents["lead"].ID, k.agents["agent"].ID, k.agents["admin"].ID}})
				},
				func() bool {
					return len(k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/teams/%d", k.teamID), nil).JSON["member_ids"].([]any)) == 3
				}},
			{fmt.Sprintf("/contacts/%d", contact), fmt.Sprintf("/contacts/%d", contact),
				url.Values{"name": {"Rita Sanna"}, "emails": {"rita@example.com"}, "language": {"it"}, "notes": {"vecchie note"}},
				func() {
					k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/contacts/%d", contact), map[string]any{"notes": "richiamare dopo le 15"})
				},
				func() bool {
					return k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/contacts/%d", contact), nil).JSON["notes"] == "richiamare dopo le 15"
				}},
			{fmt.Sprintf("/organisations/%d", org), fmt.Sprintf("/organisations/%d", org),
				url.Values{"name": {"Caseificio Valle Verde"}, "domains": {""}, "notes": {""}},
				func() {
					k.must(200, "lead", "PATCH", fmt.Sprintf("/api/v1/organisations/%d", org), map[string]any{"domains": []string{"valleverde.it"}})
				},
				func() bool {
					return strings.Contains(k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/organisations/%d", org), nil).String(), "valleverde.it")
				}},
		} {
			_, _, page := b.req("GET", c.page, nil, "")
			re := regexp.MustCompile(`action="` + regexp.QuoteMeta(c.action) + `"[^>]*>\s*<input type="hidden" name="was_updated" value="(\d+)"`)
			m := re.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("%s: the form carries no was_updated", c.page)
			}
			c.colleague()
			form := c.form
			form.Set("was_updated", m[1])
			if st, _, _ := b.req("POST", c.action, form, ""); st != http.StatusConflict {
				t.Errorf("%s: the stale form answered %d, want 409", c.action, st)
			}
			if !c.kept() {
				t.Errorf("%s: the stale form undid the colleague's change", c.action)
			}
		}
	})
}
