package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/webhook"
)

// Assignment under concurrent ticket creation, on both databases, as a
// property: whatever the mode, the number of online agents, the cap and
// the number of tickets created at once, no agent ever holds more than
// the cap, nobody offline gets one, tickets are assigned while someone
// is under the cap, and the online agents' counts stay within one of each
// other.
func TestAssignmentFairUnderConcurrency(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		round := 0
		rapid.Check(t, func(rt *rapid.T) {
			round++
			mode := rapid.SampledFrom([]string{"round_robin", "least_loaded"}).Draw(rt, "mode")
			online := rapid.IntRange(1, 4).Draw(rt, "online")
			limit := rapid.IntRange(0, 4).Draw(rt, "cap")
			n := rapid.IntRange(1, 12).Draw(rt, "tickets")
			now := time.Now().UTC()
			var ids []int64
			for i := 0; i < online+1; i++ {
				av := agent.Online
				if i == online {
					av = agent.Offline // one member who is not there
				}
				a := &agent.Agent{Email: fmt.Sprintf("r%d-a%d@example.com", round, i), Name: fmt.Sprintf("Agente %d", i), Role: agent.RoleAgent,
					Language: "it", Timezone: "Europe/Rome", Availability: av, Active: true, CreatedAt: now, UpdatedAt: now}
				if err := k.d.Store.CreateAgent(ctx, a); err != nil {
					rt.Fatal(err)
				}
				ids = append(ids, a.ID)
			}
			tm := &team.Team{Name: fmt.Sprintf("Turno %d", round), Tier: 1, MemberIDs: ids, AssignMode: mode, AssignCap: limit, CreatedAt: now, UpdatedAt: now}
			if err := k.d.Store.CreateTeam(ctx, tm); err != nil {
				rt.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					_, err := k.d.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: fmt.Sprintf("Richiesta %d", i),
						BodyText: "Buongiorno, ho bisogno di aiuto con il mio ordine.", Requester: ticket.Requester{Email: fmt.Sprintf("c%d-%d@example.it", round, i)},
						Channel: ticket.ChannelEmail, TeamID: &tm.ID})
					errs <- err
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					rt.Fatal(err)
				}
			}
			ts, err := k.d.Tickets.List(ctx, ticket.System, ticket.Filter{TeamID: &tm.ID, Limit: 100})
			if err != nil {
				rt.Fatal(err)
			}
			count := map[int64]int{}
			unassigned := 0
			for _, x := range ts {
				if x.AssigneeID == nil {
					unassigned++
					continue
				}
				count[*x.AssigneeID]++
			}
			if count[ids[online]] != 0 {
				rt.Fatalf("the offline agent got %d tickets", count[ids[online]])
			}
			lo, hi := n, 0
			for _, id := range ids[:online] {
				c := count[id]
				if limit > 0 && c > limit {
					rt.Fatalf("agent %d holds %d tickets, above the cap %d", id, c, limit)
				}
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				rt.Fatalf("unfair: counts %v (mode %s)", count, mode)
			}
			want := n
			if limit > 0 {
				want = min(n, limit*online)
			}
			if n-unassigned != want {
				rt.Fatalf("%d of %d tickets assigned, want %d (cap %d, %d online)", n-unassigned, n, want, limit, online)
			}
		})
	})
}

// Rules that undo each other stop: each fires at most once per chain,
// the change that set them off succeeds, and the history names them.
func TestSelfTriggeringRulesStop(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		for _, r := range []map[string]any{
			{"name": "Alta diventa bassa", "active": true, "events": []string{"field_changed"},
				"conditions": []map[string]any{{"field": "priority", "op": "is", "value": "high"}},
				"actions":    []map[string]any{{"type": "set_priority", "value": "low"}, {"type": "add_tags", "values": []string{"giro"}}}},
			{"name": "Bassa diventa alta", "active": true, "events": []string{"field_changed"},
				"conditions": []map[string]any{{"field": "priority", "op": "is", "value": "low"}},
				"actions":    []map[string]any{{"type": "set_priority", "value": "high"}, {"type": "note", "text": "giro {{ticket.number}}"}}},
			{"name": "Ogni cambio, una nota", "active": true, "events": []string{"field_changed", "note"},
				"actions": []map[string]any{{"type": "note", "text": "ancora"}}},
		} {
			k.must(201, "admin", "POST", "/api/v1/rules", r)
		}
		tk := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Prova", "body": "Un giro di regole.",
			"requester": map[string]any{"email": "giro@example.it"}, "team_id": k.teamID})
		num := tk.num("number")
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", num), map[string]any{"priority": "high"})
		if n := countEvents(t, k, num, "rule"); n != 3 {
			t.Errorf("%d rule firings, want 3 (each rule once)", n)
		}
		got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", num), nil)
		if got.JSON["priority"] != "high" {
			t.Errorf("priority %v: the last rule of the chain set high", got.JSON["priority"])
		}
	})
}

// The dry run names the condition that fails, the event a rule does not
// listen for, and a rule switched off; it writes nothing.
func TestDryRunNamesTheFailingCondition(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		k.must(201, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Urgente nel soggetto", "active": true, "events": []string{"ticket_created"},
			"conditions": []map[string]any{{"field": "subject", "op": "contains", "values": []string{"urgente", "urgent"}}, {"field": "channel", "op": "is", "value": "email"}},
			"actions":    []map[string]any{{"type": "set_priority", "value": "urgent"}}})
		k.must(201, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Solo su breach", "active": true, "events": []string{"sla_breach"},
			"actions": []map[string]any{{"type": "notify", "value": "lead"}}})
		k.must(201, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Spenta", "active": false, "events": []string{"ticket_created"},
			"actions": []map[string]any{{"type": "add_tags", "values": []string{"x"}}}})
		tk := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "URGENTE: sito fermo", "body": "Il sito non risponde.",
			"requester": map[string]any{"email": "fermo@example.it"}, "team_id": k.teamID, "channel": "phone"})
		num := tk.num("number")
		if tk.JSON["priority"] != "normal" {
			t.Fatalf("the rule fired on a phone ticket: %v", tk.JSON["priority"])
		}
		before := len(k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", num), nil).JSON["items"].([]any))
		dry := k.must(200, "admin", "POST", "/api/v1/rules/dry-run", map[string]any{"ticket": num, "event": "ticket_created"})
		rs := dry.JSON["rules"].([]any)
		reason := func(i int) string { return rs[i].(map[string]any)["reason"].(string) }
		if rs[0].(map[string]any)["fires"] != false || !strings.Contains(reason(0), "condition 2: channel is") || !strings.Contains(reason(0), `"phone"`) {
			t.Errorf("first rule: %v", rs[0])
		}
		if !strings.Contains(reason(1), "listens for sla_breach") {
			t.Errorf("second rule: %s", reason(1))
		}
		if !strings.Contains(reason(2), "off") {
			t.Errorf("third rule: %s", reason(2))
		}
		after := len(k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", num), nil).JSON["items"].([]any))
		if after != before {
			t.Errorf("the dry run wrote %d events", after-before)
		}
		k.must(403, "lead", "POST", "/api/v1/rules/dry-run", map[string]any{"ticket": num})
	})
}

// Bad rules, macros and webhooks are refused with 422 naming the problem.
func TestAutomationBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		rule := func(cond, act map[string]any) map[string]any {
			return map[string]any{"name": "R", "events": []string{"ticket_created"}, "conditions": []map[string]any{cond}, "actions": []map[string]any{act}}
		}
		ok := map[string]any{"field": "priority", "op": "is", "value": "high"}
		okAct := map[string]any{"type": "add_tags", "values": []string{"x"}}
		for _, c := range []struct {
			role, method, path string
			body               map[string]any
			field, says        string
		}{
			{"admin", "POST", "/api/v1/rules", rule(map[string]any{"field": "colour", "op": "is", "value": "red"}, okAct), "conditions[0].field", "unknown field"},
			{"admin", "POST", "/api/v1/rules", rule(map[string]any{"field": "priority", "op": "resembles", "value": "high"}, okAct), "conditions[0].op", "unknown operator"},
			{"admin", "POST", "/api/v1/rules", rule(ok, map[string]any{"type": "launch_rocket"}), "actions[0].type", "unknown action"},
			{"admin", "POST", "/api/v1/rules", rule(ok, map[string]any{"type": "set_team", "value": "999"}), "actions[0].value", "no team"},
			{"admin", "POST", "/api/v1/rules", rule(map[string]any{"field": "subject", "op": "matches", "value": "(["}, okAct), "conditions[0].value", "regular expression"},
			{"admin", "POST", "/api/v1/rules", map[string]any{"name": "R", "events": []string{"sunrise"}, "actions": []map[string]any{okAct}}, "events[0]", "unknown event"},
			{"agent", "POST", "/api/v1/macros", map[string]any{"name": "M", "variants": map[string]string{"it": "Ciao {{customer.nickname}}"}}, "variants.it", "unknown placeholder"},
			{"agent", "POST", "/api/v1/macros", map[string]any{"name": "M", "shared": true, "variants": map[string]string{"it": "Ciao"}}, "shared", "only leads"},
			{"admin", "POST", "/api/v1/webhooks", map[string]any{"name": "W", "url": "ftp://example.com/x", "events": []string{"ticket_created"}}, "url", "http or https"},
			{"admin", "POST", "/api/v1/webhooks", map[string]any{"name": "W", "url": "http://127.0.0.1:9/x", "events": []string{"ticket_created"}}, "url", "private network"},
			{"admin", "POST", "/api/v1/webhooks", map[string]any{"name": "W", "url": "https://10.1.2.3/x", "events": []string{"ticket_created"}}, "url", "private network"},
			{"admin", "POST", "/api/v1/webhooks", map[string]any{"name": "W", "url": "http://localhost/x", "events": []string{"ticket_created"}}, "url", "private network"},
			{"admin", "POST", "/api/v1/webhooks", map[string]any{"name": "W", "url": "https://hooks.example.com/x", "events": []string{"ticket_eaten"}}, "events[0]", "unknown event"},
			{"admin", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"assign_mode": "lottery"}, "assign_mode", "must be one of"},
			{"admin", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"escalate_to_id": 999}, "escalate_to_id", "no team"},
		} {
			r := k.do(c.role, c.method, c.path, c.body)
			if r.Status != 422 || problemField(r) != c.field || !strings.Contains(r.String(), c.says) {
				t.Errorf("%s %s %v: %d %s; want 422 naming %s", c.method, c.path, c.body, r.Status, r, c.field)
			}
		}
		// The desk ships four rules, all off; bad input adds none.
		rs := k.must(200, "admin", "GET", "/api/v1/rules", nil).JSON["rules"].([]any)
		if len(rs) != 4 {
			t.Errorf("%d rules, want the 4 shipped ones", len(rs))
		}
		for _, r := range rs {
			if r.(map[string]any)["active"] != false {
				t.Errorf("a shipped rule is on: %v", r)
			}
		}
		ms := k.must(200, "agent", "GET", "/api/v1/macros", nil).JSON["macros"].([]any)
		kinds := map[string]bool{}
		for _, m := range ms {
			mm := m.(map[string]any)
			if v := mm["variants"].(map[string]any); v["it"] == nil || v["en"] == nil {
				t.Errorf("shipped macro without Italian and English: %v", mm)
			}
			kinds[mm["kind"].(string)] = true
		}
		if len(kinds) != 5 {
			t.Errorf("shipped scripts: %v, want the four kinds of DOMAIN §10 and the reminder", kinds)
		}
		tk := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "In cima", "body": "Nessun livello sopra.",
			"requester": map[string]any{"email": "top@example.it"}, "team_id": k.teamID})
		if r := k.do("agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/escalate", tk.num("number")), map[string]any{"reason": "x"}); r.Status != 422 || problemField(r) != "team_id" {
			t.Errorf("escalating from the top tier: %d %s", r.Status, r)
		}
	})
}

// Webhooks: a receiver that hangs and one that answers 500 never hold up
// ticket work (tickets are created while the hanging one still holds a
// delivery); a working receiver gets the payload signed with the secret
// shown once; the 500 is retried and every attempt is logged.
func TestWebhooksNeverBlockTickets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		release := make(chan struct{})
		hanging := make(chan struct{}, 100)
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hanging <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer hang.Close()
		defer close(release)
		fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
		defer fail.Close()
		var mu sync.Mutex
		var got []string
		var secret string
		good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if err := webhook.Verify(secret, r.Header.Get("X-Sportello-Signature"), body, time.Now(), 5*time.Minute); err != nil {
				got = append(got, "bad signature: "+err.Error())
				w.WriteHeader(401)
				return
			}
			if webhook.Verify("another-secret", r.Header.Get("X-Sportello-Signature"), body, time.Now(), 5*time.Minute) == nil {
				got = append(got, "a wrong secret verified")
			}
			got = append(got, string(body))
		}))
		defer good.Close()
		k := newDeskWith(t, db, app.Options{JobPoll: 50 * time.Millisecond, WebhookTimeout: 30 * time.Second, MailRetry: 100 * time.Millisecond})
		if err := k.d.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{hang.URL, fail.URL} {
			k.must(201, "admin", "POST", "/api/v1/webhooks", map[string]any{"name": "W " + u, "url": u + "/hook", "events": []string{"ticket_created"}, "allow_private": true})
		}
		w := k.must(201, "admin", "POST", "/api/v1/webhooks", map[string]any{"name": "Buono", "url": good.URL + "/hook", "events": []string{"ticket_created"}, "allow_private": true})
		mu.Lock()
		secret = w.JSON["secret"].(string)
		mu.Unlock()
		if len(secret) < 32 {
			t.Fatalf("secret %q", secret)
		}
		if r := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/webhooks/%d", w.num("id")), nil); r.JSON["secret"] != nil {
			t.Errorf("the secret is shown again: %s", r)
		}
		create := func(i int) {
			k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprintf("Richiesta %d", i), "body": "Testo della richiesta.",
				"requester": map[string]any{"email": fmt.Sprintf("w%d@example.it", i)}, "team_id": k.teamID})
		}
		create(0)
		select {
		case <-hanging:
		case <-time.After(20 * time.Second):
			t.Fatal("the hanging receiver was never called")
		}
		// The hanging delivery holds a worker; ticket work goes on.
		for i := 1; i <= 10; i++ {
			create(i)
		}
		waitFor(t, 20*time.Second, "11 signed deliveries to the working receiver", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) >= 11
		})
		mu.Lock()
		for _, g := range got {
			var p struct {
				Event  string
				Ticket struct{ Subject string }
			}
			if err := json.Unmarshal([]byte(g), &p); err != nil || p.Event != "ticket_created" || !strings.HasPrefix(p.Ticket.Subject, "Richiesta") {
				t.Errorf("delivery: %s (%v)", g, err)
			}
		}
		mu.Unlock()
		hooks := k.must(200, "admin", "GET", "/api/v1/webhooks", nil).JSON["webhooks"].([]any)
		var failID int64
		for _, h := range hooks {
			if strings.HasPrefix(h.(map[string]any)["url"].(string), fail.URL) {
				failID = int64(h.(map[string]any)["id"].(float64))
			}
		}
		waitFor(t, 20*time.Second, "a retried failing delivery in the log", func() bool {
			ds := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", failID), nil).JSON["deliveries"].([]any)
			for _, d := range ds {
				m := d.(map[string]any)
				if m["attempt"].(float64) >= 2 && m["status_code"].(float64) == 500 && m["ok"] == false {
					return true
				}
			}
			return false
		})
		k.must(403, "lead", "GET", "/api/v1/webhooks", nil)
	})
}

// A change applies what it names: a PUT that leaves a field out keeps the
// stored value (a rule or webhook switched off stays off). An escalation
// sent twice (a retry, Back) escalates once: the second names the team
// the ticket has left and is refused.
func TestAutomationChangesApplyWhatTheyName(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		r := k.must(201, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Spenta", "active": false, "events": []string{"note"},
			"actions": []map[string]any{{"type": "add_tags", "values": []string{"x"}}}})
		got := k.must(200, "admin", "PUT", fmt.Sprintf("/api/v1/rules/%d", r.num("id")), map[string]any{"name": "Rinominata"})
		if got.JSON["active"] != false || got.JSON["name"] != "Rinominata" || len(got.JSON["actions"].([]any)) != 1 {
			t.Errorf("rule after a rename: %s", got)
		}
		w := k.must(201, "admin", "POST", "/api/v1/webhooks", map[string]any{"name": "CRM", "url": "https://crm.example.com/hook", "events": []string{"note"}, "active": false})
		got = k.must(200, "admin", "PUT", fmt.Sprintf("/api/v1/webhooks/%d", w.num("id")), map[string]any{"name": "CRM nuovo"})
		if got.JSON["active"] != false || got.JSON["url"] != "https://crm.example.com/hook" {
			t.Errorf("webhook after a rename: %s", got)
		}
		m := k.must(201, "lead", "POST", "/api/v1/macros", map[string]any{"name": "Condivisa", "shared": true, "variants": map[string]string{"it": "Ciao"}})
		got = k.must(200, "lead", "PUT", fmt.Sprintf("/api/v1/macros/%d", m.num("id")), map[string]any{"name": "Condivisa 2"})
		if got.JSON["shared"] != true {
			t.Errorf("macro after a rename: %s", got)
		}

		l2 := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "L2", "tier": 2, "member_ids": []int64{k.agents["agent"].ID}})
		tk := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Da inoltrare", "body": "Serve il secondo livello.",
			"requester": map[string]any{"email": "l2@example.it"}, "team_id": k.teamID})
		path := fmt.Sprintf("/api/v1/tickets/%d/escalate", tk.num("number"))
		body := map[string]any{"reason": "serve L2", "from_team_id": k.teamID}
		if got := k.must(200, "agent", "POST", path, body); int64(got.JSON["team_id"].(float64)) != l2.num("id") {
			t.Fatalf("escalated to %v, want L2", got.JSON["team_id"])
		}
		if again := k.do("agent", "POST", path, body); again.Status != 409 || problemField(again) != "from_team_id" {
			t.Errorf("the same escalation again: %d %s, want 409 naming from_team_id", again.Status, again)
		}
		if n := countEvents(t, k, tk.num("number"), "escalated"); n != 1 {
			t.Errorf("%d escalations, want 1", n)
		}
	})
}

// An agent who goes away hands their new and open tickets back to the
// team's assignment when the team asks for it: to an online colleague, or
// to the unassigned queue when nobody is online; a pending ticket stays
// theirs. An agent coming online is offered the tickets waiting
// unassigned. A team that does not ask keeps its tickets where they are.
func TestAwayAgentHandsTicketsBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		lead, ag := k.agents["lead"].ID, k.agents["agent"].ID
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"assign_mode": "round_robin", "reassign_away": true})
		for _, id := range []int64{lead, ag} {
			k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", id), map[string]any{"availability": "online", "skill_languages": []string{"it"}})
		}
		var nums []int64
		for i := range 4 {
			nums = append(nums, k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprintf("Ordine %d in ritardo", i),
				"body": "Buongiorno, il mio ordine non è ancora arrivato e vorrei sapere quando arriva.", "requester": map[string]any{"email": fmt.Sprintf("c%d@example.com", i)},
				"team_id": k.teamID}).num("number"))
		}
		owner := func(n int64) int64 {
			r := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d", n), nil)
			if v, ok := r.JSON["assignee_id"].(float64); ok {
				return int64(v)
			}
			return 0
		}
		mine := func(id int64) (out []int64) {
			for _, n := range nums {
				if owner(n) == id {
					out = append(out, n)
				}
			}
			return out
		}
		agentHas := mine(ag)
		if len(agentHas) != 2 || len(mine(lead)) != 2 {
			t.Fatalf("round-robin over two online agents: agent %v, lead %v", agentHas, mine(lead))
		}
		// One of the agent's tickets waits on the customer: it stays theirs.
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", agentHas[0]), map[string]any{"status": "pending"})
		k.must(200, "agent", "PATCH", "/api/v1/me", map[string]any{"availability": "away"})
		if got := mine(ag); len(got) != 1 || got[0] != agentHas[0] {
			t.Fatalf("after going away the agent holds %v, want only the pending %d", got, agentHas[0])
		}
		if got := mine(lead); len(got) != 3 {
			t.Fatalf("the online lead took the open ticket: holds %v", got)
		}
		// Nobody online: the lead's tickets go to the unassigned queue …
		k.must(200, "lead", "PATCH", "/api/v1/me", map[string]any{"availability": "offline"})
		if got := mine(0); len(got) != 3 {
			t.Fatalf("with nobody online the tickets wait unassigned: %v", got)
		}
		// … and the agent back online is offered them.
		k.must(200, "agent", "PATCH", "/api/v1/me", map[string]any{"availability": "online"})
		if got := mine(ag); len(got) != 4 {
			t.Fatalf("back online, the agent holds %v, want all four", got)
		}
		h := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", nums[len(nums)-1]), nil)
		if !strings.Contains(h.String(), `"assignee`) {
			t.Fatalf("the moves are in the history: %s", h)
		}
		// A team that does not ask keeps its tickets with the away agent.
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"reassign_away": false})
		k.must(200, "lead", "PATCH", "/api/v1/me", map[string]any{"availability": "online"})
		before := len(mine(ag))
		k.must(200, "agent", "PATCH", "/api/v1/me", map[string]any{"availability": "away"})
		if got := mine(ag); len(got) != before {
			t.Fatalf("without reassign_away the away agent's tickets moved: %d → %d", before, len(got))
		}
	})
}

// Every customer message keeps the language it was written in; a ticket
// without a language takes the first one detected (recorded in its
// history), and one that has a language keeps it when the customer
// writes a line in another.
func TestEachMessageLanguage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		msgLang := func(r resp, i int) string {
			ms := r.JSON["messages"].([]any)
			l, _ := ms[i].(map[string]any)["language"].(string)
			return l
		}
		blank := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "#4471", "body": "12345 / 678",
			"requester": map[string]any{"email": "x@example.com"}, "team_id": k.teamID})
		n := blank.num("number")
		if l, _ := blank.JSON["language"].(string); l != "" {
			t.Fatalf("a message of numbers got the language %q", l)
		}
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", n), map[string]any{"kind": "customer",
			"body": "Hello, I still have not received my order and I would like to know when it will arrive."})
		got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", n), nil)
		if got.JSON["language"] != "en" || msgLang(got, 1) != "en" {
			t.Fatalf("the English reply set the ticket's language: ticket %v, message %q", got.JSON["language"], msgLang(got, 1))
		}
		if h := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", n), nil); !strings.Contains(h.String(), `"field":"language"`) {
			t.Errorf("the language is not in the history: %s", h)
		}
		if c := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/contacts/%d", got.num("requester_id")), nil); c.JSON["language"] != "en" {
			t.Errorf("the customer's unknown language was not learnt: %v", c.JSON["language"])
		}
		it := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Ordine in ritardo",
			"body": "Buongiorno, il mio ordine non è ancora arrivato e vorrei sapere quando arriverà.", "requester": map[string]any{"email": "y@example.com"}, "team_id": k.teamID})
		if it.JSON["language"] != "it" || msgLang(it, 0) != "it" {
			t.Fatalf("the Italian mail: ticket %v, message %q", it.JSON["language"], msgLang(it, 0))
		}
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", it.num("number")), map[string]any{"kind": "customer",
			"body": "Sorry, I am writing in English because my colleague will read this: please send the tracking number."})
		got = k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", it.num("number")), nil)
		if got.JSON["language"] != "it" || msgLang(got, 1) != "en" {
			t.Fatalf("an English line on an Italian case: ticket %v (want it), message %q (want en)", got.JSON["language"], msgLang(got, 1))
		}
		// The agent corrects it on the ticket's page; a bad code is named.
		b := signedIn(t, k, "agent")
		page := fmt.Sprintf("/tickets/%d", it.num("number"))
		if _, _, body := b.req("GET", page, nil, ""); !strings.Contains(body, `class="badge" lang="en"`) {
			t.Errorf("the English line is not marked on the Italian ticket's page")
		}
		if st, _, body := b.req("POST", page, url.Values{"language": {"en!"}, "was_language": {"it"}}, ""); st != 422 || !strings.Contains(body, `id="language-error"`) {
			t.Fatalf("a bad language code: %d %.1500s", st, body)
		}
		if st, _, _ := b.req("POST", page, url.Values{"language": {"en"}, "was_language": {"it"}}, ""); st != 303 {
			t.Fatalf("correcting the language: %d", st)
		}
		if got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", it.num("number")), nil); got.JSON["language"] != "en" {
			t.Fatalf("the corrected language: %v", got.JSON["language"])
		}
		// A language an admin adds to the help centre is detected from
		// then on.
		de := "Guten Tag, meine Bestellung ist noch nicht angekommen und ich möchte wissen, wann sie kommt."
		before := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Bestellung", "body": de,
			"requester": map[string]any{"email": "z@example.com"}, "team_id": k.teamID})
		if before.JSON["language"] == "de" {
			t.Fatalf("German detected before the desk serves it")
		}
		admin := signedIn(t, k, "admin")
		form := url.Values{"languages": {"it, en, de"}, "was_languages": {"it, en"}}
		for f, v := range map[string]string{"name": "Sportello", "accent": "#0b5cad", "portal_orgs": "", "delay_hours": "24"} {
			form[f], form["was_"+f] = []string{v}, []string{v}
		}
		if st, _, body := admin.req("POST", "/admin/help", form, ""); st != 303 {
			t.Fatalf("adding German to the help centre: %d %.1500s", st, body)
		}
		ger := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Bestellung", "body": de,
			"requester": map[string]any{"email": "z@example.com"}, "team_id": k.teamID})
		if ger.JSON["language"] != "de" {
			t.Fatalf("a German mail once German is served: %v", ger.JSON["language"])
		}
		// A page read before that correction does not undo it.
		if st, _, _ := b.req("POST", page, url.Values{"language": {"de"}, "was_language": {"it"}}, ""); st != 409 {
			t.Fatalf("a stale language change: %d, want 409", st)
		}
	})
}

// A routing rule comes before the assignment: a new ticket a rule sends
// to another team is assigned in that team, not left with an agent of the
// team it arrived in. A ticket no rule moves is assigned in its own team.
func TestRoutingRuleThenAssignment(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		lead, ag := k.agents["lead"].ID, k.agents["agent"].ID
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"assign_mode": "round_robin", "member_ids": []int64{lead}})
		billing := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Amministrazione", "tier": 1, "member_ids": []int64{ag}, "assign_mode": "round_robin"}).num("id")
		for _, id := range []int64{lead, ag} {
			k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", id), map[string]any{"availability": "online"})
		}
		k.must(201, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Fatture all'amministrazione", "active": true, "events": []string{"ticket_created"},
			"conditions": []map[string]any{{"field": "subject", "op": "contains", "value": "fattura"}},
			"actions":    []map[string]any{{"type": "set_team", "value": fmt.Sprint(billing)}}})
		n := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura di marzo sbagliata", "body": "L'IVA della fattura di marzo è sbagliata.",
			"requester": map[string]any{"email": "r@example.com"}, "team_id": k.teamID}).num("number")
		got := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d", n), nil)
		if got.num("team_id") != billing || got.num("assignee_id") != ag {
			t.Fatalf("routed ticket: team %d assignee %d, want team %d and its agent %d", got.num("team_id"), got.num("assignee_id"), billing, ag)
		}
		other := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Ordine in ritardo", "body": "Il mio ordine non è arrivato.",
			"requester": map[string]any{"email": "s@example.com"}, "team_id": k.teamID})
		if other.num("team_id") != k.teamID || k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d", other.num("number")), nil).num("assignee_id") != lead {
			t.Fatalf("a ticket no rule moves stays and is assigned in its team: %s", other)
		}
	})
}
