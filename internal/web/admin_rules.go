package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/webhook"
)

// The rules pages: the ordered list with each rule's trigger, how many
// tickets it acted on, a switch, Up/Down, delete (asked first), and the
// dry run; and the editor, a plain form (no script needed) with a row per
// condition and per action and spare rows to add more.

// ruleOps are the operators the editor offers (the rule's validation says
// which a field accepts).
var ruleOps = []string{automation.OpIs, automation.OpIsNot, automation.OpIn, automation.OpNotIn, automation.OpContains,
	automation.OpNotContains, automation.OpMatches, automation.OpGt, automation.OpLt, automation.OpPresent, automation.OpAbsent}

// spareRows is how many empty condition and action rows the editor adds.
const spareRows = 2

type rulesData struct {
	Rules  []automation.Rule
	Events []automation.Event
	// The dry run: the ticket and event asked, and the answer.
	DryTicket, DryEvent string
	Dry                 []dryView
	DryError            string
}

// dryView is one rule's answer in the dry run, in the agent's words.
type dryView struct {
	Name          string
	Active, Fires bool
	Reason        string
}

// dryReason says in the agent's language why a rule would or would not
// fire: the event it listens for, the first condition that fails (its
// number, what it wants and what the ticket has), or that it is off.
func dryReason(pr *i18n.Printer, d automation.DryRule, event string) string {
	switch {
	case !d.Listens:
		return pr.T("rules.dry_other_event", "Event", pr.T("rules.event."+event))
	case d.Fires:
		return pr.T("rules.dry_all_hold")
	}
	if d.Matches {
		return pr.T("rules.dry_off")
	}
	if d.Match == "any" {
		return pr.T("rules.dry_none_holds")
	}
	for _, c := range d.Checks {
		if !c.OK {
			return pr.T("rules.dry_condition", "N", c.Index+1, "Field", fieldName(pr, c.Field), "Op", pr.T("rules.op."+c.Op), "Want", c.Want, "Got", c.Got)
		}
	}
	return pr.T("rules.dry_none_holds")
}

// fieldName is a condition field in the agent's words; a custom field
// by its key.
func fieldName(pr *i18n.Printer, f string) string {
	if key, ok := strings.CutPrefix(f, "custom_fields."); ok {
		return pr.T("rules.field.custom", "Key", key)
	}
	return pr.T("rules.field." + f)
}

// ruleChoices are what the editor's lists offer.
type ruleChoices struct {
	Events     []automation.Event
	Fields     []string
	Ops        []string
	Actions    []string
	Teams      []team.Team
	Agents     []agent.Agent
	Calendars  []sla.Calendar
	Macros     []automation.Macro
	Webhooks   []webhook.Webhook
	Statuses   []ticket.Status
	Priorities []string
	Channels   []ticket.Channel
}

type ruleForm struct {
	R          *automation.Rule
	New        bool
	Trigger    string // "events" or "time"
	Since      string
	Minutes    string
	CalendarID int64
	Conds      []condRow
	Acts       []actRow
	Errors     map[string]string // "name", "conditions.2", "actions.0" …
	Other      []string          // problems of no field the form shows
	C          ruleChoices
}

type condRow struct{ Field, Op, Value string }

type actRow struct {
	Type, Value, Key, Text string
	MacroID                int64
	Tell                   bool
}

// rulesShow: GET /admin/rules — the rules in order; ?ticket=N&event=E
// runs the dry run on ticket N.
func (h *handler) rulesShow(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	d := rulesData{Events: automation.Events}
	var err error
	if d.Rules, err = h.Auto.Rules(r.Context()); err != nil {
		return err
	}
	q := r.URL.Query()
	d.DryTicket, d.DryEvent = strings.TrimSpace(strings.TrimPrefix(q.Get("ticket"), "#")), q.Get("event")
	status := http.StatusOK
	if d.DryTicket != "" {
		n, perr := strconv.ParseInt(d.DryTicket, 10, 64)
		if perr != nil || n <= 0 {
			d.DryError, status = pr.T("rules.dry_bad_ticket"), http.StatusUnprocessableEntity
		} else if dry, err := h.Auto.DryRun(r.Context(), ticket.AgentActor(a), n, d.DryEvent); err != nil {
			switch {
			case errors.Is(err, fault.NotFound):
				d.DryError, status = pr.T("rules.dry_no_ticket", "Number", n), http.StatusNotFound
			case problemsOf(err) != nil:
				d.DryError, status = pr.T("form."+problemsOf(err)[0].Rule), http.StatusUnprocessableEntity
			default:
				return err
			}
		} else {
			ev := d.DryEvent
			if ev == "" {
				ev = string(automation.TicketCreated)
			}
			for _, x := range dry {
				d.Dry = append(d.Dry, dryView{Name: x.Name, Active: x.Active, Fires: x.Fires, Reason: dryReason(pr, x, ev)})
			}
		}
	}
	return h.render(w, r, status, "rules", page{P: pr, Agent: a, Title: pr.T("rules.title"), Now: h.Now(), Data: d})
}

// ruleNew: GET /admin/rules/new
func (h *handler) ruleNew(w http.ResponseWriter, r *http.Request) error {
	rule := &automation.Rule{Active: false, Match: "all", Events: []automation.Event{automation.TicketCreated}}
	return h.ruleEditor(w, r, http.StatusOK, formOfRule(rule, true))
}

// ruleShow: GET /admin/rules/{id}
func (h *handler) ruleShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, automation.ErrNotFound)
	if err != nil {
		return err
	}
	rule, err := h.Auto.Rule(r.Context(), id)
	if err != nil {
		return err
	}
	return h.ruleEditor(w, r, http.StatusOK, formOfRule(rule, false))
}

func formOfRule(rule *automation.Rule, isNew bool) *ruleForm {
	f := &ruleForm{R: rule, New: isNew, Trigger: "events", Since: "updated"}
	if t := rule.Time; t != nil {
		f.Trigger, f.Since, f.Minutes = "time", t.Since, waitText(t.Minutes)
		if t.CalendarID != nil {
			f.CalendarID = *t.CalendarID
		}
	}
	for _, c := range rule.Conditions {
		v := c.Value
		if len(c.Values) > 0 {
			v = strings.Join(c.Values, ", ")
		}
		f.Conds = append(f.Conds, condRow{Field: c.Field, Op: c.Op, Value: v})
	}
	for _, a := range rule.Actions {
		row := actRow{Type: a.Type, Value: a.Value, Key: a.Key, Text: a.Text, Tell: a.TellCustomer}
		if len(a.Values) > 0 {
			row.Value = strings.Join(a.Values, ", ")
		}
		if a.MacroID != nil {
			row.MacroID = *a.MacroID
		}
		f.Acts = append(f.Acts, row)
	}
	return f
}

func (h *handler) ruleEditor(w http.ResponseWriter, r *http.Request, status int, f *ruleForm) error {
	a := current(r)
	pr := h.printer(r, a)
	ctx := r.Context()
	c, err := h.ruleChoices(ctx, a)
	if err != nil {
		return err
	}
	f.C = c
	for range spareRows {
		f.Conds = append(f.Conds, condRow{})
		f.Acts = append(f.Acts, actRow{})
	}
	title := pr.T("rules.new")
	if !f.New {
		title = f.R.Name
	}
	return h.render(w, r, status, "rule_edit", page{P: pr, Agent: a, Title: title, Now: h.Now(), Data: f})
}

func (h *handler) ruleChoices(ctx context.Context, a *agent.Agent) (ruleChoices, error) {
	c := ruleChoices{Events: automation.Events, Ops: ruleOps, Actions: automation.ActionTypes,
		Statuses: ticket.Statuses, Priorities: []string{"low", "normal", "high", "urgent"}, Channels: ticket.Channels}
	c.Fields = automation.ConditionFields()
	defs, err := h.Tickets.FieldDefs(ctx)
	if err != nil {
		return c, err
	}
	for _, d := range defs {
		c.Fields = append(c.Fields, "custom_fields."+d.Key)
	}
	if c.Teams, err = h.Store.Teams(ctx); err != nil {
		return c, err
	}
	if c.Agents, err = h.Store.Agents(ctx, 1000, 0); err != nil {
		return c, err
	}
	if c.Calendars, err = h.SLA.Calendars(ctx); err != nil {
		return c, err
	}
	if c.Macros, err = h.Auto.Macros(ctx, a); err != nil {
		return c, err
	}
	// A rule replies with shared macros only: a personal one is its
	// owner's.
	c.Macros = slices.DeleteFunc(c.Macros, func(m automation.Macro) bool { return m.OwnerID != nil })
	c.Webhooks, err = h.Auto.Webhooks(ctx)
	return c, err
}

// ruleProblem finds "conditions[2].op" in a problem's field.
var ruleProblem = regexp.MustCompile(`^(conditions|actions|events)\[(\d+)\]`)

// ruleSave: POST /admin/rules (new) and POST /admin/rules/{id}. The form
// carries every part of the rule, and the version it was read at: a rule
// changed by someone else meanwhile is refused (409), not overwritten.
func (h *handler) ruleSave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 128<<10); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	v := r.PostForm
	rule := &automation.Rule{}
	isNew := r.PathValue("id") == ""
	if !isNew {
		id, err := pathID(r, automation.ErrNotFound)
		if err != nil {
			return err
		}
		if rule, err = h.Auto.Rule(r.Context(), id); err != nil {
			return err
		}
	}
	rule.Name = v.Get("name")
	rule.Active = v.Get("active") == "1"
	rule.Match = v.Get("match")
	f := &ruleForm{R: rule, New: isNew, Trigger: v.Get("trigger"), Since: v.Get("since"), Minutes: strings.TrimSpace(v.Get("minutes")), Errors: map[string]string{}}
	f.CalendarID, _ = strconv.ParseInt(v.Get("calendar_id"), 10, 64)
	rule.Events, rule.Time = nil, nil
	if f.Trigger == "time" {
		t := &automation.TimeTrigger{Since: f.Since}
		var ok bool
		if t.Minutes, ok = parseWait(f.Minutes); !ok {
			t.Minutes = -1 // refused by the rule's check, naming time.minutes
		}
		if f.CalendarID > 0 {
			id := f.CalendarID
			t.CalendarID = &id
		}
		rule.Time = t
	} else {
		f.Trigger = "events"
		for _, e := range v["events"] {
			rule.Events = append(rule.Events, automation.Event(e))
		}
	}
	// Rows: the blank ones (no field, no action) are dropped, so the
	// problems' indexes are the rows shown again.
	rule.Conditions = nil
	cf, co, cv := v["cond_field"], v["cond_op"], v["cond_value"]
	for i := range cf {
		row := condRow{Field: cf[i], Op: at(co, i), Value: strings.TrimSpace(at(cv, i))}
		if row.Field == "" {
			continue
		}
		f.Conds = append(f.Conds, row)
		c := automation.Condition{Field: row.Field, Op: row.Op}
		if row.Op == automation.OpIn || row.Op == automation.OpNotIn {
			c.Values = splitList(row.Value)
		} else {
			c.Value = row.Value
		}
		rule.Conditions = append(rule.Conditions, c)
	}
	rule.Actions = nil
	at_, av, ak, atx, am, atell := v["act_type"], v["act_value"], v["act_key"], v["act_text"], v["act_macro"], v["act_tell"]
	for i := range at_ {
		row := actRow{Type: at_[i], Value: strings.TrimSpace(at(av, i)), Key: strings.TrimSpace(at(ak, i)), Text: at(atx, i), Tell: at(atell, i) == "1"}
		row.MacroID, _ = strconv.ParseInt(at(am, i), 10, 64)
		if row.Type == "" {
			continue
		}
		f.Acts = append(f.Acts, row)
		act := automation.Action{Type: row.Type, Key: row.Key, Text: row.Text, TellCustomer: row.Tell}
		switch row.Type {
		case automation.ActAddTags, automation.ActRemoveTags:
			act.Values = splitList(row.Value)
		default:
			act.Value = row.Value
		}
		if row.MacroID > 0 {
			id := row.MacroID
			act.MacroID = &id
		}
		rule.Actions = append(rule.Actions, act)
	}
	if isNew {
		rule.ID = 0
		rs, err := h.Auto.Rules(r.Context())
		if err != nil {
			return err
		}
		rule.Position = (len(rs) + 1) * 10
	}
	err := h.Auto.SaveRule(r.Context(), rule, wasUpdated(r))
	if ps := problemsOf(err); ps != nil {
		for _, p := range ps {
			key := p.Field
			if m := ruleProblem.FindStringSubmatch(p.Field); m != nil {
				key = m[1] + "." + m[2]
				if m[1] == "events" {
					key = "events" // shown once, under the events
				}
			} else if strings.HasPrefix(key, "time.") {
				key = "time"
			}
			if _, seen := f.Errors[key]; !seen {
				f.Errors[key] = ruleMessage(pr, p, f.Conds)
				if !shownOnForm(key) {
					f.Other = append(f.Other, p.Field+": "+f.Errors[key])
				}
			}
		}
		return h.ruleEditor(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/rules?saved="+strconv.FormatInt(rule.ID, 10), http.StatusSeeOther)
	return nil
}

// shownOnForm reports whether the rule editor shows a problem of key
// under its field (others go to the summary at the top).
func shownOnForm(key string) bool {
	switch key {
	case "name", "events", "time", "match", "conditions", "actions":
		return true
	}
	return strings.HasPrefix(key, "conditions.") || strings.HasPrefix(key, "actions.")
}

// ruleMessage is a problem as the editor shows it, in the agent's
// language: for an operator the field does not take, the ones it does;
// for a value, the value refused; otherwise the general rule.
func ruleMessage(pr *i18n.Printer, p fault.Problem, conds []condRow) string {
	if m := ruleProblem.FindStringSubmatch(p.Field); m != nil && m[1] == "conditions" {
		i, _ := strconv.Atoi(m[2])
		if i < len(conds) {
			c := conds[i]
			switch {
			case strings.HasSuffix(p.Field, ".op") && p.Rule == "enum":
				ops := automation.Operators(c.Field)
				names := make([]string, len(ops))
				for j, op := range ops {
					names[j] = pr.T("rules.op." + op)
				}
				return pr.T("rules.ops_allowed", "Field", fieldName(pr, c.Field), "Ops", strings.Join(names, ", "))
			case strings.HasSuffix(p.Field, ".value") && p.Rule == "value":
				return pr.T("rules.value_refused", "Value", c.Value, "Field", fieldName(pr, c.Field))
			}
		}
	}
	return pr.T("form." + p.Rule)
}

// at is xs[i], or "" past its end (a browser sends no value for an
// unchecked box).
func at(xs []string, i int) string {
	if i < len(xs) {
		return xs[i]
	}
	return ""
}

// splitList splits "a, b,c" into its trimmed, non-empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// ruleToggle: POST /admin/rules/{id}/toggle — on or off.
func (h *handler) ruleToggle(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, automation.ErrNotFound)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	// The button says what it does ("on" or "off"): sent twice, or from
	// a page read before a colleague's switch, it does not flip back.
	if err := h.Auto.SetRuleActive(r.Context(), id, r.PostFormValue("active") == "1"); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/rules", http.StatusSeeOther)
	return nil
}

// ruleMove: POST /admin/rules/{id}/move — up or down one place.
func (h *handler) ruleMove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, automation.ErrNotFound)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	dir := r.PostFormValue("dir")
	if dir != "up" && dir != "down" {
		return fault.Field("dir", "enum", "must be up or down")
	}
	if err := h.Auto.MoveRule(r.Context(), id, dir == "up"); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/rules#rule-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// ruleDelete: POST /admin/rules/{id}/delete — asks first.
func (h *handler) ruleDelete(w http.ResponseWriter, r *http.Request) error {
	pr := h.printer(r, current(r))
	return h.deleteAsked(w, r, deletion{Kind: "rule", List: "/admin/rules", NotFound: automation.ErrNotFound,
		Read: func(ctx context.Context, id int64) (string, string, error) {
			rule, err := h.Auto.Rule(ctx, id)
			if err != nil {
				return "", "", err
			}
			return rule.Name, pr.T("confirm.rule.message"), nil
		},
		Delete: h.Auto.DeleteRule})
}

// ruleTrigger describes a rule's trigger in the agent's language.
func ruleTrigger(pr *i18n.Printer, rule automation.Rule) string {
	if t := rule.Time; t != nil {
		return pr.T("rules.after", "Span", waitText(t.Minutes), "Since", pr.T("rules.since."+t.Since))
	}
	names := make([]string, len(rule.Events))
	for i, e := range rule.Events {
		names[i] = pr.T("rules.event." + string(e))
	}
	return strings.Join(names, ", ")
}

// waitText writes a time trigger's wait in days, hours and minutes
// ("3d", "1d 4h", "30m"), as the editor reads it back (parseWait).
func waitText(m int) string {
	d := time.Duration(m) * time.Minute
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), m%60
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%dh", hours))
	}
	if mins > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%dm", mins))
	}
	return strings.Join(parts, " ")
}

// parseWait reads "3d", "1d 4h", "90m" or "90" (minutes).
func parseWait(s string) (int, bool) {
	total := 0
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 0 {
		return 0, false
	}
	for _, f := range fields {
		if n, ok := strings.CutSuffix(f, "d"); ok {
			d, err := strconv.Atoi(n)
			if err != nil || d < 0 || d > 366 {
				return 0, false
			}
			total += d * 24 * 60
			continue
		}
		m, ok := parseMinutes(f)
		if !ok {
			return 0, false
		}
		total += int(m)
	}
	return total, true
}
