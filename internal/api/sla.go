package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/ticket"
)

// CalendarJSON is a business-hours calendar. Week maps day names
// (monday … sunday) to hours written "09:00-13:00, 14:00-18:00"; an
// interval ending before it starts runs overnight into the next day.
type CalendarJSON struct {
	ID        int64              `json:"id"`
	Name      string             `json:"name"`
	Timezone  string             `json:"timezone"`
	Week      map[string]string  `json:"week"`
	Holidays  []bizhours.Holiday `json:"holidays"`
	Overrides []OverrideJSON     `json:"overrides"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// OverrideJSON gives a date special hours ("" = closed).
type OverrideJSON struct {
	Date  string `json:"date"`
	Hours string `json:"hours"`
}

func calendarJSON(c *sla.Calendar) CalendarJSON {
	out := CalendarJSON{ID: c.ID, Name: c.Name, Timezone: c.Zone, Week: map[string]string{}, Holidays: c.Holidays,
		Overrides: []OverrideJSON{}, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	for d := time.Sunday; d <= time.Saturday; d++ {
		out.Week[sla.DayName(d)] = sla.FormatHours(c.Week[d])
	}
	if out.Holidays == nil {
		out.Holidays = []bizhours.Holiday{}
	}
	for _, o := range c.Overrides {
		out.Overrides = append(out.Overrides, OverrideJSON{o.Date, sla.FormatHours(o.Spans)})
	}
	return out
}

type calendarIn struct {
	Name     string             `json:"name"`
	Timezone string             `json:"timezone"`
	Week     map[string]string  `json:"week"`
	Holidays []bizhours.Holiday `json:"holidays"`
	// HolidayPreset "it" adds the Italian national holidays.
	HolidayPreset string         `json:"holiday_preset"`
	Overrides     []OverrideJSON `json:"overrides"`
}

func (in calendarIn) calendar() (*sla.Calendar, error) {
	c := &sla.Calendar{Name: in.Name, Zone: in.Timezone, Holidays: in.Holidays}
	var ch fault.Checker
	week, err := sla.ParseWeek(in.Week)
	if err != nil {
		return nil, err
	}
	c.Week = week
	switch in.HolidayPreset {
	case "":
	case "it":
		c.Holidays = append(c.Holidays, bizhours.ItalianHolidays()...)
	default:
		ch.Add("holiday_preset", "enum", `the only preset is "it" (Italian national holidays)`)
	}
	for i, o := range in.Overrides {
		spans, spill, err := sla.ParseHours(fmt.Sprintf("overrides[%d].hours", i), o.Hours)
		if err != nil {
			return nil, err
		}
		ch.Check(len(spill) == 0, fmt.Sprintf("overrides[%d].hours", i), "interval", "special hours end by midnight")
		c.Overrides = append(c.Overrides, sla.Override{Date: o.Date, Spans: spans})
	}
	return c, ch.Err()
}

// listCalendars: GET /api/v1/calendars
func (h *handler) listCalendars(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.SLA.Calendars(r.Context())
	if err != nil {
		return err
	}
	out := make([]CalendarJSON, len(cs))
	for i := range cs {
		out[i] = calendarJSON(&cs[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// getCalendar: GET /api/v1/calendars/{id}
func (h *handler) getCalendar(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.SLA.Calendar(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, calendarJSON(c))
}

// createCalendar: POST /api/v1/calendars
func (h *handler) createCalendar(w http.ResponseWriter, r *http.Request) error {
	return h.saveCalendar(w, r, 0)
}

// updateCalendar: PUT /api/v1/calendars/{id} (the whole calendar)
func (h *handler) updateCalendar(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.SLA.Calendar(r.Context(), id); err != nil {
		return err
	}
	return h.saveCalendar(w, r, id)
}

func (h *handler) saveCalendar(w http.ResponseWriter, r *http.Request, id int64) error {
	var in calendarIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	c, err := in.calendar()
	if err != nil {
		return err
	}
	c.ID = id
	if err := h.SLA.SaveCalendar(r.Context(), c); err != nil {
		return err
	}
	return saved(w, id == 0, "/api/v1/calendars/"+itoa(c.ID), calendarJSON(c))
}

// importHolidays: POST /api/v1/calendars/{id}/holidays — the body is an
// iCalendar file (text/calendar); its all-day events become holidays.
func (h *handler) importHolidays(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.SLA.ImportHolidays(r.Context(), id, http.MaxBytesReader(w, r.Body, h.MaxBody)); err != nil {
		return err
	}
	c, err := h.SLA.Calendar(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, calendarJSON(c))
}

// deleteCalendar: DELETE /api/v1/calendars/{id}
func (h *handler) deleteCalendar(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, h.SLA.DeleteCalendar)
}

// deleteByID deletes the resource named by the path's id: 204.
func deleteByID(w http.ResponseWriter, r *http.Request, del func(context.Context, int64) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := del(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// showByID answers with the thing the path's {id} names: read by get,
// shown as show makes it (200).
func showByID[T any](w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error), show func(T) any) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := get(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, show(v))
}

// saved answers a create (201 with Location) or an update (200).
func saved(w http.ResponseWriter, created bool, location string, body any) error {
	if created {
		w.Header().Set("Location", location)
		return httpx.JSON(w, http.StatusCreated, body)
	}
	return httpx.JSON(w, http.StatusOK, body)
}

// TargetJSON is one promise, in minutes.
type TargetJSON struct {
	Minutes  int64 `json:"minutes"`
	Business bool  `json:"business"`
}

// ConditionsJSON selects the tickets a policy applies to.
type ConditionsJSON struct {
	Priorities      []string          `json:"priorities"`
	Channels        []string          `json:"channels"`
	TeamIDs         []int64           `json:"team_ids"`
	OrganisationIDs []int64           `json:"organisation_ids"`
	Tags            []string          `json:"tags"`
	Fields          map[string]string `json:"fields"`
}

// PolicyJSON is an SLA policy. Targets map priority → metric → target.
type PolicyJSON struct {
	ID          int64                            `json:"id"`
	Name        string                           `json:"name"`
	Position    int                              `json:"position"`
	Active      bool                             `json:"active"`
	CalendarID  *int64                           `json:"calendar_id"`
	Conditions  ConditionsJSON                   `json:"conditions"`
	Targets     map[string]map[string]TargetJSON `json:"targets"`
	Pauses      map[string][]string              `json:"pauses"`
	WarnMinutes int64                            `json:"warn_minutes"`
	WarnPercent int                              `json:"warn_percent"`
	CreatedAt   time.Time                        `json:"created_at"`
	UpdatedAt   time.Time                        `json:"updated_at"`
}

func policyJSON(p *sla.Policy) PolicyJSON {
	out := PolicyJSON{ID: p.ID, Name: p.Name, Position: p.Position, Active: p.Active, CalendarID: p.CalendarID,
		Targets: map[string]map[string]TargetJSON{}, Pauses: map[string][]string{}, WarnMinutes: p.WarnSeconds / 60,
		WarnPercent: p.WarnPercent, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Conditions: ConditionsJSON{Priorities: []string{}, Channels: []string{}, TeamIDs: nonNil(p.Match.TeamIDs),
			OrganisationIDs: nonNil(p.Match.OrgIDs), Tags: nonNil(p.Match.Tags), Fields: p.Match.Fields}}
	if out.Conditions.Fields == nil {
		out.Conditions.Fields = map[string]string{}
	}
	for _, pr := range p.Match.Priorities {
		out.Conditions.Priorities = append(out.Conditions.Priorities, pr.String())
	}
	for _, c := range p.Match.Channels {
		out.Conditions.Channels = append(out.Conditions.Channels, string(c))
	}
	for prio, ms := range p.Targets {
		out.Targets[prio] = map[string]TargetJSON{}
		for m, t := range ms {
			out.Targets[prio][string(m)] = TargetJSON{Minutes: t.Seconds / 60, Business: t.Business}
		}
	}
	for m, sts := range p.Pauses {
		for _, s := range sts {
			out.Pauses[string(m)] = append(out.Pauses[string(m)], string(s))
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type policyIn struct {
	Name        string                           `json:"name"`
	Position    int                              `json:"position"`
	Active      *bool                            `json:"active"`
	CalendarID  *int64                           `json:"calendar_id"`
	Conditions  ConditionsJSON                   `json:"conditions"`
	Targets     map[string]map[string]TargetJSON `json:"targets"`
	Pauses      map[string][]string              `json:"pauses"`
	WarnMinutes int64                            `json:"warn_minutes"`
	WarnPercent int                              `json:"warn_percent"`
}

func (in policyIn) policy() (*sla.Policy, error) {
	p := &sla.Policy{Name: in.Name, Position: in.Position, Active: in.Active == nil || *in.Active, CalendarID: in.CalendarID,
		Targets: map[string]map[sla.Metric]sla.Target{}, WarnSeconds: in.WarnMinutes * 60, WarnPercent: in.WarnPercent,
		Match: sla.Conditions{TeamIDs: in.Conditions.TeamIDs, OrgIDs: in.Conditions.OrganisationIDs, Tags: in.Conditions.Tags, Fields: in.Conditions.Fields}}
	var ch fault.Checker
	ch.Check(in.WarnMinutes >= 0, "warn_minutes", "min", "must not be negative")
	for _, name := range in.Conditions.Priorities {
		pr, ok := ticket.ParsePriority(name)
		ch.Check(ok, "conditions.priorities", "enum", "must be low, normal, high or urgent")
		p.Match.Priorities = append(p.Match.Priorities, pr)
	}
	for _, c := range in.Conditions.Channels {
		p.Match.Channels = append(p.Match.Channels, ticket.Channel(c))
	}
	for prio, ms := range in.Targets {
		p.Targets[prio] = map[sla.Metric]sla.Target{}
		for m, t := range ms {
			ch.Check(t.Minutes > 0, "targets."+prio+"."+m, "min", "a target must be a positive number of minutes")
			p.Targets[prio][sla.Metric(m)] = sla.Target{Seconds: t.Minutes * 60, Business: t.Business}
		}
	}
	if in.Pauses != nil {
		p.Pauses = map[sla.Metric][]ticket.Status{}
		for m, sts := range in.Pauses {
			p.Pauses[sla.Metric(m)] = []ticket.Status{}
			for _, s := range sts {
				p.Pauses[sla.Metric(m)] = append(p.Pauses[sla.Metric(m)], ticket.Status(s))
			}
		}
	}
	if err := ch.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// listPolicies: GET /api/v1/sla-policies
func (h *handler) listPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.SLA.Policies(r.Context())
	if err != nil {
		return err
	}
	out := make([]PolicyJSON, len(ps))
	for i := range ps {
		out[i] = policyJSON(&ps[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// getPolicy: GET /api/v1/sla-policies/{id}
func (h *handler) getPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.SLA.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, policyJSON(p))
}

// createPolicy: POST /api/v1/sla-policies
func (h *handler) createPolicy(w http.ResponseWriter, r *http.Request) error {
	return h.savePolicy(w, r, 0)
}

// updatePolicy: PUT /api/v1/sla-policies/{id} (the whole policy)
func (h *handler) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.SLA.Policy(r.Context(), id); err != nil {
		return err
	}
	return h.savePolicy(w, r, id)
}

func (h *handler) savePolicy(w http.ResponseWriter, r *http.Request, id int64) error {
	var in policyIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	p, err := in.policy()
	if err != nil {
		return err
	}
	p.ID = id
	if err := h.SLA.SavePolicy(r.Context(), p); err != nil {
		return err
	}
	return saved(w, id == 0, "/api/v1/sla-policies/"+itoa(p.ID), policyJSON(p))
}

// deletePolicy: DELETE /api/v1/sla-policies/{id}
func (h *handler) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, h.SLA.DeletePolicy)
}

// ClockJSON is one SLA metric's state on a ticket.
type ClockJSON struct {
	Metric          string     `json:"metric"`
	PolicyID        int64      `json:"policy_id"`
	TargetMinutes   int64      `json:"target_minutes"`
	Business        bool       `json:"business"`
	State           string     `json:"state"`
	Cycle           int        `json:"cycle"`
	StartedAt       time.Time  `json:"started_at"`
	StoppedAt       *time.Time `json:"stopped_at"`
	Deadline        *time.Time `json:"deadline"`
	WarnAt          *time.Time `json:"warn_at"`
	ElapsedBusiness int64      `json:"elapsed_business_seconds"`
	ElapsedCalendar int64      `json:"elapsed_calendar_seconds"`
	Breached        bool       `json:"breached"`
	Breaches        int        `json:"breaches"`
}

// ticketSLA: GET /api/v1/tickets/{number}/sla — the ticket's clocks and
// metric record.
func (h *handler) ticketSLA(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	if _, err := h.Tickets.Get(r.Context(), actorOf(r), id); err != nil {
		return err
	}
	clocks, err := h.SLA.Clocks(r.Context(), id)
	if err != nil {
		return err
	}
	out := []ClockJSON{}
	for _, c := range clocks {
		out = append(out, ClockJSON{Metric: string(c.Metric), PolicyID: c.PolicyID, TargetMinutes: int64(c.Target / time.Minute),
			Business: c.Business, State: string(c.State), Cycle: c.Cycle, StartedAt: c.StartedAt, StoppedAt: c.StoppedAt,
			Deadline: c.Deadline, WarnAt: c.WarnAt, ElapsedBusiness: int64(c.ElapsedBusiness / time.Second),
			ElapsedCalendar: int64(c.ElapsedCalendar / time.Second), Breached: c.Breached, Breaches: c.Breaches})
	}
	rec, err := h.Store.MetricRecord(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"clocks": out, "record": map[string]any{
		"policy_id": rec.PolicyID, "first_reply_business_seconds": rec.FirstReplyBusiness, "first_reply_calendar_seconds": rec.FirstReplyCalendar,
		"first_resolution_business_seconds": rec.FirstResolutionBusiness, "first_resolution_calendar_seconds": rec.FirstResolutionCalendar,
		"full_resolution_business_seconds": rec.FullResolutionBusiness, "full_resolution_calendar_seconds": rec.FullResolutionCalendar,
		"breaches": rec.Breaches, "reopens": rec.Reopens,
	}})
}
