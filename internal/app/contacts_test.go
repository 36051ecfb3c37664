package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/testdb"
)

// Merging duplicate contacts: emails, phones, tickets and copies move to the
// survivor, the moved tickets' histories say so, the duplicate is gone.
func TestMergeContacts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		org := k.must(201, "admin", "POST", "/api/v1/organisations", map[string]any{"name": "Ottica Venturi"}).num("id")
		keep := k.must(201, "agent", "POST", "/api/v1/contacts", map[string]any{"name": "Mario Rossi", "emails": []string{"mario@example.it"},
			"phones": []string{"+39 333 111 2222"}}).num("id")
		dup := k.must(201, "agent", "POST", "/api/v1/contacts", map[string]any{"name": "M. Rossi", "emails": []string{"m.rossi@lavoro.it"},
			"phones": []string{"+39 02 555 0101"}, "organisation_id": org, "notes": "Preferisce essere chiamato al mattino."}).num("id")
		t1 := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "body": "b", "requester": map[string]any{"id": dup}, "team_id": k.teamID}).num("number")
		t2 := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "c", "body": "d", "requester": map[string]any{"id": keep},
			"cc_emails": []string{"m.rossi@lavoro.it"}, "team_id": k.teamID}).num("number")

		k.must(403, "agent", "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", keep), map[string]any{"from": dup})
		if r := k.must(422, "lead", "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", keep), map[string]any{"from": keep}); problemField(r) != "from" {
			t.Errorf("self merge: %s", r)
		}
		m := k.must(200, "lead", "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", keep), map[string]any{"from": dup})
		emails := fmt.Sprint(m.JSON["emails"])
		if !strings.Contains(emails, "mario@example.it") || !strings.Contains(emails, "m.rossi@lavoro.it") || len(m.JSON["phones"].([]any)) != 2 ||
			m.num("organisation_id") != org || m.JSON["name"] != "Mario Rossi" || !strings.Contains(m.JSON["notes"].(string), "mattino") {
			t.Errorf("survivor: %s", m)
		}
		k.must(404, "lead", "GET", fmt.Sprintf("/api/v1/contacts/%d", dup), nil)
		if got := k.must(200, "lead", "GET", fmt.Sprintf("/api/v1/tickets/%d", t1), nil); got.num("requester_id") != keep {
			t.Errorf("ticket not moved: %s", got)
		}
		h := k.must(200, "lead", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", t1), nil)
		if !strings.Contains(h.String(), fmt.Sprintf(`"field":"requester","before":"%d","after":"%d"`, dup, keep)) {
			t.Errorf("history lacks the move: %s", h)
		}
		// The survivor was already the requester of t2, where the duplicate
		// was in copy: the copy goes, nothing is duplicated.
		got := k.must(200, "lead", "GET", fmt.Sprintf("/api/v1/tickets/%d", t2), nil)
		var ccs []int64
		for _, c := range got.JSON["cc_ids"].([]any) {
			ccs = append(ccs, int64(c.(float64)))
		}
		if slices.Contains(ccs, dup) {
			t.Errorf("ccs still name the duplicate: %v", ccs)
		}
		// New mail from the duplicate's address now finds the survivor.
		r := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "e", "body": "f", "requester": map[string]any{"email": "M.Rossi@lavoro.it"}})
		if r.num("requester_id") != keep || r.JSON["requester_created"] == true {
			t.Errorf("address of the duplicate: %s", r)
		}
	})
}

// Finding the customer (issue 11), on both databases: a contact is found
// by any word of the name (in any order, without accents), by any part of
// an address including the domain, and by a phone number typed with or
// without the country code, spaces or dashes; in the API and the page.
func TestContactSearchAnyWord(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		for _, c := range []map[string]any{
			{"name": "Luca Greco", "emails": []string{"luca.greco@example.it"}, "phones": []string{"+39 333 123 4567"}},
			{"name": "James Wright", "emails": []string{"j.wright@brambilla-ferramenta.it"}},
			{"name": "Niccolò Bianchi", "emails": []string{"nbianchi@posta.example.com"}, "phones": []string{"02-5555 1234"}},
			{"name": "Grecale Srl", "emails": []string{"info@grecale.example"}},
		} {
			k.must(201, "agent", "POST", "/api/v1/contacts", c)
		}
		names := func(q string) []string {
			r := k.must(200, "agent", "GET", "/api/v1/contacts?q="+url.QueryEscape(q), nil)
			var out []string
			for _, it := range r.JSON["items"].([]any) {
				out = append(out, it.(map[string]any)["name"].(string))
			}
			return out
		}
		for q, want := range map[string]string{
			"Greco":                   "Luca Greco",
			"greco luca":              "Luca Greco",
			"wright":                  "James Wright",
			"brambilla-ferramenta.it": "James Wright",
			"ferramenta":              "James Wright",
			"niccolo":                 "Niccolò Bianchi",
			"posta.example.com":       "Niccolò Bianchi",
			"3331234567":              "Luca Greco",
			"333 123 4567":            "Luca Greco",
			"+39 333-1234567":         "Luca Greco",
			"0255551234":              "Niccolò Bianchi",
			"luca.greco@example.it":   "Luca Greco",
			"grecale":                 "Grecale Srl",
		} {
			if got := names(q); len(got) != 1 || got[0] != want {
				t.Errorf("search %q found %v, want %s", q, got, want)
			}
		}
		if got := names("greco"); len(got) != 1 {
			t.Errorf("greco found %v (a word prefix, not any substring: Grecale is another word)", got)
		}
		if got := names("gre"); len(got) != 2 {
			t.Errorf("gre found %v, want Luca Greco and Grecale Srl", got)
		}
		if got := names("nessuno"); len(got) != 0 {
			t.Errorf("nessuno found %v", got)
		}
		b := signedIn(t, k, "agent")
		if _, _, body := b.req("GET", "/contacts?q="+url.QueryEscape("333 1234567"), nil, ""); !strings.Contains(body, "Luca Greco") {
			t.Errorf("the contacts page does not find a caller by phone")
		}
	})
}

// A caller with only a phone number (issue 11), on both databases: the
// API and the new-ticket form create the contact from the number, the
// same number typed differently finds them again, and a number that is
// not one is refused naming the field.
func TestPhoneOnlyRequester(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		first := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Caldaia ferma", "body": "Chiama dal cantiere.",
			"requester": map[string]any{"name": "Ernesto Galli", "phone": "+39 347 555 0101"}, "channel": "phone"})
		if first.JSON["requester_created"] != true {
			t.Fatalf("first call: %s", first)
		}
		again := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Caldaia ancora ferma", "body": "Richiama.",
			"requester": map[string]any{"phone": "347-5550101"}, "channel": "phone"})
		if again.JSON["requester_created"] != false || again.JSON["requester_id"] != first.JSON["requester_id"] {
			t.Fatalf("the same caller typed differently: %s", again)
		}
		r := k.must(422, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "x", "body": "y", "requester": map[string]any{"phone": "12"}})
		if problemField(r) != "requester.phone" {
			t.Errorf("a short number: %s", r)
		}
		b := signedIn(t, k, "agent")
		st, h, _ := b.req("POST", "/tickets/new", url.Values{"name": {"Rita Longo"}, "phone": {"06 4455 6677"}, "subject": {"Bolletta"},
			"body": {"Chiede della bolletta."}, "channel": {"phone"}, "priority": {"normal"}, "form_token": {"tok-phone-1"}}, "")
		if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/tickets/") {
			t.Fatalf("phone-only ticket from the form: %d", st)
		}
		if got := k.must(200, "agent", "GET", "/api/v1/contacts?q="+url.QueryEscape("0644556677"), nil); !strings.Contains(got.String(), "Rita Longo") {
			t.Errorf("the caller is not found by the number: %s", got)
		}
	})
}

// Ticket search finds tickets by the requester's name and organisation
// (issue 11), also after the contact is renamed, on both databases.
func TestTicketSearchByRequester(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		k.must(201, "lead", "POST", "/api/v1/organisations", map[string]any{"name": "Ferramenta Brambilla", "domains": []string{"brambilla.example"}})
		num := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura di marzo", "body": "Non torna l'IVA.",
			"requester": map[string]any{"email": "ernesto@brambilla.example", "name": "Ernesto Galli"}, "team_id": k.teamID}).num("number")
		found := func(q string) bool {
			r := k.must(200, "agent", "GET", "/api/v1/tickets?q="+url.QueryEscape(q), nil)
			for _, it := range r.JSON["items"].([]any) {
				if int64(it.(map[string]any)["number"].(float64)) == num {
					return true
				}
			}
			return false
		}
		for _, q := range []string{"Galli", "Brambilla", "ernesto fattura"} {
			if !found(q) {
				t.Errorf("search %q does not find the ticket", q)
			}
		}
		c := k.must(200, "agent", "GET", "/api/v1/tickets/"+fmt.Sprint(num), nil)
		cid := c.num("requester_id")
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/contacts/%d", cid), map[string]any{"name": "Ernesto Colombo"})
		if !found("Colombo") {
			t.Errorf("after the rename the ticket is not found by the new name")
		}
	})
}
