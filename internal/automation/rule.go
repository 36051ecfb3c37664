// Package automation holds what a desk does by itself: rules (a trigger,
// conditions combined with all or any, and actions), and macros, the reply
// scripts agents and rules send in the customer's language (DOMAIN §10).
//
// Everything here is pure: a rule is validated against what the desk
// knows (Known), evaluated against the facts of one ticket at one event
// (Facts), and says which actions to take; the app applies them inside the
// transaction of the change that triggered them, records each in the
// ticket's history under the rule's name, and bounds cascades.
package automation

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// ErrNotFound is returned when no rule matches.
var ErrNotFound = fmt.Errorf("rule %w", fault.NotFound)

// Event is what a rule listens for.
type Event string

// The events a rule can trigger on.
const (
	TicketCreated   Event = "ticket_created"
	CustomerMessage Event = "customer_message"
	AgentReply      Event = "agent_reply"
	NoteAdded       Event = "note"
	FieldChanged    Event = "field_changed"
	StatusChanged   Event = "status_changed"
	SLAWarning      Event = "sla_warning"
	SLABreach       Event = "sla_breach"
	CSATReceived    Event = "csat_received"
	// TimeElapsed is the event of time rules (Rule.Time).
	TimeElapsed Event = "time"
)

// Events lists the change events, in the order forms show them.
var Events = []Event{TicketCreated, CustomerMessage, AgentReply, NoteAdded, FieldChanged, StatusChanged, SLAWarning, SLABreach, CSATReceived}

// Condition compares one fact of a ticket with a value.
type Condition struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Action is one thing a rule does. Value holds the action's main argument
// (a team or agent id, a priority, a status, a field value, a webhook id);
// Values the tags; Key the custom field; Text a note, reply or notice.
type Action struct {
	Type   string   `json:"type"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
	Key    string   `json:"key,omitempty"`
	Text   string   `json:"text,omitempty"`
	// MacroID picks a macro for a reply (its variant in the ticket's
	// language) instead of Text.
	MacroID *int64 `json:"macro_id,omitempty"`
	// TellCustomer, on escalate, sends the escalation script.
	TellCustomer bool `json:"tell_customer,omitempty"`
}

// TimeTrigger makes a rule fire once a ticket has waited: Minutes after it
// was created or last updated, counted in a calendar's business minutes
// when CalendarID is set.
type TimeTrigger struct {
	Since      string `json:"since"` // "created" or "updated"
	Minutes    int    `json:"minutes"`
	CalendarID *int64 `json:"calendar_id,omitempty"`
}

// Rule is one automation. Exactly one of Events and Time is set.
type Rule struct {
	ID         int64        `json:"id"`
	Name       string       `json:"name"`
	Position   int          `json:"position"`
	Active     bool         `json:"active"`
	Events     []Event      `json:"events,omitempty"`
	Time       *TimeTrigger `json:"time,omitempty"`
	Match      string       `json:"match"` // "all" or "any"
	Conditions []Condition  `json:"conditions"`
	Actions    []Action     `json:"actions"`
	Fired      int64        `json:"fired"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`

	re []*regexp.Regexp // compiled "matches" patterns, by condition
}

// Definition is what the store keeps as JSON: the rule without its row.
type Definition struct {
	Events     []Event      `json:"events,omitempty"`
	Time       *TimeTrigger `json:"time,omitempty"`
	Match      string       `json:"match"`
	Conditions []Condition  `json:"conditions"`
	Actions    []Action     `json:"actions"`
}

// Def returns the stored part of r.
func (r *Rule) Def() Definition {
	return Definition{Events: r.Events, Time: r.Time, Match: r.Match, Conditions: r.Conditions, Actions: r.Actions}
}

// SetDef copies a stored definition onto r.
func (r *Rule) SetDef(d Definition) {
	r.Events, r.Time, r.Match, r.Conditions, r.Actions = d.Events, d.Time, d.Match, d.Conditions, d.Actions
}

// Operators.
const (
	OpIs          = "is"
	OpIsNot       = "is_not"
	OpIn          = "in"
	OpNotIn       = "not_in"
	OpContains    = "contains"
	OpNotContains = "not_contains"
	OpMatches     = "matches"
	OpGt          = "gt"
	OpLt          = "lt"
	OpPresent     = "present"
	OpAbsent      = "absent"
)

// fieldOps lists each condition field and the operators it accepts.
var fieldOps = map[string][]string{
	"status":                {OpIs, OpIsNot, OpIn, OpNotIn},
	"priority":              {OpIs, OpIsNot, OpIn, OpNotIn, OpGt, OpLt},
	"channel":               {OpIs, OpIsNot, OpIn, OpNotIn},
	"team":                  {OpIs, OpIsNot, OpIn, OpNotIn, OpPresent, OpAbsent},
	"assignee":              {OpIs, OpIsNot, OpPresent, OpAbsent},
	"language":              {OpIs, OpIsNot, OpIn, OpNotIn, OpPresent, OpAbsent},
	"subject":               {OpIs, OpIsNot, OpContains, OpNotContains, OpMatches},
	"message":               {OpContains, OpNotContains, OpMatches, OpPresent, OpAbsent},
	"tags":                  {OpContains, OpNotContains, OpIn, OpNotIn},
	"organisation":          {OpIs, OpIsNot, OpPresent, OpAbsent},
	"requester_email":       {OpIs, OpIsNot, OpContains, OpMatches},
	"within_hours":          {OpIs, OpIsNot},
	"assignee_availability": {OpIs, OpIsNot},
	"reopen_count":          {OpIs, OpGt, OpLt},
	"changed":               {OpContains, OpNotContains},
	"sla_metric":            {OpIs, OpIsNot},
	"csat_rating":           {OpIs, OpGt, OpLt},
}

// ConditionFields lists the fields a condition may test, custom fields
// aside ("custom_fields.<key>").
func ConditionFields() []string {
	out := make([]string, 0, len(fieldOps))
	for f := range fieldOps {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

var customOps = []string{OpIs, OpIsNot, OpContains, OpGt, OpLt, OpPresent, OpAbsent}

// Operators lists the operators a condition field accepts (nil for a
// field no condition may test).
func Operators(field string) []string {
	if strings.HasPrefix(field, "custom_fields.") {
		return customOps
	}
	return fieldOps[field]
}

// Action types.
const (
	ActSetTeam     = "set_team"
	ActSetAssignee = "set_assignee"
	ActSetPriority = "set_priority"
	ActSetStatus   = "set_status"
	ActAddTags     = "add_tags"
	ActRemoveTags  = "remove_tags"
	ActSetField    = "set_field"
	ActNote        = "note"
	ActReply       = "reply"
	ActNotify      = "notify"
	ActEscalate    = "escalate"
	ActWebhook     = "webhook"
)

// ActionTypes lists every action a rule may take.
var ActionTypes = []string{ActSetTeam, ActSetAssignee, ActSetPriority, ActSetStatus, ActAddTags, ActRemoveTags, ActSetField, ActNote, ActReply, ActNotify, ActEscalate, ActWebhook}

// Known is what the desk has, for validating references.
type Known struct {
	Teams, Agents, Calendars, Macros, Webhooks map[int64]bool
	Fields                                     map[string]bool
}

func has(m map[int64]bool, v string) bool {
	id, err := strconv.ParseInt(v, 10, 64)
	return err == nil && m[id]
}

// Check validates a rule: every field, operator, action and reference
// must be known, and the problems name where (conditions[2].op …).
func (r *Rule) Check(k Known) error {
	var ch fault.Checker
	r.Name = strings.TrimSpace(r.Name)
	ch.Check(r.Name != "" && len(r.Name) <= 100, "name", "required", "must be 1 to 100 characters")
	if r.Match == "" {
		r.Match = "all"
	}
	ch.Check(r.Match == "all" || r.Match == "any", "match", "enum", "must be all or any")
	switch {
	case r.Time == nil && len(r.Events) == 0:
		ch.Add("events", "required", "give the events the rule listens for, or a time trigger")
	case r.Time != nil && len(r.Events) > 0:
		ch.Add("events", "exclusive", "a rule listens for events or waits for a time, not both")
	}
	for i, e := range r.Events {
		ch.Check(slices.Contains(Events, e), fmt.Sprintf("events[%d]", i), "enum", fmt.Sprintf("unknown event %q; one of %s", e, joinEvents()))
	}
	if t := r.Time; t != nil {
		ch.Check(t.Since == "created" || t.Since == "updated", "time.since", "enum", "must be created or updated")
		ch.Check(t.Minutes >= 1 && t.Minutes <= 366*24*60, "time.minutes", "range", "must be 1 minute to a year")
		if t.CalendarID != nil {
			ch.Check(k.Calendars[*t.CalendarID], "time.calendar_id", "exists", "no calendar has this id")
		}
	}
	ch.Check(len(r.Conditions) <= 50, "conditions", "max_items", "at most 50 conditions")
	r.re = make([]*regexp.Regexp, len(r.Conditions))
	for i, c := range r.Conditions {
		f := fmt.Sprintf("conditions[%d]", i)
		ops, ok := fieldOps[c.Field]
		if key, custom := strings.CutPrefix(c.Field, "custom_fields."); custom {
			ops, ok = customOps, k.Fields[key]
		}
		if !ok {
			ch.Add(f+".field", "enum", fmt.Sprintf("unknown field %q", c.Field))
			continue
		}
		if !slices.Contains(ops, c.Op) {
			ch.Add(f+".op", "enum", fmt.Sprintf("unknown operator %q for %s; one of %s", c.Op, c.Field, strings.Join(ops, ", ")))
			continue
		}
		if p := checkValue(c, k); p != "" {
			ch.Add(f+".value", "value", p)
			continue
		}
		if c.Op == OpMatches {
			re, err := regexp.Compile("(?i)" + c.Value)
			if err != nil || len(c.Value) > 500 {
				ch.Add(f+".value", "regexp", "must be a regular expression of at most 500 characters")
				continue
			}
			r.re[i] = re
		}
	}
	ch.Check(len(r.Actions) > 0, "actions", "required", "give at least one action")
	ch.Check(len(r.Actions) <= 20, "actions", "max_items", "at most 20 actions")
	for i, a := range r.Actions {
		if p, field := checkAction(a, k); p != "" {
			ch.Add(fmt.Sprintf("actions[%d].%s", i, field), "value", p)
		}
	}
	return ch.Err()
}

func joinEvents() string {
	s := make([]string, len(Events))
	for i, e := range Events {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

// values is a condition's list (Values, or Value alone).
func (c Condition) values() []string {
	if len(c.Values) > 0 {
		return c.Values
	}
	if c.Value != "" {
		return []string{c.Value}
	}
	return nil
}

// checkValue says what is wrong with a condition's value, "" if nothing.
func checkValue(c Condition, k Known) string {
	if c.Op == OpPresent || c.Op == OpAbsent {
		return ""
	}
	vs := c.values()
	if len(vs) == 0 {
		return "give a value"
	}
	for _, v := range vs {
		switch c.Field {
		case "status":
			if !ticket.Status(v).Valid() {
				return fmt.Sprintf("%q is not a status", v)
			}
		case "priority":
			if _, ok := ticket.ParsePriority(v); !ok {
				return fmt.Sprintf("%q is not a priority (low, normal, high, urgent)", v)
			}
		case "channel":
			if !ticket.Channel(v).Valid() {
				return fmt.Sprintf("%q is not a channel", v)
			}
		case "team":
			if !has(k.Teams, v) {
				return fmt.Sprintf("no team has id %q", v)
			}
		case "assignee":
			if !has(k.Agents, v) {
				return fmt.Sprintf("no agent has id %q", v)
			}
		case "within_hours":
			if !has(k.Calendars, v) {
				return fmt.Sprintf("no calendar has id %q", v)
			}
		case "assignee_availability":
			if v != "online" && v != "away" && v != "offline" {
				return "must be online, away or offline"
			}
		case "reopen_count":
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return "must be a whole number"
			}
		case "csat_rating":
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 5 {
				return "must be a rating from 1 to 5"
			}
		case "sla_metric":
			if !slices.Contains([]string{"first_reply", "next_reply", "resolution", "periodic_update"}, v) {
				return "must be first_reply, next_reply, resolution or periodic_update"
			}
		}
	}
	return ""
}

// checkAction says what is wrong with an action and in which of its fields.
func checkAction(a Action, k Known) (problem, field string) {
	switch a.Type {
	case ActSetTeam:
		if !has(k.Teams, a.Value) {
			return "no team has this id", "value"
		}
	case ActSetAssignee:
		if a.Value != "" && a.Value != "auto" && !has(k.Agents, a.Value) {
			return "give an agent's id, auto (the team's assignment) or nothing (unassign)", "value"
		}
	case ActSetPriority:
		if _, ok := ticket.ParsePriority(a.Value); !ok {
			return "must be low, normal, high or urgent", "value"
		}
	case ActSetStatus:
		if s := ticket.Status(a.Value); !s.Valid() || s == ticket.StatusNew {
			return "must be open, pending, on_hold, solved or closed", "value"
		}
	case ActAddTags, ActRemoveTags:
		if len(a.Values) == 0 {
			return "give at least one tag", "values"
		}
	case ActSetField:
		if !k.Fields[a.Key] {
			return fmt.Sprintf("no custom field has key %q", a.Key), "key"
		}
	case ActNote:
		if strings.TrimSpace(a.Text) == "" {
			return "give the note's text", "text"
		}
		if p := CheckPlaceholders(a.Text); p != "" {
			return p, "text"
		}
	case ActReply:
		switch {
		case a.MacroID != nil && !k.Macros[*a.MacroID]:
			return "no macro has this id", "macro_id"
		case a.MacroID == nil && strings.TrimSpace(a.Text) == "":
			return "give the reply's text or a macro", "text"
		}
		if p := CheckPlaceholders(a.Text); p != "" {
			return p, "text"
		}
	case ActNotify:
		switch a.Value {
		case "lead", "team", "assignee":
		default:
			if !has(k.Agents, a.Value) {
				return "must be lead, team, assignee or an agent's id", "value"
			}
		}
		if p := CheckPlaceholders(a.Text); p != "" {
			return p, "text"
		}
	case ActEscalate:
		if a.Value != "" && !has(k.Teams, a.Value) {
			return "give the team to escalate to, or nothing for the next tier", "value"
		}
	case ActWebhook:
		if !has(k.Webhooks, a.Value) {
			return "no webhook has this id", "value"
		}
	default:
		return fmt.Sprintf("unknown action %q; one of %s", a.Type, strings.Join(ActionTypes, ", ")), "type"
	}
	return "", ""
}

// Facts are what conditions look at: the ticket as the event left it,
// the message the event added, and what the desk knows around it.
type Facts struct {
	Event   Event
	Ticket  *ticket.Ticket
	Message *ticket.Message
	// Changed names the fields the event changed (status, priority, team,
	// assignee, tags, custom_fields.<key> …).
	Changed []string
	// SLAMetric is the metric of an SLA warning or breach; CSATRating
	// the score (1–5) of a rating received.
	SLAMetric            string
	CSATRating           int
	OrgID                *int64
	RequesterEmail       string
	AssigneeAvailability string
	// InHours reports whether now is within a calendar's business hours.
	InHours func(calendarID int64) bool
}

// Check is the outcome of one condition, for the dry run.
type Check struct {
	Index int    `json:"index"`
	Field string `json:"field"`
	Op    string `json:"op"`
	Want  string `json:"want"`
	Got   string `json:"got"`
	OK    bool   `json:"ok"`
}

// Compile prepares a stored rule for evaluation (its patterns); after it,
// Evaluate only reads the rule, so one compiled copy serves every
// goroutine.
func (r *Rule) Compile() {
	r.re = make([]*regexp.Regexp, len(r.Conditions))
	for i, c := range r.Conditions {
		if c.Op == OpMatches {
			r.re[i], _ = regexp.Compile("(?i)" + c.Value)
		}
	}
}

// Listens reports whether the rule triggers on event.
func (r *Rule) Listens(e Event) bool {
	if e == TimeElapsed {
		return r.Time != nil
	}
	return slices.Contains(r.Events, e)
}

// Evaluate tests the rule's conditions on f; checks lists each
// condition's outcome (all of them, so that a dry run can say which one
// failed). A rule without conditions matches.
func (r *Rule) Evaluate(f Facts) (ok bool, checks []Check) {
	any := false
	for i, c := range r.Conditions {
		got, pass := r.test(i, c, f)
		want := c.Value
		if len(c.Values) > 0 {
			want = strings.Join(c.Values, ", ")
		}
		checks = append(checks, Check{Index: i, Field: c.Field, Op: c.Op, Want: want, Got: got, OK: pass})
		any = any || pass
	}
	if len(r.Conditions) == 0 {
		return true, nil
	}
	if r.Match == "any" {
		return any, checks
	}
	for _, c := range checks {
		if !c.OK {
			return false, checks
		}
	}
	return true, checks
}

// DryRule is what the dry run says of one rule for a ticket: whether it
// would fire and, if not, why (the first failing condition, the event it
// listens for, or that it is off).
type DryRule struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Fires  bool   `json:"fires"`
	// Listens reports whether the rule listens for the event asked;
	// Matches whether its conditions hold (combined by Match).
	Listens bool    `json:"listens"`
	Matches bool    `json:"matches"`
	Match   string  `json:"match"`
	Reason  string  `json:"reason"`
	Checks  []Check `json:"checks"`
}

// FirstFailure names the first failing condition of checks in words, for
// the dry run ("" when none failed).
func FirstFailure(checks []Check) string {
	for _, c := range checks {
		if !c.OK {
			return fmt.Sprintf("condition %d: %s %s %q, but it is %q", c.Index+1, c.Field, c.Op, c.Want, c.Got)
		}
	}
	return ""
}

// test evaluates condition i and returns the value it looked at.
func (r *Rule) test(i int, c Condition, f Facts) (string, bool) {
	t := f.Ticket
	switch c.Field {
	case "status":
		return string(t.Status), compare(c, string(t.Status))
	case "priority":
		got := t.Priority.String()
		if c.Op == OpGt || c.Op == OpLt {
			p, _ := ticket.ParsePriority(c.Value)
			if c.Op == OpGt {
				return got, t.Priority > p
			}
			return got, t.Priority < p
		}
		return got, compare(c, got)
	case "channel":
		return string(t.Channel), compare(c, string(t.Channel))
	case "team":
		return t.FieldValue("team"), compare(c, t.FieldValue("team"))
	case "assignee":
		return t.FieldValue("assignee"), compare(c, t.FieldValue("assignee"))
	case "language":
		return t.Language, compare(c, t.Language)
	case "subject":
		return t.Subject, r.text(i, c, t.Subject)
	case "message":
		text := ""
		if f.Message != nil {
			text = f.Message.BodyText
		}
		return short(text), r.text(i, c, text)
	case "tags":
		got := strings.Join(t.Tags, ", ")
		switch c.Op {
		case OpContains, OpIn:
			return got, slices.ContainsFunc(c.values(), func(v string) bool { return slices.Contains(t.Tags, strings.ToLower(v)) })
		default:
			return got, !slices.ContainsFunc(c.values(), func(v string) bool { return slices.Contains(t.Tags, strings.ToLower(v)) })
		}
	case "organisation":
		org := ""
		if f.OrgID != nil {
			org = strconv.FormatInt(*f.OrgID, 10)
		}
		return org, compare(c, org)
	case "requester_email":
		return f.RequesterEmail, r.text(i, c, f.RequesterEmail)
	case "within_hours":
		id, _ := strconv.ParseInt(c.Value, 10, 64)
		in := f.InHours != nil && f.InHours(id)
		got := strconv.FormatBool(in)
		if c.Op == OpIsNot {
			return got, !in
		}
		return got, in
	case "assignee_availability":
		return f.AssigneeAvailability, compare(c, f.AssigneeAvailability)
	case "reopen_count":
		return strconv.Itoa(t.ReopenCount), compareInt(c, t.ReopenCount)
	case "csat_rating":
		// Only a rating event has a rating: at any other, the
		// condition does not hold.
		if f.CSATRating == 0 {
			return "", false
		}
		return strconv.Itoa(f.CSATRating), compareInt(c, f.CSATRating)
	case "changed":
		got := strings.Join(f.Changed, ", ")
		in := slices.ContainsFunc(c.values(), func(v string) bool { return slices.Contains(f.Changed, v) })
		if c.Op == OpNotContains {
			return got, !in
		}
		return got, in
	case "sla_metric":
		return f.SLAMetric, compare(c, f.SLAMetric)
	}
	if key, ok := strings.CutPrefix(c.Field, "custom_fields."); ok {
		v, set := t.CustomFields[key]
		got := ticket.FieldString(v)
		switch c.Op {
		case OpPresent:
			return got, set && got != ""
		case OpAbsent:
			return got, !set || got == ""
		case OpGt, OpLt:
			a, err1 := strconv.ParseFloat(got, 64)
			b, err2 := strconv.ParseFloat(c.Value, 64)
			if err1 != nil || err2 != nil {
				return got, false
			}
			if c.Op == OpGt {
				return got, a > b
			}
			return got, a < b
		case OpContains:
			return got, strings.Contains(strings.ToLower(got), strings.ToLower(c.Value))
		}
		return got, compare(c, got)
	}
	return "", false
}

// compare applies the equality and list operators to a value.
func compare(c Condition, got string) bool {
	switch c.Op {
	case OpIs:
		return strings.EqualFold(got, c.Value)
	case OpIsNot:
		return !strings.EqualFold(got, c.Value)
	case OpIn:
		return slices.ContainsFunc(c.values(), func(v string) bool { return strings.EqualFold(v, got) })
	case OpNotIn:
		return !slices.ContainsFunc(c.values(), func(v string) bool { return strings.EqualFold(v, got) })
	case OpPresent:
		return got != ""
	case OpAbsent:
		return got == ""
	}
	return false
}

// text applies the text operators (case-insensitive; any of Values for
// contains).
func (r *Rule) text(i int, c Condition, s string) bool {
	low := strings.ToLower(s)
	hit := func() bool {
		return slices.ContainsFunc(c.values(), func(v string) bool { return strings.Contains(low, strings.ToLower(v)) })
	}
	switch c.Op {
	case OpContains:
		return hit()
	case OpNotContains:
		return !hit()
	case OpMatches:
		var re *regexp.Regexp
		if i < len(r.re) {
			re = r.re[i]
		}
		if re == nil {
			// Not compiled (a rule read without Compile): compiled for
			// this test only, so that shared rules are never written.
			var err error
			if re, err = regexp.Compile("(?i)" + c.Value); err != nil {
				return false
			}
		}
		return re.MatchString(s)
	case OpPresent:
		return strings.TrimSpace(s) != ""
	case OpAbsent:
		return strings.TrimSpace(s) == ""
	}
	return compare(c, s)
}

func short(s string) string {
	if len(s) > 80 {
		cut := 80
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		return s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// compareInt compares a number with a condition's value (is, gt, lt).
func compareInt(c Condition, got int) bool {
	n, _ := strconv.Atoi(c.Value)
	switch c.Op {
	case OpGt:
		return got > n
	case OpLt:
		return got < n
	}
	return got == n
}
