package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/testdb"
)

type browser struct {
	t *testing.T
	c *http.Client
	k *desk
}

func newBrowser(t *testing.T, k *desk) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, k: k, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) req(method, path string, form url.Values, lang string) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.k.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// What a browser sends for a same-origin form.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(raw)
}

// signedIn returns a browser signed in through the form as the test
// agent of role who.
func signedIn(t *testing.T, k *desk, who string) *browser {
	t.Helper()
	b := newBrowser(t, k)
	if st, _, _ := b.req("POST", "/login", url.Values{"email": {who + "@example.com"}, "password": {"password-" + who}}, ""); st != http.StatusSeeOther {
		t.Fatalf("%s signs in: %d", who, st)
	}
	return b
}

// Sign-in through the HTML form: errors next to the field in the visitor's
// language with the email kept; success lands on the start page in the
// agent's language; the page carries a strict CSP and hashed assets.
func TestWorkspaceSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Consegna in ritardo", "body": "x",
			"requester": map[string]any{"email": "r@example.com"}, "team_id": k.teamID})
		b := newBrowser(t, k)
		st, h, _ := b.req("GET", "/", nil, "")
		if st != http.StatusSeeOther || h.Get("Location") != "/login" {
			t.Fatalf("visitor at /: %d %s", st, h.Get("Location"))
		}
		st, h, body := b.req("GET", "/login", nil, "en-GB,en;q=0.8")
		if st != 200 || !strings.Contains(body, "<h1>Sign in</h1>") || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("login page: %d %s", st, body)
		}
		st, _, body = b.req("POST", "/login", url.Values{"email": {"agent@example.com"}, "password": {""}}, "it")
		if st != 422 || !strings.Contains(body, `id="password-error">Campo obbligatorio.`) || !strings.Contains(body, `value="agent@example.com"`) {
			t.Fatalf("empty password: %d %s", st, body)
		}
		st, _, body = b.req("POST", "/login", url.Values{"email": {"agent@example.com"}, "password": {"wrong-password"}}, "en")
		if st != 401 || !strings.Contains(body, "Wrong email or password.") {
			t.Fatalf("wrong password: %d %s", st, body)
		}
		st, h, _ = b.req("POST", "/login", url.Values{"email": {"agent@example.com"}, "password": {"password-agent"}, "next": {"https://evil.example/"}}, "en")
		if st != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Fatalf("sign in: %d %q (an outside next must not be followed)", st, h.Get("Location"))
		}
		st, _, body = b.req("GET", "/?view=teams", nil, "en")
		if st != 200 || !strings.Contains(body, "<h1>I miei team</h1>") || !strings.Contains(body, "Consegna in ritardo") || !strings.Contains(body, "adesso") {
			t.Fatalf("start page in the agent's language (it): %d %s", st, body)
		}
		// Switching language changes the page and is remembered.
		if st, _, _ := b.req("POST", "/language", url.Values{"lang": {"en"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("language switch: %d", st)
		}
		_, _, body = b.req("GET", "/", nil, "")
		if !strings.Contains(body, "<h1>Mine</h1>") || !strings.Contains(body, `lang="en"`) {
			t.Fatalf("after switching to English: %s", body)
		}
		css := body[strings.Index(body, "/static/app."):]
		css = css[:strings.Index(css, `"`)]
		st, h, _ = b.req("GET", css, nil, "")
		if st != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Fatalf("hashed asset %s: %d", css, st)
		}
		if st, _, body := b.req("GET", "/no/such/page", nil, ""); st != 404 || !strings.Contains(body, "Page not found") {
			t.Fatalf("404 page: %d %s", st, body)
		}
		if st, h, _ := b.req("POST", "/logout", url.Values{}, ""); st != http.StatusSeeOther || h.Get("Location") != "/login" {
			t.Fatalf("logout: %d", st)
		}
		if st, _, _ := b.req("GET", "/", nil, ""); st != http.StatusSeeOther {
			t.Fatalf("after logout: %d", st)
		}
	})
}

// An agent logs a phone call: bad input comes back next to its field with
// everything typed kept; good input opens the ticket on the customer's
// behalf, creating the contact.
func TestWorkspaceNewTicket(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		b := signedIn(t, k, "agent")
		form := url.Values{"email": {"non-una-email"}, "name": {"Rosa Bianchi"}, "channel": {"phone"}, "priority": {"high"},
			"team_id": {fmt.Sprint(k.teamID)}, "subject": {"Bolletta doppia"}, "body": {"Ha chiamato: le è arrivata due volte la bolletta."}}
		st, _, body := b.req("POST", "/tickets/new", form, "")
		if st != 422 || !strings.Contains(body, `id="email-error">Scrivi un indirizzo email valido.`) ||
			!strings.Contains(body, `value="Bolletta doppia"`) || !strings.Contains(body, "le è arrivata due volte") {
			t.Fatalf("bad email: %d %s", st, body)
		}
		form.Set("email", "rosa.bianchi@example.it")
		st, h, _ := b.req("POST", "/tickets/new", form, "")
		if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/tickets/") {
			t.Fatalf("create: %d %s", st, h.Get("Location"))
		}
		got := k.must(200, "agent", "GET", "/api/v1"+h.Get("Location"), nil)
		if got.JSON["channel"] != "phone" || got.JSON["priority"] != "high" || got.num("team_id") != k.teamID {
			t.Errorf("ticket %s", got)
		}
		c := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/contacts/%d", got.num("requester_id")), nil)
		if c.JSON["name"] != "Rosa Bianchi" {
			t.Errorf("contact %s", c)
		}
	})
}

func TestWorkspaceContacts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		keep := k.must(201, "admin", "POST", "/api/v1/contacts", map[string]any{"name": "Lucia Ferri", "emails": []string{"lucia@example.it"}}).num("id")
		dup := k.must(201, "admin", "POST", "/api/v1/contacts", map[string]any{"name": "L. Ferri", "emails": []string{"l.ferri@ufficio.it"}}).num("id")
		k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Rimborso", "body": "x", "requester": map[string]any{"id": dup}, "team_id": k.teamID})

		agentB, leadB := signedIn(t, k, "agent"), signedIn(t, k, "lead")
		if st, _, body := agentB.req("GET", "/contacts?q=luc", nil, ""); st != 200 || !strings.Contains(body, "Lucia Ferri") || strings.Contains(body, "L. Ferri") {
			t.Fatalf("search: %d %s", st, body)
		}
		path := fmt.Sprintf("/contacts/%d", keep)
		st, _, body := agentB.req("POST", path, url.Values{"name": {"Lucia Ferri"}, "emails": {"lucia@example.it\nnon valida"}, "notes": {"Cliente storico"}}, "")
		if st != 422 || !strings.Contains(body, "Scrivi un indirizzo email valido.") || !strings.Contains(body, "Cliente storico") {
			t.Fatalf("bad email kept with error: %d %s", st, body)
		}
		if _, _, body := agentB.req("GET", path, nil, ""); strings.Contains(body, `action="/contacts/`+fmt.Sprint(keep)+`/merge"`) {
			t.Error("agents must not see the merge form")
		}
		st, _, body = agentB.req("POST", path+"/merge", url.Values{"from": {"l.ferri@ufficio.it"}}, "")
		if st != 403 || !strings.Contains(body, "Accesso negato") || strings.Contains(body, "goroutine") {
			t.Fatalf("agent merging: %d %s", st, body)
		}
		// Merging asks first, both contacts side by side; a name that one
		// contact has (here its domain) is enough.
		st, _, body = leadB.req("POST", path+"/merge", url.Values{"from": {"ufficio.it"}}, "")
		if st != 200 || !strings.Contains(body, "Unire «L. Ferri» a «Lucia Ferri»?") || !strings.Contains(body, "l.ferri@ufficio.it") || !strings.Contains(body, `name="confirm" value="1"`) {
			t.Fatalf("merge did not ask first: %d %s", st, body)
		}
		k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/contacts/%d", dup), nil)
		st, h, _ := leadB.req("POST", path+"/merge", url.Values{"from": {"L.Ferri@ufficio.it"}, "confirm": {"1"}}, "")
		if st != http.StatusSeeOther {
			t.Fatalf("lead merging: %d", st)
		}
		_, _, body = leadB.req("GET", h.Get("Location"), nil, "")
		if !strings.Contains(body, "Duplicato unito.") || !strings.Contains(body, "Rimborso") || !strings.Contains(body, "l.ferri@ufficio.it") {
			t.Fatalf("after merge: %s", body)
		}
		k.must(404, "admin", "GET", fmt.Sprintf("/api/v1/contacts/%d", dup), nil)
	})
}

// An agent edits their profile and password; an admin adds an agent, resets
// a forgotten password and deactivates someone — from the browser.
func TestWorkspaceProfileAndAgents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ag, admin := signedIn(t, k, "agent"), signedIn(t, k, "admin")
		st, _, body := ag.req("POST", "/profile", url.Values{"name": {"Agent Person"}, "language": {"en"}, "timezone": {"Mars/Olympus"}, "availability": {"away"}}, "")
		if st != 422 || !strings.Contains(body, `id="tz-error">Fuso orario sconosciuto`) || !strings.Contains(body, `value="Mars/Olympus"`) {
			t.Fatalf("bad time zone: %d %s", st, body)
		}
		if st, _, _ := ag.req("POST", "/profile", url.Values{"name": {"Agent Person"}, "language": {"en"}, "timezone": {"Europe/London"}, "availability": {"away"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("profile: %d", st)
		}
		if me := k.must(200, "agent", "GET", "/api/v1/me", nil); me.JSON["timezone"] != "Europe/London" || me.JSON["availability"] != "away" || me.JSON["language"] != "en" {
			t.Errorf("profile not saved: %s", me)
		}
		if st, _, body := ag.req("POST", "/profile/password", url.Values{"current_password": {"nope"}, "new_password": {"another-long-password"}}, ""); st != 422 || !strings.Contains(body, "The current password is wrong.") {
			t.Fatalf("wrong current password: %d", st)
		}
		if st, _, _ := ag.req("POST", "/profile/password", url.Values{"current_password": {"password-agent"}, "new_password": {"another-long-password"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("password change: %d", st)
		}
		if st, _, body := ag.req("GET", "/admin/agents", nil, ""); st != 403 || !strings.Contains(body, "Access denied") {
			t.Fatalf("agent on the admin page: %d", st)
		}
		st, _, body = admin.req("POST", "/admin/agents", url.Values{"name": {"Nuova Persona"}, "email": {"nuova@example.com"}, "role": {"agent"}, "language": {"it"}}, "")
		if st != 200 || !strings.Contains(body, "data-password") {
			t.Fatalf("add agent: %d %s", st, body)
		}
		st, _, body = admin.req("POST", "/admin/agents", url.Values{"name": {"Doppia"}, "email": {"nuova@example.com"}, "role": {"agent"}, "language": {"it"}}, "")
		if st != 422 || !strings.Contains(body, "a-email-error") {
			t.Fatalf("duplicate email: %d", st)
		}
		lead := k.agents["lead"].ID
		// A password reset asks first, naming whose and what happens.
		if st, _, body = admin.req("POST", fmt.Sprintf("/admin/agents/%d", lead), url.Values{"action": {"reset"}}, ""); st != 200 ||
			!strings.Contains(body, "Reimpostare la password di Lead Person?") || strings.Contains(body, "data-password>") {
			t.Fatalf("reset without confirmation: %d", st)
		}
		st, _, body = admin.req("POST", fmt.Sprintf("/admin/agents/%d", lead), url.Values{"action": {"reset"}, "confirm": {"1"}}, "")
		pw := body[strings.Index(body, "data-password>")+len("data-password>"):]
		pw = pw[:strings.Index(pw, "<")]
		if st != 200 || len(pw) < 10 {
			t.Fatalf("reset: %d %q", st, pw)
		}
		lb := newBrowser(t, k)
		if st, _, _ := lb.req("POST", "/login", url.Values{"email": {"lead@example.com"}, "password": {pw}}, ""); st != http.StatusSeeOther {
			t.Fatalf("sign in with the reset password: %d", st)
		}
		// Deactivating asks first; the session lasts until confirmed.
		if st, _, body := admin.req("POST", fmt.Sprintf("/admin/agents/%d", lead), url.Values{"role": {"lead"}}, ""); st != 200 || !strings.Contains(body, "Disattivare Lead Person?") {
			t.Fatalf("deactivate without confirmation: %d", st)
		}
		if st, _, _ := lb.req("GET", "/", nil, ""); st != 200 {
			t.Fatalf("the agent was signed out before the admin confirmed: %d", st)
		}
		if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/agents/%d", lead), url.Values{"role": {"lead"}, "confirm": {"1"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("deactivate: %d", st)
		}
		if st, h, _ := lb.req("GET", "/", nil, ""); st != http.StatusSeeOther || h.Get("Location") != "/login" {
			t.Fatalf("a deactivated agent keeps their session: %d", st)
		}
		st, _, body = admin.req("POST", fmt.Sprintf("/admin/agents/%d", k.agents["admin"].ID), url.Values{"role": {"agent"}, "active": {"on"}}, "")
		if st != 409 || !strings.Contains(body, "almeno un amministratore") {
			t.Fatalf("last admin demoted: %d", st)
		}
	})
}

func TestWorkspaceBulkAndMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		var ids []int64
		for i := 0; i < 3; i++ {
			ids = append(ids, k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprint("Richiesta ", i), "body": "x",
				"requester": map[string]any{"email": fmt.Sprintf("c%d@example.com", i)}, "team_id": k.teamID}).num("number"))
		}
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", ids[2]), map[string]any{"status": "solved"})
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", ids[2]), map[string]any{"status": "closed"})
		b := signedIn(t, k, "agent")
		form := url.Values{"view": {"teams"}, "status": {"pending"}, "assignee": {"me"}, "add_tag": {"richiamare"}}
		for _, id := range ids {
			form.Add("ids", fmt.Sprint(id))
		}
		st, h, _ := b.req("POST", "/tickets/bulk", form, "")
		if st != http.StatusSeeOther {
			t.Fatalf("bulk: %d", st)
		}
		_, _, body := b.req("GET", h.Get("Location"), nil, "")
		if !strings.Contains(body, fmt.Sprintf("Modificati 2 ticket; 1 non consentivano la modifica. Stato → in attesa del cliente; assegnati a te; Aggiungi tag richiamare; non modificati: #%d.", ids[2])) {
			t.Fatalf("bulk result: %s", body)
		}
		// Nothing picked, or nothing to apply: said, nothing done.
		for _, c := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"view": {"teams"}, "status": {"open"}}, "prima scegli almeno un ticket"},
			{url.Values{"view": {"teams"}, "ids": {fmt.Sprint(ids[0])}}, "scegli cosa applicare"},
		} {
			st, h, _ := b.req("POST", "/tickets/bulk", c.form, "")
			if _, _, page := b.req("GET", h.Get("Location"), nil, ""); st != 303 || !strings.Contains(page, c.want) {
				t.Errorf("%v: %d, page without %q", c.form, st, c.want)
			}
		}
		for _, id := range ids[:2] {
			got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil)
			if got.JSON["status"] != "pending" || got.num("assignee_id") != k.agents["agent"].ID || !strings.Contains(fmt.Sprint(got.JSON["tags"]), "richiamare") {
				t.Errorf("bulk-changed ticket %d: %s", id, got)
			}
		}
		// Merge from the ticket page.
		st, _, body = b.req("POST", fmt.Sprintf("/tickets/%d/merge", ids[0]), url.Values{"into": {"999999"}}, "")
		if st != 422 || !strings.Contains(body, `id="merge-error">Nessun ticket con questo numero.`) {
			t.Fatalf("merge into nothing: %d", st)
		}
		// Merging shows both tickets first (and warns when their
		// customers differ), then merges on confirmation.
		st, _, body = b.req("POST", fmt.Sprintf("/tickets/%d/merge", ids[0]), url.Values{"into": {fmt.Sprint(ids[1])}}, "")
		if st != 200 || !strings.Contains(body, fmt.Sprintf("Unire #%d in #%d?", ids[0], ids[1])) || !strings.Contains(body, "Richiesta 0") ||
			!strings.Contains(body, "Richiesta 1") || !strings.Contains(body, "i due ticket hanno clienti diversi") {
			t.Fatalf("merge without confirmation: %d (both tickets and the different-customers warning expected)", st)
		}
		if src := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", ids[0]), nil); src.JSON["status"] == "closed" {
			t.Fatal("merged before the agent confirmed")
		}
		st, h, _ = b.req("POST", fmt.Sprintf("/tickets/%d/merge", ids[0]), url.Values{"into": {fmt.Sprint(ids[1])}, "confirm": {"1"}}, "")
		if st != http.StatusSeeOther || h.Get("Location") != fmt.Sprintf("/tickets/%d", ids[1]) {
			t.Fatalf("merge: %d %s", st, h.Get("Location"))
		}
		if src := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", ids[0]), nil); src.JSON["status"] != "closed" || src.num("merged_into") != ids[1] {
			t.Errorf("merged source: %s", src)
		}
	})
}

// Tokens from the browser: created with a name (errors next to it), shown
// once, usable with the API, revoked.
func TestWorkspaceTokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		b := signedIn(t, k, "lead")
		if st, _, body := b.req("POST", "/profile/tokens", url.Values{"name": {"  "}}, ""); st != 422 || !strings.Contains(body, "t-name-error") {
			t.Fatalf("empty name: %d", st)
		}
		st, _, body := b.req("POST", "/profile/tokens", url.Values{"name": {"CRM"}}, "")
		i := strings.Index(body, "data-token>")
		if st != 200 || i < 0 {
			t.Fatalf("create: %d %s", st, body)
		}
		secret := body[i+len("data-token>"):]
		secret = secret[:strings.Index(secret, "<")]
		k.token["crm"] = secret
		k.must(200, "crm", "GET", "/api/v1/me", nil)
		if _, _, body := b.req("GET", "/profile/tokens", nil, ""); strings.Contains(body, secret) || !strings.Contains(body, "CRM") {
			t.Fatal("the list must name the token and never show its secret")
		}
		toks, _ := k.d.Store.Tokens(context.Background(), k.agents["lead"].ID)
		var id int64
		for _, tk := range toks {
			if tk.Name == "CRM" {
				id = tk.ID
			}
		}
		if st, _, _ := b.req("POST", fmt.Sprintf("/profile/tokens/%d/revoke", id), url.Values{}, ""); st != http.StatusSeeOther {
			t.Fatalf("revoke: %d", st)
		}
		k.must(401, "crm", "GET", "/api/v1/me", nil)
	})
}

func TestWorkspaceTeams(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		other := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Tecnico L2", "tier": 2}).num("id")
		lead, admin := signedIn(t, k, "lead"), signedIn(t, k, "admin")
		own := fmt.Sprintf("/admin/teams/%d", k.teamID)
		st, _, body := lead.req("POST", own, url.Values{"name": {"Supporto L1"}, "tier": {"0"}, "languages": {"it, en"}, "topics": {"ordini"}}, "")
		if st != 422 || !strings.Contains(body, "Fuori dall&#39;intervallo ammesso.") {
			t.Fatalf("bad tier: %d %s", st, body)
		}
		form := url.Values{"name": {"Supporto L1"}, "tier": {"1"}, "languages": {"IT, en"}, "topics": {"ordini, spedizioni"},
			"members": {fmt.Sprint(k.agents["lead"].ID), fmt.Sprint(k.agents["agent"].ID), fmt.Sprint(k.agents["admin"].ID)}}
		if st, _, _ := lead.req("POST", own, form, ""); st != http.StatusSeeOther {
			t.Fatalf("lead edits own team: %d", st)
		}
		tm := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/teams/%d", k.teamID), nil)
		if fmt.Sprint(tm.JSON["languages"]) != "[it en]" || len(tm.JSON["member_ids"].([]any)) != 3 || fmt.Sprint(tm.JSON["topics"]) != "[ordini spedizioni]" {
			t.Errorf("team after edit: %s", tm)
		}
		if st, _, body := lead.req("POST", fmt.Sprintf("/admin/teams/%d", other), form, ""); st != 403 || !strings.Contains(body, "Accesso negato") {
			t.Fatalf("lead edits another team: %d", st)
		}
		if st, _, _ := lead.req("POST", "/admin/teams", url.Values{"name": {"Nuovo"}}, ""); st != 403 {
			t.Fatalf("lead creates a team: %d", st)
		}
		if st, _, _ := admin.req("POST", "/admin/teams", url.Values{"name": {"Amministrazione"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("admin creates a team: %d", st)
		}
		if st, _, body := admin.req("POST", "/admin/teams", url.Values{"name": {"Amministrazione"}}, ""); st != 422 || !strings.Contains(body, "new-team-error") {
			t.Fatalf("duplicate team: %d", st)
		}
	})
}

func TestWorkspaceCustomFields(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		k.must(201, "admin", "POST", "/api/v1/fields", map[string]any{"key": "prodotto", "label": "Prodotto", "type": "select", "options": []string{"Casa", "Pro"}})
		k.must(201, "admin", "POST", "/api/v1/fields", map[string]any{"key": "importo", "label": "Importo", "type": "number"})
		k.must(201, "admin", "POST", "/api/v1/fields", map[string]any{"key": "scadenza", "label": "Scadenza", "type": "date"})
		num := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Rimborso", "body": "x",
			"requester": map[string]any{"email": "cf@example.com"}, "team_id": k.teamID}).num("number")
		b := signedIn(t, k, "agent")
		path := fmt.Sprintf("/tickets/%d", num)
		if _, _, body := b.req("GET", path, nil, ""); !strings.Contains(body, `name="cf_prodotto"`) || !strings.Contains(body, `type="date"`) {
			t.Fatalf("custom fields not in the form: %s", body)
		}
		base := url.Values{"status": {"new"}, "priority": {"normal"}, "team_id": {fmt.Sprint(k.teamID)}, "assignee_id": {"0"}, "tags": {""}}
		bad := url.Values{}
		for key, v := range base {
			bad[key] = v
		}
		bad.Set("cf_prodotto", "Pro")
		bad.Set("cf_importo", "dieci euro")
		bad.Set("cf_scadenza", "2026-12-31")
		st, _, body := b.req("POST", path, bad, "")
		if st != 422 || !strings.Contains(body, `id="cf-importo-error">Scrivi un numero`) || !strings.Contains(body, `value="dieci euro"`) {
			t.Fatalf("bad number: %d %s", st, body)
		}
		if got := k.must(200, "agent", "GET", "/api/v1"+path, nil); len(got.JSON["custom_fields"].(map[string]any)) != 0 {
			t.Fatalf("a refused form changed the ticket: %s", got)
		}
		bad.Set("cf_importo", "12,50")
		if st, _, _ := b.req("POST", path, bad, ""); st != http.StatusSeeOther {
			t.Fatalf("good values: %d", st)
		}
		cf := k.must(200, "agent", "GET", "/api/v1"+path, nil).JSON["custom_fields"].(map[string]any)
		if cf["prodotto"] != "Pro" || cf["importo"] != 12.5 || cf["scadenza"] != "2026-12-31" {
			t.Errorf("saved fields: %v", cf)
		}
		bad.Set("cf_prodotto", "Business")
		if st, _, body := b.req("POST", path, bad, ""); st != 422 || !strings.Contains(body, `id="cf-prodotto-error">`) {
			t.Fatalf("unknown option: %d", st)
		}
	})
}

func TestWorkspaceFieldsAndTags(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		admin, ag := signedIn(t, k, "admin"), signedIn(t, k, "agent")
		if st, _, _ := ag.req("GET", "/admin/fields", nil, ""); st != 403 {
			t.Fatalf("agent on the settings page: %d", st)
		}
		st, _, body := admin.req("POST", "/admin/fields", url.Values{"label": {"Prodotto"}, "key": {"Prodotto!"}, "type": {"select"}, "options": {"Casa\nPro"}}, "")
		if st != 422 || !strings.Contains(body, `id="f-key-error">Usa solo lettere minuscole`) || !strings.Contains(body, "Casa\nPro") {
			t.Fatalf("bad key: %d %s", st, body)
		}
		if st, _, _ := admin.req("POST", "/admin/fields", url.Values{"label": {"Prodotto"}, "key": {"prodotto"}, "type": {"select"}, "options": {"Casa\nPro"}, "required": {"on"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("add field: %d", st)
		}
		fields := k.must(200, "agent", "GET", "/api/v1/fields", nil)
		if !strings.Contains(fields.String(), `"key":"prodotto"`) || !strings.Contains(fields.String(), `"options":["Casa","Pro"]`) || !strings.Contains(fields.String(), `"required":true`) {
			t.Fatalf("fields: %s", fields)
		}
		id := int64(fields.JSON["items"].([]any)[0].(map[string]any)["id"].(float64))
		if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/fields/%d/toggle", id), url.Values{}, ""); st != http.StatusSeeOther {
			t.Fatal("toggle")
		}
		if f := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/fields/%d", id), nil); f.JSON["active"] != false {
			t.Errorf("field not retired: %s", f)
		}
		if st, _, _ := admin.req("POST", "/admin/tags", url.Values{"name": {"Richiamare Cliente"}}, ""); st != http.StatusSeeOther {
			t.Fatal("add tag")
		}
		if st, _, body := admin.req("POST", "/admin/tags", url.Values{"name": {"richiamare cliente"}}, ""); st != 422 || !strings.Contains(body, `id="tag-error"`) {
			t.Fatalf("duplicate tag: %d", st)
		}
		tags := k.must(200, "agent", "GET", "/api/v1/tags", nil)
		if !strings.Contains(tags.String(), `"name":"richiamare-cliente"`) {
			t.Fatalf("tags: %s", tags)
		}
		tid := int64(tags.JSON["items"].([]any)[0].(map[string]any)["id"].(float64))
		// Deleting a tag asks first and says how many tickets carry it.
		if st, _, body := admin.req("POST", fmt.Sprintf("/admin/tags/%d/delete", tid), url.Values{}, ""); st != 200 || !strings.Contains(body, "Eliminare il tag «richiamare-cliente»?") ||
			!strings.Contains(body, "È usato su") {
			t.Fatalf("delete tag without confirmation: %d", st)
		}
		if tags := k.must(200, "agent", "GET", "/api/v1/tags", nil); len(tags.JSON["items"].([]any)) != 1 {
			t.Fatal("the tag went before the admin confirmed")
		}
		if st, _, _ := admin.req("POST", fmt.Sprintf("/admin/tags/%d/delete", tid), url.Values{"confirm": {"1"}}, ""); st != http.StatusSeeOther {
			t.Fatal("delete tag")
		}
		if tags := k.must(200, "agent", "GET", "/api/v1/tags", nil); len(tags.JSON["items"].([]any)) != 0 {
			t.Errorf("tag not deleted: %s", tags)
		}
	})
}
