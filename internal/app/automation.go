package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/jobs"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/routing"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/web"
	"github.com/sportello/sportello/internal/webhook"
)

// maxCascade bounds how deep rules may react to rules' changes. Each rule
// also fires at most once in one chain, so a set of rules that undo each
// other stops after each has fired once.
const maxCascade = 8

// ruleCache holds the active rules compiled, with the version they were
// read at; the version is read in every change's transaction (one small
// row), the rules only when it moved. The mutex is never held across a
// database call.
type ruleCache struct {
	mu      sync.Mutex
	version int64
	rules   []automation.Rule
	loaded  bool
}

// activeRules returns the compiled active rules, read through st when
// another change (on any node) bumped their version.
func (d *Desk) activeRules(ctx context.Context, st *store.Tx) ([]automation.Rule, error) {
	v, err := st.RulesVersion(ctx)
	if err != nil {
		return nil, err
	}
	d.rules.mu.Lock()
	if d.rules.loaded && d.rules.version == v {
		rs := d.rules.rules
		d.rules.mu.Unlock()
		return rs, nil
	}
	d.rules.mu.Unlock()
	rs, v, err := st.ActiveRules(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		rs[i].Compile()
	}
	d.rules.mu.Lock()
	d.rules.rules, d.rules.version, d.rules.loaded = rs, v, true
	d.rules.mu.Unlock()
	return rs, nil
}

// cascade is the chain of rule firings a change belongs to.
type cascade struct {
	depth int
	fired map[int64]bool
}

type cascadeKey struct{}

func cascadeOf(ctx context.Context) *cascade {
	if c, ok := ctx.Value(cascadeKey{}).(*cascade); ok {
		return c
	}
	return &cascade{fired: map[int64]bool{}}
}

// occurred lists what a change means to rules and webhooks, with the
// fields it changed.
func occurred(r ticket.Reaction) ([]automation.Event, []string) {
	var evs []automation.Event
	var changed []string
	if r.Created {
		evs = append(evs, automation.TicketCreated)
	}
	if m := r.Message; m != nil && !r.Created {
		switch {
		case m.Kind == ticket.KindCustomer:
			evs = append(evs, automation.CustomerMessage)
		case m.Kind == ticket.KindReply && !m.Automatic():
			evs = append(evs, automation.AgentReply)
		case m.Kind == ticket.KindNote:
			evs = append(evs, automation.NoteAdded)
		}
	}
	if r.Created {
		return evs, nil
	}
	for _, e := range r.Events {
		if e.TicketID != r.Ticket.ID {
			continue
		}
		switch f := e.Field; {
		case f == "status", f == "priority", f == "team", f == "assignee", f == "tags", f == "language", f == "subject",
			f == "requester", f == "cc", strings.HasPrefix(f, "custom_fields."):
			if !slices.Contains(changed, f) {
				changed = append(changed, f)
			}
		}
	}
	if slices.Contains(changed, "status") {
		evs = append(evs, automation.StatusChanged)
	}
	if len(changed) > 0 {
		evs = append(evs, automation.FieldChanged)
	}
	return evs, changed
}

// automationInTx runs inside every ticket change's transaction, after the
// desk's other reactions: the requester's language is learnt, rules
// listening for what happened fire, then a new ticket (or one moved to a
// team) still without an agent is assigned by its team's mode, and last
// subscribed webhooks get a delivery queued with the ticket as all that
// left it. Rules come before the assignment so that a routing rule (this
// subject to that team) is followed by an assignment in the team it chose,
// not preceded by one in the team it left; and the team's lock, taken by
// the assignment, is held only for what remains of the transaction.
func (d *Desk) automationInTx(ctx context.Context, st *store.Tx, r ticket.Reaction) error {
	t := r.Ticket
	evs, changed := occurred(r)
	if t.Language != "" && (r.Created || slices.Contains(changed, "language")) {
		if err := st.SetContactLanguage(ctx, t.RequesterID, t.Language); err != nil {
			return err
		}
	}
	for _, e := range evs {
		if err := d.runRules(ctx, st, e, t.ID, automation.Facts{Message: r.Message, Changed: changed}, r.Now); err != nil {
			return err
		}
	}
	if r.Created || slices.Contains(changed, "team") {
		// As the rules left it (they may have moved it, assigned it, or
		// solved it).
		now, err := st.TicketForUpdate(ctx, t.ID)
		if err != nil {
			return err
		}
		if now.AssigneeID == nil && now.TeamID != nil && now.Status.Unsolved() {
			if _, err := d.assignIn(ctx, st, now, r.Now); err != nil {
				return err
			}
		}
	}
	if len(evs) == 0 {
		return nil
	}
	// The payload is the ticket as rules and assignment left it, read
	// again only when some webhook listens.
	var last *ticket.Ticket
	load := func() (*ticket.Ticket, error) {
		var err error
		if last == nil {
			last, err = st.TicketForUpdate(ctx, t.ID)
		}
		return last, err
	}
	for _, e := range evs {
		if err := d.queueWebhooks(ctx, st, string(e), load, r.Now); err != nil {
			return err
		}
	}
	return nil
}

// assignIn gives ticket t to the agent its team's assignment picks, under
// the team's row lock; false when the team assigns by hand or nobody may
// take it now (it waits in the team's queue).
func (d *Desk) assignIn(ctx context.Context, st *store.Tx, t *ticket.Ticket, now time.Time) (bool, error) {
	mode, limit, cands, err := st.AssignCandidates(ctx, *t.TeamID)
	if err != nil || mode == routing.Manual {
		return false, err
	}
	id, ok := routing.Pick(mode, limit, routing.Need{Language: t.Language, Tags: t.Tags}, cands)
	if !ok {
		return false, nil
	}
	// The turn moves strictly forward, even when two decisions share an
	// instant (a frozen clock in tests, a coarse one elsewhere).
	at := now
	for _, c := range cands {
		if last := time.Unix(0, c.LastAssigned); c.LastAssigned != 0 && !at.After(last) {
			at = last.Add(time.Microsecond)
		}
	}
	if err := st.MarkAssigned(ctx, *t.TeamID, id, at); err != nil {
		return false, err
	}
	_, _, err = d.Tickets.UpdateIn(ctx, st, ticket.System, t.ID, ticket.Patch{AssigneeID: ticket.Ref{Set: true, ID: &id}}, now)
	return err == nil, err
}

// runRules evaluates the active rules listening for event on ticket id
// (as it is now, inside st) and applies the actions of those that match,
// in order. A rule's action that the ticket refuses (a status it cannot
// take) is recorded and skipped; it never fails the change that
// triggered it.
func (d *Desk) runRules(ctx context.Context, st *store.Tx, event automation.Event, id int64, f automation.Facts, now time.Time) error {
	c := cascadeOf(ctx)
	if c.depth >= maxCascade {
		d.Log.Warn("rules: cascade stopped", "ticket", id, "depth", c.depth)
		return nil
	}
	rules, err := d.activeRules(ctx, st)
	if err != nil {
		return err
	}
	var listening []*automation.Rule
	for i := range rules {
		if rules[i].Listens(event) && !c.fired[rules[i].ID] {
			listening = append(listening, &rules[i])
		}
	}
	if len(listening) == 0 {
		return nil
	}
	stale := true // the ticket and its facts are read again after a rule acted
	for _, rule := range listening {
		if c.fired[rule.ID] {
			continue
		}
		if stale {
			t, err := st.TicketForUpdate(ctx, id)
			if err != nil {
				return err
			}
			f.Event, f.Ticket = event, t
			if err := d.facts(ctx, st, &f, now); err != nil {
				return err
			}
			stale = false
		}
		t := f.Ticket
		ok, _ := rule.Evaluate(f)
		if !ok {
			continue
		}
		c.fired[rule.ID] = true
		inner := context.WithValue(ctx, cascadeKey{}, &cascade{depth: c.depth + 1, fired: c.fired})
		if err := d.fire(inner, st, rule, t, now); err != nil {
			return err
		}
		stale = true
	}
	return nil
}

// facts completes what conditions need to know about f.Ticket.
func (d *Desk) facts(ctx context.Context, st *store.Tx, f *automation.Facts, now time.Time) error {
	t := f.Ticket
	_, email, _, org, _, err := st.RequesterFacts(ctx, t.RequesterID)
	if err != nil {
		return err
	}
	f.RequesterEmail, f.OrgID = email, org
	f.AssigneeAvailability = ""
	if t.AssigneeID != nil {
		if f.AssigneeAvailability, err = st.AgentAvailability(ctx, *t.AssigneeID); err != nil {
			return err
		}
	}
	f.InHours = func(cal int64) bool {
		sc, ok, err := d.SLA.Schedule(ctx, st, cal)
		return err == nil && ok && sc.Elapsed(now, now.Add(time.Second)) > 0
	}
	return nil
}

// fire applies one matching rule's actions to t, each recorded under the
// rule's name.
func (d *Desk) fire(ctx context.Context, st *store.Tx, rule *automation.Rule, t *ticket.Ticket, now time.Time) error {
	actor := ticket.RuleActor(rule.ID)
	if err := d.Tickets.Record(ctx, st, ticket.Event{TicketID: t.ID, ActorType: ticket.ActorRule, ActorID: &rule.ID,
		Field: "rule", After: rule.Name, CreatedAt: now}); err != nil {
		return err
	}
	var p ticket.Patch
	patched := false
	for _, a := range rule.Actions {
		switch a.Type {
		case automation.ActSetTeam:
			id, _ := strconv.ParseInt(a.Value, 10, 64)
			p.TeamID, patched = ticket.Ref{Set: true, ID: &id}, true
		case automation.ActSetAssignee:
			switch a.Value {
			case "auto":
			case "":
				p.AssigneeID, patched = ticket.Ref{Set: true}, true
			default:
				id, _ := strconv.ParseInt(a.Value, 10, 64)
				p.AssigneeID, patched = ticket.Ref{Set: true, ID: &id}, true
			}
		case automation.ActSetPriority:
			pr, _ := ticket.ParsePriority(a.Value)
			p.Priority, patched = &pr, true
		case automation.ActSetStatus:
			s := ticket.Status(a.Value)
			p.Status, patched = &s, true
		case automation.ActAddTags:
			p.AddTags, patched = append(p.AddTags, a.Values...), true
		case automation.ActRemoveTags:
			p.RemoveTags, patched = append(p.RemoveTags, a.Values...), true
		case automation.ActSetField:
			if p.CustomFields == nil {
				p.CustomFields = map[string]any{}
			}
			p.CustomFields[a.Key], patched = a.Value, true
		}
	}
	if patched {
		if _, _, err := d.Tickets.UpdateIn(ctx, st, actor, t.ID, p, now); err != nil {
			if !refused(err) {
				return err
			}
			if err := d.ruleFailed(ctx, st, rule, t.ID, err, now); err != nil {
				return err
			}
		}
	}
	for _, a := range rule.Actions {
		var err error
		switch a.Type {
		case automation.ActSetAssignee:
			if a.Value == "auto" {
				err = d.assignAgain(ctx, st, t.ID, now)
			}
		case automation.ActNote, automation.ActReply:
			err = d.ruleMessage(ctx, st, rule, a, t.ID, now)
		case automation.ActNotify:
			// The team the rule matched the ticket in: an escalation
			// among the actions notifies the new team by itself.
			err = d.ruleNotify(ctx, st, rule, a, t.ID, t.TeamID, now)
		case automation.ActEscalate:
			var to *int64
			if a.Value != "" {
				id, _ := strconv.ParseInt(a.Value, 10, 64)
				to = &id
			}
			_, err = d.escalateIn(ctx, st, actor, t.ID, to, a.Text, a.TellCustomer, now)
		case automation.ActWebhook:
			id, _ := strconv.ParseInt(a.Value, 10, 64)
			cur, rerr := st.TicketForUpdate(ctx, t.ID)
			if rerr != nil {
				return rerr
			}
			err = d.queueWebhook(ctx, st, id, "rule", cur, now)
		}
		if err != nil {
			if !refused(err) {
				return err
			}
			if err := d.ruleFailed(ctx, st, rule, t.ID, err, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// refused reports an error that says the action cannot apply to this
// ticket (validation, conflict, not found), not that the desk failed.
func refused(err error) bool {
	return errors.Is(err, fault.Invalid) || errors.Is(err, fault.Conflict) || errors.Is(err, fault.NotFound)
}

// ruleFailed records in the history why a rule's action did not apply.
func (d *Desk) ruleFailed(ctx context.Context, st *store.Tx, rule *automation.Rule, ticketID int64, cause error, now time.Time) error {
	d.Log.Info("rule action refused", "rule", rule.ID, "ticket", ticketID, "err", cause)
	msg := cause.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return d.Tickets.Record(ctx, st, ticket.Event{TicketID: ticketID, ActorType: ticket.ActorRule, ActorID: &rule.ID,
		Field: "rule_refused", After: msg, CreatedAt: now})
}

// assignAgain runs the team's assignment for a ticket that has no agent.
func (d *Desk) assignAgain(ctx context.Context, st *store.Tx, id int64, now time.Time) error {
	t, err := st.TicketForUpdate(ctx, id)
	if err != nil || t.TeamID == nil || t.AssigneeID != nil {
		return err
	}
	_, err = d.assignIn(ctx, st, t, now)
	return err
}

// placeholders gathers what a macro's placeholders say about ticket t, in
// lang (dates in the desk's time zone).
func (d *Desk) placeholders(ctx context.Context, st *store.Tx, t *ticket.Ticket, agentID *int64, lang string) (automation.Values, error) {
	name, _, _, _, org, err := st.RequesterFacts(ctx, t.RequesterID)
	if err != nil {
		return automation.Values{}, err
	}
	team, err := st.TeamName(ctx, t.TeamID)
	if err != nil {
		return automation.Values{}, err
	}
	v := automation.Values{CustomerName: name, TicketNumber: "#" + strconv.FormatInt(t.ID, 10), Subject: t.Subject,
		TeamName: team, Organisation: org, Fields: map[string]string{}}
	if agentID != nil {
		if v.AgentName, err = st.AgentName(ctx, *agentID); err != nil {
			return v, err
		}
	}
	for k, x := range t.CustomFields {
		v.Fields[k] = ticket.FieldString(x)
	}
	if !i18n.Supported(lang) {
		lang = i18n.Languages[0]
	}
	p := d.I18n.Printer(lang, d.Mailer.Zone)
	if due, ok := t.Deadline(); ok {
		v.Deadline = p.When(due)
	} else {
		v.Deadline = p.T("mail.ack.asap")
	}
	return v, nil
}

// ruleMessage writes a rule's internal note or public reply (the reply
// goes to the customer through the outbox, as an automatic mail).
func (d *Desk) ruleMessage(ctx context.Context, st *store.Tx, rule *automation.Rule, a automation.Action, id int64, now time.Time) error {
	t, err := st.TicketForUpdate(ctx, id)
	if err != nil {
		return err
	}
	if t.Status == ticket.StatusClosed {
		return nil
	}
	text := a.Text
	lang := t.Language
	if a.MacroID != nil {
		m, err := st.TxMacro(ctx, *a.MacroID)
		if err != nil {
			return err
		}
		lang, text = m.Variant(t.Language)
	}
	v, err := d.placeholders(ctx, st, t, t.AssigneeID, lang)
	if err != nil {
		return err
	}
	kind := ticket.KindNote
	if a.Type == automation.ActReply {
		kind = ticket.KindReply
	}
	_, err = d.Tickets.AddMessageIn(ctx, st, ticket.RuleActor(rule.ID), id, ticket.NewMessage{Kind: kind,
		BodyText: automation.Render(text, v), Automatic: true, Meta: map[string]any{"rule_id": rule.ID}}, now)
	return err
}

// ruleNotify tells agents about a ticket in-app (and by mail, for those
// who get rule notices by mail).
func (d *Desk) ruleNotify(ctx context.Context, st *store.Tx, rule *automation.Rule, a automation.Action, id int64, team *int64, now time.Time) error {
	t, err := st.TicketForUpdate(ctx, id)
	if err != nil {
		return err
	}
	var to []int64
	switch a.Value {
	case "lead":
		to, err = st.TeamLeads(ctx, team)
	case "team":
		if team != nil {
			to, err = st.TeamMembers(ctx, *team)
		}
	case "assignee":
		if t.AssigneeID != nil {
			to = []int64{*t.AssigneeID}
		}
	default:
		n, _ := strconv.ParseInt(a.Value, 10, 64)
		to = []int64{n}
	}
	if err != nil {
		return err
	}
	v, err := d.placeholders(ctx, st, t, t.AssigneeID, t.Language)
	if err != nil {
		return err
	}
	detail := rule.Name
	if strings.TrimSpace(a.Text) != "" {
		detail = rule.Name + ": " + automation.Render(a.Text, v)
	}
	return d.notify(ctx, st, t, to, "rule", detail, now)
}

// notify notes in-app notices for agents and mails those who want the
// kind, and tells their open workspaces after commit.
func (d *Desk) notify(ctx context.Context, st *store.Tx, t *ticket.Ticket, to []int64, kind, detail string, now time.Time) error {
	if len(to) == 0 {
		return nil
	}
	if err := st.InsertNotices(ctx, to, t.ID, kind, detail, now); err != nil {
		return err
	}
	for _, id := range to {
		agentID, ticketID := id, t.ID
		st.AfterCommit(func() { d.Hub.Publish(live.Event{Type: "notice", Ticket: ticketID, Agent: agentID}) })
		if err := d.Mailer.Notify(ctx, mailTx{st, d.Jobs}, t, id, "rule", now, detail); err != nil {
			return err
		}
	}
	return nil
}

// ErrEscalatedMeanwhile refuses an escalation of a ticket that left the
// team its sender saw (sent twice, or a colleague was quicker).
var ErrEscalatedMeanwhile = fmt.Errorf("%w: %w", fault.Conflict, fault.Field("from_team_id", "changed", "the ticket is no longer with this team: it was escalated or moved meanwhile"))

// ErrTopTier refuses an escalation from the highest tier.
var ErrTopTier = fault.Field("team_id", "tier", "there is no higher tier to escalate to; choose a team")

// escalateIn moves a ticket to the next tier's team (or to), unassigned
// there so that the new team's assignment takes it, records the
// escalation event (reports count it), keeps the reason as an internal
// note, tells the customer with the escalation script when asked, and
// notifies the new team's members.
func (d *Desk) escalateIn(ctx context.Context, st *store.Tx, actor ticket.Actor, id int64, to *int64, reason string, tell bool, now time.Time) (*ticket.Ticket, error) {
	t, err := st.TicketForUpdate(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.CanSee(t) {
		return nil, ticket.ErrNotFound
	}
	if t.Status == ticket.StatusClosed {
		return nil, ticket.ErrClosed
	}
	if to == nil {
		if to, err = st.EscalationTarget(ctx, t.TeamID); err != nil {
			return nil, err
		}
		if to == nil {
			return nil, ErrTopTier
		}
	}
	if t.TeamID != nil && *t.TeamID == *to {
		return nil, fault.Field("team_id", "same_team", "the ticket is already with this team")
	}
	ok, err := st.TeamExists(ctx, *to)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault.Field("team_id", "exists", "no team has this id")
	}
	from := ""
	if t.TeamID != nil {
		from = strconv.FormatInt(*t.TeamID, 10)
	}
	ev := ticket.Event{TicketID: id, ActorType: actor.Type, Field: "escalated", Before: from, After: strconv.FormatInt(*to, 10), CreatedAt: now}
	if actor.Type != ticket.ActorSystem {
		aid := actor.ID
		ev.ActorID = &aid
	}
	if err := d.Tickets.Record(ctx, st, ev); err != nil {
		return nil, err
	}
	team, err := st.TeamName(ctx, to)
	if err != nil {
		return nil, err
	}
	lang := t.Language
	if !i18n.Supported(lang) {
		lang = i18n.Languages[0]
	}
	note := d.I18n.Printer(lang, d.Mailer.Zone).T("escalate.note", "Team", team)
	if r := strings.TrimSpace(reason); r != "" {
		note += "\n\n" + r
	}
	if _, err := d.Tickets.AddMessageIn(ctx, st, actor, id, ticket.NewMessage{Kind: ticket.KindNote, BodyText: note}, now); err != nil {
		return nil, err
	}
	unassign := t.AssigneeID != nil
	p := ticket.Patch{TeamID: ticket.Ref{Set: true, ID: to}}
	if unassign {
		p.AssigneeID = ticket.Ref{Set: true}
	}
	if _, _, err := d.Tickets.UpdateIn(ctx, st, actor, id, p, now); err != nil {
		return nil, err
	}
	if tell {
		if err := d.tellEscalated(ctx, st, actor, id, now); err != nil {
			return nil, err
		}
	}
	members, err := st.TeamMembers(ctx, *to)
	if err != nil {
		return nil, err
	}
	if actor.Type == ticket.ActorAgent {
		members = slices.DeleteFunc(members, func(a int64) bool { return a == actor.ID })
	}
	cur, err := st.TicketForUpdate(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := d.notify(ctx, st, cur, members, "escalated", strings.TrimSpace(reason), now); err != nil {
		return nil, err
	}
	return cur, nil
}

// tellEscalated sends the customer the escalation script: the shared
// escalation macro in their language, or the desk's default words.
func (d *Desk) tellEscalated(ctx context.Context, st *store.Tx, actor ticket.Actor, id int64, now time.Time) error {
	t, err := st.TicketForUpdate(ctx, id)
	if err != nil {
		return err
	}
	lang := t.Language
	text := ""
	macros, err := st.SharedMacrosOfKind(ctx, "escalation")
	if err != nil {
		return err
	}
	if len(macros) > 0 {
		lang, text = macros[0].Variant(t.Language)
	}
	v, err := d.placeholders(ctx, st, t, agentOf(actor), lang)
	if err != nil {
		return err
	}
	if text == "" {
		pl := lang
		if !i18n.Supported(pl) {
			pl = i18n.Languages[0]
		}
		text = d.I18n.Printer(pl, d.Mailer.Zone).T("escalate.customer", "Name", automation.FirstName(v.CustomerName), "Number", v.TicketNumber, "Team", v.TeamName)
	}
	_, err = d.Tickets.AddMessageIn(ctx, st, actor, id, ticket.NewMessage{Kind: ticket.KindReply, BodyText: automation.Render(text, v), Automatic: true}, now)
	return err
}

func agentOf(a ticket.Actor) *int64 {
	if a.Type != ticket.ActorAgent {
		return nil
	}
	id := a.ID
	return &id
}

// Escalate is the workspace's and the API's escalation of a ticket by an
// agent: to the next tier, or to a chosen team.
func (d *Desk) Escalate(ctx context.Context, actor ticket.Actor, id int64, from, to *int64, reason string, tell bool) (*ticket.Ticket, error) {
	var out *ticket.Ticket
	now := d.Now().UTC().Truncate(time.Microsecond)
	err := d.Store.InTx(ctx, func(st *store.Tx) error {
		if from != nil {
			t, err := st.TicketForUpdate(ctx, id)
			if err != nil {
				return err
			}
			if !actor.CanSee(t) {
				return ticket.ErrNotFound
			}
			want := strconv.FormatInt(*from, 10)
			if *from == 0 {
				want = "" // the page showed no team
			}
			if t.FieldValue("team") != want {
				return ErrEscalatedMeanwhile
			}
		}
		var err error
		out, err = d.escalateIn(ctx, st, actor, id, to, reason, tell, now)
		return err
	})
	return out, err
}

// --- SLA and CSAT events reach rules through the job queue ---

// RuleEvent runs the rules listening for an event that happened outside a
// ticket change (an SLA warning or breach, a rating), in a transaction of
// its own right after the one that recorded it.
type RuleEvent struct {
	TicketID int64  `json:"ticket_id"`
	Event    string `json:"event"`
	Metric   string `json:"metric,omitempty"`
	Rating   int    `json:"rating,omitempty"`
}

// Kind names the job.
func (RuleEvent) Kind() string { return "rule_event" }

// InsertOpts: a few retries (the rules' writes are one transaction).
func (RuleEvent) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

type ruleEventWorker struct {
	river.WorkerDefaults[RuleEvent]
	d *Desk
}

func (w *ruleEventWorker) Work(ctx context.Context, job *river.Job[RuleEvent]) error {
	return w.d.RunEvent(ctx, job.Args)
}

// RunEvent applies the rules (and webhooks) of one event to its ticket.
func (d *Desk) RunEvent(ctx context.Context, e RuleEvent) error {
	now := d.Now().UTC().Truncate(time.Microsecond)
	return d.Store.InTx(ctx, func(st *store.Tx) error {
		t, err := st.TicketForUpdate(ctx, e.TicketID)
		if errors.Is(err, ticket.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := d.queueWebhooks(ctx, st, e.Event, func() (*ticket.Ticket, error) { return t, nil }, now); err != nil {
			return err
		}
		return d.runRules(ctx, st, automation.Event(e.Event), e.TicketID, automation.Facts{SLAMetric: e.Metric, CSATRating: e.Rating}, now)
	})
}

// --- webhooks ---

// WebhookPayload is what a webhook receives.
type WebhookPayload struct {
	Event    string        `json:"event"`
	At       time.Time     `json:"at"`
	Delivery string        `json:"delivery"`
	Ticket   webhookTicket `json:"ticket"`
}

type webhookTicket struct {
	Number     int64    `json:"number"`
	Subject    string   `json:"subject"`
	Status     string   `json:"status"`
	Priority   string   `json:"priority"`
	Channel    string   `json:"channel"`
	Language   string   `json:"language"`
	TeamID     *int64   `json:"team_id"`
	AssigneeID *int64   `json:"assignee_id"`
	Tags       []string `json:"tags"`
	URL        string   `json:"url"`
}

// WebhookJob delivers one event to one webhook; the payload is the
// ticket as the event left it.
type WebhookJob struct {
	WebhookID int64           `json:"webhook_id"`
	Event     string          `json:"event"`
	TicketID  int64           `json:"ticket_id"`
	Payload   json.RawMessage `json:"payload"`
}

// Kind names the job.
func (WebhookJob) Kind() string { return "webhook" }

// InsertOpts: webhooks have their own queue, so that a slow receiver
// never delays mail, and 8 attempts (about 4 hours with the backoff).
func (WebhookJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueWebhooks, MaxAttempts: 8}
}

// queueWebhooks queues a delivery of event to every webhook subscribed
// to it, in st; ticketOf gives the ticket for the payload (called only
// when some webhook listens).
func (d *Desk) queueWebhooks(ctx context.Context, st *store.Tx, event string, ticketOf func() (*ticket.Ticket, error), now time.Time) error {
	ids, err := st.SubscribedWebhooks(ctx, event)
	if err != nil || len(ids) == 0 {
		return err
	}
	t, err := ticketOf()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.queueWebhook(ctx, st, id, event, t, now); err != nil {
			return err
		}
	}
	return nil
}

func (d *Desk) queueWebhook(ctx context.Context, st *store.Tx, hookID int64, event string, t *ticket.Ticket, now time.Time) error {
	p := WebhookPayload{Event: event, At: now, Delivery: fmt.Sprintf("%d-%d-%d", hookID, t.ID, now.UnixNano()), Ticket: webhookTicket{
		Number: t.ID, Subject: t.Subject, Status: string(t.Status), Priority: t.Priority.String(), Channel: string(t.Channel),
		Language: t.Language, TeamID: t.TeamID, AssigneeID: t.AssigneeID, Tags: t.Tags,
		URL: d.Cfg.BaseURL + "/tickets/" + strconv.FormatInt(t.ID, 10)}}
	if p.Ticket.Tags == nil {
		p.Ticket.Tags = []string{}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return d.Jobs.InsertTx(ctx, st.SQL(), WebhookJob{WebhookID: hookID, Event: event, TicketID: t.ID, Payload: b})
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookJob]
	d *Desk
	// slots bounds this node's deliveries in flight per webhook: a
	// receiver that hangs holds at most perHook workers, and its other
	// deliveries wait (snoozed, no attempt spent) instead of taking the
	// workers every other webhook needs. A delivery first waits briefly
	// for a slot: a healthy receiver frees one within milliseconds, and
	// snoozing every job past the first two would make a busy desk's
	// deliveries crawl. The mutex only guards the map.
	mu    sync.Mutex
	slots map[int64]chan struct{}
}

// perHook bounds the deliveries in flight to one webhook on one node;
// slotWait is how long a delivery waits for a slot before it is snoozed.
const (
	perHook  = 2
	slotWait = 250 * time.Millisecond
)

func (w *webhookWorker) slot(id int64) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slots == nil {
		w.slots = map[int64]chan struct{}{}
	}
	c, ok := w.slots[id]
	if !ok {
		c = make(chan struct{}, perHook)
		w.slots[id] = c
	}
	return c
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookJob]) error {
	c := w.slot(job.Args.WebhookID)
	t := time.NewTimer(slotWait)
	defer t.Stop()
	select {
	case c <- struct{}{}:
	case <-t.C:
		return river.JobSnooze(2 * time.Second)
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c }()
	return w.deliver(ctx, job)
}

func (w *webhookWorker) deliver(ctx context.Context, job *river.Job[WebhookJob]) error {
	d := w.d
	h, err := d.Store.Webhook(ctx, job.Args.WebhookID)
	if errors.Is(err, webhook.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if !h.Active {
		return river.JobCancel(errors.New("webhook switched off"))
	}
	var p struct {
		Delivery string `json:"delivery"`
	}
	_ = json.Unmarshal(job.Args.Payload, &p)
	del := d.sendLogged(ctx, h, job.Args.Event, p.Delivery, job.Args.Payload, job.Attempt, job.Args.TicketID)
	if del.OK {
		return nil
	}
	if del.Error == webhook.ErrPrivate.Error() {
		return river.JobCancel(webhook.ErrPrivate)
	}
	return errors.New(del.Error)
}

// sendLogged posts one delivery to a webhook and records it in the
// webhook's log (what it answered, how long it took, why it failed).
func (d *Desk) sendLogged(ctx context.Context, h *webhook.Webhook, event, id string, payload []byte, attempt int, ticketID int64) *webhook.Delivery {
	res := d.hooks.Send(ctx, h, event, id, payload, d.Now())
	del := &webhook.Delivery{WebhookID: h.ID, Event: event, Attempt: attempt, StatusCode: res.StatusCode,
		OK: res.OK(), DurationMS: res.Duration.Milliseconds(), CreatedAt: d.Now()}
	if ticketID != 0 {
		del.TicketID = &ticketID
	}
	if res.Err != nil {
		del.Error = res.Err.Error()
	} else if !res.OK() {
		del.Error = fmt.Sprintf("answered %d", res.StatusCode)
	}
	if err := d.Store.InsertDelivery(ctx, del); err != nil {
		d.Log.Warn("logging webhook delivery", "webhook", h.ID, "err", err)
	}
	return del
}

// PingEvent is the event of a test delivery.
const PingEvent = "ping"

// PingWebhook sends a webhook a signed test delivery now (event "ping",
// no ticket) and returns what came back; it is logged with the others.
// An admin setting up a receiver sees at once whether it answers and
// checks the signature.
func (d *Desk) PingWebhook(ctx context.Context, id int64) (*webhook.Delivery, error) {
	h, err := d.Store.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	now := d.Now().UTC()
	delivery := fmt.Sprintf("%d-ping-%d", h.ID, now.UnixNano())
	body, err := json.Marshal(map[string]any{"event": PingEvent, "at": now, "delivery": delivery})
	if err != nil {
		return nil, err
	}
	return d.sendLogged(ctx, h, PingEvent, delivery, body, 1, 0), nil
}

// NextRetry backs off from the desk's base wait, doubling up to an hour.
func (w *webhookWorker) NextRetry(job *river.Job[WebhookJob]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.d.mailRetry, time.Hour))
}

// Timeout bounds one delivery (the client's own timeout is shorter).
func (w *webhookWorker) Timeout(*river.Job[WebhookJob]) time.Duration { return 30 * time.Second }

// --- time rules ---

// timeRules fires the rules that wait ("pending for 3 days") every
// interval until ctx ends. Each ticket is considered once per anchor, in
// its own transaction, under its row lock: several nodes may scan.
func (d *Desk) timeRules(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.ScanTimeRules(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("time rules", "err", err)
		}
		// Languages another node's admin enabled reach this one here.
		if err := d.refreshLanguages(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("languages", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errNotYet leaves a ticket unclaimed: its business time has not run out.
var errNotYet = errors.New("not yet")

// ScanTimeRules considers the tickets each time rule waits for and fires
// those that match; it returns how many firings there were.
func (d *Desk) ScanTimeRules(ctx context.Context) (int, error) {
	all, err := d.Store.Rules(ctx)
	if err != nil {
		return 0, err
	}
	now := d.Now().UTC().Truncate(time.Microsecond)
	fired := 0
	for i := range all {
		rule := &all[i]
		if !rule.Active || rule.Time == nil {
			continue
		}
		rule.Compile()
		wait := time.Duration(rule.Time.Minutes) * time.Minute
		cands, err := d.Store.TimeCandidates(ctx, rule.ID, rule.Time.Since, statusPrefilter(rule), now.Add(-wait), 500)
		if err != nil {
			return fired, err
		}
		for _, c := range cands {
			err := d.Store.InTx(ctx, func(st *store.Tx) error {
				t, err := st.TicketForUpdate(ctx, c.ID)
				if err != nil {
					return err
				}
				anchor := t.UpdatedAt
				if rule.Time.Since == "created" {
					anchor = t.CreatedAt
				}
				if !anchor.Equal(c.Anchor) {
					return errNotYet // changed since listed: the next scan sees the new anchor
				}
				if cal := rule.Time.CalendarID; cal != nil {
					sc, ok, err := d.SLA.Schedule(ctx, st, *cal)
					if err != nil {
						return err
					}
					if ok && sc.Elapsed(anchor, now) < wait {
						return errNotYet
					}
				}
				claimed, err := st.ClaimRuleRun(ctx, rule.ID, t.ID, anchor, now)
				if err != nil || !claimed {
					return err
				}
				f := automation.Facts{Event: automation.TimeElapsed, Ticket: t}
				if err := d.facts(ctx, st, &f, now); err != nil {
					return err
				}
				if ok, _ := rule.Evaluate(f); !ok {
					return nil
				}
				fired++
				c := &cascade{depth: 1, fired: map[int64]bool{rule.ID: true}}
				return d.fire(context.WithValue(ctx, cascadeKey{}, c), st, rule, t, now)
			})
			if err != nil && !errors.Is(err, errNotYet) {
				return fired, err
			}
		}
	}
	return fired, nil
}

// statusPrefilter narrows a time rule's candidates by the statuses its
// conditions require (all must hold and one says status is/in).
func statusPrefilter(r *automation.Rule) []string {
	if r.Match == "any" {
		return nil
	}
	for _, c := range r.Conditions {
		if c.Field != "status" {
			continue
		}
		switch c.Op {
		case automation.OpIs:
			return []string{c.Value}
		case automation.OpIn:
			return c.Values
		}
	}
	return nil
}

// --- dry run ---

// DryRun tells, for a ticket as it is now and an event, which rules would
// fire and why each other one would not; nothing is written.
func (d *Desk) DryRun(ctx context.Context, actor ticket.Actor, id int64, event automation.Event) ([]automation.DryRule, error) {
	if _, err := d.Tickets.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	all, err := d.Store.Rules(ctx)
	if err != nil {
		return nil, err
	}
	// The latest customer message, read before the transaction (never a
	// second connection inside one).
	msgs, err := d.Store.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	var last *ticket.Message
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == ticket.KindCustomer {
			last = &msgs[i]
			break
		}
	}
	var out []automation.DryRule
	errDry := errors.New("dry run")
	now := d.Now().UTC()
	err = d.Store.InTx(ctx, func(st *store.Tx) error {
		t, err := st.TicketForUpdate(ctx, id)
		if err != nil {
			return err
		}
		f := automation.Facts{Event: event, Ticket: t}
		if err := d.facts(ctx, st, &f, now); err != nil {
			return err
		}
		f.Message = last
		for i := range all {
			r := &all[i]
			r.Compile()
			dr := automation.DryRule{ID: r.ID, Name: r.Name, Active: r.Active, Listens: r.Listens(event)}
			ok, checks := r.Evaluate(f)
			dr.Checks, dr.Matches, dr.Match = checks, ok, r.Match
			switch {
			case !r.Listens(event):
				dr.Reason = fmt.Sprintf("listens for %s, not %s", listensFor(r), event)
			case !ok:
				dr.Reason = automation.FirstFailure(checks)
				if r.Match == "any" {
					dr.Reason = "no condition holds (match any)"
				}
			case !r.Active:
				dr.Reason = "would match, but the rule is off"
			default:
				dr.Fires, dr.Reason = true, "every condition holds"
			}
			out = append(out, dr)
		}
		return errDry // read-only: roll back whatever a read locked
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	return out, err
}

func listensFor(r *automation.Rule) string {
	if r.Time != nil {
		return "time"
	}
	s := make([]string, len(r.Events))
	for i, e := range r.Events {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

// Known gathers what rule validation checks references against.
func (d *Desk) Known(ctx context.Context) (automation.Known, error) {
	k := automation.Known{Teams: map[int64]bool{}, Agents: map[int64]bool{}, Calendars: map[int64]bool{},
		Macros: map[int64]bool{}, Webhooks: map[int64]bool{}, Fields: map[string]bool{}}
	teams, err := d.Store.Teams(ctx)
	if err != nil {
		return k, err
	}
	for _, t := range teams {
		k.Teams[t.ID] = true
	}
	agents, err := d.Store.Agents(ctx, 10000, 0)
	if err != nil {
		return k, err
	}
	for _, a := range agents {
		k.Agents[a.ID] = true
	}
	cals, err := d.SLA.Calendars(ctx)
	if err != nil {
		return k, err
	}
	for _, c := range cals {
		k.Calendars[c.ID] = true
	}
	macros, err := d.Store.Macros(ctx, 0)
	if err != nil {
		return k, err
	}
	for _, m := range macros {
		k.Macros[m.ID] = true
	}
	hooks, err := d.Store.Webhooks(ctx)
	if err != nil {
		return k, err
	}
	for _, h := range hooks {
		k.Webhooks[h.ID] = true
	}
	defs, err := d.Tickets.FieldDefs(ctx)
	if err != nil {
		return k, err
	}
	for _, f := range defs {
		k.Fields[f.Key] = true
	}
	return k, nil
}

// handBackLimit bounds the tickets one availability change moves.
const handBackLimit = 200

// AvailabilityChanged acts on an agent's availability as it now is. Away
// or offline: their new and open tickets in teams that ask for it
// (reassign_away) go back to the team's assignment, to an online
// colleague or, when none can take them, to the team's unassigned queue.
// Online: the tickets waiting unassigned in their teams are offered to the
// assignment again (to them or a colleague, under the cap, by the team's
// mode). Each ticket moves in its own transaction, checked again inside
// it: a ticket someone took meanwhile, or an agent back online, is left
// alone.
func (d *Desk) AvailabilityChanged(ctx context.Context, agentID int64) error {
	a, err := d.Store.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	now := d.Now().UTC().Truncate(time.Microsecond)
	if a.Availability == agent.Online {
		ids, err := d.Store.WaitingForAgent(ctx, agentID, handBackLimit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := d.Store.InTx(ctx, func(st *store.Tx) error { return d.assignAgain(ctx, st, id, now) }); err != nil {
				return err
			}
		}
		return nil
	}
	ids, err := d.Store.TicketsToHandBack(ctx, agentID, handBackLimit)
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := d.Store.InTx(ctx, func(st *store.Tx) error {
			t, err := st.TicketForUpdate(ctx, id)
			if err != nil || t.AssigneeID == nil || *t.AssigneeID != agentID {
				return err
			}
			if av, err := st.AgentAvailability(ctx, agentID); err != nil || av == string(agent.Online) {
				return err
			}
			if _, _, err := d.Tickets.UpdateIn(ctx, st, ticket.System, id, ticket.Patch{AssigneeID: ticket.Ref{Set: true}}, now); err != nil {
				return err
			}
			return d.assignAgain(ctx, st, id, now)
		})
		if err != nil && !errors.Is(err, fault.NotFound) {
			return err
		}
	}
	return nil
}

// RateTicket records a customer's rating and, with it, the csat_received
// event that rules and webhooks hear (run by the job queue right after,
// with the score): one transaction, so a rating is never recorded without
// its event, nor an event sent for a rating that was not kept.
func (d *Desk) RateTicket(ctx context.Context, r *csat.Rating) (bool, error) {
	var first bool
	err := d.Store.InTx(ctx, func(st *store.Tx) error {
		var err error
		if first, err = st.RateTicket(ctx, r); err != nil || !first {
			return err
		}
		return d.Jobs.InsertTx(ctx, st.SQL(), RuleEvent{TicketID: r.TicketID, Event: string(automation.CSATReceived), Rating: r.Rating})
	})
	return first, err
}

// ratingStore is the store as the survey page sees it: a rating goes
// through Desk.RateTicket.
type ratingStore struct {
	*store.Store
	d *Desk
}

func (s ratingStore) RateTicket(ctx context.Context, r *csat.Rating) (bool, error) {
	return s.d.RateTicket(ctx, r)
}

// refreshLanguages points language detection at the languages the help
// centre serves (Italian and English always): a language an admin adds
// there is detected in customers' mail from then on, on this node at once
// and on the others within a scan.
func (d *Desk) refreshLanguages(ctx context.Context) error {
	var b kb.Brand
	ok, err := d.Store.Setting(ctx, web.BrandKey, &b)
	if err != nil || !ok {
		return err
	}
	d.lang.SetLanguages(b.Languages...)
	return nil
}

// settingsStore is the store as the settings pages see it: saving the help
// centre's brand also updates the languages detected.
type settingsStore struct {
	*store.Store
	d *Desk
}

func (s settingsStore) SetSetting(ctx context.Context, key string, value any, now time.Time) error {
	if err := s.Store.SetSetting(ctx, key, value, now); err != nil {
		return err
	}
	if key == web.BrandKey {
		return s.d.refreshLanguages(ctx)
	}
	return nil
}
