package sla

import (
	"slices"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/ticket"
)

// State is where a clock stands.
type State string

// Clock states. A fulfilled or cancelled clock is done; any clock may also
// be breached.
const (
	Active    State = "active"
	Paused    State = "paused"
	Fulfilled State = "fulfilled"
	Cancelled State = "cancelled" // the ticket was solved before the metric was met
)

// Clock is one metric's state on one ticket.
type Clock struct {
	Metric    Metric
	PolicyID  int64
	Target    time.Duration
	Business  bool
	State     State
	Cycle     int // next reply and periodic update: which cycle (0-based)
	StartedAt time.Time
	StoppedAt *time.Time
	Deadline  *time.Time // active clocks only; nil: no deadline (calendar without open time)
	WarnAt    *time.Time
	// Elapsed business (policy calendar) and calendar time of the current
	// cycle, minus pauses, as of the computation.
	ElapsedBusiness time.Duration
	ElapsedCalendar time.Duration
	Breached        bool // the current cycle is breached
	Breaches        int  // cycles breached so far, this one included
	// WarnedCycle and BreachedCycle remember which cycle's warning and
	// breach have fired (-1: none), so each fires exactly once.
	WarnedCycle   int
	BreachedCycle int
}

// Done reports whether the clock no longer runs.
func (c *Clock) Done() bool { return c.State == Fulfilled || c.State == Cancelled }

// Same reports whether c and o would be stored alike. The elapsed time
// of a running or paused clock is a snapshot that ages anyway (the deadline
// is what counts), so it alone is no reason to write.
func (c Clock) Same(o Clock) bool {
	if c.State == Active || c.State == Paused {
		c.ElapsedBusiness, c.ElapsedCalendar = o.ElapsedBusiness, o.ElapsedCalendar
	}
	return c.Metric == o.Metric && c.PolicyID == o.PolicyID && c.Target == o.Target && c.Business == o.Business &&
		c.State == o.State && c.Cycle == o.Cycle && c.StartedAt.Equal(o.StartedAt) && sameTime(c.StoppedAt, o.StoppedAt) &&
		sameTime(c.Deadline, o.Deadline) && sameTime(c.WarnAt, o.WarnAt) && c.ElapsedBusiness == o.ElapsedBusiness &&
		c.ElapsedCalendar == o.ElapsedCalendar && c.Breached == o.Breached && c.Breaches == o.Breaches &&
		c.WarnedCycle == o.WarnedCycle && c.BreachedCycle == o.BreachedCycle
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Empty reports whether the record holds nothing yet (no policy, no reply,
// no resolution, no reopen).
func (r Record) Empty() bool {
	for _, n := range r.Breaches {
		if n != 0 {
			return false
		}
	}
	return r.PolicyID == nil && r.FirstReplyBusiness == nil && r.FirstResolutionBusiness == nil && r.FullResolutionBusiness == nil && r.Reopens == 0
}

// Post is one message as SLA sees it.
type Post struct {
	At time.Time
	// Customer: written by the customer. HumanReply: a public reply by an
	// agent, not automatic (DOMAIN §3: only these fulfil reply metrics).
	Customer, HumanReply bool
}

// StatusChange is a status event.
type StatusChange struct {
	At time.Time
	To ticket.Status
}

// History is what clocks are derived from.
type History struct {
	Ticket   *ticket.Ticket
	OrgID    *int64
	Statuses []StatusChange // oldest first, after creation
	Posts    []Post         // oldest first
}

// Schedules are the compiled calendars a derivation counts on.
type Schedules struct {
	Business *bizhours.Schedule // the policy's calendar (or 24/7 without one)
	Always   *bizhours.Schedule // calendar hours
}

// Record is the per-ticket metric record for reports (DOMAIN §4).
type Record struct {
	PolicyID                *int64
	FirstReplyBusiness      *int64 // seconds
	FirstReplyCalendar      *int64
	FirstResolutionBusiness *int64
	FirstResolutionCalendar *int64
	FullResolutionBusiness  *int64
	FullResolutionCalendar  *int64
	Breaches                map[Metric]int
	Reopens                 int
}

type period struct {
	from, to time.Time // to is zero for the current period
	status   ticket.Status
}

func periods(h *History) []period {
	out := []period{{from: h.Ticket.CreatedAt, status: ticket.StatusNew}}
	for _, c := range h.Statuses {
		last := &out[len(out)-1]
		if !c.At.After(last.from) {
			last.status = c.To // several changes at the same instant: the last wins
			continue
		}
		last.to = c.At
		out = append(out, period{from: c.At, status: c.To})
	}
	return out
}

func pausesOf(ps []period, statuses []ticket.Status) []bizhours.Interval {
	var out []bizhours.Interval
	for _, p := range ps {
		if slices.Contains(statuses, p.status) {
			out = append(out, bizhours.Interval{From: p.from, To: p.to})
		}
	}
	return out
}

var stopped = []ticket.Status{ticket.StatusSolved, ticket.StatusClosed}

// Derive computes a ticket's clocks under policy p (nil: no policy, no
// clocks) and its metric record, as of now. prev holds the clocks stored
// before, whose fire-once markers carry over.
func Derive(h *History, p *Policy, s Schedules, now time.Time, prev map[Metric]Clock) ([]Clock, Record) {
	t := h.Ticket
	ps := periods(h)
	cur := ps[len(ps)-1].status
	done := cur == ticket.StatusSolved || cur == ticket.StatusClosed
	var doneAt time.Time
	if done {
		doneAt = ps[len(ps)-1].from
		for i := len(ps) - 1; i > 0 && slices.Contains(stopped, ps[i-1].status); i-- {
			doneAt = ps[i-1].from // closed after solved: solved is when it stopped
		}
	}
	var replies []time.Time
	for _, m := range h.Posts {
		if m.HumanReply {
			replies = append(replies, m.At)
		}
	}

	rec := Record{Breaches: map[Metric]int{}, Reopens: t.ReopenCount}
	biz := s.Business
	if biz == nil {
		biz = s.Always
	}
	if len(replies) > 0 {
		rec.FirstReplyBusiness = secs(biz.Elapsed(t.CreatedAt, replies[0]))
		rec.FirstReplyCalendar = secs(replies[0].Sub(t.CreatedAt))
	}
	if solves := solvedTimes(ps); len(solves) > 0 {
		first, last := solves[0], solves[len(solves)-1]
		rec.FirstResolutionBusiness = secs(biz.Elapsed(t.CreatedAt, first))
		rec.FirstResolutionCalendar = secs(first.Sub(t.CreatedAt))
		if done {
			rec.FullResolutionBusiness = secs(biz.Elapsed(t.CreatedAt, last))
			rec.FullResolutionCalendar = secs(last.Sub(t.CreatedAt))
		}
	}
	if p == nil {
		return nil, rec
	}
	rec.PolicyID = &p.ID

	d := deriver{p: p, s: s, now: now, prev: prev, ps: ps, cur: cur, prio: t.Priority}
	var clocks []Clock
	// First reply: from creation to the first human public reply.
	if c, ok := d.clock(FirstReply, []cycle{{start: t.CreatedAt, stop: first(replies)}}, done, doneAt); ok {
		clocks = append(clocks, c)
	}
	// Next reply: each customer message after an answered stretch opens a
	// cycle that the next human public reply closes.
	var nexts []cycle
	if len(replies) > 0 {
		answered := true
		for _, m := range h.Posts {
			switch {
			case m.HumanReply && !answered:
				nexts[len(nexts)-1].stop = timePtr(m.At)
				answered = true
			case m.Customer && answered && m.At.After(replies[0]):
				nexts = append(nexts, cycle{start: m.At})
				answered = false
			}
		}
	}
	if c, ok := d.clock(NextReply, nexts, done, doneAt); ok {
		clocks = append(clocks, c)
	}
	// Resolution: from creation to solved; solved stretches and the
	// policy's pause statuses stop it, and a reopen carries on.
	if c, ok := d.clock(Resolution, []cycle{{start: t.CreatedAt, stop: stopIf(done, doneAt), resolution: true}}, false, time.Time{}); ok {
		clocks = append(clocks, c)
	}
	// Periodic update: each human public reply promises the next.
	var upd []cycle
	for i, r := range replies {
		c := cycle{start: r}
		if i+1 < len(replies) {
			c.stop = timePtr(replies[i+1])
		}
		upd = append(upd, c)
	}
	if c, ok := d.clock(PeriodicUpdate, upd, done, doneAt); ok {
		clocks = append(clocks, c)
	}
	for _, c := range clocks {
		rec.Breaches[c.Metric] = c.Breaches
	}
	return clocks, rec
}

type cycle struct {
	start      time.Time
	stop       *time.Time
	resolution bool // solved stretches pause it
}

type deriver struct {
	p    *Policy
	s    Schedules
	now  time.Time
	prev map[Metric]Clock
	ps   []period
	cur  ticket.Status
	prio ticket.Priority
}

// clock derives one metric over its cycles; the last cycle is the current
// one. cancelled marks an unmet reply metric on a solved ticket.
func (d *deriver) clock(m Metric, cycles []cycle, solved bool, solvedAt time.Time) (Clock, bool) {
	tg, ok := d.p.TargetFor(d.prio, m)
	if !ok || len(cycles) == 0 {
		return Clock{}, false
	}
	target := time.Duration(tg.Seconds) * time.Second
	sched := d.s.Always
	if tg.Business && d.s.Business != nil {
		sched = d.s.Business
	}
	pauseSt := d.p.Pauses[m]
	c := Clock{Metric: m, PolicyID: d.p.ID, Target: target, Business: tg.Business, WarnedCycle: -1, BreachedCycle: -1}
	if old, ok := d.prev[m]; ok {
		c.WarnedCycle, c.BreachedCycle = old.WarnedCycle, old.BreachedCycle
	}
	for i, cy := range cycles {
		sts := pauseSt
		if cy.resolution {
			sts = append(slices.Clone(pauseSt), stopped...)
		}
		pauses := pausesOf(d.ps, sts)
		end := d.now
		switch {
		case cy.stop != nil:
			end = *cy.stop
		case solved:
			end = solvedAt
		}
		el := sched.ElapsedPaused(cy.start, end, pauses)
		breached := el > target
		if breached {
			c.Breaches++
		}
		if i < len(cycles)-1 {
			continue
		}
		c.Cycle, c.StartedAt, c.Breached = i, cy.start, breached
		c.ElapsedBusiness = d.s.businessOr(sched).ElapsedPaused(cy.start, end, pauses)
		c.ElapsedCalendar = d.s.Always.ElapsedPaused(cy.start, end, pauses)
		switch {
		case cy.stop != nil:
			c.State, c.StoppedAt = Fulfilled, cy.stop
		case solved:
			c.State, c.StoppedAt = Cancelled, timePtr(solvedAt)
		case slices.Contains(sts, d.cur):
			c.State = Paused
		default:
			c.State = Active
			if dl, ok := sched.AddPaused(cy.start, target, pauses); ok {
				c.Deadline = &dl
				if lead := d.p.lead(target); lead > 0 {
					if w, ok := sched.AddPaused(cy.start, target-lead, pauses); ok {
						c.WarnAt = &w
					}
				}
			}
		}
	}
	return c, true
}

func (s Schedules) businessOr(fallback *bizhours.Schedule) *bizhours.Schedule {
	if s.Business != nil {
		return s.Business
	}
	return fallback
}

func solvedTimes(ps []period) []time.Time {
	var out []time.Time
	for i, p := range ps {
		if p.status == ticket.StatusSolved || (p.status == ticket.StatusClosed && (i == 0 || !slices.Contains(stopped, ps[i-1].status))) {
			out = append(out, p.from)
		}
	}
	return out
}

func first(ts []time.Time) *time.Time {
	if len(ts) == 0 {
		return nil
	}
	return timePtr(ts[0])
}

func stopIf(ok bool, t time.Time) *time.Time {
	if !ok {
		return nil
	}
	return timePtr(t)
}

func timePtr(t time.Time) *time.Time { return &t }

func secs(d time.Duration) *int64 {
	n := int64(d / time.Second)
	return &n
}

// Alarm is a warning or breach that is due.
type Alarm struct {
	Metric Metric
	Kind   string // "warning" or "breach"
	Cycle  int
}

// Fire returns the alarms due at now and marks them fired on the clocks.
// A breach due makes its warning moot: it is marked, not fired.
func Fire(clocks []Clock, now time.Time) []Alarm {
	var out []Alarm
	for i := range clocks {
		c := &clocks[i]
		if c.State != Active {
			continue
		}
		if c.Deadline != nil && !c.Deadline.After(now) && c.BreachedCycle != c.Cycle {
			c.BreachedCycle, c.WarnedCycle = c.Cycle, c.Cycle
			out = append(out, Alarm{c.Metric, "breach", c.Cycle})
			continue
		}
		if c.WarnAt != nil && !c.WarnAt.After(now) && c.WarnedCycle != c.Cycle {
			c.WarnedCycle = c.Cycle
			out = append(out, Alarm{c.Metric, "warning", c.Cycle})
		}
	}
	return out
}

// Next summarises a ticket's clocks for its queue row at now: the earliest
// deadline among active clocks, the earliest warning among those not yet
// past their deadline (so that the "at risk" index holds no breached
// clocks, however large the backlog), and the earliest alarm not yet fired
// (the scan's index). Every deadline passing is an alarm, so the scan
// re-derives the ticket and drops its warning then.
func Next(clocks []Clock, now time.Time) (deadline, warn, alarm *time.Time) {
	earliest := func(cur *time.Time, t *time.Time) *time.Time {
		if t == nil || (cur != nil && !t.Before(*cur)) {
			return cur
		}
		return t
	}
	for i := range clocks {
		c := &clocks[i]
		if c.State != Active {
			continue
		}
		deadline = earliest(deadline, c.Deadline)
		if c.Deadline != nil && c.Deadline.After(now) {
			warn = earliest(warn, c.WarnAt)
		}
		if c.BreachedCycle != c.Cycle {
			alarm = earliest(alarm, c.Deadline)
		}
		if c.WarnedCycle != c.Cycle {
			alarm = earliest(alarm, c.WarnAt)
		}
	}
	return deadline, warn, alarm
}
