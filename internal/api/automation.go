package api

import (
	"context"
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/webhook"
)

// Automation is what the API does with rules, macros, webhooks and
// escalations: the same surface as the workspace's (app.Automation).
type Automation = automation.Surface

// RuleJSON is a rule as the API shows and takes it.
type RuleJSON struct {
	ID         int64                   `json:"id"`
	Name       string                  `json:"name"`
	Position   int                     `json:"position"`
	Active     bool                    `json:"active"`
	Events     []automation.Event      `json:"events,omitempty"`
	Time       *automation.TimeTrigger `json:"time,omitempty"`
	Match      string                  `json:"match"`
	Conditions []automation.Condition  `json:"conditions"`
	Actions    []automation.Action     `json:"actions"`
	Fired      int64                   `json:"fired"`
	CreatedAt  time.Time               `json:"created_at"`
	UpdatedAt  time.Time               `json:"updated_at"`
}

// ruleIn is a create (every field it needs) or a change: on PUT, the
// fields left out keep their stored values, so a client that changes the
// name never switches the rule off by leaving "active" out.
type ruleIn struct {
	Name       *string                  `json:"name"`
	Position   *int                     `json:"position"`
	Active     *bool                    `json:"active"`
	Events     *[]automation.Event      `json:"events"`
	Time       **automation.TimeTrigger `json:"time"`
	Match      *string                  `json:"match"`
	Conditions *[]automation.Condition  `json:"conditions"`
	Actions    *[]automation.Action     `json:"actions"`
	// UpdatedAt, on a change, is the version the caller read: a rule
	// changed since is refused (409).
	UpdatedAt *time.Time `json:"updated_at"`
}

func (in ruleIn) apply(r *automation.Rule) {
	set(&r.Name, in.Name)
	set(&r.Position, in.Position)
	set(&r.Active, in.Active)
	set(&r.Events, in.Events)
	set(&r.Time, in.Time)
	set(&r.Match, in.Match)
	set(&r.Conditions, in.Conditions)
	set(&r.Actions, in.Actions)
}

// set copies v into dst when the request gave it.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// idOrNew is the path's id on a PUT, 0 on the collection's POST.
func idOrNew(r *http.Request) (int64, error) {
	if r.PathValue("id") == "" {
		return 0, nil
	}
	return pathID(r, "id")
}

// readAt is the version a change was based on (zero: not checked).
func readAt(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func ruleJSON(r *automation.Rule) RuleJSON {
	out := RuleJSON{ID: r.ID, Name: r.Name, Position: r.Position, Active: r.Active, Events: r.Events, Time: r.Time,
		Match: r.Match, Conditions: r.Conditions, Actions: r.Actions, Fired: r.Fired, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if out.Conditions == nil {
		out.Conditions = []automation.Condition{}
	}
	return out
}

// listRules: GET /api/v1/rules
func (h *handler) listRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.Auto.Rules(r.Context())
	if err != nil {
		return err
	}
	out := make([]RuleJSON, len(rs))
	for i := range rs {
		out[i] = ruleJSON(&rs[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"rules": out})
}

// getRule: GET /api/v1/rules/{id}
func (h *handler) getRule(w http.ResponseWriter, r *http.Request) error {
	return showByID(w, r, h.Auto.Rule, func(rule *automation.Rule) any { return ruleJSON(rule) })
}

// saveRule: POST /api/v1/rules and PUT /api/v1/rules/{id} (the fields
// given; the others keep their stored values)
func (h *handler) saveRule(w http.ResponseWriter, r *http.Request) error {
	id, err := idOrNew(r)
	if err != nil {
		return err
	}
	var in ruleIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	rule := &automation.Rule{}
	if id != 0 {
		if rule, err = h.Auto.Rule(r.Context(), id); err != nil {
			return err
		}
	}
	in.apply(rule)
	if err := h.Auto.SaveRule(r.Context(), rule, readAt(in.UpdatedAt)); err != nil {
		return err
	}
	return saved(w, id == 0, "/api/v1/rules/"+itoa(rule.ID), ruleJSON(rule))
}

// deleteRule: DELETE /api/v1/rules/{id}
func (h *handler) deleteRule(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, h.Auto.DeleteRule)
}

// dryRun: POST /api/v1/rules/dry-run — which rules would fire on a
// ticket for an event, and for each other rule why not.
func (h *handler) dryRun(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Ticket int64  `json:"ticket"`
		Event  string `json:"event"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	if in.Ticket <= 0 {
		return fault.Field("ticket", "required", "give the number of a ticket you can see")
	}
	out, err := h.Auto.DryRun(r.Context(), actorOf(r), in.Ticket, in.Event)
	if err != nil {
		return err
	}
	if out == nil {
		out = []automation.DryRule{}
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"ticket": in.Ticket, "rules": out})
}

// macroIn is a create or, on PUT, the fields to change.
type macroIn struct {
	Name        *string                  `json:"name"`
	Kind        *string                  `json:"kind"`
	Shared      *bool                    `json:"shared"`
	Variants    *map[string]string       `json:"variants"`
	Actions     *automation.MacroActions `json:"actions"`
	KBArticleID **int64                  `json:"kb_article_id"`
	UpdatedAt   *time.Time               `json:"updated_at"`
}

// MacroJSON is a macro; Shared tells whether every agent may use it.
type MacroJSON struct {
	automation.Macro
	Shared bool `json:"shared"`
}

func macroJSON(m *automation.Macro) MacroJSON { return MacroJSON{Macro: *m, Shared: m.OwnerID == nil} }

// listMacros: GET /api/v1/macros — the shared macros and the caller's own.
func (h *handler) listMacros(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.Auto.Macros(r.Context(), current(r))
	if err != nil {
		return err
	}
	out := make([]MacroJSON, len(ms))
	for i := range ms {
		out[i] = macroJSON(&ms[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"macros": out})
}

// getMacro: GET /api/v1/macros/{id}
func (h *handler) getMacro(w http.ResponseWriter, r *http.Request) error {
	get := func(ctx context.Context, id int64) (*automation.Macro, error) {
		return h.Auto.Macro(ctx, current(r), id)
	}
	return showByID(w, r, get, func(m *automation.Macro) any { return macroJSON(m) })
}

// saveMacro: POST /api/v1/macros and PUT /api/v1/macros/{id} (the fields
// given; the others keep their stored values)
func (h *handler) saveMacro(w http.ResponseWriter, r *http.Request) error {
	id, err := idOrNew(r)
	if err != nil {
		return err
	}
	var in macroIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	m := &automation.Macro{}
	if id != 0 {
		if m, err = h.Auto.Macro(r.Context(), current(r), id); err != nil {
			return err
		}
	}
	shared := m.ID != 0 && m.OwnerID == nil
	set(&shared, in.Shared)
	set(&m.Name, in.Name)
	set(&m.Kind, in.Kind)
	set(&m.Variants, in.Variants)
	set(&m.Actions, in.Actions)
	set(&m.KBArticleID, in.KBArticleID)
	if err := h.Auto.SaveMacro(r.Context(), current(r), m, shared, readAt(in.UpdatedAt)); err != nil {
		return err
	}
	return saved(w, id == 0, "/api/v1/macros/"+itoa(m.ID), macroJSON(m))
}

// deleteMacro: DELETE /api/v1/macros/{id}
func (h *handler) deleteMacro(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, func(ctx context.Context, id int64) error { return h.Auto.DeleteMacro(ctx, current(r), id) })
}

// WebhookJSON is a webhook; Secret is shown once, when it is created.
type WebhookJSON struct {
	webhook.Webhook
	Secret string `json:"secret,omitempty"`
}

// webhookIn is a create or, on PUT, the fields to change.
type webhookIn struct {
	Name         *string    `json:"name"`
	URL          *string    `json:"url"`
	Events       *[]string  `json:"events"`
	Active       *bool      `json:"active"`
	AllowPrivate *bool      `json:"allow_private"`
	UpdatedAt    *time.Time `json:"updated_at"`
}

// listWebhooks: GET /api/v1/webhooks
func (h *handler) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := h.Auto.Webhooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]WebhookJSON, len(hs))
	for i := range hs {
		out[i] = WebhookJSON{Webhook: hs[i]}
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

// getWebhook: GET /api/v1/webhooks/{id}
func (h *handler) getWebhook(w http.ResponseWriter, r *http.Request) error {
	return showByID(w, r, h.Auto.Webhook, func(wh *webhook.Webhook) any { return WebhookJSON{Webhook: *wh} })
}

// saveWebhook: POST /api/v1/webhooks (active unless said otherwise) and
// PUT /api/v1/webhooks/{id} (the fields given)
func (h *handler) saveWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := idOrNew(r)
	if err != nil {
		return err
	}
	var in webhookIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	wh := &webhook.Webhook{Active: true}
	if id != 0 {
		if wh, err = h.Auto.Webhook(r.Context(), id); err != nil {
			return err
		}
	}
	set(&wh.Name, in.Name)
	set(&wh.URL, in.URL)
	set(&wh.Events, in.Events)
	set(&wh.Active, in.Active)
	set(&wh.AllowPrivate, in.AllowPrivate)
	if err := h.Auto.SaveWebhook(r.Context(), wh, readAt(in.UpdatedAt)); err != nil {
		return err
	}
	out := WebhookJSON{Webhook: *wh}
	if id == 0 {
		out.Secret = wh.Secret
	}
	return saved(w, id == 0, "/api/v1/webhooks/"+itoa(wh.ID), out)
}

// deleteWebhook: DELETE /api/v1/webhooks/{id}
func (h *handler) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, h.Auto.DeleteWebhook)
}

// listDeliveries: GET /api/v1/webhooks/{id}/deliveries — the latest 100.
func (h *handler) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	return showByID(w, r, h.Auto.Deliveries, func(ds []webhook.Delivery) any {
		if ds == nil {
			ds = []webhook.Delivery{}
		}
		return map[string]any{"deliveries": ds}
	})
}

// escalateTicket: POST /api/v1/tickets/{number}/escalate — to the next
// tier's team, or to team_id.
func (h *handler) escalateTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	var in struct {
		TeamID       *int64 `json:"team_id"`
		Reason       string `json:"reason"`
		TellCustomer bool   `json:"tell_customer"`
		// FromTeamID, when given, is the team the caller saw: a ticket
		// escalated meanwhile (a retry, a colleague) is refused (409),
		// never escalated twice.
		FromTeamID *int64 `json:"from_team_id"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	t, err := h.Auto.Escalate(r.Context(), current(r), id, in.FromTeamID, in.TeamID, in.Reason, in.TellCustomer)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, ticketJSON(t))
}

// renderMacro: GET /api/v1/tickets/{number}/macros/{id} — the macro
// filled for the ticket, in its language: the preview before sending.
func (h *handler) renderMacro(w http.ResponseWriter, r *http.Request) error {
	tid, err := pathID(r, "number")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	out, err := h.Auto.RenderMacro(r.Context(), current(r), id, tid)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, out)
}

// applyMacro: POST /api/v1/tickets/{number}/macros/{id}/apply — counts
// the macro as used and applies its field changes (after sending its
// text as a reply).
func (h *handler) applyMacro(w http.ResponseWriter, r *http.Request) error {
	tid, err := pathID(r, "number")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Auto.MacroUsed(r.Context(), current(r), id, tid); err != nil {
		return err
	}
	t, err := h.Tickets.Get(r.Context(), actorOf(r), tid)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, ticketJSON(t))
}

// testWebhook: POST /api/v1/webhooks/{id}/test — a signed test delivery
// (event "ping") sent now; the answer is the delivery as logged.
func (h *handler) testWebhook(w http.ResponseWriter, r *http.Request) error {
	return showByID(w, r, h.Auto.PingWebhook, func(d *webhook.Delivery) any { return d })
}
