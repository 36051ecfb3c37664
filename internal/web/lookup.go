package web

import (
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
)

// Look-ups feed the workspace's type-ahead fields: the requester and
// organisation filters of the search page, the caller on the new-ticket
// form and @mentions in notes. Each answers JSON to the signed-in agent
// under the permission of the page it serves, at most lookupLimit rows.
const lookupLimit = 8

type lookupRow struct {
	ID     int64    `json:"id"`
	Label  string   `json:"label"`            // what the field shows once picked
	Detail string   `json:"detail,omitempty"` // a second line: addresses, phones
	Name   string   `json:"name,omitempty"`
	Emails []string `json:"emails,omitempty"`
	Phones []string `json:"phones,omitempty"`
}

func (h *handler) lookupJSON(w http.ResponseWriter, rows []lookupRow) error {
	if rows == nil {
		rows = []lookupRow{}
	}
	return httpx.JSON(w, http.StatusOK, rows)
}

// lookupContacts: GET /lookup/contacts?q= — contacts by any word of the
// name, any part of an address or the digits of a phone number, as the
// contacts page finds them.
func (h *handler) lookupContacts(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(q)) < 2 {
		return h.lookupJSON(w, nil)
	}
	cs, err := h.Contacts.Contacts(r.Context(), contact.Filter{Query: q, Limit: lookupLimit})
	if err != nil {
		return err
	}
	rows := make([]lookupRow, len(cs))
	for i, c := range cs {
		rows[i] = lookupRow{ID: c.ID, Label: c.DisplayName(), Detail: strings.Join(append(append([]string{}, c.Emails...), c.Phones...), " · "),
			Name: c.Name, Emails: c.Emails, Phones: c.Phones}
	}
	return h.lookupJSON(w, rows)
}

// lookupOrganisations: GET /lookup/organisations?q= — by name.
func (h *handler) lookupOrganisations(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return h.lookupJSON(w, nil)
	}
	os, err := h.Orgs.FindOrganisations(r.Context(), q, lookupLimit, 0)
	if err != nil {
		return err
	}
	rows := make([]lookupRow, len(os))
	for i, o := range os {
		rows[i] = lookupRow{ID: o.ID, Label: o.Name, Detail: strings.Join(o.Domains, ", ")}
	}
	return h.lookupJSON(w, rows)
}

// lookupAgents: GET /lookup/agents?q= — active colleagues whose name or
// address starts with q (any word), for @mentions in notes.
func (h *handler) lookupAgents(w http.ResponseWriter, r *http.Request) error {
	q := i18n.Lower(strings.TrimSpace(r.URL.Query().Get("q")))
	as, err := h.Store.Agents(r.Context(), 1000, 0)
	if err != nil {
		return err
	}
	me := current(r).ID
	var rows []lookupRow
	for _, a := range as {
		if !a.Active || a.ID == me {
			continue
		}
		hit := q == "" || strings.HasPrefix(i18n.Lower(a.Email), q)
		for _, w := range strings.Fields(i18n.Lower(a.Name)) {
			hit = hit || strings.HasPrefix(w, q)
		}
		if hit || strings.HasPrefix(i18n.Lower(a.Name), q) {
			rows = append(rows, lookupRow{ID: a.ID, Label: a.Name, Detail: a.Email})
		}
		if len(rows) == lookupLimit {
			break
		}
	}
	return h.lookupJSON(w, rows)
}
