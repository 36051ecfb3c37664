package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

var portalLinkIn = regexp.MustCompile(`https?://[^\s"<>]+(/portal/enter/[A-Za-z0-9_\-]+)`)

// portalSignIn asks for a sign-in link for email, takes it from the mail
// the SMTP server received and spends it.
func portalSignIn(t *testing.T, k *desk, s *sink, email string) *browser {
	t.Helper()
	b := newBrowser(t, k)
	if st, h, _ := b.req("POST", "/portal/link", url.Values{"email": {email}, "lang": {"it"}}, ""); st != 303 || !strings.Contains(h.Get("Location"), "sent=1") {
		t.Fatalf("asking for a link: %d %s", st, h.Get("Location"))
	}
	m := s.waitSubject(email, "link per accedere", 10*time.Second)
	link := portalLinkIn.FindStringSubmatch(m.Text)
	if link == nil {
		t.Fatalf("no sign-in link in %s", m.Text)
	}
	// Opening the link only shows the button.
	if st, _, page := b.req("GET", link[1], nil, ""); st != 200 || !strings.Contains(page, `action="`+link[1]+`"`) {
		t.Fatalf("link page: %d %s", st, page)
	}
	if st, _, _ := b.req("POST", link[1], url.Values{}, ""); st != 303 {
		t.Fatalf("signing in: %d", st)
	}
	// Spent: a second use is refused.
	if st, _, _ := newBrowser(t, k).req("POST", link[1], url.Values{}, ""); st != 404 {
		t.Errorf("a used link signed in again: %d", st)
	}
	return b
}

// The portal, on both databases (issue 12): a customer signs in with the
// link from the mail, sees their requests with the status in words and
// the public conversation, never notes or events, replies into the same
// ticket; every portal route refuses a stranger (nobody signed in,
// another customer's session, another customer's ticket numbers, a
// guessed or used link); an unknown address is not revealed.
func TestPortalStrangers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		m, s := sendingDesk(t, db, app.Options{JobPoll: 100 * time.Millisecond})
		open := func(email, subject string) int64 {
			return m.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": subject, "body": "Buongiorno, " + subject,
				"requester": map[string]any{"email": email, "name": "Cliente " + email[:4]}, "team_id": m.teamID}).num("number")
		}
		mine := open("sara.neri@example.it", "Fattura doppia")
		theirs := open("luca.bianchi@example.it", "Password dimenticata")
		m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", mine), map[string]any{"kind": "note", "body": "NOTA RISERVATA: cliente difficile"})
		m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", mine), map[string]any{"kind": "reply", "body": "Abbiamo stornato la seconda fattura."})
		m.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", mine), map[string]any{"priority": "high"})

		// An unknown address gets the same answer and no mail.
		v := newBrowser(t, m.desk)
		if st, h, _ := v.req("POST", "/portal/link", url.Values{"email": {"nessuno@example.it"}}, ""); st != 303 || !strings.Contains(h.Get("Location"), "sent=1") {
			t.Errorf("unknown address: %d", st)
		}
		sara := portalSignIn(t, m.desk, s, "sara.neri@example.it")
		st, _, page := sara.req("GET", "/portal", nil, "")
		if st != 200 || !strings.Contains(page, "Fattura doppia") || strings.Contains(page, "Password dimenticata") {
			t.Fatalf("my requests: %d %s", st, page)
		}
		st, _, page = sara.req("GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, "")
		if st != 200 || !strings.Contains(page, "Abbiamo stornato") || strings.Contains(page, "NOTA RISERVATA") || strings.Contains(page, "priorit") {
			t.Fatalf("my request: %d %s", st, page)
		}
		tok := formToken.FindStringSubmatch(page)
		if tok == nil {
			t.Fatalf("the portal reply form has no token")
		}
		// Sent twice (Back and send): one message.
		for range 2 {
			if st, _, _ := sara.req("POST", fmt.Sprintf("/portal/tickets/%d/messages", mine), url.Values{"body": {"Grazie, ora è tutto a posto."}, "form_token": {tok[1]}}, ""); st != 303 {
				t.Fatalf("portal reply: %d", st)
			}
		}
		if _, _, page := sara.req("GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, ""); strings.Count(page, "ora è tutto a posto") != 1 {
			t.Errorf("the reply sent twice shows %d times", strings.Count(page, "ora è tutto a posto"))
		}
		if _, _, page := signedIn(t, m.desk, "agent").req("GET", fmt.Sprintf("/tickets/%d", mine), nil, ""); !strings.Contains(page, "ora è tutto a posto") {
			t.Errorf("the portal reply is not on the ticket")
		}
		// Strangers: every route.
		nobody := newBrowser(t, m.desk)
		for _, c := range []struct {
			b            *browser
			method, path string
			form         url.Values
			want         int
		}{
			{nobody, "GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, http.StatusSeeOther},
			{nobody, "POST", fmt.Sprintf("/portal/tickets/%d/messages", mine), url.Values{"body": {"x"}}, http.StatusSeeOther},
			{sara, "GET", fmt.Sprintf("/portal/tickets/%d", theirs), nil, 404},
			{sara, "POST", fmt.Sprintf("/portal/tickets/%d/messages", theirs), url.Values{"body": {"intrusione"}}, 404},
			{sara, "GET", "/portal/tickets/999999", nil, 404},
			{sara, "GET", "/portal/tickets/abc", nil, 404},
			{nobody, "GET", "/portal/enter/indovinato", nil, 404},
			{nobody, "POST", "/portal/enter/indovinato", url.Values{}, 404},
			{nobody, "GET", "/closure/indovinato.abc", nil, 404},
			{nobody, "POST", "/rate/indovinato.abc", url.Values{"rating": {"5"}}, 404},
		} {
			if st, h, _ := c.b.req(c.method, c.path, c.form, ""); st != c.want || (st == 303 && h.Get("Location") != "/portal") {
				t.Errorf("%s %s: %d, want %d", c.method, c.path, st, c.want)
			}
		}
		if _, _, page := signedIn(t, m.desk, "agent").req("GET", fmt.Sprintf("/tickets/%d", theirs), nil, ""); strings.Contains(page, "intrusione") {
			t.Errorf("a stranger wrote on another customer's ticket")
		}
		// The other customer, signed in, sees only theirs.
		luca := portalSignIn(t, m.desk, s, "luca.bianchi@example.it")
		if st, _, _ := luca.req("GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, ""); st != 404 {
			t.Errorf("Luca opened Sara's request: %d", st)
		}
		// Colleagues of one organisation see each other's requests only
		// once an admin allows it.
		org := m.must(201, "lead", "POST", "/api/v1/organisations", map[string]any{"name": "Bottega Neri", "domains": []string{"example.it"}}).num("id")
		for _, c := range m.must(200, "admin", "GET", "/api/v1/contacts?q=example.it", nil).JSON["items"].([]any) {
			id := int64(c.(map[string]any)["id"].(float64))
			m.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/contacts/%d", id), map[string]any{"organisation_id": org})
		}
		if st, _, _ := luca.req("GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, ""); st != 404 {
			t.Errorf("a colleague saw the request before the admin allowed it: %d", st)
		}
		admin := signedIn(t, m.desk, "admin")
		if st, _, page := admin.req("POST", "/admin/help", url.Values{"name": {"Bottega"}, "accent": {"#0b5cad"}, "languages": {"it, en"}, "portal_orgs": {"1"}, "delay_hours": {"24"}}, ""); st != 303 {
			t.Fatalf("help settings: %d %s", st, page)
		}
		if st, _, page := luca.req("GET", "/portal", nil, ""); st != 200 || !strings.Contains(page, "Fattura doppia") {
			t.Errorf("the organisation's requests are not listed: %d", st)
		}
		if st, _, page := luca.req("GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, ""); st != 200 || strings.Contains(page, "NOTA RISERVATA") {
			t.Errorf("a colleague's request: %d", st)
		}
		// Signing out ends the session.
		if st, _, _ := sara.req("POST", "/portal/logout", url.Values{}, ""); st != 303 {
			t.Fatalf("logout: %d", st)
		}
		if st, _, _ := sara.req("GET", fmt.Sprintf("/portal/tickets/%d", mine), nil, ""); st != http.StatusSeeOther {
			t.Errorf("after logout: %d", st)
		}
	})
}
