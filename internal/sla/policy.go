// Package sla turns the promises a team makes into clocks on each ticket
// (DOMAIN.md §3): calendars and policies are configured by admins; every
// change to a ticket re-derives its clocks from the ticket's history
// (status changes and messages), stores them with the ticket so that queues
// sort by the next deadline, and fires each warning and breach exactly once
// through a database-backed scan that survives restarts.
//
// Clock derivation (Derive) is pure; the Service runs it inside the
// transaction of the change that caused it.
package sla

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// Errors.
var (
	ErrCalendarNotFound = fmt.Errorf("calendar %w", fault.NotFound)
	ErrPolicyNotFound   = fmt.Errorf("SLA policy %w", fault.NotFound)
	ErrCalendarInUse    = fmt.Errorf("calendar is used by an SLA policy: %w", fault.Conflict)
)

// Metric is one promise a policy can make.
type Metric string

// The metrics of DOMAIN.md §3.
const (
	FirstReply     Metric = "first_reply"
	NextReply      Metric = "next_reply"
	Resolution     Metric = "resolution"
	PeriodicUpdate Metric = "periodic_update"
)

// Metrics lists every metric in display order.
var Metrics = []Metric{FirstReply, NextReply, Resolution, PeriodicUpdate}

// Calendar is a stored business-hours calendar.
type Calendar struct {
	ID        int64
	Name      string
	Zone      string // IANA name
	Week      [7][]bizhours.Span
	Holidays  []bizhours.Holiday
	Overrides []Override
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Override is a date with special hours (none: closed).
type Override struct {
	Date  string          `json:"date"` // YYYY-MM-DD
	Spans []bizhours.Span `json:"spans"`
}

var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// DayName is the field name of a weekday in forms and the API.
func DayName(d time.Weekday) string { return dayNames[d] }

// Check validates a calendar and returns the bizhours form of it.
func (c *Calendar) Check() (*bizhours.Calendar, error) {
	var ch fault.Checker
	c.Name = strings.TrimSpace(c.Name)
	ch.Check(c.Name != "" && len(c.Name) <= 100, "name", "required", "must be 1 to 100 characters")
	zone, err := time.LoadLocation(c.Zone)
	if err != nil || c.Zone == "" || strings.EqualFold(c.Zone, "local") {
		ch.Add("timezone", "timezone", fmt.Sprintf("%q is not an IANA time zone such as Europe/Rome", c.Zone))
		zone = time.UTC
	}
	out := &bizhours.Calendar{Zone: zone, Holidays: c.Holidays}
	for d := range c.Week {
		if p := bizhours.CheckSpans("week."+dayNames[d], c.Week[d]); p != nil {
			ch.Add(p.Field, p.Rule, p.Detail)
		}
		out.Week[d] = c.Week[d]
	}
	for i, h := range c.Holidays {
		if p := h.Check(fmt.Sprintf("holidays[%d]", i)); p != nil {
			ch.Add(p.Field, p.Rule, p.Detail)
		}
	}
	seen := map[string]bool{}
	for i, o := range c.Overrides {
		f := fmt.Sprintf("overrides[%d]", i)
		d, err := bizhours.ParseDate(o.Date)
		if err != nil {
			ch.Add(f+".date", "date", "must be a date YYYY-MM-DD")
			continue
		}
		if seen[o.Date] {
			ch.Add(f+".date", "unique", "this date already has special hours")
		}
		seen[o.Date] = true
		if p := bizhours.CheckSpans(f+".spans", o.Spans); p != nil {
			ch.Add(p.Field, p.Rule, p.Detail)
		}
		out.Overrides = append(out.Overrides, bizhours.Override{Date: d, Spans: o.Spans})
	}
	if err := ch.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Target is one promise: reach the metric's stop within Seconds, counted in
// the policy calendar's business hours or in calendar hours.
type Target struct {
	Seconds  int64 `json:"seconds"`
	Business bool  `json:"business"`
}

// Conditions select the tickets a policy applies to; empty lists match
// everything, and every non-empty one must match.
type Conditions struct {
	Priorities []ticket.Priority `json:"priorities,omitempty"`
	Channels   []ticket.Channel  `json:"channels,omitempty"`
	TeamIDs    []int64           `json:"team_ids,omitempty"`
	OrgIDs     []int64           `json:"organisation_ids,omitempty"`
	Tags       []string          `json:"tags,omitempty"`   // any of them
	Fields     map[string]string `json:"fields,omitempty"` // custom field key → value
}

// Policy is an ordered rule: the first active policy whose conditions
// match a ticket sets its targets.
type Policy struct {
	ID         int64
	Name       string
	Position   int
	Active     bool
	CalendarID *int64 // nil: business targets count on the 24/7 calendar
	Match      Conditions
	// Targets per priority name ("low" … "urgent") and metric.
	Targets map[string]map[Metric]Target
	// Pauses lists, per metric, the statuses during which it stops
	// counting (DOMAIN §3 defaults: resolution pauses on pending and
	// on-hold; the reply metrics never pause).
	Pauses map[Metric][]ticket.Status
	// Warning lead: an absolute time before the deadline, or a share of
	// the target when WarnPercent > 0.
	WarnSeconds int64
	WarnPercent int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DefaultPauses is DOMAIN §3's pause table.
func DefaultPauses() map[Metric][]ticket.Status {
	return map[Metric][]ticket.Status{Resolution: {ticket.StatusPending, ticket.StatusOnHold}}
}

// Check validates a policy.
func (p *Policy) Check() error {
	var ch fault.Checker
	p.Name = strings.TrimSpace(p.Name)
	ch.Check(p.Name != "" && len(p.Name) <= 100, "name", "required", "must be 1 to 100 characters")
	ch.Check(p.WarnSeconds >= 0, "warn_seconds", "min", "must not be negative")
	ch.Check(p.WarnPercent >= 0 && p.WarnPercent < 100, "warn_percent", "range", "must be 0 to 99")
	n := 0
	for prio, ms := range p.Targets {
		if _, ok := ticket.ParsePriority(prio); !ok {
			ch.Add("targets."+prio, "enum", "priority must be one of low, normal, high, urgent")
			continue
		}
		for m, t := range ms {
			f := "targets." + prio + "." + string(m)
			if !slices.Contains(Metrics, m) {
				ch.Add(f, "enum", "metric must be one of first_reply, next_reply, resolution, periodic_update")
				continue
			}
			switch {
			case t.Seconds <= 0:
				ch.Add(f, "min", "a target must be a positive time")
			case t.Seconds > 366*86400:
				ch.Add(f, "max", "a target may be at most a year")
			}
			n++
		}
	}
	ch.Check(n > 0, "targets", "required", "give at least one target")
	for m, sts := range p.Pauses {
		if !slices.Contains(Metrics, m) {
			ch.Add("pauses."+string(m), "enum", "metric must be one of first_reply, next_reply, resolution, periodic_update")
		}
		for _, s := range sts {
			if !s.Valid() || !s.Unsolved() || s == ticket.StatusNew || s == ticket.StatusOpen {
				ch.Add("pauses."+string(m), "enum", "only pending and on_hold can pause a clock")
			}
		}
	}
	for _, pr := range p.Match.Priorities {
		ch.Check(pr >= ticket.PriorityLow && pr <= ticket.PriorityUrgent, "conditions.priorities", "enum", "unknown priority")
	}
	for _, c := range p.Match.Channels {
		ch.Check(c.Valid(), "conditions.channels", "enum", "must be one of email, web, chat, telegram, phone, api")
	}
	return ch.Err()
}

// Matches reports whether the policy applies to t, whose requester belongs
// to organisation org (nil: none).
func (p *Policy) Matches(t *ticket.Ticket, org *int64) bool {
	m := p.Match
	if len(m.Priorities) > 0 && !slices.Contains(m.Priorities, t.Priority) {
		return false
	}
	if len(m.Channels) > 0 && !slices.Contains(m.Channels, t.Channel) {
		return false
	}
	if len(m.TeamIDs) > 0 && (t.TeamID == nil || !slices.Contains(m.TeamIDs, *t.TeamID)) {
		return false
	}
	if len(m.OrgIDs) > 0 && (org == nil || !slices.Contains(m.OrgIDs, *org)) {
		return false
	}
	if len(m.Tags) > 0 && !slices.ContainsFunc(m.Tags, func(tag string) bool { return slices.Contains(t.Tags, tag) }) {
		return false
	}
	for k, v := range m.Fields {
		if fmt.Sprint(t.CustomFields[k]) != v {
			return false
		}
	}
	return true
}

// TargetFor returns the policy's target for a metric at a priority.
func (p *Policy) TargetFor(prio ticket.Priority, m Metric) (Target, bool) {
	t, ok := p.Targets[prio.String()][m]
	return t, ok
}

// lead returns how long before the deadline the warning fires.
func (p *Policy) lead(target time.Duration) time.Duration {
	if p.WarnPercent > 0 {
		return target * time.Duration(p.WarnPercent) / 100
	}
	return min(time.Duration(p.WarnSeconds)*time.Second, target)
}
