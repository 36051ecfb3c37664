package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/csat"
)

// csatReport: GET /reports/csat — the ratings customers gave, for leads,
// with CSAT (ratings of 4 or 5 out of all ratings) beside the response
// rate (ratings / surveys sent) and n, as DOMAIN §4 asks; filtered by
// period, team and agent. Leads see their teams' tickets' ratings (the
// figures count the same ones), admins all.
func (h *handler) csatReport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := current(r)
	pr := h.printer(r, a)
	q := r.URL.Query()
	f := csat.Filter{Limit: 200}
	errs := map[string]string{}
	now := h.Now().In(pr.Loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, pr.Loc).AddDate(0, 0, -29)
	to := from.AddDate(0, 0, 30)
	if s := q.Get("from"); s != "" {
		if d, err := time.ParseInLocation("2006-01-02", isoDay(s), pr.Loc); err == nil {
			from = d
		} else {
			errs["from"] = pr.T("search.error.date")
		}
	}
	if s := q.Get("to"); s != "" {
		if d, err := time.ParseInLocation("2006-01-02", isoDay(s), pr.Loc); err == nil {
			to = d.AddDate(0, 0, 1)
		} else {
			errs["to"] = pr.T("search.error.date")
		}
	}
	f.From, f.To = &from, &to
	teams, err := h.Store.Teams(ctx)
	if err != nil {
		return err
	}
	agents, err := h.Store.Agents(ctx, 1000, 0)
	if err != nil {
		return err
	}
	var teamID, agentID int64
	if id, err := strconv.ParseInt(q.Get("team"), 10, 64); err == nil && id > 0 {
		teamID, f.TeamID = id, &id
	}
	if id, err := strconv.ParseInt(q.Get("agent"), 10, 64); err == nil && id > 0 {
		agentID, f.AgentID = id, &id
	}
	if a.Role != agent.RoleAdmin {
		// A lead's report is their teams' tickets: figures and list alike.
		f.InTeams = append([]int64{}, a.TeamIDs...)
	}
	sum, err := h.CSAT.CSATSummary(ctx, f)
	if err != nil {
		return err
	}
	rs, err := h.CSAT.Ratings(ctx, f)
	if err != nil {
		return err
	}
	d := map[string]any{"Teams": teams, "Agents": agents, "Team": teamID, "Agent": agentID, "Errors": errs,
		"From": from.Format("02/01/2006"), "To": to.AddDate(0, 0, -1).Format("02/01/2006"),
		"N": sum.Ratings, "Surveys": sum.Surveys, "Ratings": ratingViews(pr, rs), "ByScore": sum.ByScore[1:]}
	if p, ok := sum.Percent(); ok {
		d["CSAT"] = fmt.Sprintf("%.0f %%", p)
	}
	if p, ok := sum.ResponseRate(); ok {
		d["Rate"] = fmt.Sprintf("%.0f %%", p)
	}
	st := http.StatusOK
	if len(errs) > 0 {
		st = http.StatusUnprocessableEntity
	}
	return h.render(w, r, st, "csat", page{P: pr, Agent: a, Title: pr.T("csat.report"), Now: h.Now(), Data: d})
}
