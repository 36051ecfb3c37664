package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/search"
	"github.com/sportello/sportello/internal/ticket"
)

// queryFilter is what the search page and saved views filter by, as the
// agent typed it: the query string of /search, kept verbatim in a saved
// view and read back the same way.
type queryFilter struct {
	Q          string
	Statuses   []string
	Priorities []string
	Team       string // team id, or "none"
	Assignee   string // "me", "none" or an agent id
	Tag        string
	Channel    string
	Requester  string // contact id
	Org        string // organisation id
	// Dates are local days (YYYY-MM-DD) in the viewer's time zone; "to"
	// days are included.
	CreatedFrom, CreatedTo, UpdatedFrom, UpdatedTo string
	Sort                                           string
}

// filterSorts are the orders the search page offers.
var filterSorts = []string{"relevance", "-updated", "-created", "created", "-priority", "requester"}

func parseQueryFilter(v url.Values) queryFilter {
	trim := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	day := func(k string) string { return isoDay(trim(k)) }
	return queryFilter{Q: trim("q"), Statuses: v["status"], Priorities: v["priority"], Team: trim("team"),
		Assignee: trim("assignee"), Tag: trim("tag"), Channel: trim("channel"), Requester: trim("requester"), Org: trim("org"),
		CreatedFrom: day("created_from"), CreatedTo: day("created_to"), UpdatedFrom: day("updated_from"),
		UpdatedTo: day("updated_to"), Sort: trim("sort")}
}

// dayForms are the ways an agent writes a day: as the page shows it in
// both languages (31/01/2026, 31.1.2026, 31-1-2026) or as saved views
// and links keep it (2026-01-31).
var dayForms = []string{"2006-01-02", "2/1/2006", "2.1.2006", "2-1-2006"}

// isoDay turns a typed day into YYYY-MM-DD, the form kept in links and
// saved views; text that is no day is returned as typed, for the page to
// name the field.
func isoDay(s string) string {
	for _, f := range dayForms {
		if d, err := time.Parse(f, s); err == nil {
			return d.Format("2006-01-02")
		}
	}
	return s
}

// DateShown is a date field as the page shows it: day first, as agents
// write dates in Italian and British English.
func (qf queryFilter) DateShown(name string) string {
	s := qf.Date(name)
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.Format("02/01/2006")
	}
	return s
}

// Encode is the canonical query string of the filter (empty fields left out).
func (qf queryFilter) Encode() string {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", qf.Q)
	for _, s := range qf.Statuses {
		v.Add("status", s)
	}
	for _, p := range qf.Priorities {
		v.Add("priority", p)
	}
	set("team", qf.Team)
	set("assignee", qf.Assignee)
	set("tag", qf.Tag)
	set("channel", qf.Channel)
	set("requester", qf.Requester)
	set("org", qf.Org)
	set("created_from", qf.CreatedFrom)
	set("created_to", qf.CreatedTo)
	set("updated_from", qf.UpdatedFrom)
	set("updated_to", qf.UpdatedTo)
	set("sort", qf.Sort)
	return v.Encode()
}

// Values is the filter as form values (for hidden fields).
func (qf queryFilter) Values() url.Values {
	v, _ := url.ParseQuery(qf.Encode())
	return v
}

// Date is one of the date fields by its form name.
func (qf queryFilter) Date(name string) string {
	switch name {
	case "created_from":
		return qf.CreatedFrom
	case "created_to":
		return qf.CreatedTo
	case "updated_from":
		return qf.UpdatedFrom
	case "updated_to":
		return qf.UpdatedTo
	}
	return ""
}

// Empty reports whether the filter selects nothing in particular.
func (qf queryFilter) Empty() bool {
	qf.Sort = ""
	return qf.Encode() == ""
}

// toFilter turns the typed filter into a ticket filter for agent a, whose
// dates are days in loc. Errors map each bad field to a catalog key, shown
// next to the field in the agent's language.
func (qf queryFilter) toFilter(a *agent.Agent, loc *time.Location) (ticket.Filter, map[string]string) {
	var f ticket.Filter
	errs := map[string]string{}
	f.Text = search.Parse(qf.Q)
	if qf.Q != "" && f.Text.Empty() {
		errs["q"] = "search.error.q"
	}
	for _, s := range qf.Statuses {
		st := ticket.Status(s)
		if !st.Valid() {
			errs["status"] = "search.error.enum"
			continue
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, p := range qf.Priorities {
		pr, ok := ticket.ParsePriority(p)
		if !ok {
			errs["priority"] = "search.error.enum"
			continue
		}
		f.Priorities = append(f.Priorities, pr)
	}
	id := func(field, s string) *int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			errs[field] = "search.error.id"
			return nil
		}
		return &n
	}
	switch qf.Team {
	case "":
	case "none":
		f.NoTeam = true
	default:
		f.TeamID = id("team", qf.Team)
	}
	switch qf.Assignee {
	case "":
	case "none":
		f.NoAssignee = true
	case "me":
		me := a.ID
		f.AssigneeID = &me
	default:
		f.AssigneeID = id("assignee", qf.Assignee)
	}
	f.Tag = qf.Tag
	if qf.Channel != "" {
		f.Channel = ticket.Channel(qf.Channel)
		if !f.Channel.Valid() {
			errs["channel"] = "search.error.enum"
		}
	}
	if qf.Requester != "" {
		f.RequesterID = id("requester", qf.Requester)
	}
	if qf.Org != "" {
		f.OrgID = id("org", qf.Org)
	}
	day := func(field, s string, next bool) *time.Time {
		if s == "" {
			return nil
		}
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			errs[field] = "search.error.date"
			return nil
		}
		if next { // "to" days are included: stop at the next local midnight
			d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		}
		return &d
	}
	f.CreatedAfter = day("created_from", qf.CreatedFrom, false)
	f.CreatedBefore = day("created_to", qf.CreatedTo, true)
	from := day("updated_from", qf.UpdatedFrom, false)
	if from != nil {
		// UpdatedAfter is exclusive; a day starts at its first instant.
		t := from.Add(-time.Microsecond)
		f.UpdatedAfter = &t
	}
	f.UpdatedBefore = day("updated_to", qf.UpdatedTo, true)
	if f.CreatedAfter != nil && f.CreatedBefore != nil && !f.CreatedAfter.Before(*f.CreatedBefore) {
		errs["created_to"] = "search.error.range"
	}
	if from != nil && f.UpdatedBefore != nil && !from.Before(*f.UpdatedBefore) {
		errs["updated_to"] = "search.error.range"
	}
	f.Sort = qf.Sort
	switch {
	case f.Sort == "" && !f.Text.Empty():
		f.Sort = "relevance"
	case f.Sort == "" || (f.Sort == "relevance" && f.Text.Empty()):
		f.Sort = "-updated"
	case !slices.Contains(filterSorts, f.Sort):
		errs["sort"] = "search.error.enum"
		f.Sort = "-updated"
	}
	return f, errs
}
