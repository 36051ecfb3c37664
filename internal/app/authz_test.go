package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/web"
)

var rank = map[string]int{"anonymous": 0, "agent": 1, "lead": 2, "admin": 3}

// Every route × every role: anonymous callers get 401 on every protected
// route, roles below the route's permission get 403, and the roles allowed
// get through (whatever the route then answers, it is not 401 or 403).
func TestEveryRouteEveryRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		contact, org, field := routeObjects(k)
		tk := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "s", "body": "b", "requester": map[string]any{"id": contact},
			"team_id": k.teamID, "attachments": []any{map[string]any{"filename": "nota.txt", "content_base64": "Y2lhbw=="}}})
		ticketNum := tk.num("number")
		att := int64(tk.JSON["messages"].([]any)[0].(map[string]any)["attachments"].([]any)[0].(map[string]any)["id"].(float64))

		// Deletions get a fresh victim each time.
		fresh := map[string]func() int64{
			"/api/v1/organisations/{id}": func() int64 {
				return k.must(201, "admin", "POST", "/api/v1/organisations", map[string]any{"name": fmt.Sprint("Org ", time.Now().UnixNano())}).num("id")
			},
			"/api/v1/teams/{id}": func() int64 {
				return k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": fmt.Sprint("Team ", time.Now().UnixNano())}).num("id")
			},
			"/api/v1/tags/{id}": func() int64 {
				return k.must(201, "admin", "POST", "/api/v1/tags", map[string]any{"name": fmt.Sprint("t", time.Now().UnixNano())}).num("id")
			},
		}
		ids := map[string]int64{
			"/api/v1/tickets/{number}": ticketNum, "/api/v1/attachments/{id}": att, "/api/v1/contacts/{id}": contact,
			"/api/v1/organisations/{id}": org, "/api/v1/agents/{id}": k.agents["agent"].ID, "/api/v1/teams/{id}": k.teamID, "/api/v1/fields/{id}": field,
		}
		bodies := map[string]any{
			"POST /api/v1/auth/login":                map[string]any{"email": "agent@example.com", "password": "password-agent"},
			"PATCH /api/v1/me":                       map[string]any{"availability": "online"},
			"PUT /api/v1/me/password":                map[string]any{"current_password": "x", "new_password": "y"},
			"POST /api/v1/tickets":                   map[string]any{"subject": "s", "body": "b", "requester": map[string]any{"id": contact}, "team_id": k.teamID},
			"PATCH /api/v1/tickets/{number}":         map[string]any{"priority": "high"},
			"POST /api/v1/tickets/{number}/messages": map[string]any{"kind": "note", "body": "nota"},
			"POST /api/v1/tickets/{number}/merge":    map[string]any{"into": 999999},
			"POST /api/v1/contacts":                  map[string]any{"name": "Nuovo"},
			"PATCH /api/v1/contacts/{id}":            map[string]any{"notes": "n"},
			"POST /api/v1/organisations":             map[string]any{"name": "x"},
			"PATCH /api/v1/organisations/{id}":       map[string]any{"notes": "n"},
			"POST /api/v1/agents":                    map[string]any{"email": "x", "name": "x", "role": "agent"},
			"PATCH /api/v1/agents/{id}":              map[string]any{"availability": "away"},
			"POST /api/v1/teams":                     map[string]any{"name": ""},
			"PATCH /api/v1/teams/{id}":               map[string]any{"tier": 1},
			"POST /api/v1/tags":                      map[string]any{"name": ""},
			"POST /api/v1/fields":                    map[string]any{"key": ""},
			"PATCH /api/v1/fields/{id}":              map[string]any{"label": "Prodotto"},
			"POST /api/v1/tokens":                    map[string]any{"name": ""},
		}
		var routes []api.Route
		routes = append(routes, api.Routes()...)
		for _, r := range app.Routes() {
			act := httpx.SelfUse
			if r.Public {
				act = httpx.PublicPage
			}
			routes = append(routes, api.Route{Method: r.Method, Path: r.Path, Action: act})
		}
		walked := 0
		for _, rt := range routes {
			for _, role := range roles {
				path := rt.Path
				for pattern, id := range ids {
					if strings.HasPrefix(rt.Path, pattern) {
						if mk, ok := fresh[pattern]; ok && rt.Method == http.MethodDelete {
							id = mk()
						}
						path = strings.Replace(path, pattern[strings.LastIndex(pattern, "/"):], fmt.Sprintf("/%d", id), 1)
					}
				}
				if strings.Contains(path, "{") { // routes with ids not listed above (tags, tokens)
					if mk, ok := fresh[rt.Path]; ok {
						path = strings.Replace(rt.Path, "{id}", fmt.Sprint(mk()), 1)
					} else {
						path = strings.Replace(rt.Path, "{id}", "999999", 1)
					}
				}
				var body any
				if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
					body = bodies[rt.Method+" "+rt.Path]
					if body == nil {
						body = map[string]any{}
					}
				}
				r := k.do(role, rt.Method, path, body)
				walked++
				need := int(rt.Perm())
				switch {
				case rt.Perm() == api.Public:
					if r.Status == 401 || r.Status == 403 || r.Status >= 500 {
						t.Errorf("%s %s as %s: public route answered %d: %.200s", rt.Method, path, role, r.Status, r)
					}
				case role == "anonymous":
					if r.Status != 401 {
						t.Errorf("%s %s anonymous: %d, want 401", rt.Method, path, r.Status)
					}
				case rank[role] < need:
					if r.Status != 403 {
						t.Errorf("%s %s as %s (route needs %s): %d, want 403", rt.Method, path, role, rt.Perm(), r.Status)
					}
				default:
					if r.Status == 401 || r.Status == 403 || r.Status >= 500 {
						t.Errorf("%s %s as %s (route needs %s): %d: %.200s", rt.Method, path, role, rt.Perm(), r.Status, r)
					}
				}
			}
		}
		// The workspace: visitors are sent to the sign-in page; signed-in
		// roles that may use a page get it.
		for _, rt := range web.Routes() {
			for _, role := range roles {
				path := strings.Replace(strings.Replace(rt.Path, "{$}", "", 1), "{file}", "missing.css", 1)
				var r resp
				if rt.Method == "POST" {
					r = k.do(role, rt.Method, path, "")
				} else {
					r = k.do(role, rt.Method, path, nil)
				}
				walked++
				// Bearer tokens are not workspace sessions: every role
				// here is a visitor to the pages.
				switch {
				case rt.Perm() == httpx.Public:
					if r.Status == 401 || r.Status == 403 || r.Status >= 500 {
						t.Errorf("%s %s as %s: public page answered %d", rt.Method, path, role, r.Status)
					}
				default:
					if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
						t.Errorf("%s %s without a session: %d → %q, want 303 to /login", rt.Method, path, r.Status, r.Header.Get("Location"))
					}
				}
			}
		}
		if walked != (len(routes)+len(web.Routes()))*len(roles) {
			t.Fatalf("walked %d of %d route×role pairs", walked, len(routes)*len(roles))
		}
		// The permissions themselves are pinned here, so that a route
		// loosened in the table by mistake fails this test.
		pinned := map[string]api.Perm{
			"POST /api/v1/agents": api.Admin, "PATCH /api/v1/agents/{id}": api.Admin, "POST /api/v1/agents/{id}/password": api.Admin,
			"POST /api/v1/teams": api.Admin, "DELETE /api/v1/teams/{id}": api.Admin, "PATCH /api/v1/teams/{id}": api.Lead,
			"POST /api/v1/fields": api.Admin, "PATCH /api/v1/fields/{id}": api.Admin, "DELETE /api/v1/tags/{id}": api.Admin,
			"DELETE /api/v1/organisations/{id}": api.Admin, "POST /api/v1/tags": api.Admin, "POST /api/v1/contacts/{id}/merge": api.Lead,
			"POST /api/v1/organisations": api.Lead, "PATCH /api/v1/organisations/{id}": api.Lead,
		}
		for _, rt := range api.Routes() {
			if want, ok := pinned[rt.Method+" "+rt.Path]; ok && rt.Perm() != want {
				t.Errorf("%s %s declares %s, want %s", rt.Method, rt.Path, rt.Perm(), want)
			}
			// The inline-image route is public by design: its signed link is
			// the permission (TestInlineImages refuses a tampered one).
			if rt.Perm() == api.Public && rt.Path != "/api/v1/openapi.json" && rt.Path != "/api/v1/auth/login" && rt.Path != "/api/v1/inline/{id}" {
				t.Errorf("%s %s is public", rt.Method, rt.Path)
			}
			if !rt.Action.Declared() {
				t.Errorf("%s %s names the undeclared action %q", rt.Method, rt.Path, rt.Action)
			}
		}
		for _, rt := range web.Routes() {
			if !rt.Action.Declared() {
				t.Errorf("page %s %s names the undeclared action %q", rt.Method, rt.Path, rt.Action)
			}
		}
	})
}

// Row-level rules on top of the route permissions.
func TestRowLevelAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		other := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Tecnico L2", "tier": 2}).num("id")
		hidden := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "s", "body": "b",
			"requester": map[string]any{"email": "x@example.com"}, "team_id": other}).num("number")
		p := fmt.Sprintf("/api/v1/tickets/%d", hidden)
		k.must(404, "agent", "GET", p, nil)
		k.must(404, "agent", "PATCH", p, map[string]any{"priority": "low"})
		k.must(404, "agent", "POST", p+"/messages", map[string]any{"kind": "note", "body": "x"})
		k.must(404, "lead", "GET", p+"/history", nil)
		k.must(200, "admin", "GET", p, nil)
		l := k.must(200, "agent", "GET", "/api/v1/tickets", nil)
		if strings.Contains(l.String(), fmt.Sprintf(`"number":%d,`, hidden)) {
			t.Errorf("list shows another team's ticket to an agent")
		}
		// A lead manages their own team, not another.
		k.must(200, "lead", "PATCH", fmt.Sprintf("/api/v1/teams/%d", k.teamID), map[string]any{"topics": []string{"ordini"}})
		k.must(403, "lead", "PATCH", fmt.Sprintf("/api/v1/teams/%d", other), map[string]any{"tier": 3})
		// Assigned to the agent, the ticket becomes visible to them.
		k.must(200, "admin", "PATCH", p, map[string]any{"assignee_id": k.agents["agent"].ID})
		k.must(200, "agent", "GET", p, nil)
	})
}

// Issue 9, defect 8: the workspace walked with a real session for every
// role: a page above the role answers 403, a page within it never 401,
// 403 or 500. With the API walk above, one permission per action holds on
// both surfaces (organisations: leads; tag catalogue: admins).
func TestEveryPageEveryRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		contact, org, field := routeObjects(k)
		num := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "s", "body": "b", "requester": map[string]any{"id": contact}, "team_id": k.teamID}).num("number")
		victim := k.must(201, "admin", "POST", "/api/v1/agents", map[string]any{"email": "vittima@example.com", "name": "Vittima", "role": "agent"}).num("id")
		spare := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Di scorta", "tier": 1, "member_ids": []int64{k.agents["lead"].ID}}).num("id")
		// Automation: a rule and a webhook (admins'), and the agent's own
		// macro (theirs to change; another's personal macro is a 404).
		rule := k.must(201, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Percorso", "events": []string{"ticket_created"},
			"actions": []map[string]any{{"type": "set_priority", "value": "high"}}}).num("id")
		hook := k.must(201, "admin", "POST", "/api/v1/webhooks", map[string]any{"name": "Percorso", "url": "http://127.0.0.1:9/hook", "events": []string{"ticket_created"}, "allow_private": true}).num("id") // the test button's ping: refused at once, on this machine
		macro := k.must(201, "agent", "POST", "/api/v1/macros", map[string]any{"name": "Percorso", "variants": map[string]string{"it": "Ciao"}}).num("id")
		ids := []struct{ prefix, id string }{
			{"/admin/rules/{id}", fmt.Sprint(rule)}, {"/admin/webhooks/{id}", fmt.Sprint(hook)}, {"/macros/{id}", fmt.Sprint(macro)},
			{"/tickets/{number}", fmt.Sprint(num)}, {"/contacts/{id}", fmt.Sprint(contact)}, {"/organisations/{id}", fmt.Sprint(org)},
			{"/admin/fields/{id}", fmt.Sprint(field)}, {"/admin/agents/{id}", fmt.Sprint(victim)}, {"/admin/teams/{id}", fmt.Sprint(spare)},
		}
		browsers := map[string]*browser{}
		for _, role := range []string{"agent", "lead", "admin"} {
			browsers[role] = signedIn(t, k, role)
		}
		walked := 0
		for _, rt := range web.Routes() {
			if rt.Path == "/logout" || rt.Path == "/events" || rt.Perm() == httpx.Public {
				continue // ends the session / streams forever / covered above
			}
			path := strings.Replace(strings.Replace(rt.Path, "{$}", "", 1), "{file}", "missing.css", 1)
			for _, p := range ids {
				if strings.HasPrefix(path, p.prefix) {
					path = strings.Replace(path, p.prefix[strings.LastIndex(p.prefix, "/"):], "/"+p.id, 1)
				}
			}
			path = strings.ReplaceAll(path, "{id}", "999999")
			for _, role := range []string{"agent", "lead", "admin"} {
				var form url.Values
				if rt.Method == "POST" {
					form = url.Values{}
				}
				st, _, body := browsers[role].req(rt.Method, path, form, "")
				walked++
				switch {
				case rank[role] < int(rt.Perm()):
					if st != 403 {
						t.Errorf("%s %s as %s (needs %s): %d, want 403", rt.Method, path, role, rt.Perm(), st)
					}
				case st == 401 || st == 403 || st >= 500 || (st == 303 && strings.Contains(body, "/login")):
					t.Errorf("%s %s as %s (needs %s): %d", rt.Method, path, role, rt.Perm(), st)
				}
			}
		}
		if walked < 3*40 {
			t.Fatalf("walked only %d page×role pairs", walked)
		}
	})
}

// routeObjects makes a contact, an organisation and a custom field that
// the route walks point their {id}s at, visible to every role.
func routeObjects(k *desk) (contact, org, field int64) {
	contact = k.must(201, "admin", "POST", "/api/v1/contacts", map[string]any{"name": "Rita Sanna", "emails": []string{"rita@example.com"}}).num("id")
	org = k.must(201, "admin", "POST", "/api/v1/organisations", map[string]any{"name": "Caseificio Valle Verde"}).num("id")
	field = k.must(201, "admin", "POST", "/api/v1/fields", map[string]any{"key": "prodotto", "label": "Prodotto", "type": "text"}).num("id")
	return contact, org, field
}
