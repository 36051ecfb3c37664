package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// waitFor polls cond (every 50 ms, at most within) and fails with what.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); time.Since(start) < within; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited %s for %s", within, what)
}

// Issue 13 end to end, on both databases: a new Italian mail to the
// support mailbox is detected as Italian and assigned round-robin to the
// online Italian-speaking L1 agent under the cap (not the English-only
// one, not the one away), and acknowledged; at the SLA breach a rule
// escalates it to L2 with a note and notifies the lead; a macro fills the
// customer's name, the number and the deadline in Italian, and in English
// on an English ticket.
func TestAutomationEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2025-05-30 16:00") // a Friday
		m, s := sendingDesk(t, db, app.Options{Now: clk.Now, JobPoll: 100 * time.Millisecond})
		ctx := context.Background()
		cal := m.must(201, "admin", "POST", "/api/v1/calendars", map[string]any{
			"name": "Ufficio Roma", "timezone": "Europe/Rome",
			"week": map[string]string{"monday": "09:00-18:00", "tuesday": "09:00-18:00", "wednesday": "09:00-18:00", "thursday": "09:00-18:00", "friday": "09:00-18:00"},
		})
		m.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{
			"name": "Standard", "calendar_id": cal.num("id"),
			"targets": map[string]any{"normal": map[string]any{"first_reply": map[string]any{"minutes": 240, "business": true}}},
		})
		// L1: the lead (away), the Italian agent (online), Tom who speaks
		// only English (online). L2 above it.
		tom := m.must(201, "admin", "POST", "/api/v1/agents", map[string]any{"email": "tom@example.com", "name": "Tom Baker", "role": "agent", "language": "en"})
		m.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", tom.num("id")), map[string]any{"availability": "online", "skill_languages": []string{"en"}})
		m.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", m.agents["lead"].ID), map[string]any{"availability": "away"})
		l2agent := m.must(201, "admin", "POST", "/api/v1/agents", map[string]any{"email": "sara@example.com", "name": "Sara Conti", "role": "agent"})
		m.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/teams/%d", m.teamID), map[string]any{
			"assign_mode": "round_robin", "assign_cap": 2,
			"member_ids": []int64{m.agents["lead"].ID, m.agents["agent"].ID, tom.num("id")},
		})
		l2 := m.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Tecnico L2", "tier": 2, "member_ids": []int64{l2agent.num("id")}})
		rule := m.must(201, "admin", "POST", "/api/v1/rules", map[string]any{
			"name": "SLA violato: escalation", "active": true, "events": []string{"sla_breach"},
			"conditions": []map[string]any{{"field": "sla_metric", "op": "is", "value": "first_reply"}},
			"actions": []map[string]any{
				{"type": "escalate", "text": "Prima risposta scaduta."},
				{"type": "notify", "value": "lead", "text": "{{ticket.number}} scaduto, passato a L2"},
			},
		})
		macro := m.must(201, "lead", "POST", "/api/v1/macros", map[string]any{
			"name": "Presa in carico con scadenza", "kind": "acknowledgement", "shared": true,
			"variants": map[string]string{
				"it": "Ciao {{customer.first_name}}, abbiamo registrato la richiesta {{ticket.number}}: ti aggiorneremo entro {{sla.deadline}}.",
				"en": "Hi {{customer.first_name}}, we logged your request {{ticket.number}}: we will update you by {{sla.deadline}}.",
			},
		})

		mail := func(from, name, subject, body, id string) int64 {
			t.Helper()
			before := len(m.tickets(t))
			raw := fmt.Sprintf("From: %s <%s>\nTo: Supporto Bottega <supporto@bottega.example>\nSubject: %s\nMessage-ID: <%s>\nContent-Type: text/plain; charset=UTF-8\n\n%s\n", name, from, subject, id, body)
			if err := m.send(t, from, []string{"supporto@bottega.example"}, raw); err != nil {
				t.Fatal(err)
			}
			ts := m.tickets(t)
			if len(ts) != before+1 {
				t.Fatalf("%d tickets after the mail, want %d", len(ts), before+1)
			}
			return ts[len(ts)-1].ID
		}
		num := mail("marta.fontana@example.it", "Marta Fontana", "Ordine 4411 non arrivato",
			"Buongiorno, l'ordine 4411 non è ancora arrivato e il corriere non risponde. Potete verificare per favore?", "it-4411@example.it")
		tk := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", num), nil)
		if tk.JSON["language"] != "it" {
			t.Fatalf("language %v, want it", tk.JSON["language"])
		}
		if got := int64(tk.JSON["assignee_id"].(float64)); got != m.agents["agent"].ID {
			t.Fatalf("assigned to %d, want the online Italian agent %d (not Tom %d, not the lead away)", got, m.agents["agent"].ID, tom.num("id"))
		}
		c := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/contacts/%d", int64(tk.JSON["requester_id"].(float64))), nil)
		if c.JSON["language"] != "it" {
			t.Errorf("the new contact's language: %v, want it (learnt from the mail)", c.JSON["language"])
		}
		ack := s.waitTo("marta.fontana@example.it", 1, 20*time.Second)
		if !strings.Contains(ack.Text, fmt.Sprintf("#%d", num)) || !strings.Contains(ack.Text, "Ciao Marta") {
			t.Fatalf("acknowledgement:\n%s", ack.Text)
		}

		// The macro in the composer: Italian on this ticket.
		r := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/macros/%d", num, macro.num("id")), nil)
		if r.JSON["language"] != "it" || r.JSON["text"] != fmt.Sprintf("Ciao Marta, abbiamo registrato la richiesta #%d: ti aggiorneremo entro lunedì 2 giugno alle 11:00.", num) {
			t.Fatalf("Italian macro: %s", r)
		}
		// An English mail: English ticket, English macro, the deadline in
		// English.
		en := mail("john.smith@example.com", "John Smith", "Cannot log in to my account",
			"Hello, since yesterday I cannot log in to my account, the page says my password is wrong. Can you help me please?", "en-1@example.com")
		r = m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/macros/%d", en, macro.num("id")), nil)
		if r.JSON["language"] != "en" || !strings.HasPrefix(r.JSON["text"].(string), fmt.Sprintf("Hi John, we logged your request #%d: we will update you by Monday", en)) {
			t.Fatalf("English macro: %s", r)
		}
		et := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", en), nil)
		if got, _ := et.JSON["assignee_id"].(float64); int64(got) != tom.num("id") {
			t.Errorf("the English ticket went to %v, want Tom %d", got, tom.num("id"))
		}

		// Monday 11:01: first reply breached; the rule escalates to L2.
		clk.Set("2025-06-02 11:01")
		if _, err := m.d.SLA.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/tickets/%d", num)
		waitFor(t, 20*time.Second, "the escalation to L2", func() bool {
			x := m.do("admin", "GET", path, nil)
			v, ok := x.JSON["team_id"].(float64)
			return ok && int64(v) == l2.num("id")
		})
		after := m.must(200, "admin", "GET", path, nil)
		if after.JSON["assignee_id"] != nil {
			t.Errorf("escalated to L2 (assigned by hand) the ticket keeps assignee %v; it should wait in L2's queue", after.JSON["assignee_id"])
		}
		th := m.thread(t, num)
		note := false
		for _, msg := range th {
			if msg.Kind == "note" && strings.Contains(msg.BodyText, "Tecnico L2") && strings.Contains(msg.BodyText, "Prima risposta scaduta.") {
				note = true
			}
		}
		if !note {
			t.Errorf("no escalation note with the reason in the thread: %+v", th)
		}
		if n := countEvents(t, m.desk, num, "escalated"); n != 1 {
			t.Errorf("%d escalation events, want 1", n)
		}
		if n := countEvents(t, m.desk, num, "rule"); n != 1 {
			t.Errorf("%d rule events, want 1 (the rule named in the history)", n)
		}
		ns, err := m.d.Notices.List(ctx, m.agents["lead"].ID)
		if err != nil {
			t.Fatal(err)
		}
		told := false
		for _, n := range ns {
			if n.Kind == "rule" && strings.Contains(n.Detail, fmt.Sprintf("#%d scaduto", num)) {
				told = true
			}
		}
		if !told {
			t.Errorf("the lead was not notified: %+v", ns)
		}
		// The rule fired once: a second scan and a restart add nothing.
		if _, err := m.d.SLA.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := countEvents(t, m.desk, num, "escalated"); n != 1 {
			t.Errorf("%d escalation events after a second scan, want 1", n)
		}
		rs := m.must(200, "admin", "GET", "/api/v1/rules", nil)
		if f := rs.JSON["rules"].([]any)[0].(map[string]any)["fired"]; f != float64(2) || rule.num("id") == 0 {
			t.Errorf("the rule acted on %v tickets, want 2 (both breached)", f)
		}
	})
}
