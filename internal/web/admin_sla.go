package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// calendarForm is the calendar form as typed: hours per day as text,
// holidays and special dates one per line.
type calendarForm struct {
	ID        int64
	Name      string
	Zone      string
	Days      []dayField
	Italian   bool
	Holidays  string // "2026-06-19 San Gervasio" or "06-19 Patrono" (every year)
	Overrides string // "2026-12-24 09:00-12:00" (no hours: closed)
}

type dayField struct{ Key, Label, Value string }

// policyForm is the policy form as typed: targets as "4h", "90m" or
// minutes, per priority and metric.
type policyForm struct {
	ID         int64
	Name       string
	Position   int
	CalendarID int64
	Business   bool
	Warn       string
	Priorities map[string]bool
	Channels   map[string]bool
	TeamID     int64
	Tags       string
	Targets    map[string]string // "priority.metric" → text
	Pauses     map[string]bool   // "metric.status" → pauses it
}

type slaData struct {
	Calendars []sla.Calendar
	Policies  []sla.Policy
	Teams     []team.Team
	Cal       calendarForm
	Pol       policyForm
	CalErrors map[string]string
	PolErrors map[string]string
	Prios     []string
	Metrics   []sla.Metric
	Channels  []ticket.Channel
	CalNames  map[int64]string
	// PauseStatuses are the statuses offered to pause a metric.
	PauseStatuses []ticket.Status
}

var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func (h *handler) slaPage(w http.ResponseWriter, r *http.Request, status int, d slaData) error {
	a := current(r)
	pr := h.printer(r, a)
	ctx := r.Context()
	var err error
	if d.Calendars, err = h.SLA.Calendars(ctx); err != nil {
		return err
	}
	if d.Policies, err = h.SLA.Policies(ctx); err != nil {
		return err
	}
	if d.Teams, err = h.Store.Teams(ctx); err != nil {
		return err
	}
	d.CalNames = map[int64]string{}
	for _, c := range d.Calendars {
		d.CalNames[c.ID] = c.Name
	}
	d.Prios, d.Metrics, d.Channels, d.PauseStatuses = []string{"urgent", "high", "normal", "low"}, sla.Metrics, ticket.Channels, pauseStatuses
	if d.Cal.Days == nil {
		q := r.URL.Query()
		if id, err := strconv.ParseInt(q.Get("calendar"), 10, 64); err == nil {
			c, err := h.SLA.Calendar(ctx, id)
			if err != nil {
				return err
			}
			d.Cal = calendarFormOf(c)
		} else {
			d.Cal = calendarFormOf(sla.StarterCalendar()) // a new calendar starts as an office
			d.Cal.Name, d.Cal.Zone = "", a.Timezone
		}
		if id, err := strconv.ParseInt(q.Get("policy"), 10, 64); err == nil {
			p, err := h.SLA.Policy(ctx, id)
			if err != nil {
				return err
			}
			d.Pol = policyFormOf(p)
		}
	}
	for i := range d.Cal.Days {
		d.Cal.Days[i].Label = pr.T("day." + d.Cal.Days[i].Key)
	}
	if d.Pol.Targets == nil {
		d.Pol = policyForm{Business: true, Warn: "30m", Targets: map[string]string{}, Priorities: map[string]bool{}, Channels: map[string]bool{},
			Pauses: pauseKeys(sla.DefaultPauses())}
	}
	return h.render(w, r, status, "admin_sla", page{P: pr, Agent: a, Title: pr.T("sla.admin_title"), Now: h.Now(), Data: d})
}

func calendarFormOf(c *sla.Calendar) calendarForm {
	f := calendarForm{ID: c.ID, Name: c.Name, Zone: c.Zone}
	for _, wd := range weekOrder {
		f.Days = append(f.Days, dayField{Key: sla.DayName(wd), Value: sla.FormatHours(c.Week[wd])})
	}
	var hol, over []string
	preset := bizhours.ItalianHolidays()
	matched := 0
	for _, hd := range c.Holidays {
		isPreset := false
		for _, p := range preset {
			isPreset = isPreset || p == hd
		}
		if isPreset {
			matched++
			continue
		}
		switch {
		case hd.Year != 0:
			hol = append(hol, fmt.Sprintf("%04d-%02d-%02d %s", hd.Year, hd.Month, hd.Day, hd.Name))
		case !hd.Easter:
			hol = append(hol, fmt.Sprintf("%02d-%02d %s", hd.Month, hd.Day, hd.Name))
		}
	}
	f.Italian = matched == len(preset)
	for _, o := range c.Overrides {
		over = append(over, strings.TrimSpace(o.Date+" "+sla.FormatHours(o.Spans)))
	}
	f.Holidays, f.Overrides = strings.Join(hol, "\n"), strings.Join(over, "\n")
	return f
}

// adminSLA: GET /admin/sla — calendars and policies, with a form for each
// (?calendar=ID or ?policy=ID fills it to edit).
func (h *handler) adminSLA(w http.ResponseWriter, r *http.Request) error {
	return h.slaPage(w, r, http.StatusOK, slaData{})
}

// calendarSave: POST /admin/calendars — create, or update with id.
func (h *handler) calendarSave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	v := r.PostForm
	f := calendarForm{Name: v.Get("name"), Zone: strings.TrimSpace(v.Get("timezone")), Italian: v.Get("italian") == "on",
		Holidays: v.Get("holidays"), Overrides: v.Get("overrides")}
	f.ID, _ = strconv.ParseInt(v.Get("id"), 10, 64)
	days := map[string]string{}
	for _, wd := range weekOrder {
		k := sla.DayName(wd)
		days[k] = v.Get("day_" + k)
		f.Days = append(f.Days, dayField{Key: k, Value: days[k]})
	}
	c := &sla.Calendar{ID: f.ID, Name: f.Name, Zone: f.Zone}
	week, err := sla.ParseWeek(days)
	c.Week = week
	if err == nil {
		c.Holidays, err = parseHolidays(f.Holidays)
	}
	if err == nil && f.Italian {
		c.Holidays = append(c.Holidays, bizhours.ItalianHolidays()...)
	}
	if err == nil {
		c.Overrides, err = parseOverrides(f.Overrides)
	}
	if err == nil {
		err = h.SLA.SaveCalendar(r.Context(), c)
	}
	if problemsOf(err) != nil {
		return h.slaPage(w, r, http.StatusUnprocessableEntity, slaData{Cal: f, CalErrors: slaErrors(h.translated(r, err))})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/sla", http.StatusSeeOther)
	return nil
}

// slaErrors files nested field errors under the form's inputs: each day,
// holidays and special dates.
func slaErrors(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch {
		case strings.HasPrefix(k, "week."):
			k = "day_" + strings.TrimPrefix(k, "week.")
		case strings.HasPrefix(k, "holidays"):
			k = "holidays"
		case strings.HasPrefix(k, "overrides"):
			k = "overrides"
		case strings.HasPrefix(k, "targets."):
			k = "targets"
		case strings.HasPrefix(k, "conditions."):
			k = "conditions"
		}
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

// parseHolidays reads "YYYY-MM-DD name" (one date) or "MM-DD name"
// (every year), one per line.
func parseHolidays(text string) ([]bizhours.Holiday, error) {
	var out []bizhours.Holiday
	for i, l := range lines(text) {
		date, name, _ := strings.Cut(l, " ")
		hd := bizhours.Holiday{Name: strings.TrimSpace(name)}
		var y, m, d int
		if n, _ := fmt.Sscanf(date, "%d-%d-%d", &y, &m, &d); n == 3 && len(date) == 10 {
			hd.Year, hd.Month, hd.Day = y, time.Month(m), d
		} else if n, _ := fmt.Sscanf(date, "%d-%d", &m, &d); n == 2 && len(date) == 5 {
			hd.Month, hd.Day = time.Month(m), d
		} else {
			return nil, fault.Field(fmt.Sprintf("holidays[%d]", i), "date", "write YYYY-MM-DD or MM-DD, then the name")
		}
		if hd.Name == "" {
			hd.Name = date
		}
		out = append(out, hd)
	}
	return out, nil
}

// parseOverrides reads "YYYY-MM-DD 09:00-12:00" (no hours: closed).
func parseOverrides(text string) ([]sla.Override, error) {
	var out []sla.Override
	for i, l := range lines(text) {
		date, hours, _ := strings.Cut(l, " ")
		spans, spill, err := sla.ParseHours(fmt.Sprintf("overrides[%d]", i), hours)
		if err != nil {
			return nil, err
		}
		if len(spill) > 0 {
			return nil, fault.Field(fmt.Sprintf("overrides[%d]", i), "interval", "special hours end by midnight")
		}
		out = append(out, sla.Override{Date: date, Spans: spans})
	}
	return out, nil
}

// calendarImport: POST /admin/calendars/{id}/holidays — an iCalendar file
// of holidays (multipart "file").
func (h *handler) calendarImport(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return sla.ErrCalendarNotFound
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	err = r.ParseMultipartForm(1 << 20)
	var file io.ReadCloser
	if err == nil {
		file, _, err = r.FormFile("file")
	}
	if err != nil {
		err = fault.Field("ics", "required", "choose an iCalendar (.ics) file")
	} else {
		defer file.Close()
		_, err = h.SLA.ImportHolidays(r.Context(), id, file)
	}
	if problemsOf(err) != nil {
		c, cerr := h.SLA.Calendar(r.Context(), id)
		if cerr != nil {
			return cerr
		}
		f := calendarFormOf(c)
		errs := map[string]string{"ics": h.printer(r, current(r)).T("form.ics")}
		return h.slaPage(w, r, http.StatusUnprocessableEntity, slaData{Cal: f, CalErrors: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/sla?calendar=%d#calendar-form", id), http.StatusSeeOther)
	return nil
}

// calendarDelete: POST /admin/calendars/{id}/delete
func (h *handler) calendarDelete(w http.ResponseWriter, r *http.Request) error {
	pr := h.printer(r, current(r))
	return h.deleteAsked(w, r, deletion{Kind: "calendar", List: "/admin/sla", NotFound: sla.ErrCalendarNotFound,
		Read: func(ctx context.Context, id int64) (string, string, error) {
			c, err := h.SLA.Calendar(ctx, id)
			if err != nil {
				return "", "", err
			}
			return c.Name, pr.T("confirm.calendar.message"), nil
		},
		Delete: h.SLA.DeleteCalendar})
}

func policyFormOf(p *sla.Policy) policyForm {
	f := policyForm{ID: p.ID, Name: p.Name, Position: p.Position, Targets: map[string]string{}, Priorities: map[string]bool{},
		Channels: map[string]bool{}, Tags: strings.Join(p.Match.Tags, ", ")}
	if p.CalendarID != nil {
		f.CalendarID = *p.CalendarID
	}
	if len(p.Match.TeamIDs) > 0 {
		f.TeamID = p.Match.TeamIDs[0]
	}
	for _, pr := range p.Match.Priorities {
		f.Priorities[pr.String()] = true
	}
	for _, c := range p.Match.Channels {
		f.Channels[string(c)] = true
	}
	for prio, ms := range p.Targets {
		for m, t := range ms {
			f.Targets[prio+"."+string(m)] = minutesText(t.Seconds / 60)
			f.Business = f.Business || t.Business
		}
	}
	f.Pauses = pauseKeys(p.Pauses)
	f.Warn = minutesText(p.WarnSeconds / 60)
	if p.WarnPercent > 0 {
		f.Warn = strconv.Itoa(p.WarnPercent) + "%"
	}
	return f
}

// pauseStatuses are the statuses a policy may let pause a clock.
var pauseStatuses = []ticket.Status{ticket.StatusPending, ticket.StatusOnHold}

func pauseKeys(m map[sla.Metric][]ticket.Status) map[string]bool {
	out := map[string]bool{}
	for metric, sts := range m {
		for _, st := range sts {
			out[string(metric)+"."+string(st)] = true
		}
	}
	return out
}

func minutesText(m int64) string {
	if m > 0 && m%60 == 0 {
		return strconv.FormatInt(m/60, 10) + "h"
	}
	return strconv.FormatInt(m, 10) + "m"
}

// parseMinutes reads "4h", "90m" or "90" (minutes); "" is zero.
func parseMinutes(s string) (int64, bool) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, true
	}
	mult := int64(1)
	if n, ok := strings.CutSuffix(s, "h"); ok {
		s, mult = n, 60
	} else if n, ok := strings.CutSuffix(s, "m"); ok {
		s = n
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n * mult, err == nil
}

// policySave: POST /admin/policies — create, or update with id.
func (h *handler) policySave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 32<<10); err != nil {
		return err
	}
	v := r.PostForm
	f := policyForm{Name: v.Get("name"), Business: v.Get("business") == "on", Warn: v.Get("warn"), Tags: v.Get("tags"),
		Targets: map[string]string{}, Priorities: map[string]bool{}, Channels: map[string]bool{}, Pauses: map[string]bool{}}
	f.ID, _ = strconv.ParseInt(v.Get("id"), 10, 64)
	f.Position, _ = strconv.Atoi(v.Get("position"))
	f.CalendarID, _ = strconv.ParseInt(v.Get("calendar_id"), 10, 64)
	f.TeamID, _ = strconv.ParseInt(v.Get("team_id"), 10, 64)
	p := &sla.Policy{ID: f.ID, Name: f.Name, Position: f.Position, Active: true, Targets: map[string]map[sla.Metric]sla.Target{},
		Pauses: map[sla.Metric][]ticket.Status{}}
	for _, m := range sla.Metrics {
		for _, st := range pauseStatuses {
			if key := string(m) + "." + string(st); v.Get("pause."+key) == "on" {
				f.Pauses[key] = true
				p.Pauses[m] = append(p.Pauses[m], st)
			}
		}
	}
	var ch fault.Checker
	if f.CalendarID > 0 {
		p.CalendarID = &f.CalendarID
	}
	if f.TeamID > 0 {
		p.Match.TeamIDs = []int64{f.TeamID}
	}
	for _, name := range v["priority"] {
		if pr, ok := ticket.ParsePriority(name); ok {
			p.Match.Priorities = append(p.Match.Priorities, pr)
			f.Priorities[name] = true
		}
	}
	for _, c := range v["channel"] {
		p.Match.Channels = append(p.Match.Channels, ticket.Channel(c))
		f.Channels[c] = true
	}
	for _, tg := range strings.Split(f.Tags, ",") {
		if tg = strings.ToLower(strings.TrimSpace(tg)); tg != "" {
			p.Match.Tags = append(p.Match.Tags, tg)
		}
	}
	for _, prio := range []string{"urgent", "high", "normal", "low"} {
		for _, m := range sla.Metrics {
			key := prio + "." + string(m)
			f.Targets[key] = v.Get("t." + key)
			min, ok := parseMinutes(f.Targets[key])
			switch {
			case !ok:
				ch.Add("targets", "number", "write targets as 4h, 90m or minutes")
			case min < 0:
				ch.Add("targets", "min", "a target must be positive")
			case min > 0:
				if p.Targets[prio] == nil {
					p.Targets[prio] = map[sla.Metric]sla.Target{}
				}
				p.Targets[prio][m] = sla.Target{Seconds: min * 60, Business: f.Business}
			}
		}
	}
	if pct, ok := strings.CutSuffix(strings.TrimSpace(f.Warn), "%"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(pct))
		ch.Check(err == nil, "warn", "number", "a share such as 20%")
		p.WarnPercent = n
	} else {
		min, ok := parseMinutes(f.Warn)
		ch.Check(ok && min >= 0, "warn", "number", "a lead time such as 30m or 2h, or a share such as 20%")
		p.WarnSeconds = min * 60
	}
	err := ch.Err()
	if err == nil {
		err = h.SLA.SavePolicy(r.Context(), p)
	}
	if problemsOf(err) != nil {
		errs := slaErrors(h.translated(r, err))
		if e, ok := errs["warn_seconds"]; ok {
			errs["warn"] = e
		}
		return h.slaPage(w, r, http.StatusUnprocessableEntity, slaData{Pol: f, PolErrors: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/sla", http.StatusSeeOther)
	return nil
}

// policyDelete: POST /admin/policies/{id}/delete
func (h *handler) policyDelete(w http.ResponseWriter, r *http.Request) error {
	pr := h.printer(r, current(r))
	return h.deleteAsked(w, r, deletion{Kind: "policy", List: "/admin/sla", NotFound: sla.ErrPolicyNotFound,
		Read: func(ctx context.Context, id int64) (string, string, error) {
			p, err := h.SLA.Policy(ctx, id)
			if err != nil {
				return "", "", err
			}
			return p.Name, pr.T("confirm.policy.message"), nil
		},
		Delete: h.SLA.DeletePolicy})
}

// noticesShow: GET /notices — the agent's notifications, newest first,
// unread ones marked; each can be marked read, or all at once, and opening
// a ticket reads its notices.
func (h *handler) noticesShow(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	list, err := h.Notices.List(r.Context(), a.ID)
	if err != nil {
		return err
	}
	type row struct {
		ID, TicketID int64
		Subject      string
		What, At     string
		Unread, Hard bool
	}
	var rows []row
	for _, n := range list {
		rw := row{ID: n.ID, Subject: n.Subject, At: pr.Date(n.CreatedAt), Unread: n.ReadAt == nil, Hard: n.Kind == "sla_breach",
			What: pr.T("notice."+n.Kind, "Metric", pr.T("metric."+n.Detail), "Name", n.Detail)}
		if n.TicketID != nil {
			rw.TicketID = *n.TicketID
		}
		if !ticket.AgentActor(a).CanSee(&ticket.Ticket{TeamID: n.TicketTeamID, AssigneeID: n.TicketAssigneeID}) {
			// The ticket moved out of the agent's reach since: the notice
			// stays, but says nothing of the ticket (issue 9).
			rw.TicketID, rw.Subject = 0, ""
			rw.What = pr.T("notice.gone")
		}
		rows = append(rows, rw)
	}
	return h.render(w, r, http.StatusOK, "notices", page{P: pr, Agent: a, Title: pr.T("notice.title"), Now: h.Now(), Data: rows})
}

// noticesRead: POST /notices/read — every notice read.
func (h *handler) noticesRead(w http.ResponseWriter, r *http.Request) error {
	if err := h.Notices.MarkAllRead(r.Context(), current(r).ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/notices", http.StatusSeeOther)
	return nil
}

// noticeRead: POST /notices/{id}/read — one notice read; another agent's
// notice is not found.
func (h *handler) noticeRead(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no such notice"}
	}
	ok, err := h.Notices.MarkRead(r.Context(), current(r).ID, id)
	if err != nil {
		return err
	}
	if !ok {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no such notice"}
	}
	http.Redirect(w, r, "/notices", http.StatusSeeOther)
	return nil
}
