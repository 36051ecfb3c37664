package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/search"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// searchRow is one found ticket with its highlighted subject and snippet.
type searchRow struct {
	inboxRow
	SubjectMarks []search.Fragment
	Snippet      []search.Fragment
}

type searchData struct {
	F           queryFilter
	Errors      map[string]string // field → message in the agent's language
	Rows        []searchRow
	Contacts    []contactRow
	Searched    bool
	Page        int
	PrevPage    string // query strings of the neighbour pages, "" for none
	NextPage    string
	Teams       []team.Team
	MyTeams     []team.Team
	Agents      []agent.Agent
	Statuses    []ticket.Status
	Priorities  []string
	Channels    []ticket.Channel
	Sorts       []sortLink
	ViewError   string // the "save as view" form's error
	SortLimited bool   // asked to sort too many tickets by requester
	ViewName    string
	// RequesterLabel and OrgLabel are what the type-ahead filters show:
	// the picked contact's or organisation's name, or the text typed.
	RequesterLabel, OrgLabel string
	Active                   []string // the filters in force, in words, shown while they are folded
}

// ticketRef is a query that names one ticket: "#123".
var ticketRef = regexp.MustCompile(`^#(\d{1,18})$`)

const searchPageSize = 25

// searchShow: GET /search — one box over ticket subjects and messages
// (Italian and English stems) and contact names and emails, with filters
// that combine with the text or stand alone; results ranked and
// highlighted. "#123" opens ticket 123.
func (h *handler) searchShow(w http.ResponseWriter, r *http.Request) error {
	return h.searchPage(w, r, http.StatusOK, "", "")
}

func (h *handler) searchPage(w http.ResponseWriter, r *http.Request, status int, viewName, viewErr string) error {
	a := current(r)
	pr := h.printer(r, a)
	ctx := r.Context()
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	d := searchData{F: parseQueryFilter(q), Errors: map[string]string{}, Page: 1, ViewName: viewName, ViewError: viewErr,
		Statuses: ticket.Statuses, Priorities: []string{"low", "normal", "high", "urgent"}, Channels: ticket.Channels}
	if m := ticketRef.FindStringSubmatch(d.F.Q); m != nil && r.Method == http.MethodGet {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if _, err := h.Tickets.Get(ctx, ticket.AgentActor(a), n); err == nil {
			http.Redirect(w, r, "/tickets/"+m[1], http.StatusSeeOther)
			return nil
		}
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 10000 {
		d.Page = n
	}
	var err error
	if d.Teams, err = h.Store.Teams(ctx); err != nil {
		return err
	}
	for _, t := range d.Teams {
		for _, id := range a.TeamIDs {
			if t.ID == id {
				d.MyTeams = append(d.MyTeams, t)
			}
		}
	}
	if d.Agents, err = h.Store.Agents(ctx, 1000, 0); err != nil {
		return err
	}
	sortKeys := map[string]string{"relevance": "relevance", "-updated": "updated", "-created": "newest", "created": "oldest", "-priority": "priority", "requester": "requester"}
	for _, s := range filterSorts {
		d.Sorts = append(d.Sorts, sortLink{s, pr.T("search.sort." + sortKeys[s])})
	}
	lerrs, err := h.resolveNamed(r, &d, q)
	if err != nil {
		return err
	}
	f, errs := d.F.toFilter(a, pr.Loc)
	for field, key := range lerrs {
		errs[field] = key
	}
	for field, key := range errs {
		d.Errors[field] = pr.T(key)
	}
	d.Searched = !d.F.Empty() && len(errs) == 0
	d.Active = d.activeFilters(pr)
	if d.Searched {
		if err := h.searchResults(r, &d, f); err != nil {
			return err
		}
	}
	st := status
	if len(errs) > 0 && st == http.StatusOK {
		st = http.StatusUnprocessableEntity
	}
	title := pr.T("search.title")
	if d.F.Q != "" {
		title = d.F.Q + " · " + title
	}
	return h.render(w, r, st, "search", page{P: pr, Agent: a, Title: title, Now: h.Now(), Data: d})
}

// searchResults fills the found tickets (with snippets) and contacts.
func (h *handler) searchResults(r *http.Request, d *searchData, f ticket.Filter) error {
	a := current(r)
	pr := h.printer(r, a)
	ctx := r.Context()
	now := h.Now()
	if fits, err := h.sortFits(ctx, ticket.AgentActor(a), f); err != nil {
		return err
	} else if !fits {
		f.Sort, d.SortLimited = "-updated", true
	}
	f.Limit, f.Offset = searchPageSize+1, (d.Page-1)*searchPageSize
	ts, err := h.Tickets.List(ctx, ticket.AgentActor(a), f)
	if err != nil {
		return err
	}
	more := len(ts) > searchPageSize
	if more {
		ts = ts[:searchPageSize]
	}
	names, err := h.names(r, ts)
	if err != nil {
		return err
	}
	var texts map[int64][]string
	if !f.Text.Empty() {
		ids := make([]int64, len(ts))
		for i, t := range ts {
			ids[i] = t.ID
		}
		if texts, err = h.Store.MessageTexts(ctx, ids); err != nil {
			return err
		}
	}
	for _, t := range ts {
		row := searchRow{inboxRow: h.inboxRow(pr, t, names, now)}
		if !f.Text.Empty() {
			row.SubjectMarks = search.Highlight(t.Subject, f.Text, 0)
			for _, body := range texts[t.ID] {
				if f.Text.Matches(body) {
					row.Snippet = search.Highlight(body, f.Text, 220)
					break
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
	pageQuery := func(n int) string {
		v := d.F.Encode()
		if n > 1 {
			v += "&page=" + strconv.Itoa(n)
		}
		return v
	}
	if more {
		d.NextPage = pageQuery(d.Page + 1)
	}
	if d.Page > 1 {
		d.PrevPage = pageQuery(d.Page - 1)
	}
	if d.F.Q != "" && d.Page == 1 && !ticketRef.MatchString(d.F.Q) {
		cs, err := h.Contacts.Contacts(ctx, contact.Filter{Query: d.F.Q, Limit: 8})
		if err != nil {
			return err
		}
		for _, c := range cs {
			d.Contacts = append(d.Contacts, contactRow{ID: c.ID, Name: c.DisplayName(), Emails: strings.Join(c.Emails, ", ")})
		}
	}
	return nil
}

// resolveNamed reads the requester and organisation filters. The page
// sends the picked id; without the script (or when the agent typed and
// pressed Enter) it sends the text, which names a contact or organisation
// only when exactly one matches. The labels are filled for the page.
func (h *handler) resolveNamed(r *http.Request, d *searchData, q url.Values) (map[string]string, error) {
	ctx := r.Context()
	errs := map[string]string{}
	d.RequesterLabel = strings.TrimSpace(q.Get("requester_name"))
	d.OrgLabel = strings.TrimSpace(q.Get("org_name"))
	if d.F.Requester == "" && d.RequesterLabel != "" {
		cs, err := h.Contacts.Contacts(ctx, contact.Filter{Query: d.RequesterLabel, Limit: 2})
		if err != nil {
			return nil, err
		}
		switch len(cs) {
		case 0:
			errs["requester"] = "search.error.no_contact"
		case 1:
			d.F.Requester = strconv.FormatInt(cs[0].ID, 10)
		default:
			errs["requester"] = "search.error.many_contacts"
		}
	}
	if id, err := strconv.ParseInt(d.F.Requester, 10, 64); err == nil && id > 0 {
		if c, err := h.Store.Contact(ctx, id); err == nil {
			d.RequesterLabel = c.DisplayName()
		}
	}
	if d.F.Org == "" && d.OrgLabel != "" {
		os, err := h.Orgs.FindOrganisations(ctx, d.OrgLabel, 10, 0)
		if err != nil {
			return nil, err
		}
		var exact []int64
		for _, o := range os {
			if strings.EqualFold(o.Name, d.OrgLabel) {
				exact = append(exact, o.ID)
			}
		}
		switch {
		case len(exact) == 1:
			d.F.Org = strconv.FormatInt(exact[0], 10)
		case len(os) == 1:
			d.F.Org = strconv.FormatInt(os[0].ID, 10)
		case len(os) == 0:
			errs["org"] = "search.error.no_org"
		default:
			errs["org"] = "search.error.many_orgs"
		}
	}
	if id, err := strconv.ParseInt(d.F.Org, 10, 64); err == nil && id > 0 {
		if o, err := h.Store.Organisation(ctx, id); err == nil {
			d.OrgLabel = o.Name
		}
	}
	return errs, nil
}

// activeFilters says the filters in force in the agent's words, for the
// line shown above the results while the filter panel is folded.
func (d *searchData) activeFilters(pr *i18n.Printer) []string {
	var out []string
	add := func(label, v string) {
		if v != "" {
			out = append(out, label+": "+v)
		}
	}
	var st []string
	for _, s := range d.F.Statuses {
		st = append(st, pr.T("status."+s))
	}
	add(pr.T("col.status"), strings.Join(st, ", "))
	var ps []string
	for _, p := range d.F.Priorities {
		ps = append(ps, pr.T("priority."+p))
	}
	add(pr.T("col.priority"), strings.Join(ps, ", "))
	switch d.F.Team {
	case "":
	case "none":
		add(pr.T("col.team"), pr.T("search.no_team"))
	default:
		for _, t := range d.Teams {
			if strconv.FormatInt(t.ID, 10) == d.F.Team {
				add(pr.T("col.team"), t.Name)
			}
		}
	}
	switch d.F.Assignee {
	case "":
	case "me":
		add(pr.T("col.assignee"), pr.T("bulk.me"))
	case "none":
		add(pr.T("col.assignee"), pr.T("bulk.none"))
	default:
		for _, a := range d.Agents {
			if strconv.FormatInt(a.ID, 10) == d.F.Assignee {
				add(pr.T("col.assignee"), a.Name)
			}
		}
	}
	if d.F.Channel != "" {
		add(pr.T("new.channel"), pr.T("channel."+d.F.Channel))
	}
	add(pr.T("search.tag"), d.F.Tag)
	if d.F.Requester != "" {
		add(pr.T("search.requester"), d.RequesterLabel)
	}
	if d.F.Org != "" {
		add(pr.T("search.org"), d.OrgLabel)
	}
	for _, k := range []string{"created_from", "created_to", "updated_from", "updated_to"} {
		add(pr.T("search."+k), d.F.DateShown(k))
	}
	return out
}
