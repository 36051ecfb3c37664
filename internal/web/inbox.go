package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/ticket"
)

// A view is one queue of the inbox sidebar.
type view struct {
	Key    string
	filter func(a *agent.Agent, now time.Time) ticket.Filter
}

var unsolved = []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusOnHold}

var views = []view{
	{"mine", func(a *agent.Agent, _ time.Time) ticket.Filter {
		id := a.ID
		return ticket.Filter{AssigneeID: &id, Statuses: unsolved}
	}},
	{"unassigned", func(*agent.Agent, time.Time) ticket.Filter {
		return ticket.Filter{NoAssignee: true, Statuses: unsolved}
	}},
	{"teams", func(a *agent.Agent, _ time.Time) ticket.Filter {
		ids := a.TeamIDs
		if len(ids) == 0 {
			ids = []int64{-1} // no team: an empty queue, not every ticket
		}
		return ticket.Filter{TeamIDs: ids, Statuses: unsolved}
	}},
	{"open", func(*agent.Agent, time.Time) ticket.Filter {
		return ticket.Filter{Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen}}
	}},
	{"waiting", func(*agent.Agent, time.Time) ticket.Filter {
		return ticket.Filter{Statuses: []ticket.Status{ticket.StatusPending, ticket.StatusOnHold}}
	}},
	// The SLA queues: only unsolved tickets have running clocks; each
	// status is read from the (status, deadline) index.
	{"at_risk", func(_ *agent.Agent, now time.Time) ticket.Filter {
		return ticket.Filter{Statuses: unsolved, SLA: ticket.SLAAtRisk, SLANow: now, Sort: "deadline"}
	}},
	{"breached", func(_ *agent.Agent, now time.Time) ticket.Filter {
		return ticket.Filter{Statuses: unsolved, SLA: ticket.SLABreached, SLANow: now, Sort: "deadline"}
	}},
	{"solved", func(_ *agent.Agent, now time.Time) ticket.Filter {
		since := now.Add(-7 * 24 * time.Hour)
		return ticket.Filter{Statuses: []ticket.Status{ticket.StatusSolved, ticket.StatusClosed}, UpdatedAfter: &since}
	}},
}

type viewLink struct {
	Key, Label string
	Count      string
	Current    bool
	Shared     bool // a saved view shared with a team
}

// countLabel shows a capped count: "999+" at the cap.
func countLabel(n int64) string {
	if n >= countCap {
		return strconv.Itoa(countCap-1) + "+"
	}
	return strconv.FormatInt(n, 10)
}

// cappedCount counts the tickets of f up to countCap.
func (h *handler) cappedCount(ctx context.Context, actor ticket.Actor, f ticket.Filter) (int64, error) {
	f.Limit, f.Offset = countCap, 0
	return h.Tickets.Count(ctx, actor, f)
}

// sortFits reports whether f may be listed in f.Sort. Sorting by requester
// reads every ticket of the list (no index holds the requester's name), so
// without search words it is offered only below countCap tickets; larger
// lists keep the default order and say so.
func (h *handler) sortFits(ctx context.Context, actor ticket.Actor, f ticket.Filter) (bool, error) {
	if !strings.HasSuffix(f.Sort, "requester") || !f.Text.Empty() {
		return true, nil
	}
	n, err := h.cappedCount(ctx, actor, f)
	return n < countCap, err
}

// countCap bounds the queue counts: a sidebar says "999+" rather than
// counting a six-figure queue on every page view.
const countCap = 1000

type inboxRow struct {
	Number                              int64
	Subject, Requester, Team, Assignee  string
	Status, StatusLabel, Priority, Prio string
	UpdatedAgo, Updated                 string
	SLA                                 slaBadge
	Snippet                             string // the newest message's first words
}

// slaBadge shows the next SLA deadline: time left or overdue, coloured by
// state ("ok", "risk" once the warning is due, "breached" past it).
type slaBadge struct {
	State, Label, Due string
}

func newSLABadge(pr *i18n.Printer, t *ticket.Ticket, now time.Time) slaBadge {
	due, ok := t.Deadline()
	if !ok {
		return slaBadge{}
	}
	b := slaBadge{State: "ok", Due: pr.Date(due), Label: pr.T("sla.left", "Span", pr.Span(due.Sub(now)))}
	if w, ok := t.Warning(); ok && !w.After(now) {
		b.State = "risk"
	}
	if !due.After(now) {
		b.State, b.Label = "breached", pr.T("sla.overdue", "Span", pr.Span(now.Sub(due)))
	}
	return b
}

type inboxData struct {
	Done, Failed int // the outcome of a bulk action, shown once
	// BulkNote is why the last bulk action did nothing; BulkChanges what
	// it changed, in words.
	BulkNote, BulkChanges string
	UnknownView           bool // the address named a view that does not exist (any more)
	Views                 []viewLink
	Saved                 []viewLink // the agent's saved views and their teams'
	View, Sort            string
	Sorts                 []sortLink
	Cols                  map[string]sortCol // sortable column headers
	Rows                  []inboxRow
	Page                  int
	PrevPage              int
	NextPage              int
	Saved1                *ticket.SavedView // the saved view shown, if any
	SavedQuery            string            // its filters, to edit on the search page
	CanDelete             bool
	SortLimited           bool       // asked to sort a queue too large for that order
	Start                 *startData // the admin's first steps, on a new desk
}

type sortLink struct{ Key, Label string }

// sortCol is a column header that sorts: the order a click asks for and,
// when the list is sorted by it, which way ("ascending"/"descending").
type sortCol struct{ Next, Aria string }

// inboxSorts are the orders the inbox accepts; saved views with a text
// query add "relevance".
var inboxSorts = []string{"-updated", "updated", "-created", "created", "-priority", "priority", "requester", "-requester", "deadline"}

// columnSorts are the sortable columns and the order of their first click.
var columnSorts = map[string]string{"number": "-created", "requester": "requester", "priority": "-priority", "updated": "-updated"}

func sortCols(current string) map[string]sortCol {
	out := map[string]sortCol{}
	for col, first := range columnSorts {
		c := sortCol{Next: first}
		base := strings.TrimPrefix(first, "-")
		switch current {
		case base:
			c.Next, c.Aria = "-"+base, "ascending"
		case "-" + base:
			c.Next, c.Aria = base, "descending"
		}
		out[col] = c
	}
	// The deadline runs one way: soonest first.
	out["deadline"] = sortCol{Next: "deadline"}
	if current == "deadline" {
		out["deadline"] = sortCol{Next: "deadline", Aria: "ascending"}
	}
	return out
}

const inboxPageSize = 50

// inbox: GET / — the agent's queues with live counts, one queue's tickets
// with sortable columns and pages. ?partial=1 renders only the part the
// page's script swaps in when a ticket changes.
func (h *handler) inbox(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	actor := ticket.AgentActor(a)
	q := r.URL.Query()
	now := h.Now()
	d := inboxData{View: q.Get("view"), Sort: q.Get("sort"), Page: 1}
	saved, err := h.Store.ViewsFor(r.Context(), a.ID, a.TeamIDs)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(views, func(v view) bool { return v.Key == d.View }) &&
		!slices.ContainsFunc(saved, func(v ticket.SavedView) bool { return "v"+strconv.FormatInt(v.ID, 10) == d.View }) {
		d.UnknownView = d.View != "" // say so, rather than show another queue silently
		d.View = "mine"
	}
	d.Done, _ = strconv.Atoi(q.Get("done"))
	d.Failed, _ = strconv.Atoi(q.Get("failed"))
	d.BulkNote, d.BulkChanges = bulkWords(pr, q)
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 100000 {
		d.Page = n
	}
	var f ticket.Filter
	for _, v := range views {
		vf := v.filter(a, now)
		n, err := h.cappedCount(r.Context(), actor, vf)
		if err != nil {
			return err
		}
		d.Views = append(d.Views, viewLink{Key: v.Key, Label: pr.T("view." + v.Key), Count: countLabel(n), Current: v.Key == d.View})
		if v.Key == d.View {
			f = vf
		}
	}
	title := pr.T("view." + d.View)
	for i := range saved {
		sv := &saved[i]
		key := "v" + strconv.FormatInt(sv.ID, 10)
		vq, _ := url.ParseQuery(sv.Query)
		vf, errs := parseQueryFilter(vq).toFilter(a, pr.Loc)
		link := viewLink{Key: key, Label: sv.Name, Count: "!", Current: key == d.View, Shared: sv.TeamID != nil}
		if len(errs) == 0 {
			n, err := h.cappedCount(r.Context(), actor, vf)
			if err != nil {
				return err
			}
			link.Count = countLabel(n)
		}
		d.Saved = append(d.Saved, link)
		if link.Current {
			f, title, d.Saved1, d.SavedQuery = vf, sv.Name, sv, sv.Query
			d.CanDelete = ticket.CanDeleteView(a, sv)
			if d.Sort == "" {
				d.Sort = vf.Sort
			}
		}
	}
	sorts := inboxSorts
	if !f.Text.Empty() {
		sorts = append(slices.Clone(inboxSorts), "relevance")
	}
	if d.Sort == "" && f.Sort != "" {
		d.Sort = f.Sort // the SLA queues open by deadline
	}
	if !slices.Contains(sorts, d.Sort) {
		d.Sort = "-updated"
	}
	for _, s := range []string{"-updated", "-created", "-priority", "requester", "deadline"} {
		d.Sorts = append(d.Sorts, sortLink{s, pr.T("sort." + strings.TrimPrefix(s, "-"))})
	}
	f.Sort = d.Sort
	if fits, err := h.sortFits(r.Context(), actor, f); err != nil {
		return err
	} else if !fits {
		d.Sort, d.SortLimited = "-updated", true
	}
	d.Cols = sortCols(d.Sort)
	if a.Role == agent.RoleAdmin && d.Page == 1 {
		if d.Start, err = h.startSteps(r); err != nil {
			return err
		}
	}
	f.Sort, f.Limit, f.Offset = d.Sort, inboxPageSize+1, (d.Page-1)*inboxPageSize
	ts, err := h.Tickets.List(r.Context(), actor, f)
	if err != nil {
		return err
	}
	if len(ts) > inboxPageSize {
		ts, d.NextPage = ts[:inboxPageSize], d.Page+1
	}
	if d.Page > 1 {
		d.PrevPage = d.Page - 1
	}
	names, err := h.names(r, ts)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	snippets, err := h.Store.Snippets(r.Context(), ids, 140)
	if err != nil {
		return err
	}
	for _, t := range ts {
		row := h.inboxRow(pr, t, names, now)
		row.Snippet = snippets[t.ID]
		d.Rows = append(d.Rows, row)
	}
	pg := page{P: pr, Agent: a, Title: title, Now: now, Data: d}
	if q.Get("partial") == "1" {
		return h.renderPart(w, r, http.StatusOK, "inbox", "inbox-main", pg)
	}
	rememberQueue(w, r, d.View, d.Sort)
	return h.render(w, r, http.StatusOK, "inbox", pg)
}

// inboxRow is how a ticket shows in a list.
func (h *handler) inboxRow(pr *i18n.Printer, t ticket.Ticket, names nameMaps, now time.Time) inboxRow {
	row := inboxRow{Number: t.ID, Subject: t.Subject, Requester: names.contacts[t.RequesterID],
		Status: string(t.Status), StatusLabel: pr.T("status." + string(t.Status)),
		Priority: t.Priority.String(), Prio: pr.T("priority." + t.Priority.String()),
		UpdatedAgo: pr.Ago(t.UpdatedAt, now), Updated: pr.Date(t.UpdatedAt), SLA: newSLABadge(pr, &t, now)}
	if t.TeamID != nil {
		row.Team = names.teams[*t.TeamID]
	}
	if t.AssigneeID != nil {
		row.Assignee = names.agents[*t.AssigneeID]
	}
	return row
}

type nameMaps struct {
	contacts, teams, agents map[int64]string
}

// names resolves the people and teams a page of tickets mentions.
func (h *handler) names(r *http.Request, ts []ticket.Ticket) (nameMaps, error) {
	m := nameMaps{teams: map[int64]string{}, agents: map[int64]string{}}
	var ids []int64
	for _, t := range ts {
		ids = append(ids, t.RequesterID)
	}
	var err error
	if m.contacts, err = h.Store.ContactNames(r.Context(), ids); err != nil {
		return m, err
	}
	teams, err := h.Store.Teams(r.Context())
	if err != nil {
		return m, err
	}
	for _, t := range teams {
		m.teams[t.ID] = t.Name
	}
	agents, err := h.Store.Agents(r.Context(), 1000, 0)
	if err != nil {
		return m, err
	}
	for _, a := range agents {
		m.agents[a.ID] = a.Name
	}
	return m, nil
}

// bulkWords says what the last bulk action did, from the address it sent
// the agent back to: the problem ("pick a ticket first") or the changes.
func bulkWords(pr *i18n.Printer, q url.Values) (note, changes string) {
	switch q.Get("bulk") {
	case "none_picked", "nothing", "no_target":
		return pr.T("bulk.error." + q.Get("bulk")), ""
	}
	var ch []string
	if s := q.Get("ch_status"); s != "" {
		ch = append(ch, pr.T("col.status")+" → "+pr.T("status."+s))
	}
	if s := q.Get("ch_priority"); s != "" {
		ch = append(ch, pr.T("col.priority")+" → "+pr.T("priority."+s))
	}
	if s := q.Get("ch_assignee"); s == "me" || s == "none" {
		ch = append(ch, pr.T("bulk.assigned_"+s))
	}
	if s := q.Get("ch_tag"); s != "" {
		ch = append(ch, pr.T("bulk.tag")+" "+s)
	}
	if s := q.Get("ch_merge"); s != "" {
		ch = append(ch, pr.T("bulk.merged_into", "Into", s))
	}
	if s := q.Get("skipped"); s != "" {
		ch = append(ch, pr.T("bulk.skipped", "Tickets", s))
	}
	return "", strings.Join(ch, "; ")
}
