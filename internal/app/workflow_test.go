package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/testdb"
)

// The foundation's promise, on each database: with an API token, create a
// ticket for a new requester, list it, reply, add a note, change status,
// priority, assignee and tags, and read a history naming each actor.
func TestTicketWorkflowOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		created := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{
			"subject": "La fattura di marzo è sbagliata", "body": "Buongiorno, la partita IVA in fattura non è la nostra.",
			"requester": map[string]any{"email": "Chiara.Greco@Example.it", "name": "Chiara Greco"},
			"channel":   "phone", "team_id": k.teamID, "tags": []string{"fatturazione"},
		})
		num := created.num("number")
		if num <= 0 || created.JSON["requester_created"] != true || created.JSON["status"] != "new" {
			t.Fatalf("created: %s", created)
		}
		if loc := created.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/tickets/%d", num) {
			t.Errorf("Location %q", loc)
		}
		path := fmt.Sprintf("/api/v1/tickets/%d", num)

		list := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets?team=%d&status=new", k.teamID), nil)
		if items := list.JSON["items"].([]any); len(items) != 1 || int64(items[0].(map[string]any)["number"].(float64)) != num {
			t.Fatalf("list: %s", list)
		}

		reply := k.must(201, "agent", "POST", path+"/messages", map[string]any{"kind": "reply", "body": "Buongiorno Chiara, grazie: correggo la fattura entro domani."})
		if tk := reply.JSON["ticket"].(map[string]any); tk["status"] != "open" || tk["first_reply_at"] == nil {
			t.Errorf("a first human reply opens the ticket and stamps first_reply_at: %v", tk)
		}
		k.must(201, "lead", "POST", path+"/messages", map[string]any{"kind": "note", "body": "Verificare con l'amministrazione."})

		upd := k.must(200, "lead", "PATCH", path, map[string]any{
			"status": "pending", "priority": "high", "assignee_id": k.agents["agent"].ID, "add_tags": []string{"VIP"},
		})
		if upd.JSON["status"] != "pending" || upd.JSON["priority"] != "high" || upd.num("assignee_id") != k.agents["agent"].ID {
			t.Fatalf("update: %s", upd)
		}
		if tags := fmt.Sprint(upd.JSON["tags"]); tags != "[fatturazione vip]" {
			t.Errorf("tags %s", tags)
		}

		got := k.must(200, "agent", "GET", path, nil)
		msgs := got.JSON["messages"].([]any)
		var kinds []string
		for _, m := range msgs {
			kinds = append(kinds, m.(map[string]any)["kind"].(string))
		}
		if !slices.Equal(kinds, []string{"customer", "reply", "note"}) {
			t.Errorf("thread kinds %v", kinds)
		}

		hist := k.must(200, "agent", "GET", path+"/history", nil)
		type change struct{ field, before, after, actor string }
		var changes []change
		for _, it := range hist.JSON["items"].([]any) {
			e := it.(map[string]any)
			changes = append(changes, change{e["field"].(string), e["before"].(string), e["after"].(string), e["actor_name"].(string)})
		}
		want := []change{
			{"status", "open", "pending", "Lead Person"},
			{"priority", "normal", "high", "Lead Person"},
			{"assignee", "", fmt.Sprint(k.agents["agent"].ID), "Lead Person"},
			{"tags", "fatturazione", "fatturazione,vip", "Lead Person"},
			{"status", "new", "open", "Agent Person"},
			{"created", "", "phone", "Agent Person"},
		}
		for _, w := range want {
			if !slices.Contains(changes, w) {
				t.Errorf("history lacks %+v; has %+v", w, changes)
			}
		}
		metrics := k.must(200, "anonymous", "GET", "/metrics", nil)
		if !strings.Contains(metrics.String(), `sportello_tickets_created_total{channel="phone"} 1`) ||
			!strings.Contains(metrics.String(), `sportello_http_requests_total{method="PATCH",route="PATCH /api/v1/tickets/{number}",status="200"} 1`) {
			t.Errorf("metrics do not count the ticket and the requests:\n%.2000s", metrics)
		}
		var notes int
		for _, c := range changes {
			if c.field == "message" && strings.HasPrefix(c.after, "note:") && c.actor == "Lead Person" {
				notes++
			}
		}
		if notes != 1 {
			t.Errorf("history should record the lead's note once: %+v", changes)
		}
	})
}

// Customer messages reopen, closed tickets spawn linked follow-ups, and a
// merge moves the thread and closes the source with a link.
func TestLifecycleReopenFollowUpMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		mk := func(email string) int64 {
			return k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Ordine in ritardo", "body": "Dov'è il mio ordine?",
				"requester": map[string]any{"email": email}}).num("number")
		}
		a := mk("anna@example.com")
		pa := fmt.Sprintf("/api/v1/tickets/%d", a)
		k.must(201, "admin", "POST", pa+"/messages", map[string]any{"kind": "reply", "body": "Risolto, ci conferma?", "status": "solved"})
		r := k.must(201, "admin", "POST", pa+"/messages", map[string]any{"kind": "customer", "body": "No, non è ancora arrivato."})
		if tk := r.JSON["ticket"].(map[string]any); tk["status"] != "open" || tk["reopen_count"].(float64) != 1 {
			t.Fatalf("reopen: %v", tk)
		}
		k.must(200, "admin", "PATCH", pa, map[string]any{"status": "solved"})
		k.must(200, "admin", "PATCH", pa, map[string]any{"status": "closed"})
		k.must(409, "admin", "PATCH", pa, map[string]any{"priority": "low"})
		k.must(409, "admin", "POST", pa+"/messages", map[string]any{"kind": "reply", "body": "x"})
		fu := k.must(201, "admin", "POST", pa+"/messages", map[string]any{"kind": "customer", "body": "Ancora io, stesso problema."})
		if fu.JSON["follow_up"] != true {
			t.Fatalf("follow-up: %s", fu)
		}
		newT := fu.JSON["ticket"].(map[string]any)
		if int64(newT["follow_up_of"].(float64)) != a || int64(newT["number"].(float64)) == a {
			t.Fatalf("follow-up ticket not linked: %v", newT)
		}

		src, dst := mk("bruno@example.com"), mk("carla@example.com")
		k.must(201, "admin", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", src), map[string]any{"kind": "note", "body": "duplicato"})
		k.must(422, "admin", "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", src), map[string]any{"into": src})
		if r := k.must(422, "admin", "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", src), map[string]any{"into": 999999}); problemField(r) != "into" {
			t.Errorf("merge into unknown ticket should name field into: %s", r)
		}
		m := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/tickets/%d/merge", src), map[string]any{"into": dst})
		if len(m.JSON["cc_ids"].([]any)) != 1 {
			t.Errorf("the source's requester should be copied on the target: %s", m)
		}
		s := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d", src), nil)
		if s.JSON["status"] != "closed" || int64(s.JSON["merged_into"].(float64)) != dst || len(s.JSON["messages"].([]any)) != 0 {
			t.Errorf("merged source: %s", s)
		}
		d := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d", dst), nil)
		if len(d.JSON["messages"].([]any)) != 3 {
			t.Errorf("target should hold both threads: %s", d)
		}
		for _, id := range []int64{src, dst} {
			h := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", id), nil)
			if !strings.Contains(h.String(), `"merged_`) {
				t.Errorf("history of %d lacks the merge: %s", id, h)
			}
		}
	})
}
