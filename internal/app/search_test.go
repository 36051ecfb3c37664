package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/gen"
	"github.com/sportello/sportello/internal/testdb"
)

// The search box: stems across forms and languages, highlights, combines
// with filters, finds contacts, jumps to "#N", and shows bad filters next
// to their field in the agent's language without losing what was typed.
func TestWorkspaceSearch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		mk := func(subject, body, email string, extra map[string]any) int64 {
			in := map[string]any{"subject": subject, "body": body, "requester": map[string]any{"email": email, "name": strings.Split(email, "@")[0]}, "team_id": k.teamID}
			for key, v := range extra {
				in[key] = v
			}
			return k.must(201, "agent", "POST", "/api/v1/tickets", in).num("number")
		}
		printer := mk("Stampante guasta", "La stampante dell'ufficio non stampa più da lunedì.", "giulia.verdi@example.it", nil)
		invoice := mk("Invoice charged twice", "I was charged twice for the March invoice.", "john@example.com", map[string]any{"priority": "urgent"})
		mk("Connessione lenta", "Il router si spegne la sera.", "luca@example.it", nil)

		// The API takes the same query.
		got := k.must(200, "agent", "GET", "/api/v1/tickets?q=stampanti&sort=relevance", nil)
		if items, _ := got.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["number"].(float64) != float64(printer) {
			t.Fatalf("API q=stampanti: %s", got)
		}
		if bad := k.must(422, "agent", "GET", "/api/v1/tickets?q=the+and", nil); !strings.Contains(bad.String(), `"field":"q"`) {
			t.Fatalf("API stopwords: %s", bad)
		}
		b := signedIn(t, k, "agent")
		st, _, body := b.req("GET", "/search?q=stampanti", nil, "")
		if st != 200 || !strings.Contains(body, fmt.Sprintf(`href="/tickets/%d"`, printer)) || !strings.Contains(body, "<mark>Stampante</mark> guasta") ||
			!strings.Contains(body, "La <mark>stampante</mark> dell&#39;ufficio") || strings.Contains(body, "Connessione lenta") {
			t.Fatalf("search stampanti: %d %s", st, body)
		}
		// English stems; a filter narrows; a filter that excludes empties.
		_, _, body = b.req("GET", "/search?q=invoices&priority=urgent", nil, "")
		if !strings.Contains(body, fmt.Sprintf(`href="/tickets/%d"`, invoice)) {
			t.Fatalf("invoices, urgent: %s", body)
		}
		_, _, body = b.req("GET", "/search?q=invoices&priority=low", nil, "")
		if strings.Contains(body, fmt.Sprintf(`href="/tickets/%d"`, invoice)) || !strings.Contains(body, "Nessun ticket corrisponde") {
			t.Fatalf("invoices, low: %s", body)
		}
		// Contacts by name and email.
		_, _, body = b.req("GET", "/search?q=giulia", nil, "")
		if !strings.Contains(body, "giulia.verdi@example.it") {
			t.Fatalf("contact not found: %s", body)
		}
		// "#N" opens the ticket.
		st, h, _ := b.req("GET", fmt.Sprintf("/search?q=%%23%d", invoice), nil, "")
		if st != http.StatusSeeOther || h.Get("Location") != fmt.Sprintf("/tickets/%d", invoice) {
			t.Fatalf("#N: %d %s", st, h.Get("Location"))
		}
		// Bad filters: 422, each error next to its field, the words kept.
		st, _, body = b.req("GET", "/search?q=fattura&created_from=ieri&assignee=abc&created_to=2026-01-01", nil, "")
		if st != 422 || !strings.Contains(body, `id="created_from-error">Scrivi una data come gg/mm/aaaa`) ||
			!strings.Contains(body, "Deve essere un numero") || !strings.Contains(body, `value="fattura"`) {
			t.Fatalf("bad filters: %d %s", st, body)
		}
		st, _, body = b.req("GET", "/search?q=il+la+the", nil, "")
		if st != 422 || !strings.Contains(body, `id="q-error"`) {
			t.Fatalf("stopwords only: %d %s", st, body)
		}
	})
}

// Saved views: a search saved as a view shows in the sidebar with its
// count, opens as a queue, is shared with a team (the lead sees it, an
// outsider does not), refuses a blank name next to the field, and is
// deleted by its author but not by a teammate.
func TestWorkspaceSavedViews(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		for i, p := range []string{"urgent", "urgent", "low"} {
			k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprintf("Guasto %d", i), "body": "x",
				"requester": map[string]any{"email": "r@example.com"}, "team_id": k.teamID, "priority": p})
		}
		b := signedIn(t, k, "agent")
		form := url.Values{"priority": {"urgent"}, "view_name": {"   "}, "share": {fmt.Sprint(k.teamID)}}
		st, _, body := b.req("POST", "/views", form, "")
		if st != 422 || !strings.Contains(body, `id="view-error">Dai un nome alla vista.`) {
			t.Fatalf("blank name: %d %s", st, body)
		}
		form.Set("view_name", "Urgenti del team")
		st, h, _ := b.req("POST", "/views", form, "")
		if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/?view=v") {
			t.Fatalf("save view: %d %s", st, h.Get("Location"))
		}
		view := h.Get("Location")
		// A second view of the same name is refused; an unknown view says so.
		if st, _, body := b.req("POST", "/views", form, ""); st != 422 || !strings.Contains(body, "Hai già una vista con questo nome.") {
			t.Errorf("a duplicate view name: %d", st)
		}
		if _, _, body := b.req("GET", "/?view=v999999", nil, ""); !strings.Contains(body, "Questa vista non esiste (più)") {
			t.Errorf("an unknown view shows another queue silently")
		}
		_, _, body = b.req("GET", view, nil, "")
		if !strings.Contains(body, "<h1>Urgenti del team</h1>") || strings.Count(body, ">Guasto ") != 2 ||
			!strings.Contains(body, `data-count="`+strings.TrimPrefix(view, "/?view=")+`">2</span>`) {
			t.Fatalf("view page: %s", body)
		}
		// Column headers sort; the current one says which way.
		_, _, body = b.req("GET", view+"&sort=-priority", nil, "")
		if !strings.Contains(body, `aria-sort="descending"><a href="/?view=`+strings.TrimPrefix(view, "/?view=")+`&amp;sort=priority"`) {
			t.Fatalf("sorted header: %s", body)
		}
		lead := signedIn(t, k, "lead")
		if _, _, body := lead.req("GET", "/", nil, ""); !strings.Contains(body, "Urgenti del team") {
			t.Fatalf("shared view missing for the lead: %s", body)
		}
		admin := signedIn(t, k, "admin") // not in the team
		if _, _, body := admin.req("GET", view, nil, ""); strings.Contains(body, "Urgenti del team") {
			t.Fatalf("view leaked outside the team: %s", body)
		}
		// Sharing with a team one is not in is refused.
		form.Set("share", "999999")
		if st, _, body := b.req("POST", "/views", form, ""); st != 422 || !strings.Contains(body, "solo con un team di cui fai parte") {
			t.Fatalf("foreign team: %d %s", st, body)
		}
		id := strings.TrimPrefix(view, "/?view=v")
		// The lead's private view is neither visible nor deletable by the agent.
		_, h, _ = lead.req("POST", "/views", url.Values{"q": {"guasto"}, "view_name": {"Mia"}}, "")
		private := strings.TrimPrefix(h.Get("Location"), "/?view=v")
		if st, _, _ := b.req("POST", "/views/"+private+"/delete", url.Values{}, ""); st != http.StatusNotFound {
			t.Fatalf("someone else deletes a private view: %d", st)
		}
		if _, _, body := lead.req("GET", h.Get("Location"), nil, ""); strings.Count(body, ">Guasto ") != 3 {
			t.Fatalf("text view lists: %s", body)
		}
		// Deleting asks first; the view stays until the author confirms.
		if st, _, body := b.req("POST", "/views/"+id+"/delete", url.Values{}, ""); st != 200 || !strings.Contains(body, "Eliminare la vista «Urgenti del team»?") {
			t.Fatalf("delete without confirmation: %d", st)
		}
		if _, _, body := lead.req("GET", "/", nil, ""); !strings.Contains(body, "Urgenti del team") {
			t.Fatal("the view went before the author confirmed")
		}
		if st, _, _ := b.req("POST", "/views/"+id+"/delete", url.Values{"confirm": {"1"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("author deletes: %d", st)
		}
		if _, _, body := lead.req("GET", "/", nil, ""); strings.Contains(body, "Urgenti del team") {
			t.Fatalf("deleted view still listed")
		}
	})
}

// Organisations: leads add and edit them with errors next to the field;
// an organisation's page lists its contacts and tickets; agents read.
func TestWorkspaceOrganisations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		lead := signedIn(t, k, "lead")
		st, _, body := lead.req("POST", "/organisations", url.Values{"name": {"Ottica Venturi"}, "domains": {"non un dominio"}}, "")
		if st != 422 || !strings.Contains(body, `id="o-domains-error">Non è un nome di dominio`) || !strings.Contains(body, `value="Ottica Venturi"`) {
			t.Fatalf("bad domain: %d %s", st, body)
		}
		st, h, _ := lead.req("POST", "/organisations", url.Values{"name": {"Ottica Venturi"}, "domains": {"otticaventuri.it"}}, "")
		if st != http.StatusSeeOther {
			t.Fatalf("create organisation: %d", st)
		}
		org := h.Get("Location")
		k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Lenti graffiate", "body": "x",
			"requester": map[string]any{"email": "anna@otticaventuri.it", "name": "Anna Serra"}, "team_id": k.teamID})
		b := signedIn(t, k, "agent")
		_, _, body = b.req("GET", org, nil, "")
		if !strings.Contains(body, "Lenti graffiate") || !strings.Contains(body, "Anna Serra") || strings.Contains(body, `action="`+org+`"`) {
			t.Fatalf("organisation page for an agent: %s", body)
		}
		if st, _, _ := b.req("POST", org, url.Values{"name": {"X"}}, ""); st != http.StatusForbidden {
			t.Fatalf("agent edits an organisation: %d", st)
		}
		_, _, body = b.req("GET", "/organisations?q=venturi", nil, "")
		if !strings.Contains(body, "Ottica Venturi") {
			t.Fatalf("organisation search: %s", body)
		}
		if st, _, _ := lead.req("POST", org, url.Values{"name": {"Ottica Venturi srl"}, "domains": {"otticaventuri.it"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("lead edits: %d", st)
		}
		if _, _, body := b.req("GET", org, nil, ""); !strings.Contains(body, "<h1>Ottica Venturi srl</h1>") {
			t.Fatalf("edit not saved: %s", body)
		}
	})
}

// Bulk merge: the selected tickets fold into the one named; the target
// itself, if selected, stays.
func TestWorkspaceBulkMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		var ids []int64
		for i := 0; i < 3; i++ {
			ids = append(ids, k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprint("Doppione ", i), "body": "x",
				"requester": map[string]any{"email": "dup@example.com"}, "team_id": k.teamID}).num("number"))
		}
		b := signedIn(t, k, "agent")
		form := url.Values{"view": {"teams"}, "merge_into": {fmt.Sprintf("#%d", ids[0])}}
		for _, id := range ids {
			form.Add("ids", fmt.Sprint(id))
		}
		// Merging asks first, listing every ticket; no warning, as all
		// three are the same customer's.
		st, _, page := b.req("POST", "/tickets/bulk", form, "")
		if st != 200 || !strings.Contains(page, "Unire 2 ticket nel") || strings.Contains(page, `role="alert"`) || !strings.Contains(page, "Doppione 2") {
			t.Fatalf("bulk merge did not ask first: %d %s", st, page)
		}
		form.Set("confirm", "1")
		st, h, _ := b.req("POST", "/tickets/bulk", form, "")
		if st != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=2") {
			t.Fatalf("bulk merge: %d %s", st, h.Get("Location"))
		}
		for _, id := range ids[1:] {
			if src := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil); src.num("merged_into") != ids[0] {
				t.Errorf("ticket %d not merged: %s", id, src)
			}
		}
		if tgt := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", ids[0]), nil); tgt.JSON["status"] == "closed" {
			t.Errorf("target closed: %s", tgt)
		}
	})
}

// The composer sends files: an image shows inline in the thread and every
// file downloads; files over the limit come back as an error, with the
// text restored from the draft.
func TestWorkspaceComposerAttachments(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		n := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Foto del danno", "body": "x",
			"requester": map[string]any{"email": "r@example.com"}, "team_id": k.teamID}).num("number")
		b := signedIn(t, k, "agent")
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
		post := func(files map[string][]byte, fields map[string]string) (int, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for k, v := range fields {
				mw.WriteField(k, v)
			}
			for name, data := range files {
				fw, _ := mw.CreateFormFile("files", name)
				fw.Write(data)
			}
			mw.Close()
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/tickets/%d/messages", k.srv.URL, n), &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			res, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(raw)
		}
		st, _ := post(map[string][]byte{"danno.png": png, "preventivo.txt": []byte("100 euro")}, map[string]string{"kind": "reply", "body": "Ecco le foto."})
		if st != http.StatusSeeOther {
			t.Fatalf("reply with files: %d", st)
		}
		_, _, body := b.req("GET", fmt.Sprintf("/tickets/%d", n), nil, "")
		if !strings.Contains(body, `alt="danno.png"`) || !strings.Contains(body, ">preventivo.txt</a>") || strings.Contains(body, `alt="preventivo.txt"`) {
			t.Fatalf("thread attachments: %s", body)
		}
		// Larger than the desk's upload limit (35 MiB by default).
		b.req("POST", fmt.Sprintf("/tickets/%d/draft", n), url.Values{"kind": {"note"}, "body": {"Nota lunga da non perdere"}}, "")
		st, body = post(map[string][]byte{"grande.bin": bytes.Repeat([]byte("x"), 36<<20)}, map[string]string{"kind": "note", "body": "Nota lunga da non perdere"})
		if st != http.StatusRequestEntityTooLarge || !strings.Contains(body, "I file sono troppo grandi") || !strings.Contains(body, "Nota lunga da non perdere") {
			t.Fatalf("too large: %d %s", st, body)
		}
	})
}

// Sorting by requester orders by name; on a list of 1,000 tickets or more
// (where it would read the whole list) the page keeps the default order and
// says so.
func TestWorkspaceRequesterSort(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		for _, who := range []string{"Zeno Zanetti", "Anna Amato", "Marco Monti"} {
			k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Richiesta di " + who, "body": "x",
				"requester": map[string]any{"email": strings.ToLower(strings.Fields(who)[0]) + "@example.it", "name": who}, "team_id": k.teamID})
		}
		b := signedIn(t, k, "agent")
		_, _, body := b.req("GET", "/?view=teams&sort=requester", nil, "")
		a, m, z := strings.Index(body, "Richiesta di Anna"), strings.Index(body, "Richiesta di Marco"), strings.Index(body, "Richiesta di Zeno")
		if a < 0 || !(a < m && m < z) || strings.Contains(body, "L&#39;ordinamento per richiedente funziona") {
			t.Fatalf("sorted by requester: Anna %d, Marco %d, Zeno %d\n%s", a, m, z, body)
		}
		_, _, body = b.req("GET", "/?view=teams&sort=-requester", nil, "")
		if strings.Index(body, "Richiesta di Zeno") > strings.Index(body, "Richiesta di Anna") {
			t.Fatalf("descending requester order: %s", body)
		}
		// A thousand more tickets: the order falls back, with a notice.
		if err := gen.Fill(context.Background(), k.d.Store, gen.Options{Tickets: 1200, Teams: 1, Contacts: 50, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		admin := signedIn(t, k, "admin")
		st, _, body := admin.req("GET", "/search?status=closed&status=solved&status=open&status=new&status=pending&status=on_hold&sort=requester", nil, "")
		if st != 200 || !strings.Contains(body, "L&#39;ordinamento per richiedente funziona su code fino a 999 ticket") {
			t.Fatalf("large list sorted by requester: %d %s", st, body)
		}
	})
}

// The History tab lists every change with who made it, in the agent's
// language, including the changes the thread shows no line for.
func TestWorkspaceHistoryTab(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		n := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Vecchio oggetto", "body": "x",
			"requester": map[string]any{"email": "r@example.com"}, "team_id": k.teamID}).num("number")
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", n), map[string]any{"subject": "Nuovo oggetto", "priority": "high"})
		_, _, body := signedIn(t, k, "agent").req("GET", fmt.Sprintf("/tickets/%d", n), nil, "")
		for _, want := range []string{"Cronologia", "Oggetto: Vecchio oggetto → Nuovo oggetto", "Priorità: normale → alta", "<td>Agent Person</td>"} {
			if !strings.Contains(body, want) {
				t.Errorf("history tab lacks %q", want)
			}
		}
	})
}
