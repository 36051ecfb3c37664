package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// Automation is what the workspace does with rules, macros, webhooks and
// escalations: the same surface as the API's (app.Automation).
type Automation = automation.Surface

// lookupMacros: GET /tickets/{number}/macros?q= — the macros whose name
// holds q, each filled for this ticket in its language: the composer
// shows the text as a preview and inserts it when picked.
func (h *handler) lookupMacros(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	a := current(r)
	if _, err := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n); err != nil {
		return err
	}
	ms, err := h.Auto.Macros(r.Context(), a)
	if err != nil {
		return err
	}
	// The "/" that opened the list may arrive with the query.
	q := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.URL.Query().Get("q")), "/")))
	var rows []lookupRow
	for _, m := range ms {
		if q != "" && !strings.Contains(strings.ToLower(m.Name), q) {
			continue
		}
		out, err := h.Auto.RenderMacro(r.Context(), a, m.ID, n)
		if err != nil {
			return err
		}
		text := out.Text
		if out.Article != "" {
			text += "\n\n" + out.Article
		}
		preview := []rune(strings.ReplaceAll(out.Text, "\n", " "))
		if len(preview) > 90 {
			preview = append(preview[:90], '…')
		}
		rows = append(rows, lookupRow{ID: m.ID, Label: m.Name, Detail: strings.ToUpper(out.Language) + " · " + string(preview), Name: text})
		if len(rows) == lookupLimit {
			break
		}
	}
	return h.lookupJSON(w, rows)
}

// ticketEscalate: POST /tickets/{number}/escalate — to the next tier's
// team (or the team picked), the reason kept as an internal note.
func (h *handler) ticketEscalate(w http.ResponseWriter, r *http.Request) error {
	t, a, err := h.visibleTicketForm(w, r, 64<<10)
	if err != nil {
		return err
	}
	// The team the page showed: Back, a double click or a colleague who
	// escalated first never makes a second escalation.
	from, err := formTeam(r.PostFormValue("from_team_id"), "from_team_id")
	if err == nil && from == nil {
		zero := int64(0)
		from = &zero
	}
	var to *int64
	if err == nil {
		to, err = formTeam(r.PostFormValue("team_id"), "team_id")
	}
	if err == nil {
		_, err = h.Auto.Escalate(r.Context(), a, t.ID, from, to, r.PostFormValue("reason"), r.PostFormValue("tell") == "1")
	}
	if err != nil {
		if ps := problemsOf(err); ps != nil {
			pr := h.printer(r, a)
			http.Redirect(w, r, "/tickets/"+strconv.FormatInt(t.ID, 10)+"?escalate_error="+url.QueryEscape(pr.T("escalate.error."+ps[0].Rule)), http.StatusSeeOther)
			return nil
		}
		return err
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(t.ID, 10)+"#latest", http.StatusSeeOther)
	return nil
}

// formTeam reads an optional team id of a form (nil when empty).
func formTeam(v, field string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return nil, fault.Field(field, "exists", "no team has this id")
	}
	return &id, nil
}
