package sla

import (
	"testing"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/ticket"
	"pgregory.net/rapid"
)

var rome, _ = time.LoadLocation("Europe/Rome")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func office() *bizhours.Schedule {
	c := &bizhours.Calendar{Zone: rome}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []bizhours.Span{{Start: 9 * 60, End: 18 * 60}}
	}
	return bizhours.Compile(c)
}

func schedules() Schedules {
	return Schedules{Business: office(), Always: bizhours.Compile(bizhours.Always(time.UTC))}
}

func policy() *Policy {
	h := func(n int64) Target { return Target{Seconds: n * 3600, Business: true} }
	return &Policy{ID: 7, Name: "Standard", Active: true, WarnSeconds: 1800, Pauses: DefaultPauses(),
		Targets: map[string]map[Metric]Target{
			"normal": {FirstReply: h(4), NextReply: h(8), Resolution: h(16), PeriodicUpdate: h(24)},
			"urgent": {FirstReply: h(1), NextReply: h(2), Resolution: h(4)},
		}}
}

// history builds a ticket created at created with the given events:
// "s:<status>@time", "p:<priority>@time" (applied to the ticket), "c@time"
// (customer message), "r@time" (human reply), "a@time" (automatic reply).
type step struct {
	kind string
	at   string
	arg  string
}

func history(created string, prio ticket.Priority, steps ...step) *History {
	t := &ticket.Ticket{ID: 1, CreatedAt: at(created), Priority: prio, Status: ticket.StatusNew}
	h := &History{Ticket: t, Posts: []Post{{At: t.CreatedAt, Customer: true}}}
	for _, s := range steps {
		switch s.kind {
		case "status":
			h.Statuses = append(h.Statuses, StatusChange{At: at(s.at), To: ticket.Status(s.arg)})
			t.Status = ticket.Status(s.arg)
		case "customer":
			h.Posts = append(h.Posts, Post{At: at(s.at), Customer: true})
		case "reply":
			h.Posts = append(h.Posts, Post{At: at(s.at), HumanReply: true})
		case "auto", "note":
			h.Posts = append(h.Posts, Post{At: at(s.at)})
		}
	}
	return h
}

func find(cs []Clock, m Metric) Clock {
	for _, c := range cs {
		if c.Metric == m {
			return c
		}
	}
	return Clock{}
}

func TestDeriveClocks(t *testing.T) {
	s := schedules()
	cases := []struct {
		name  string
		h     *History
		now   string
		check func(t *testing.T, cs []Clock, rec Record)
	}{
		{"first reply runs in business hours", history("2025-05-30 16:00", ticket.PriorityNormal), "2025-05-30 17:00", func(t *testing.T, cs []Clock, _ Record) {
			fr := find(cs, FirstReply)
			if fr.State != Active || !fr.Deadline.Equal(at("2025-06-02 11:00")) || !fr.WarnAt.Equal(at("2025-06-02 10:30")) || fr.ElapsedBusiness != time.Hour {
				t.Fatalf("%+v", fr)
			}
		}},
		{"automatic replies and notes never fulfil", history("2025-06-02 09:00", ticket.PriorityNormal,
			step{"auto", "2025-06-02 09:01", ""}, step{"note", "2025-06-02 09:05", ""}), "2025-06-02 10:00", func(t *testing.T, cs []Clock, _ Record) {
			if fr := find(cs, FirstReply); fr.State != Active {
				t.Fatalf("%+v", fr)
			}
		}},
		{"a human reply fulfils, late means breached", history("2025-06-02 09:00", ticket.PriorityNormal,
			step{"reply", "2025-06-02 14:00", ""}, step{"status", "2025-06-02 14:00", "open"}), "2025-06-02 15:00", func(t *testing.T, cs []Clock, rec Record) {
			fr := find(cs, FirstReply)
			if fr.State != Fulfilled || !fr.Breached || fr.Breaches != 1 || fr.ElapsedBusiness != 5*time.Hour {
				t.Fatalf("%+v", fr)
			}
			if *rec.FirstReplyBusiness != 5*3600 || rec.Breaches[FirstReply] != 1 {
				t.Fatalf("record %+v", rec)
			}
			if pu := find(cs, PeriodicUpdate); pu.State != Active || !pu.StartedAt.Equal(at("2025-06-02 14:00")) {
				t.Fatalf("periodic update starts at the reply: %+v", pu)
			}
		}},
		{"priority change switches the target, elapsed carries over", func() *History {
			return history("2025-06-02 09:00", ticket.PriorityUrgent)
		}(), "2025-06-02 09:30", func(t *testing.T, cs []Clock, _ Record) {
			fr := find(cs, FirstReply)
			if fr.Target != time.Hour || !fr.Deadline.Equal(at("2025-06-02 10:00")) || fr.ElapsedBusiness != 30*time.Minute {
				t.Fatalf("%+v", fr)
			}
		}},
		{"next reply cycles: oldest unanswered customer message", history("2025-06-02 09:00", ticket.PriorityNormal,
			step{"reply", "2025-06-02 10:00", ""}, step{"customer", "2025-06-02 11:00", ""}, step{"customer", "2025-06-02 12:00", ""},
			step{"reply", "2025-06-03 17:00", ""}, step{"customer", "2025-06-04 09:00", ""}), "2025-06-04 10:00", func(t *testing.T, cs []Clock, rec Record) {
			nr := find(cs, NextReply)
			// Cycle 0: 11:00 Mon → 17:00 Tue = 7 + 8 = 15 h > 8 h: breached. Cycle 1 runs from Wed 09:00.
			if nr.Cycle != 1 || nr.State != Active || nr.Breaches != 1 || nr.Breached || !nr.Deadline.Equal(at("2025-06-04 17:00")) {
				t.Fatalf("%+v", nr)
			}
		}},
		{"pending pauses resolution; reopen keeps elapsed", history("2025-06-02 09:00", ticket.PriorityNormal,
			step{"status", "2025-06-02 11:00", "pending"}, step{"status", "2025-06-03 11:00", "open"},
			step{"status", "2025-06-03 12:00", "solved"}, step{"status", "2025-06-04 09:00", "open"}), "2025-06-04 10:00", func(t *testing.T, cs []Clock, rec Record) {
			res := find(cs, Resolution)
			// 2 h Monday + 1 h Tuesday + 1 h Wednesday = 4 h; 12 h left from Wed 10:00 → Thu 13:00.
			if res.State != Active || res.ElapsedBusiness != 4*time.Hour || !res.Deadline.Equal(at("2025-06-05 13:00")) {
				t.Fatalf("%+v", res)
			}
			if *rec.FirstResolutionBusiness != 12*3600 || rec.FullResolutionBusiness != nil {
				t.Fatalf("first resolution 12 h (Mon 09 → Tue 12), no full resolution while reopened: %+v", rec)
			}
		}},
		{"paused clock has no deadline", history("2025-06-02 09:00", ticket.PriorityNormal,
			step{"status", "2025-06-02 10:00", "on_hold"}), "2025-06-02 12:00", func(t *testing.T, cs []Clock, _ Record) {
			res := find(cs, Resolution)
			if res.State != Paused || res.Deadline != nil || res.ElapsedBusiness != time.Hour {
				t.Fatalf("%+v", res)
			}
			if fr := find(cs, FirstReply); fr.State != Active {
				t.Fatalf("first reply never pauses: %+v", fr)
			}
		}},
		{"solved without a reply cancels the reply clock", history("2025-06-02 09:00", ticket.PriorityNormal,
			step{"status", "2025-06-02 10:00", "solved"}), "2025-06-02 12:00", func(t *testing.T, cs []Clock, rec Record) {
			if fr := find(cs, FirstReply); fr.State != Cancelled || fr.Breached {
				t.Fatalf("%+v", fr)
			}
			if res := find(cs, Resolution); res.State != Fulfilled || res.ElapsedBusiness != time.Hour {
				t.Fatalf("%+v", res)
			}
			if *rec.FullResolutionBusiness != 3600 {
				t.Fatalf("%+v", rec)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs, rec := Derive(c.h, policy(), s, at(c.now), nil)
			c.check(t, cs, rec)
		})
	}
}

func TestFireOnce(t *testing.T) {
	s := schedules()
	h := history("2025-06-02 09:00", ticket.PriorityNormal)
	cs, _ := Derive(h, policy(), s, at("2025-06-02 12:40"), nil)
	if a := Fire(cs, at("2025-06-02 12:40")); len(a) != 1 || a[0].Kind != "warning" || a[0].Metric != FirstReply {
		t.Fatalf("warning: %+v", a)
	}
	prev := map[Metric]Clock{}
	for _, c := range cs {
		prev[c.Metric] = c
	}
	// Re-derived later (e.g. after a restart), the warning is remembered.
	cs, _ = Derive(h, policy(), s, at("2025-06-02 12:50"), prev)
	if a := Fire(cs, at("2025-06-02 12:50")); len(a) != 0 {
		t.Fatalf("fired again: %+v", a)
	}
	cs, _ = Derive(h, policy(), s, at("2025-06-02 13:00"), prev)
	a := Fire(cs, at("2025-06-02 13:00"))
	if len(a) != 1 || a[0].Kind != "breach" {
		t.Fatalf("breach: %+v", a)
	}
	if a := Fire(cs, at("2025-06-02 13:01")); len(a) != 0 {
		t.Fatalf("breach fired twice: %+v", a)
	}
	// Next: the overdue first reply is the next deadline; the next alarm
	// not yet fired is resolution's warning (16 h − 30 min from Monday 09:00).
	due, warn, alarm := Next(cs, at("2025-06-02 13:01"))
	if due == nil || !due.Equal(at("2025-06-02 13:00")) || alarm == nil || !alarm.Equal(at("2025-06-03 15:30")) {
		t.Fatalf("next: due %v alarm %v", due, alarm)
	}
	// The breached clock's warning is no longer "at risk"; resolution's is next.
	if warn == nil || !warn.Equal(at("2025-06-03 15:30")) {
		t.Fatalf("next warning: %v", warn)
	}
	// Without a policy there are no clocks.
	if cs, _ := Derive(h, nil, s, at("2025-06-02 13:00"), nil); len(cs) != 0 {
		t.Fatalf("clocks without policy: %+v", cs)
	}
}

// Properties: pausing never brings a deadline closer, and elapsed time
// never exceeds the wall time between start and now.
func TestDeriveProperties(t *testing.T) {
	s := schedules()
	rapid.Check(t, func(rt *rapid.T) {
		created := at("2025-06-02 08:00").Add(time.Duration(rapid.IntRange(0, 7*24*60).Draw(rt, "created")) * time.Minute)
		pauseAt := created.Add(time.Duration(rapid.IntRange(1, 3*24*60).Draw(rt, "pause")) * time.Minute)
		length := time.Duration(rapid.IntRange(1, 3*24*60).Draw(rt, "length")) * time.Minute
		now := pauseAt.Add(length).Add(time.Duration(rapid.IntRange(0, 24*60).Draw(rt, "after")) * time.Minute)
		plain := &History{Ticket: &ticket.Ticket{CreatedAt: created, Priority: ticket.PriorityNormal}}
		paused := &History{Ticket: plain.Ticket, Statuses: []StatusChange{{pauseAt, ticket.StatusPending}, {pauseAt.Add(length), ticket.StatusOpen}}}
		a, _ := Derive(plain, policy(), s, now, nil)
		b, _ := Derive(paused, policy(), s, now, nil)
		ra, rb := find(a, Resolution), find(b, Resolution)
		if ra.Deadline == nil || rb.Deadline == nil {
			rt.Fatalf("office calendar always gives a deadline: %+v %+v", ra, rb)
		}
		if rb.Deadline.Before(*ra.Deadline) {
			rt.Fatalf("pause brought the deadline closer: %s < %s", rb.Deadline, ra.Deadline)
		}
		if rb.ElapsedBusiness > ra.ElapsedBusiness || ra.ElapsedCalendar > now.Sub(created) {
			rt.Fatalf("elapsed: paused %s plain %s wall %s", rb.ElapsedBusiness, ra.ElapsedBusiness, now.Sub(created))
		}
		// The paused business time is exactly the shift of the deadline.
		shift := s.Business.Elapsed(*ra.Deadline, *rb.Deadline)
		pausedBiz := s.Business.Elapsed(pauseAt, pauseAt.Add(length))
		if ra.Deadline.After(pauseAt) && shift != pausedBiz {
			rt.Fatalf("deadline moved by %s, paused business time %s", shift, pausedBiz)
		}
	})
}
