package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/testdb"
)

// Bad input never crashes and never half-writes; each answer names the
// field and the rule.
func TestBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		num := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Prova", "body": "Testo",
			"requester": map[string]any{"email": "p@example.com"}}).num("number")
		tp := fmt.Sprintf("/api/v1/tickets/%d", num)
		big := `{"subject":"` + strings.Repeat("x", 2<<20) + `"}`
		hugeUpload := `{"kind":"note","body":"` + strings.Repeat("x", 36<<20) + `"}`
		cases := []struct {
			name, role, method, path string
			body                     any
			status                   int
			field, rule              string
		}{
			{"malformed JSON", "admin", "POST", "/api/v1/tickets", `{"subject": "x",`, 400, "", ""},
			{"not an object", "admin", "PATCH", tp, `[1,2]`, 400, "", ""},
			{"two objects", "admin", "PATCH", tp, `{} {}`, 400, "", ""},
			{"wrong type", "admin", "PATCH", tp, `{"subject": 5}`, 400, "subject", "type"},
			{"unknown field", "admin", "PATCH", tp, `{"stato": "open"}`, 400, "stato", "unknown_field"},
			{"empty body", "admin", "POST", "/api/v1/tickets", ``, 400, "", ""},
			{"unknown status", "admin", "PATCH", tp, map[string]any{"status": "archived"}, 422, "status", "enum"},
			{"bad transition", "admin", "PATCH", tp, map[string]any{"status": "closed"}, 422, "status", "transition"},
			{"unknown priority", "admin", "PATCH", tp, map[string]any{"priority": "asap"}, 422, "priority", "enum"},
			{"empty subject", "admin", "PATCH", tp, map[string]any{"subject": "  "}, 422, "subject", "required"},
			{"unknown team", "admin", "PATCH", tp, map[string]any{"team_id": 424242}, 422, "team_id", "exists"},
			{"unknown assignee", "admin", "PATCH", tp, map[string]any{"assignee_id": 424242}, 422, "assignee_id", "exists"},
			{"agent assigns someone else", "agent", "PATCH", tp, map[string]any{"assignee_id": k.agents["lead"].ID}, 422, "assignee_id", "permission"},
			{"bad tag", "admin", "PATCH", tp, map[string]any{"add_tags": []string{"<script>"}}, 422, "tags", "tag"},
			{"unknown custom field", "admin", "PATCH", tp, map[string]any{"custom_fields": map[string]any{"nope": 1}}, 422, "custom_fields.nope", "unknown_field"},
			{"bad requester email", "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "body": "y", "requester": map[string]any{"email": "not-an-email"}}, 422, "requester.email", "email"},
			{"missing body", "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "requester": map[string]any{"email": "a@example.com"}}, 422, "body", "required"},
			{"bad channel", "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "body": "y", "channel": "fax", "requester": map[string]any{"email": "a@example.com"}}, 422, "channel", "enum"},
			{"bad message kind", "admin", "POST", tp + "/messages", map[string]any{"kind": "event", "body": "x"}, 422, "kind", "enum"},
			{"bad base64", "admin", "POST", tp + "/messages", map[string]any{"kind": "note", "body": "x", "attachments": []any{map[string]any{"filename": "a.txt", "content_base64": "%%%"}}}, 422, "attachments[0].content_base64", "base64"},
			{"bad list sort", "admin", "GET", "/api/v1/tickets?sort=random", nil, 422, "sort", "enum"},
			{"bad list status", "admin", "GET", "/api/v1/tickets?status=lost", nil, 422, "status", "enum"},
			{"page size over max", "admin", "GET", "/api/v1/tickets?per_page=1000", nil, 422, "per_page", "range"},
			{"bad agent role", "admin", "POST", "/api/v1/agents", map[string]any{"email": "n@example.com", "name": "N", "role": "boss"}, 422, "role", "enum"},
			{"bad time zone", "admin", "POST", "/api/v1/agents", map[string]any{"email": "n@example.com", "name": "N", "role": "agent", "timezone": "Mars/Olympus"}, 422, "timezone", "iana_zone"},
			{"duplicate agent email", "admin", "POST", "/api/v1/agents", map[string]any{"email": "lead@example.com", "name": "N", "role": "agent"}, 409, "email", "unique"},
			{"bad domain", "admin", "POST", "/api/v1/organisations", map[string]any{"name": "X", "domains": []string{"not a domain"}}, 422, "domains", "domain"},
			{"select without options", "admin", "POST", "/api/v1/fields", map[string]any{"key": "prodotto", "label": "Prodotto", "type": "select"}, 422, "options", "required"},
			{"body over the limit", "admin", "PATCH", tp, big, 413, "", ""},
			{"upload over the limit", "admin", "POST", tp + "/messages", hugeUpload, 413, "", ""},
			{"unknown ticket", "admin", "GET", "/api/v1/tickets/999999", nil, 404, "", ""},
			{"ticket number not a number", "admin", "GET", "/api/v1/tickets/abc", nil, 404, "", ""},
			{"unknown API path", "admin", "GET", "/api/v1/nothing", nil, 404, "", ""},
			{"missing token", "anonymous", "GET", "/api/v1/tickets", nil, 401, "", ""},
			{"agent calls admin route", "agent", "POST", "/api/v1/agents", map[string]any{"email": "n@example.com", "name": "N", "role": "agent"}, 403, "", ""},
			{"lead calls admin route", "lead", "DELETE", fmt.Sprintf("/api/v1/teams/%d", k.teamID), nil, 403, "", ""},
			// Issue 9, defect 7: NUL and invalid UTF-8 anywhere, named.
			{"NUL in a subject", "admin", "PATCH", tp, `{"subject": "a\u0000b"}`, 422, "subject", "utf8"},
			{"NUL in a requester name", "admin", "POST", "/api/v1/tickets", `{"subject":"x","body":"y","requester":{"email":"a@example.com","name":"Ma\u0000rio"}}`, 422, "requester.name", "utf8"},
			{"NUL in a custom field key", "admin", "PATCH", tp, `{"custom_fields": {"a\u0000": 1}}`, 422, "custom_fields.a\x00", "utf8"},
			{"invalid UTF-8 in a body", "admin", "POST", tp + "/messages", []byte("{\"kind\":\"note\",\"body\":\"caf\xe9\"}"), 422, "body", "utf8"},
			{"NUL in a search", "admin", "GET", "/api/v1/tickets?q=a%00b", nil, 422, "q", "utf8"},
			{"invalid UTF-8 in a contact search", "admin", "GET", "/api/v1/contacts?q=%C3%28", nil, 422, "q", "utf8"},
			{"a status repeated thousands of times", "admin", "GET", "/api/v1/tickets?" + strings.Repeat("status=open&", 5000), nil, 422, "status", "max_items"},
			{"unknown author contact", "admin", "POST", tp + "/messages", map[string]any{"kind": "customer", "body": "x", "author_contact_id": 987654}, 422, "author_contact_id", "exists"},
			{"last admin demotes self", "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", k.agents["admin"].ID), map[string]any{"role": "agent"}, 409, "role", "last_admin"},
		}
		for _, c := range cases {
			r := k.do(c.role, c.method, c.path, c.body)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d: %.300s", c.name, r.Status, c.status, r)
				continue
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q", c.name, ct)
			}
			if r.JSON["status"] != float64(c.status) || r.JSON["title"] == "" {
				t.Errorf("%s: not a problem document: %.300s", c.name, r)
			}
			if c.field != "" {
				errs, _ := r.JSON["errors"].([]any)
				if len(errs) == 0 {
					t.Errorf("%s: no field named: %s", c.name, r)
					continue
				}
				e := errs[0].(map[string]any)
				if e["field"] != c.field || e["rule"] != c.rule {
					t.Errorf("%s: field %v rule %v, want %s %s", c.name, e["field"], e["rule"], c.field, c.rule)
				}
			}
		}
		// A repeated status asks for it once: each ticket comes once.
		if l := k.must(200, "admin", "GET", "/api/v1/tickets?status=new,new,new,open,new", nil); len(l.JSON["items"].([]any)) != 1 {
			t.Errorf("status=new,new,… listed %d tickets, want 1: %s", len(l.JSON["items"].([]any)), l)
		}
		b := signedIn(t, k, "admin")
		if st, _, page := b.req("GET", "/search?"+strings.Repeat("status=new&", 60), nil, ""); st != 200 || strings.Count(page, fmt.Sprintf(`href="/tickets/%d"`, num)) != 1 {
			t.Errorf("search with a repeated status: %d, ticket listed %d times", st, strings.Count(page, fmt.Sprintf(`href="/tickets/%d"`, num)))
		}
		for _, path := range []string{"/search?q=a%00b", "/contacts?q=%C3%28", "/search?" + strings.Repeat("status=new&", 500)} {
			if st, _, _ := b.req("GET", path, nil, ""); st != 422 {
				t.Errorf("GET %.60s: %d, want 422", path, st)
			}
		}
		if st, _, _ := b.req("POST", "/tickets/new", url.Values{"email": {"x@example.com"}, "subject": {"a\x00b"}, "body": {"x"}, "channel": {"phone"}, "priority": {"normal"}}, ""); st != 422 {
			t.Errorf("a form with a NUL: %d, want 422", st)
		}

		// A wrong token is refused like a missing one.
		k.token["intruder"] = "spt_" + strings.Repeat("A", 43)
		k.must(401, "intruder", "GET", "/api/v1/tickets", nil)
		k.token["intruder"] = "not-even-a-token"
		k.must(401, "intruder", "GET", "/api/v1/tickets", nil)

		// Nothing of the refused changes was written.
		got := k.must(200, "admin", "GET", tp, nil)
		if got.JSON["status"] != "new" || got.JSON["subject"] != "Prova" || len(got.JSON["tags"].([]any)) != 0 || len(got.JSON["messages"].([]any)) != 1 {
			t.Errorf("refused changes left traces: %s", got)
		}
		h := k.must(200, "admin", "GET", tp+"/history", nil)
		if n := len(h.JSON["items"].([]any)); n != 2 {
			t.Errorf("history grew to %d events after refused changes: %s", n, h)
		}
		list := k.must(200, "admin", "GET", "/api/v1/agents", nil)
		if n := len(list.JSON["items"].([]any)); n != 3 {
			t.Errorf("refused agent creations left %d agents", n)
		}
	})
}
