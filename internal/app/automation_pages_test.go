package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/webhook"
)

// The rules, reply scripts and webhooks pages do what the API does, with
// the same checks: a rule written on the form (rows, a wait in days, a
// bad row shown again with its error), switched, moved, tried on a
// ticket, changed over a stale copy (409) and deleted only when
// confirmed; a personal macro by an agent, a shared one refused to them;
// a webhook whose secret shows once and whose name a second create
// refuses.
func TestAutomationPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		admin, agentB := signedIn(t, k, "admin"), signedIn(t, k, "agent")
		num := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura sbagliata", "body": "La fattura di marzo ha l'IVA sbagliata.",
			"requester": map[string]any{"email": "rita@example.com", "name": "Rita Sanna"}, "team_id": k.teamID}).num("number")

		// A rule with a bad condition comes back with the row and its error.
		form := url.Values{"name": {"Fatture al team"}, "active": {"1"}, "trigger": {"events"}, "events": {"ticket_created", "customer_message"}, "match": {"all"},
			"cond_field": {"subject", "priority", ""}, "cond_op": {"contains", "bigger", "is"}, "cond_value": {"fattura", "normal", ""},
			"act_type": {"add_tags", "note", ""}, "act_value": {"fatture, amministrazione", "", ""}, "act_key": {"", "", ""},
			"act_text": {"", "Fattura: controlla l'IVA per {{customer.first_name}}.", ""}, "act_macro": {"0", "0", "0"}, "act_tell": {"0", "0", "0"}}
		st, _, body := admin.req("POST", "/admin/rules", form, "it")
		if st != 422 || !strings.Contains(body, `id="c-err-1"`) || !strings.Contains(body, "Per «priorità» i confronti possibili sono: è, non è") || !strings.Contains(body, `value="fattura"`) {
			t.Fatalf("bad condition: %d, want 422 with the row's error and the rows kept: %.3000s", st, body)
		}
		form["cond_op"] = []string{"contains", "is", "is"}
		if st, h, body := admin.req("POST", "/admin/rules", form, "it"); st != 303 || !strings.HasPrefix(h.Get("Location"), "/admin/rules") {
			t.Fatalf("good rule: %d %.2000s", st, body)
		}
		rules := k.must(200, "admin", "GET", "/api/v1/rules", nil).JSON["rules"].([]any)
		var id int64
		for _, r := range rules {
			r := r.(map[string]any)
			if r["name"] == "Fatture al team" {
				id = int64(r["id"].(float64))
				if c := r["conditions"].([]any); len(c) != 2 || c[1].(map[string]any)["value"] != "normal" {
					t.Fatalf("conditions saved: %v", c)
				}
				if a := r["actions"].([]any); len(a) != 2 || len(a[0].(map[string]any)["values"].([]any)) != 2 || r["active"] != true {
					t.Fatalf("actions saved: %v", r)
				}
			}
		}
		if id == 0 {
			t.Fatalf("the rule is not listed: %v", rules)
		}
		// The same form again (Back, a double click) makes no copy.
		if st, _, body := admin.req("POST", "/admin/rules", form, "it"); st != 409 && st != 422 {
			t.Fatalf("a second create: %d, want a refusal naming the name: %.500s", st, body)
		}

		// A wait in days on a time rule reads back the same.
		timed := url.Values{"name": {"Sollecito lento"}, "active": {"0"}, "trigger": {"time"}, "minutes": {"2d 4h"}, "since": {"updated"}, "calendar_id": {"0"},
			"match": {"all"}, "cond_field": {"status"}, "cond_op": {"is"}, "cond_value": {"pending"},
			"act_type": {"set_status"}, "act_value": {"solved"}, "act_key": {""}, "act_text": {""}, "act_macro": {"0"}, "act_tell": {"0"}}
		if st, _, body := admin.req("POST", "/admin/rules", timed, "en"); st != 303 {
			t.Fatalf("time rule: %d %.2000s", st, body)
		}
		if st, _, body := admin.req("GET", "/admin/rules", nil, "en"); st != 200 || !strings.Contains(body, "2d 4h dopo l&#39;ultimo aggiornamento") {
			t.Fatalf("the list shows the wait: %d %.3000s", st, body)
		}
		timed["minutes"] = []string{"presto"}
		if st, _, body := admin.req("POST", "/admin/rules", timed, "en"); st != 422 || !strings.Contains(body, "Fuori dall&#39;intervallo ammesso") {
			t.Fatalf("an unreadable wait: %d %.2000s", st, body)
		}

		// The dry run says in Italian why the rule fires on the ticket.
		_, _, body = admin.req("GET", fmt.Sprintf("/admin/rules?ticket=%d&event=ticket_created", num), nil, "it")
		if !strings.Contains(body, "scatterebbe") || !strings.Contains(body, "tutte le condizioni sono vere") {
			t.Fatalf("dry run: %s", body[strings.Index(body, "dry-run"):])
		}
		_, _, body = admin.req("GET", fmt.Sprintf("/admin/rules?ticket=%d&event=note", num), nil, "it")
		if !strings.Contains(body, "non ascolta l&#39;evento «nota interna»") {
			t.Fatalf("dry run for another event: %.4000s", body)
		}
		if st, _, _ := admin.req("GET", "/admin/rules?ticket=abc", nil, "it"); st != 422 {
			t.Fatalf("dry run on a bad number: %d", st)
		}

		// Switched off with the button that says "off"; sent twice, it
		// stays off.
		for range 2 {
			if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/rules/%d/toggle", id), url.Values{"active": {"0"}}, "it"); st != 303 {
				t.Fatalf("switch off: %d", st)
			}
		}
		if r := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/rules/%d", id), nil); r.JSON["active"] != false {
			t.Fatalf("switched off twice: %v", r.JSON["active"])
		}
		// Moved up: it comes before the rule that was above it.
		before := ruleOrder(k)
		if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/rules/%d/move", id), url.Values{"dir": {"up"}}, "it"); st != 303 {
			t.Fatalf("move: %d", st)
		}
		after := ruleOrder(k)
		if i := indexOf(after, id); i < 0 || indexOf(before, id)-1 != i {
			t.Fatalf("move up: %v → %v", before, after)
		}

		// An editor read before a colleague's change cannot undo it.
		_, _, page := admin.req("GET", fmt.Sprintf("/admin/rules/%d", id), nil, "it")
		was := between(page, `name="was_updated" value="`, `"`)
		k.must(200, "admin", "PUT", fmt.Sprintf("/api/v1/rules/%d", id), map[string]any{"name": "Fatture: amministrazione"})
		form["was_updated"] = []string{was}
		if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/rules/%d", id), form, "it"); st != 409 {
			t.Fatalf("save over a stale copy: %d, want 409", st)
		}
		if r := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/rules/%d", id), nil); r.JSON["name"] != "Fatture: amministrazione" {
			t.Fatalf("the colleague's change was undone: %v", r.JSON["name"])
		}

		// Delete asks first, then deletes.
		st, _, body = admin.req("POST", fmt.Sprintf("/admin/rules/%d/delete", id), url.Values{}, "it")
		if st != 200 || !strings.Contains(body, "Eliminare la regola") {
			t.Fatalf("delete asks first: %d %.1500s", st, body)
		}
		k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/rules/%d", id), nil)
		if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/rules/%d/delete", id), url.Values{"confirm": {"1"}}, "it"); st != 303 {
			t.Fatalf("delete confirmed: %d", st)
		}
		k.must(404, "admin", "GET", fmt.Sprintf("/api/v1/rules/%d", id), nil)

		// Macros: an agent writes a personal one; an unknown placeholder is
		// named under its language; a shared one is not theirs to write.
		mf := url.Values{"name": {"Grazie"}, "kind": {"closure"}, "variant_lang": {"it", "en"},
			"variant_text": {"Grazie {{cliente}}!", "Thanks {{customer.first_name}}!"}, "set_status": {"solved"}}
		st, _, body = agentB.req("POST", "/macros", mf, "it")
		if st != 422 || !strings.Contains(body, `id="m-v-it-error"`) || !strings.Contains(body, "Segnaposto sconosciuto {{cliente}}") {
			t.Fatalf("unknown placeholder: %d %.3000s", st, body)
		}
		mf["variant_text"] = []string{"Grazie {{customer.first_name}}!", "Thanks {{customer.first_name}}!"}
		mf["shared"] = []string{"1"}
		if st, _, body := agentB.req("POST", "/macros", mf, "it"); st != 422 {
			t.Fatalf("an agent's shared macro: %d, want 422: %.1500s", st, body)
		}
		delete(mf, "shared")
		if st, _, body := agentB.req("POST", "/macros", mf, "it"); st != 303 {
			t.Fatalf("personal macro: %d %.1500s", st, body)
		}
		_, _, body = agentB.req("GET", "/macros", nil, "en")
		if !strings.Contains(body, "Grazie") || !strings.Contains(body, "solo per me") {
			t.Fatalf("the agent's list: %.3000s", body)
		}
		if _, _, body := admin.req("GET", "/macros", nil, "en"); strings.Contains(body, ">Grazie<") {
			t.Fatalf("another agent's personal macro is listed to the admin")
		}

		// Webhooks: a private address is refused, naming the URL; the
		// secret shows once; the same create again is refused.
		wf := url.Values{"name": {"CRM"}, "url": {"http://127.0.0.1:9/hook"}, "events": {"ticket_created"}, "active": {"1"}}
		st, _, body = admin.req("POST", "/admin/webhooks", wf, "en")
		if st != 422 || !strings.Contains(body, `id="w-url-error"`) || !strings.Contains(body, "rete privata") {
			t.Fatalf("private webhook: %d %.2000s", st, body)
		}
		wf["url"] = []string{"https://crm.example.com/hook"}
		st, _, body = admin.req("POST", "/admin/webhooks", wf, "en")
		if st != 200 || !strings.Contains(body, "data-secret") {
			t.Fatalf("webhook created: %d %.2000s", st, body)
		}
		hid := between(body, `action="/admin/webhooks/`, `"`)
		if _, _, page := admin.req("GET", "/admin/webhooks/"+hid, nil, "en"); strings.Contains(page, "data-secret") {
			t.Fatalf("the secret shows again")
		}
		if st, _, _ := admin.req("POST", "/admin/webhooks", wf, "en"); st != 409 && st != 422 {
			t.Fatalf("a second create: %d", st)
		}
		if st, _, _ := agentB.req("GET", "/admin/webhooks", nil, "en"); st != 403 {
			t.Fatalf("an agent on the webhooks page: %d", st)
		}

		// "Send a test": a signed ping now, its answer on the page and in
		// the log; a receiver that is not there is a failed delivery, not
		// an error page.
		var secret string
		var pings atomic.Int64
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if webhook.Verify(secret, r.Header.Get("X-Sportello-Signature"), body, time.Now(), 5*time.Minute) != nil || !strings.Contains(string(body), `"event":"ping"`) {
				w.WriteHeader(401)
				return
			}
			pings.Add(1)
			w.WriteHeader(204)
		}))
		defer recv.Close()
		ping := k.must(201, "admin", "POST", "/api/v1/webhooks", map[string]any{"name": "Prova", "url": recv.URL + "/hook", "events": []string{"ticket_created"}, "allow_private": true})
		secret = ping.JSON["secret"].(string)
		st, _, body = admin.req("POST", fmt.Sprintf("/admin/webhooks/%d/test", ping.num("id")), url.Values{}, "it")
		if st != 200 || !strings.Contains(body, "data-ping") || !strings.Contains(body, "204") || pings.Load() != 1 {
			t.Fatalf("test delivery: %d, %d pings heard: %.3000s", st, pings.Load(), body)
		}
		if ds := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", ping.num("id")), nil); !strings.Contains(ds.String(), `"event":"ping"`) {
			t.Fatalf("the test is not in the log: %s", ds)
		}
		recv.Close()
		if got := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/webhooks/%d/test", ping.num("id")), nil); got.JSON["ok"] != false || got.JSON["error"] == "" {
			t.Fatalf("a test to a receiver that is gone: %s", got)
		}
		k.must(403, "lead", "POST", fmt.Sprintf("/api/v1/webhooks/%d/test", ping.num("id")), nil)
	})
}

func ruleOrder(k *desk) []int64 {
	var out []int64
	for _, r := range k.must(200, "admin", "GET", "/api/v1/rules", nil).JSON["rules"].([]any) {
		out = append(out, int64(r.(map[string]any)["id"].(float64)))
	}
	return out
}

func indexOf(xs []int64, x int64) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// between is the text of s after the first from, up to to.
func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}
