package app_test

import (
	"fmt"
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
