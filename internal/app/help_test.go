package app_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

var formToken = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// The help centre on both databases (issue 12): a lead publishes an
// article in Italian and English; visitors reach their language, find the
// article by a stemmed word, see it sanitised with canonical and hreflang
// links, vote; drafts and internal articles do not exist for them; an
// agent may write drafts but not publish; the sitemap lists the versions.
func TestHelpCentre(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		lead, ag := signedIn(t, k, "lead"), signedIn(t, k, "agent")
		visitor := newBrowser(t, k)
		if st, _, _ := lead.req("POST", "/kb/categories", url.Values{"name_it": {"Stampa"}, "name_en": {"Printing"}}, ""); st != 303 {
			t.Fatalf("category: %d", st)
		}
		_, _, page := lead.req("GET", "/kb", nil, "")
		catID := regexp.MustCompile(`/kb/categories/(\d+)/delete`).FindStringSubmatch(page)
		if catID == nil {
			t.Fatalf("the category is not listed: %s", page)
		}
		body := "Se le **stampanti** dell'ufficio non stampano:\n\n1. spegnile\n2. riaccendile\n\n<script>alert(1)</script> [trucco](javascript:alert(1)) <img src=x onerror=alert(1)>"
		st, h, page := lead.req("POST", "/kb", url.Values{"lang": {"it"}, "title": {"La stampante non stampa più"}, "body": {body},
			"state": {"published"}, "category_id": {catID[1]}}, "")
		if st != 303 {
			t.Fatalf("publishing: %d %s", st, page)
		}
		artPath := strings.SplitN(h.Get("Location"), "?", 2)[0]
		if st, _, _ := lead.req("POST", artPath, url.Values{"lang": {"en"}, "title": {"The printer no longer prints"}, "body": {"If the office **printers** do not print, restart them."},
			"state": {"published"}, "category_id": {catID[1]}}, ""); st != 303 {
			t.Fatalf("English version: %d", st)
		}
		// Two editors of one version: the second save, over the version the
		// first one replaced, is refused with the text kept.
		_, _, edit := lead.req("GET", artPath+"?lang=en", nil, "")
		ver := regexp.MustCompile(`name="version" value="([^"]*)"`).FindStringSubmatch(edit)
		if ver == nil || ver[1] == "" {
			t.Fatalf("the edit form carries no version")
		}
		form := url.Values{"lang": {"en"}, "title": {"The printer no longer prints"}, "state": {"published"}, "category_id": {catID[1]},
			"version": {ver[1]}, "was_category": {catID[1]}, "was_internal": {""}}
		form.Set("body", "Restart the printers, then print a test page.")
		if st, _, _ := lead.req("POST", artPath, form, ""); st != 303 {
			t.Fatalf("first editor: %d", st)
		}
		form.Set("body", "An older text.")
		if st, _, page := lead.req("POST", artPath, form, ""); st != 409 || !strings.Contains(page, "An older text.") {
			t.Errorf("a stale save: %d", st)
		}
		if _, _, page := visitor.req("GET", "/help/en/a/the-printer-no-longer-prints", nil, ""); !strings.Contains(page, "print a test page") {
			t.Errorf("the stale save undid the first editor's text")
		}
		// An agent may write a draft, not publish, not change a published version.
		if st, _, page := ag.req("POST", "/kb", url.Values{"lang": {"it"}, "title": {"Bozza di un agente"}, "body": {"Testo"}, "state": {"published"}}, ""); st != 403 || !strings.Contains(page, "Pubblicare") {
			t.Errorf("an agent published: %d", st)
		}
		if st, _, _ := ag.req("POST", artPath, url.Values{"lang": {"it"}, "title": {"Cambiato da un agente"}, "body": {"x"}, "state": {"draft"}}, ""); st != 403 {
			t.Errorf("an agent changed a published version: %d", st)
		}
		if st, _, _ := ag.req("POST", artPath, url.Values{"lang": {"de"}, "title": {"Drucker"}, "body": {"x"}, "state": {"draft"}, "internal": {"1"}, "category_id": {catID[1]}}, ""); st != 403 {
			t.Errorf("an agent made a published article internal: %d", st)
		}
		if st, _, _ := ag.req("POST", "/kb", url.Values{"lang": {"it"}, "title": {"Stampanti in bozza"}, "body": {"Le stampanti in bozza"}, "state": {"draft"}}, ""); st != 303 {
			t.Errorf("an agent's draft: %d", st)
		}
		if st, _, _ := lead.req("POST", "/kb", url.Values{"lang": {"it"}, "title": {"Stampanti: nota interna"}, "body": {"Le stampanti del magazzino"}, "state": {"published"}, "internal": {"1"}}, ""); st != 303 {
			t.Errorf("internal article: %d", st)
		}
		// Bad input names the field.
		if st, _, page := lead.req("POST", "/kb", url.Values{"lang": {"it"}, "title": {""}, "body": {"x"}, "state": {"published"}}, ""); st != 422 || !strings.Contains(page, `id="title-error"`) {
			t.Errorf("an article without a title: %d", st)
		}

		// The visitor's language.
		for lang, want := range map[string]string{"it-IT,it;q=0.9": "/help/it", "en-GB,en;q=0.8": "/help/en", "de-DE": "/help/it"} {
			if st, h, _ := visitor.req("GET", "/help", nil, lang); st != http.StatusFound || h.Get("Location") != want {
				t.Errorf("%s: %d %s, want %s", lang, st, h.Get("Location"), want)
			}
		}
		// A stemmed word finds the public article only.
		st, _, page = visitor.req("GET", "/help/it/search?q=stampante", nil, "")
		if st != 200 || !strings.Contains(page, "La stampante non stampa più") || strings.Contains(page, "bozza") || strings.Contains(page, "nota interna") {
			t.Fatalf("search: %d %s", st, page)
		}
		slug := regexp.MustCompile(`href="/help/it/a/([a-z0-9-]+)"`).FindStringSubmatch(page)
		if slug == nil || slug[1] != "la-stampante-non-stampa-piu" {
			t.Fatalf("article address: %v", slug)
		}
		st, h, page = visitor.req("GET", "/help/it/a/"+slug[1], nil, "")
		if st != 200 || !strings.Contains(page, "<strong>stampanti</strong>") || !strings.Contains(h.Get("Cache-Control"), "public") {
			t.Fatalf("article: %d %s", st, page)
		}
		for _, bad := range []string{"<script>alert", "javascript:", "onerror"} {
			if strings.Contains(page, bad) {
				t.Errorf("the article page holds %q", bad)
			}
		}
		if !strings.Contains(page, `<link rel="alternate" hreflang="en" href="`+k.srv.URL) && !strings.Contains(page, `hreflang="en"`) {
			t.Errorf("no hreflang link to the English version")
		}
		if !strings.Contains(page, `<link rel="canonical" href="`) {
			t.Errorf("no canonical link")
		}
		// Votes are counted.
		for _, v := range []string{"yes", "yes", "no"} {
			if st, _, _ := visitor.req("POST", "/help/it/a/"+slug[1]+"/vote", url.Values{"helpful": {v}}, ""); st != 303 {
				t.Fatalf("vote: %d", st)
			}
		}
		if _, _, page := lead.req("GET", "/kb", nil, ""); !strings.Contains(page, "<td>2 / 1</td>") {
			t.Errorf("votes not counted on the workspace list")
		}
		// Drafts and internal articles are not found; neither is a language
		// the help centre is not written in.
		for _, p := range []string{"/help/it/a/stampanti-in-bozza", "/help/it/a/stampanti-nota-interna", "/help/de", "/help/it/a/nessuno", "/help/it/a/%ff%fe", "/help/it/c/%c3%28", "/kb/%ff"} {
			if st, _, _ := visitor.req("GET", p, nil, ""); st != 404 {
				t.Errorf("%s: %d, want 404", p, st)
			}
		}
		st, _, page = visitor.req("GET", "/help/sitemap.xml", nil, "")
		if st != 200 || !strings.Contains(page, "/help/it/a/la-stampante-non-stampa-piu</loc>") || !strings.Contains(page, `hreflang="en"`) || strings.Contains(page, "bozza") {
			t.Errorf("sitemap: %d %s", st, page)
		}
		if st, _, page := visitor.req("GET", "/help/en", nil, ""); st != 200 || !strings.Contains(page, "The printer no longer prints") || !strings.Contains(page, "Printing") {
			t.Errorf("English home: %d %s", st, page)
		}
		// An admin sets the brand: a logo (multipart) and a colour.
		admin := signedIn(t, k, "admin")
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"name": "Bottega", "accent": "#ffcc00", "languages": "it, en", "delay_hours": "24"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("logo", "logo.png")
		fw.Write(png)
		mw.Close()
		req, _ := http.NewRequest("POST", k.srv.URL+"/admin/help", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := admin.c.Do(req)
		if err != nil || res.StatusCode != 303 {
			t.Fatalf("brand: %v %v", res.StatusCode, err)
		}
		res.Body.Close()
		if st, h, _ := visitor.req("GET", "/help/logo", nil, ""); st != 200 || h.Get("Content-Type") != "image/png" {
			t.Errorf("logo: %d %s", st, h.Get("Content-Type"))
		}
		if _, _, css := visitor.req("GET", "/help/brand.css", nil, ""); !strings.Contains(css, "--brand: #ffcc00; --brand-ink: #1b1f24") {
			t.Errorf("brand colours: %s", css)
		}
		if _, _, page := visitor.req("GET", "/help/it", nil, ""); !strings.Contains(page, `<img src="/help/logo"`) || !strings.Contains(page, "Bottega") {
			t.Errorf("the help centre does not show the brand")
		}
		// A second admin's form, read before the colour changed, renames
		// the help centre: the colour another admin set stays.
		stale := url.Values{"name": {"Bottega Nuova"}, "was_name": {"Sportello"}, "accent": {"#0b5cad"}, "was_accent": {"#0b5cad"},
			"languages": {"it, en"}, "was_languages": {"it, en"}, "delay_hours": {"24"}, "was_delay_hours": {"24"}, "was_portal_orgs": {""}}
		if st, _, page := signedIn(t, k, "admin").req("POST", "/admin/help", stale, ""); st != 303 {
			t.Fatalf("stale brand form: %d %s", st, page)
		}
		if _, _, css := visitor.req("GET", "/help/brand.css", nil, ""); !strings.Contains(css, "#ffcc00") {
			t.Errorf("a stale form undid the colour: %s", css)
		}
		if _, _, page := visitor.req("GET", "/help/it", nil, ""); !strings.Contains(page, "Bottega Nuova") {
			t.Errorf("the rename was not applied")
		}
		// A reply can become a draft article.
		n := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Come cambio la password?", "body": "Non ricordo come.", "requester": map[string]any{"email": "c@example.it"}, "team_id": k.teamID}).num("number")
		mr := k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", n), map[string]any{"kind": "reply", "body": "Vada su Profilo e scelga «Cambia password»."})
		m := int64(mr.JSON["message"].(map[string]any)["id"].(float64))
		if st, _, page := ag.req("GET", fmt.Sprintf("/kb/new?from_ticket=%d&message=%d", n, m), nil, ""); st != 200 || !strings.Contains(page, "Vada su Profilo") || !strings.Contains(page, `value="Come cambio la password?"`) {
			t.Errorf("article from a reply: %d", st)
		}
	})
}

// The contact form refuses the honeypot, a post within seconds of the
// page, a forged token and floods, each with a clear message and the text
// kept; a good post makes one web ticket even when sent twice.
func TestHelpContactForm(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00")
		k := newDeskWith(t, db, app.Options{Now: clk.Now})
		v := newBrowser(t, k)
		form := func() url.Values {
			_, _, page := v.req("GET", "/help/it/contact", nil, "")
			m := formToken.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no form token: %s", page)
			}
			return url.Values{"form_token": {m[1]}, "name": {"Sara Neri"}, "email": {"sara.neri@example.it"}, "subject": {"Fattura doppia"}, "body": {"Mi avete addebitato due volte la fattura di marzo."}}
		}
		// The embeddable form: no header, framing allowed (only there).
		if st, h, page := v.req("GET", "/help/it/contact?embed=1", nil, ""); st != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors *") ||
			strings.Contains(page, "help-top") || !strings.Contains(page, `action="/help/it/contact?embed=1"`) {
			t.Errorf("embedded form: %d %s", st, h.Get("Content-Security-Policy"))
		}
		if _, h, _ := v.req("GET", "/help/it/contact", nil, ""); !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("the help centre may be framed: %s", h.Get("Content-Security-Policy"))
		}
		f := form()
		if st, _, page := v.req("POST", "/help/it/contact", f, ""); st != 429 || !strings.Contains(page, "velocissimo") || !strings.Contains(page, "addebitato due volte") {
			t.Errorf("too fast: %d", st)
		}
		clk.Advance(5 * time.Second)
		bot := form()
		clk.Advance(5 * time.Second)
		bot.Set("website", "http://spam.example")
		if st, _, page := v.req("POST", "/help/it/contact", bot, ""); st != 422 || !strings.Contains(page, "non può essere accettata") {
			t.Errorf("honeypot: %d", st)
		}
		forged := form()
		clk.Advance(5 * time.Second)
		forged.Set("form_token", strings.Replace(forged.Get("form_token"), "A", "B", 1)+"x")
		if st, _, _ := v.req("POST", "/help/it/contact", forged, ""); st != 422 {
			t.Errorf("forged token: %d", st)
		}
		bad := form()
		clk.Advance(5 * time.Second)
		bad.Set("email", "non-una-email")
		bad.Set("subject", "")
		if st, _, page := v.req("POST", "/help/it/contact", bad, ""); st != 422 || !strings.Contains(page, `id="email-error"`) || !strings.Contains(page, `id="subject-error"`) || !strings.Contains(page, "addebitato due volte") {
			t.Errorf("bad fields: %d %s", st, page)
		}
		st, h, _ := v.req("POST", "/help/it/contact", f, "")
		if st != 303 || !strings.Contains(h.Get("Location"), "/help/it/contact/sent") {
			t.Fatalf("good post: %d %s", st, h.Get("Location"))
		}
		// Sent twice (Back and send): the same ticket.
		st, h2, _ := v.req("POST", "/help/it/contact", f, "")
		if st != 303 || h2.Get("Location") != h.Get("Location") {
			t.Errorf("the second send made another ticket: %s vs %s", h2.Get("Location"), h.Get("Location"))
		}
		list := k.must(200, "admin", "GET", "/api/v1/tickets?q=addebitato", nil)
		items := list.JSON["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["channel"] != "web" {
			t.Fatalf("tickets from the form: %v", items)
		}
		if _, _, page := v.req("GET", h.Get("Location"), nil, ""); !strings.Contains(page, fmt.Sprintf("#%v", items[0].(map[string]any)["number"])) {
			t.Errorf("the confirmation page does not give the number")
		}
		// Floods: the fourth post for the same email in ten minutes (the
		// one sent twice counts twice) waits.
		for i := 1; i < 3; i++ {
			g := form()
			clk.Advance(5 * time.Second)
			g.Set("subject", fmt.Sprint("Ancora ", i))
			st, _, page := v.req("POST", "/help/it/contact", g, "")
			if i < 2 && st != 303 {
				t.Fatalf("post %d: %d %s", i, st, page)
			}
			if i == 2 && (st != 429 || !strings.Contains(page, "Troppe richieste")) {
				t.Errorf("flood not stopped: %d", st)
			}
		}
	})
}
