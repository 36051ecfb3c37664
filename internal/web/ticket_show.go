package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/i18n"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

type threadItem struct {
	ID              int64
	Kind, KindLabel string
	// Lang is a customer message's language when it is not the ticket's
	// (the customer switched): the agent sees it before answering.
	Lang        string
	Author      string
	Text, HTML  string
	HasHTML     bool
	At, AtAgo   string
	Attachments []ticket.Attachment
	Raw         string     // the download of the raw mail, for messages that came by mail
	Mails       []mailView // the mail that carried a reply to the customer
	Event       bool
	Last        bool
	at          time.Time
	seq         int64 // history order among items at the same time
}

// mailView is one outgoing mail of a ticket with its delivery state.
type mailView struct {
	ID                       int64
	To, CC                   string
	Status, StatusLabel, Err string
	Answer                   bool // Err is the server's answer (shown as it came), not the desk's own words
	CanResend                bool
}

// composer is the reply form's state: kept across a failed send.
type composer struct {
	Kind, Body, Status, Error string
	// To is who a public reply goes to (the requester's address) and CC
	// the ticket's CCs, which the agent can change with the reply.
	To, CC, WasCC string
	NoMail        bool // the requester has no address: the reply is not mailed
	CCError       string
	// Token is the form's one-time token: sent twice (Back, a retry), the
	// reply is added once.
	Token                 string
	MergeError, MergeInto string // the merge form's state
}

// props is the properties form's state and its errors by field.
type props struct {
	Status, Priority, Tags string
	Language               string
	TeamID, AssigneeID     int64
	Errors                 map[string]string
	Custom                 map[string]string // custom field values as typed
	// Conflict tells who changed what meanwhile; the form then shows the
	// ticket as it is now.
	Conflict string
}

// fieldView is one custom field in the properties form.
type fieldView struct {
	Key, Label, Type string
	Options          []string
	Value, Error     string
	Was              string // the stored value the form is based on
}

type ticketData struct {
	// EscalateError says why an escalation was refused.
	EscalateError string
	T             *ticket.Ticket
	StatusLabel   string
	PrioLabel     string
	Thread        []threadItem
	Requester     *contact.Contact
	Org           *contact.Organisation
	Others        []ticket.Ticket
	Ratings       []ratingView // the customer's ratings of this ticket's resolutions
	Teams         []team.Team
	Agents        []agent.Agent
	Statuses      []ticket.Status
	Priorities    []string
	Languages     []string // offered for the ticket's language
	Composer      composer
	Props         props
	Was           props // the ticket's values now, sent back as was_* fields
	Presence      []live.Presence
	Me            int64
	Fields        []fieldView
	History       []historyRow
	SLA           slaBadge
	Clocks        []clockView
	Policy        string // the SLA policy the clocks follow
}

// ratingView is one customer rating as the workspace shows it.
type ratingView struct {
	TicketID int64
	Subject  string
	Who      string
	Score    int
	Good     bool // 4 or 5: counted as satisfied
	Comment  string
	At       string
}

func ratingViews(pr *i18n.Printer, rs []csat.Rating) []ratingView {
	out := make([]ratingView, len(rs))
	for i, r := range rs {
		out[i] = ratingView{TicketID: r.TicketID, Subject: r.Subject, Who: r.ContactName, Score: r.Rating, Good: r.Rating >= 4, Comment: r.Comment, At: pr.Date(r.CreatedAt)}
	}
	return out
}

// clockView is one SLA metric in the ticket sidebar.
type clockView struct {
	Metric, State, StateLabel, Target, Elapsed, Due string
	Breached                                        bool
}

// historyRow is one event of the History tab: every change, who, when.
type historyRow struct {
	At, Actor, What string
}

func ticketNumber(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil || n <= 0 {
		return 0, ticket.ErrNotFound
	}
	return n, nil
}

// ticketShow: GET /tickets/{number} — the thread, the composer, the
// properties and the requester. ?partial=thread renders only the thread.
func (h *handler) ticketShow(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	return h.ticketPage(w, r, n, http.StatusOK, nil, nil)
}

// ticketPage renders the ticket page; comp and pr carry a failed form back
// with its errors and the agent's input.
func (h *handler) ticketPage(w http.ResponseWriter, r *http.Request, n int64, status int, comp *composer, pp *props) error {
	a := current(r)
	pr := h.printer(r, a)
	actor := ticket.AgentActor(a)
	ctx := r.Context()
	t, err := h.Tickets.Get(ctx, actor, n)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet && r.URL.Query().Get("partial") == "" && h.Notices != nil {
		// Opening the ticket reads the agent's notices about it.
		if _, err := h.Notices.MarkTicketRead(ctx, a.ID, n); err != nil {
			return err
		}
	}
	msgs, err := h.Tickets.Thread(ctx, actor, n)
	if err != nil {
		return err
	}
	evs, err := h.Tickets.History(ctx, actor, n)
	if err != nil {
		return err
	}
	d := ticketData{T: t, StatusLabel: pr.T("status." + string(t.Status)), PrioLabel: pr.T("priority." + t.Priority.String()),
		Statuses: ticket.Statuses, Priorities: []string{"low", "normal", "high", "urgent"}, Languages: i18n.Languages, Me: a.ID}
	if d.Teams, err = h.Store.Teams(ctx); err != nil {
		return err
	}
	if d.Agents, err = h.Store.Agents(ctx, 1000, 0); err != nil {
		return err
	}
	agentName := map[int64]string{}
	for _, ag := range d.Agents {
		agentName[ag.ID] = ag.Name
	}
	teamName := map[int64]string{}
	for _, tm := range d.Teams {
		teamName[tm.ID] = tm.Name
	}
	if d.Requester, err = h.Store.Contact(ctx, t.RequesterID); err != nil {
		return err
	}
	if d.Requester.OrganisationID != nil {
		if d.Org, err = h.Store.Organisation(ctx, *d.Requester.OrganisationID); err != nil && !errors.Is(err, fault.NotFound) {
			return err
		}
	}
	rid := t.RequesterID
	others, err := h.Tickets.List(ctx, actor, ticket.Filter{RequesterID: &rid, Limit: 6, Sort: "-created"})
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != t.ID && len(d.Others) < 5 {
			d.Others = append(d.Others, o)
		}
	}
	now := h.Now()
	d.SLA = newSLABadge(pr, t, now)
	if h.CSAT != nil {
		rs, err := h.CSAT.Ratings(ctx, csat.Filter{TicketID: &t.ID})
		if err != nil {
			return err
		}
		d.Ratings = ratingViews(pr, rs)
	}
	clocks, err := h.SLA.Clocks(ctx, t.ID)
	if err != nil {
		return err
	}
	if len(clocks) > 0 {
		if p, err := h.SLA.Policy(ctx, clocks[0].PolicyID); err == nil {
			d.Policy = p.Name
		}
	}
	for _, c := range clocks {
		cv := clockView{Metric: pr.T("metric." + string(c.Metric)), State: string(c.State), StateLabel: pr.T("clock." + string(c.State)),
			Target: pr.Span(c.Target), Elapsed: pr.Span(c.ElapsedCalendar), Breached: c.Breached}
		if c.Business {
			cv.Target, cv.Elapsed = pr.Hours(c.Target), pr.Hours(c.ElapsedBusiness)
		}
		if c.Deadline != nil {
			cv.Due = pr.T("clock.due", "When", pr.Date(*c.Deadline))
			if c.Deadline.Before(now) {
				cv.Breached = true
			}
		} else if c.State == "active" {
			cv.Due = pr.T("clock.no_deadline")
		}
		if cv.Breached && c.State == "fulfilled" {
			cv.StateLabel = pr.T("clock.met_late") // met, but after its deadline
		}
		if cv.Breached && c.State == "active" && c.Deadline != nil {
			// Not "running" with a date in the past: say it.
			cv.StateLabel, cv.Due = pr.T("clock.breached"), pr.T("clock.was_due", "When", pr.Date(*c.Deadline))
		}
		d.Clocks = append(d.Clocks, cv)
	}
	// Each message has a "message" event; its id orders the message among
	// the events recorded at the same moment.
	msgSeq := map[int64]int64{}
	for _, e := range evs {
		if e.Field == "message" {
			if _, id, ok := strings.Cut(e.After, ":"); ok {
				if n, err := strconv.ParseInt(id, 10, 64); err == nil {
					msgSeq[n] = e.ID
				}
			}
		}
	}
	contactNames := map[int64]string{t.RequesterID: d.Requester.DisplayName()}
	mailsOf := map[int64][]mailView{}
	if h.Mail.Store != nil {
		outs, err := h.Mail.Store.OutboundOfTicket(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, o := range outs {
			v := mailView{ID: o.ID, To: o.To, CC: strings.ReplaceAll(o.CC, ",", ", "), Status: o.Status, StatusLabel: pr.T("mail.status." + o.Status),
				Err: mailReason(pr, o.LastError), CanResend: o.Status == "failed" || o.Status == "sent"}
			v.Answer = v.Err == o.LastError
			switch {
			case o.MessageID != nil:
				mailsOf[*o.MessageID] = append(mailsOf[*o.MessageID], v)
			case o.Kind == "ack":
				it := threadItem{Kind: "event", Event: true, Text: pr.T("mail.ack_event", "To", o.To, "Status", v.StatusLabel),
					Author: pr.T("actor.system"), At: pr.Date(o.CreatedAt), AtAgo: pr.Ago(o.CreatedAt, now), Mails: []mailView{v}}
				it.at, it.seq = o.CreatedAt, 1<<62
				d.Thread = append(d.Thread, it)
			}
		}
	}
	for _, m := range msgs {
		it := threadItem{ID: m.ID, Kind: string(m.Kind), KindLabel: pr.T("kind." + string(m.Kind)), Text: m.BodyText,
			HTML: m.BodyHTML, HasHTML: strings.Contains(m.BodyHTML, "<") && m.Kind == ticket.KindCustomer && !isPlainParagraphs(m.BodyHTML),
			At: pr.Date(m.CreatedAt), AtAgo: pr.Ago(m.CreatedAt, now), Attachments: m.Attachments}
		if l := m.Language(); l != "" && l != t.Language {
			it.Lang = l
		}
		switch {
		case m.AuthorAgentID != nil:
			it.Author = agentName[*m.AuthorAgentID]
		case m.AuthorContactID != nil:
			name, ok := contactNames[*m.AuthorContactID]
			if !ok {
				if c, err := h.Store.Contact(ctx, *m.AuthorContactID); err == nil {
					name = c.DisplayName()
				}
				contactNames[*m.AuthorContactID] = name
			}
			it.Author = name
		default:
			it.Author = pr.T("actor.system")
		}
		if sum, _ := m.Meta["raw_sha256"].(string); sum != "" {
			it.Raw = fmt.Sprintf("/api/v1/tickets/%d/messages/%d/raw", t.ID, m.ID)
		}
		it.Mails = mailsOf[m.ID]
		if cids, ok := m.Meta["cids"].(map[string]any); ok && it.HasHTML {
			it.HTML = inlineCIDs(it.HTML, cids, m.Attachments, h.InlineURL)
		}
		it.at, it.seq = m.CreatedAt, msgSeq[m.ID]
		d.Thread = append(d.Thread, it)
	}
	d.EscalateError = r.URL.Query().Get("escalate_error")
	if len(d.EscalateError) > 200 {
		d.EscalateError = ""
	}
	// Every firing of a rule starts with a "rule" event naming it: the
	// history says which rule acted, under the name it had then (a rule
	// renamed or deleted since still reads as it was).
	ruleName := map[int64]string{}
	for _, e := range evs {
		if e.ActorType == ticket.ActorRule && e.Field == "rule" && e.ActorID != nil {
			ruleName[*e.ActorID] = e.After
		}
	}
	actorName := func(e ticket.Event) string {
		switch {
		case e.ActorType == ticket.ActorAgent && e.ActorID != nil:
			return agentName[*e.ActorID]
		case e.ActorType == ticket.ActorRule && e.ActorID != nil:
			return pr.T("actor.rule", "Name", ruleName[*e.ActorID])
		}
		return pr.T("actor.system")
	}
	// The History tab lists every event, newest first, in words where the
	// thread has words for it and as field: before → after otherwise.
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		row := historyRow{At: pr.Date(e.CreatedAt), Actor: actorName(e), What: eventLabel(pr.T, e, agentName, teamName)}
		if row.What == "" {
			row.What = pr.T("history.change", "Field", historyField(pr.T, e.Field), "From", historyValue(pr, e.Field, e.Before), "To", historyValue(pr, e.Field, e.After))
		}
		d.History = append(d.History, row)
	}
	// Compact system events between the messages.
	for _, e := range evs {
		label := eventLabel(pr.T, e, agentName, teamName)
		if label == "" {
			continue
		}
		it := threadItem{Kind: "event", Event: true, Text: label, At: pr.Date(e.CreatedAt), AtAgo: pr.Ago(e.CreatedAt, now)}
		it.Author = actorName(e)
		it.at, it.seq = e.CreatedAt, e.ID
		d.Thread = append(d.Thread, it)
	}
	// Messages and compact events in the order they happened.
	slices.SortStableFunc(d.Thread, func(x, y threadItem) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	if len(d.Thread) > 0 {
		d.Thread[len(d.Thread)-1].Last = true
	}
	if comp != nil {
		d.Composer = *comp
		if d.Composer.Token == "" {
			d.Composer.Token = auth.RandomSecret(16)
		}
	} else {
		d.Composer = composer{Kind: "reply", Token: auth.RandomSecret(16)}
		if dr, err := h.Store.LoadDraft(ctx, a.ID, t.ID); err != nil {
			return err
		} else if dr != nil {
			d.Composer.Kind, d.Composer.Body = dr.Kind, dr.Body
		}
	}
	if err := h.recipients(ctx, t, d.Requester, &d.Composer, comp != nil); err != nil {
		return err
	}
	// Was is what the form is based on: the ticket as it is now. The
	// server applies only the fields the agent moved away from it.
	d.Was = props{Status: string(t.Status), Priority: t.Priority.String(), Tags: strings.Join(t.Tags, ", "), Language: t.Language}
	d.Was.TeamID, d.Was.AssigneeID = deref(t.TeamID), deref(t.AssigneeID)
	d.Props = d.Was
	if pp != nil && pp.Conflict == "" {
		d.Props = *pp
	} else if pp != nil {
		d.Props.Conflict = pp.Conflict
	}
	if h.Hub != nil {
		d.Presence = h.Hub.Presence(t.ID)
	}
	defs, err := h.Tickets.FieldDefs(ctx)
	if err != nil {
		return err
	}
	for _, def := range defs {
		if !def.Active {
			continue
		}
		fv := fieldView{Key: def.Key, Label: def.Label, Type: string(def.Type), Options: def.Options, Value: ticket.FieldString(t.CustomFields[def.Key])}
		fv.Was = fv.Value
		if v, ok := d.Props.Custom[def.Key]; ok {
			fv.Value = v
		}
		fv.Error = d.Props.Errors["custom_fields."+def.Key]
		d.Fields = append(d.Fields, fv)
	}
	pg := page{P: pr, Agent: a, Title: "#" + strconv.FormatInt(t.ID, 10) + " " + t.Subject, Now: now, Data: d}
	if r.Method == http.MethodGet && r.URL.Query().Get("partial") == "thread" {
		return h.renderPart(w, r, http.StatusOK, "ticket", "thread", pg)
	}
	return h.render(w, r, status, "ticket", pg)
}

// isPlainParagraphs reports whether HTML is only our own rendering of plain
// text, which the thread already shows as text.
func isPlainParagraphs(s string) bool {
	s = strings.NewReplacer("<p>", "", "</p>", "", "<br>", "").Replace(s)
	return !strings.Contains(s, "<")
}

// eventLabel says one history event in words; "" for those the thread
// already shows (messages) or that say nothing to an agent.
func eventLabel(t func(string, ...any) string, e ticket.Event, agents, teams map[int64]string) string {
	name := func(v string) string {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n, ok := agents[id]; ok {
				return n
			}
		}
		return v
	}
	switch e.Field {
	case "status":
		return t("event.status", "From", t("status."+e.Before), "To", t("status."+e.After))
	case "priority":
		return t("event.priority", "From", t("priority."+e.Before), "To", t("priority."+e.After))
	case "assignee":
		if e.After == "" {
			return t("event.unassigned")
		}
		return t("event.assigned", "Name", name(e.After))
	case "team":
		return t("event.team_change", "From", teamLabel(teams, e.Before), "To", teamLabel(teams, e.After))
	case "tags":
		return t("event.tags", "Tags", strings.ReplaceAll(e.After, ",", ", "))
	case "merged_into":
		return t("event.merged_into", "N", e.After)
	case "merged_from":
		return t("event.merged_from", "N", e.After)
	case "reopened":
		return t("event.reopened")
	case "sla_warning":
		return t("event.sla_warning", "Metric", t("metric."+e.After))
	case "sla_breach":
		return t("event.sla_breach", "Metric", t("metric."+e.After))
	case "rule":
		return t("event.rule", "Name", e.After)
	case "rule_refused":
		return t("event.rule_refused", "Why", e.After)
	case "escalated":
		return t("event.escalated", "From", teamLabel(teams, e.Before), "To", teamLabel(teams, e.After))
	}
	return ""
}

// teamLabel names a team recorded by id in an event ("—" for none).
func teamLabel(teams map[int64]string, v string) string {
	if id, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n, ok := teams[id]; ok {
			return n
		}
	}
	if v == "" {
		return "—"
	}
	return "#" + v
}

// historyField names a changed field in the viewer's language; a custom
// field is named by its key.
func historyField(t func(string, ...any) string, field string) string {
	if key, ok := strings.CutPrefix(field, "custom_fields."); ok {
		return t("history.field.custom_fields") + " " + key
	}
	if slices.Contains([]string{"subject", "language", "requester", "cc", "first_reply", "created", "message", "follow_up", "follow_up_of"}, field) {
		return t("history.field." + field)
	}
	if slices.Contains([]string{"status", "priority", "team", "assignee"}, field) {
		return t("col." + field) // the properties' own labels
	}
	return field
}

// recipients fills the composer's "who receives this" line: the
// requester's deliverable address and the ticket's CCs (kept as typed
// when the form comes back with an error).
func (h *handler) recipients(ctx context.Context, t *ticket.Ticket, req *contact.Contact, c *composer, keep bool) error {
	c.To = ""
	for _, e := range req.Emails {
		if req.Undeliverable[e] == "" {
			c.To = e
			break
		}
	}
	c.NoMail = c.To == ""
	var ccs []string
	for _, id := range t.CCIDs {
		cc, err := h.Store.Contact(ctx, id)
		if err != nil {
			if errors.Is(err, contact.ErrNotFound) {
				continue
			}
			return err
		}
		if len(cc.Emails) > 0 {
			ccs = append(ccs, cc.Emails[0])
		}
	}
	c.WasCC = strings.Join(ccs, ", ")
	if !keep {
		c.CC = c.WasCC
	}
	return nil
}

// inlineCIDs points a mail's cid: images at the stored attachments they
// name (served from this desk, as the frame's policy allows); other cid:
// sources stay blocked.
func inlineCIDs(body string, cids map[string]any, atts []ticket.Attachment, link func(int64) string) string {
	byName := map[string]int64{}
	for _, a := range atts {
		if strings.HasPrefix(a.ContentType, "image/") && a.ContentType != "image/svg+xml" {
			byName[a.Filename] = a.ID
		}
	}
	for cid, v := range cids {
		name, _ := v.(string)
		id, ok := byName[name]
		if !ok || cid == "" {
			continue
		}
		if link == nil {
			break
		}
		body = strings.ReplaceAll(body, `"cid:`+html.EscapeString(cid)+`"`, `"`+html.EscapeString(link(id))+`"`)
	}
	return body
}

// historyValue shows a recorded value in words: a channel's name, the
// kind of a message instead of its internal id, a ticket number, a date.
func historyValue(pr *i18n.Printer, field, v string) string {
	if v == "" {
		return "—"
	}
	switch field {
	case "created":
		return pr.T("channel." + v)
	case "message":
		kind, _, _ := strings.Cut(v, ":")
		return pr.T("kind." + kind)
	case "follow_up", "follow_up_of", "merged_into", "merged_from":
		return "#" + v
	case "first_reply":
		if at, err := time.Parse(time.RFC3339, v); err == nil {
			return pr.Date(at)
		}
	}
	return v
}

// mailReason says why a mail was not sent: the desk's own reasons in the
// agent's language, a server's answer as it came.
func mailReason(pr *i18n.Printer, last string) string {
	for reason, key := range email.Reasons {
		if strings.HasPrefix(last, reason) {
			return pr.T(key)
		}
	}
	return last
}
