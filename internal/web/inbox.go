package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sportello/sportello/internal/agent"
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
	{"solved", func(_ *agent.Agent, now time.Time) ticket.Filter {
		since := now.Add(-7 * 24 * time.Hour)
		return ticket.Filter{Statuses: []ticket.Status{ticket.StatusSolved, ticket.StatusClosed}, UpdatedAfter: &since}
	}},
}

type viewLink struct {
	Key, Label string
	Count      string
	Current    bool
}

// countCap bounds the queue counts: a sidebar says "999+" rather than
// counting a six-figure queue on every page view.
const countCap = 1000

type inboxRow struct {
	Number                              int64
	Subject, Requester, Team, Assignee  string
	Status, StatusLabel, Priority, Prio string
	UpdatedAgo, Updated                 string
}

type inboxData struct {
	Done, Failed int // the outcome of a bulk action, shown once
	Views        []viewLink
	View, Sort   string
	Sorts        []sortLink
	Rows         []inboxRow
	Page         int
	PrevPage     int
	NextPage     int
}

type sortLink struct{ Key, Label string }

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
	if !slices.ContainsFunc(views, func(v view) bool { return v.Key == d.View }) {
		d.View = "mine"
	}
	if !slices.Contains([]string{"-updated", "updated", "-created", "created", "-priority", "priority"}, d.Sort) {
		d.Sort = "-updated"
	}
	d.Done, _ = strconv.Atoi(q.Get("done"))
	d.Failed, _ = strconv.Atoi(q.Get("failed"))
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 100000 {
		d.Page = n
	}
	var f ticket.Filter
	for _, v := range views {
		vf := v.filter(a, now)
		cf := vf
		cf.Limit = countCap
		n, err := h.Tickets.Count(r.Context(), actor, cf)
		if err != nil {
			return err
		}
		label := strconv.FormatInt(n, 10)
		if n >= countCap {
			label = strconv.Itoa(countCap-1) + "+"
		}
		d.Views = append(d.Views, viewLink{Key: v.Key, Label: pr.T("view." + v.Key), Count: label, Current: v.Key == d.View})
		if v.Key == d.View {
			f = vf
		}
	}
	for _, s := range []string{"-updated", "-created", "-priority"} {
		d.Sorts = append(d.Sorts, sortLink{s, pr.T("sort." + s[1:])})
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
	for _, t := range ts {
		row := inboxRow{Number: t.ID, Subject: t.Subject, Requester: names.contacts[t.RequesterID],
			Status: string(t.Status), StatusLabel: pr.T("status." + string(t.Status)),
			Priority: t.Priority.String(), Prio: pr.T("priority." + t.Priority.String()),
			UpdatedAgo: pr.Ago(t.UpdatedAt, now), Updated: pr.Date(t.UpdatedAt)}
		if t.TeamID != nil {
			row.Team = names.teams[*t.TeamID]
		}
		if t.AssigneeID != nil {
			row.Assignee = names.agents[*t.AssigneeID]
		}
		d.Rows = append(d.Rows, row)
	}
	pg := page{P: pr, Agent: a, Title: pr.T("view." + d.View), Now: now, Data: d}
	if q.Get("partial") == "1" {
		return h.renderPart(w, r, http.StatusOK, "inbox", "inbox-main", pg)
	}
	return h.render(w, r, http.StatusOK, "inbox", pg)
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
