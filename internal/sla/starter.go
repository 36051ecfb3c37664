package sla

import (
	"context"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
)

// StarterCalendar is the calendar a new or demo desk starts from: an
// Italian office open Monday to Friday 09:00–13:00 and 14:00–18:00, closed
// on the national holidays.
func StarterCalendar() *Calendar {
	c := &Calendar{Name: "Ufficio (Europe/Rome)", Zone: "Europe/Rome", Holidays: bizhours.ItalianHolidays()}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []bizhours.Span{{Start: 9 * 60, End: 13 * 60}, {Start: 14 * 60, End: 18 * 60}}
	}
	return c
}

// StarterPolicy is the policy a new or demo desk starts from, in business
// hours of calendar calID: the tighter the priority, the shorter every
// promise; the warning comes when 80% of a target is used.
func StarterPolicy(calID int64) *Policy {
	h := func(n int64) Target { return Target{Seconds: n * 3600, Business: true} }
	return &Policy{Name: "Standard", Active: true, CalendarID: &calID, WarnPercent: 20, Pauses: DefaultPauses(),
		Targets: map[string]map[Metric]Target{
			"urgent": {FirstReply: h(1), NextReply: h(2), Resolution: h(8)},
			"high":   {FirstReply: h(2), NextReply: h(4), Resolution: h(16)},
			"normal": {FirstReply: h(4), NextReply: h(8), Resolution: h(24)},
			"low":    {FirstReply: h(8), NextReply: h(16), Resolution: h(40)},
		}}
}

// InstallStarter saves the starter calendar and policy when the desk has no
// policy yet; open tickets are then re-derived by the next Scan.
func (s *Service) InstallStarter(ctx context.Context) (bool, error) {
	ps, err := s.store.Policies(ctx)
	if err != nil || len(ps) > 0 {
		return false, err
	}
	c := StarterCalendar()
	if err := s.SaveCalendar(ctx, c); err != nil {
		return false, err
	}
	return true, s.SavePolicy(ctx, StarterPolicy(c.ID))
}
