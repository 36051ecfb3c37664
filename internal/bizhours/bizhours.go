// Package bizhours is Sportello's business-time arithmetic (DOMAIN.md §3):
// when a support team is open, how many business seconds lie between two
// instants, and which instant lies N business seconds after another.
//
// A Calendar is data: an IANA time zone, per weekday a list of half-open
// local intervals in minutes, holiday rules with validity ranges, and date
// overrides with special hours. It is compiled, one year at a time and
// lazily, into a sorted list of open spans in Unix seconds with prefix
// sums, so that Add and Elapsed are a binary search instead of a walk over
// days. Local times become instants with an explicit DST policy: a local
// time inside the spring gap moves forward by the gap, a local time inside
// the autumn overlap takes the earlier instant.
//
// The package is pure: no clock, no I/O. A calendar with no open time
// answers "no deadline" (ok == false) after a bounded horizon instead of
// looping.
package bizhours

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Span is a half-open local interval [Start, End) in minutes after local
// midnight, 0 ≤ Start < End ≤ 1440.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Date is a local calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// Override gives a date special hours; no spans means closed all day.
type Override struct {
	Date  Date
	Spans []Span
}

// Calendar says when a team is open.
type Calendar struct {
	Zone *time.Location
	// Week holds the open spans of each weekday, indexed by time.Weekday.
	Week      [7][]Span
	Holidays  []Holiday
	Overrides []Override
}

// Always is the 24/7 calendar in zone: every local day open from midnight
// to midnight, so business time equals real elapsed time.
func Always(zone *time.Location) *Calendar {
	c := &Calendar{Zone: zone}
	for d := range c.Week {
		c.Week[d] = []Span{{0, 1440}}
	}
	return c
}

// Problem is one thing wrong with a calendar, named by field and rule.
type Problem struct {
	Field, Rule, Detail string
}

func (p Problem) Error() string { return p.Field + ": " + p.Detail }

// CheckSpans validates one day's spans: each within the day, start before
// end, and no two overlapping.
func CheckSpans(field string, spans []Span) *Problem {
	for i, s := range spans {
		if s.Start < 0 || s.End > 1440 || s.Start >= s.End {
			return &Problem{field, "interval", fmt.Sprintf("%s–%s is not a valid interval: it must start before it ends, within 00:00–24:00", Clock(s.Start), Clock(s.End))}
		}
		for _, o := range spans[:i] {
			if s.Start < o.End && o.Start < s.End {
				return &Problem{field, "overlap", fmt.Sprintf("%s–%s overlaps %s–%s", Clock(s.Start), Clock(s.End), Clock(o.Start), Clock(o.End))}
			}
		}
	}
	return nil
}

// Clock formats minutes after midnight as HH:MM.
func Clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Horizon bounds how far Add looks for open time: a calendar with no open
// time in this many years after the start gives no deadline.
const Horizon = 3

// Schedule is a compiled calendar. It is safe for concurrent use; years are
// compiled on first use and kept.
type Schedule struct {
	cal *Calendar
	mu  sync.RWMutex
	yrs map[int]*year
}

// year is the open time of one local calendar year: spans in Unix seconds,
// sorted and disjoint, with cum[i] = open seconds before spans[i].
type year struct {
	start, end int64 // the year's own bounds (local midnights)
	spans      []span
	cum        []int64
	total      int64
}

type span struct{ a, b int64 }

// Compile prepares a calendar for arithmetic.
func Compile(c *Calendar) *Schedule {
	if c.Zone == nil {
		c.Zone = time.UTC
	}
	return &Schedule{cal: c, yrs: map[int]*year{}}
}

func (s *Schedule) year(y int) *year {
	s.mu.RLock()
	yr := s.yrs[y]
	s.mu.RUnlock()
	if yr != nil {
		return yr
	}
	yr = s.cal.compileYear(y)
	s.mu.Lock()
	if old := s.yrs[y]; old != nil {
		yr = old
	} else {
		s.yrs[y] = yr
	}
	s.mu.Unlock()
	return yr
}

func (c *Calendar) compileYear(y int) *year {
	yr := &year{start: Instant(c.Zone, Date{y, 1, 1}, 0), end: Instant(c.Zone, Date{y + 1, 1, 1}, 0)}
	closed := c.holidaysIn(y)
	over := map[Date][]Span{}
	for _, o := range c.Overrides {
		if o.Date.Year == y {
			over[o.Date] = o.Spans
		}
	}
	day := time.Date(y, 1, 1, 12, 0, 0, 0, time.UTC) // noon UTC: stepping dates, never instants
	for ; day.Year() == y; day = day.AddDate(0, 0, 1) {
		d := Date{y, day.Month(), day.Day()}
		spans, ok := over[d]
		if !ok {
			if closed[d] {
				continue
			}
			spans = c.Week[day.Weekday()]
		}
		for _, sp := range spans {
			a, b := Instant(c.Zone, d, sp.Start), Instant(c.Zone, d, sp.End)
			if b <= a { // a span swallowed by a DST gap
				continue
			}
			yr.spans = append(yr.spans, span{a, b})
		}
	}
	// Spans are merged in instant order, not in the order they were typed
	// or converted: special hours typed "14:00-18:00, 09:00-13:00", or a
	// span moved forward out of a spring gap past the next one, must not
	// lose the time between them.
	slices.SortFunc(yr.spans, func(x, y span) int { return cmp.Compare(x.a, y.a) })
	merged := yr.spans[:0]
	for _, sp := range yr.spans {
		if n := len(merged); n > 0 && merged[n-1].b >= sp.a {
			merged[n-1].b = max(merged[n-1].b, sp.b) // overlaps; 24:00 meets next 00:00
			continue
		}
		merged = append(merged, sp)
	}
	yr.spans = merged
	yr.cum = make([]int64, len(yr.spans))
	for i, sp := range yr.spans {
		yr.cum[i] = yr.total
		yr.total += sp.b - sp.a
	}
	return yr
}

// Instant is the Unix second of local minute m (0–1440) of date d in zone,
// with DOMAIN.md's DST policy: inside a spring gap the time moves forward
// by the gap; inside an autumn overlap the earlier instant wins. Minute
// 1440 is the next day's midnight.
func Instant(zone *time.Location, d Date, m int) int64 {
	wall := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() + int64(m)*60
	before := offset(zone, wall-86400)
	after := offset(zone, wall+86400)
	i1 := wall - before
	ok1 := offset(zone, i1) == before
	if before == after {
		if ok1 {
			return i1
		}
		// Two transitions within two days (no real zone does this):
		// trust the offset in force at the candidate.
		return wall - offset(zone, i1)
	}
	i2 := wall - after
	ok2 := offset(zone, i2) == after
	switch {
	case ok1 && ok2:
		return min(i1, i2) // overlap: the earlier instant
	case ok1:
		return i1
	case ok2:
		return i2
	default:
		return i1 // gap: read with the old offset, i.e. forward by the gap
	}
}

func offset(zone *time.Location, unix int64) int64 {
	_, off := time.Unix(unix, 0).In(zone).Zone()
	return int64(off)
}

// yearOf returns the local year holding instant t and its compiled open
// time. The UTC year is off by one at most near new year, which the
// year's own bounds settle without a time-zone lookup.
func (s *Schedule) yearOf(t int64) (int, *year) {
	y := time.Unix(t, 0).UTC().Year()
	yr := s.year(y)
	switch {
	case t < yr.start:
		y--
		yr = s.year(y)
	case t >= yr.end:
		y++
		yr = s.year(y)
	}
	return y, yr
}

// before returns the open seconds of yr before instant t.
func (yr *year) before(t int64) int64 {
	i := sort.Search(len(yr.spans), func(i int) bool { return yr.spans[i].b > t })
	if i == len(yr.spans) {
		return yr.total
	}
	sp := yr.spans[i]
	if t <= sp.a {
		return yr.cum[i]
	}
	return yr.cum[i] + t - sp.a
}

// at returns the instant at which yr has accumulated n open seconds
// (0 < n ≤ yr.total): the end of the open second that completes n.
func (yr *year) at(n int64) int64 {
	i := sort.Search(len(yr.spans), func(i int) bool { return yr.cum[i]+yr.spans[i].b-yr.spans[i].a >= n })
	return yr.spans[i].a + n - yr.cum[i]
}

// Elapsed returns the business seconds in [from, to); zero when to ≤ from.
func (s *Schedule) Elapsed(from, to time.Time) time.Duration {
	return time.Duration(s.elapsed(from.Unix(), to.Unix())) * time.Second
}

func (s *Schedule) elapsed(a, b int64) int64 {
	if b <= a {
		return 0
	}
	ya, first := s.yearOf(a)
	yb, last := s.yearOf(b)
	if ya == yb {
		return first.before(b) - first.before(a)
	}
	n := first.total - first.before(a)
	for y := ya + 1; y < yb; y++ {
		n += s.year(y).total
	}
	return n + last.before(b)
}

// Add returns the instant at which d business seconds have passed since
// start; ok is false when the calendar has no such instant within Horizon
// years (a calendar with no open time). d ≤ 0 returns start.
func (s *Schedule) Add(start time.Time, d time.Duration) (time.Time, bool) {
	u, ok := s.add(start.Unix(), int64(d/time.Second))
	return time.Unix(u, 0).UTC(), ok
}

func (s *Schedule) add(t, n int64) (int64, bool) {
	if n <= 0 {
		return t, true
	}
	y, yr := s.yearOf(t)
	n += yr.before(t)
	for end := y + Horizon; y <= end; {
		if n <= yr.total {
			return yr.at(n), true
		}
		n -= yr.total
		y++
		yr = s.year(y)
	}
	return t, false
}

// Interval is a closed-open range of instants, such as a pause; a zero To
// means "still going".
type Interval struct {
	From, To time.Time
}

// ElapsedPaused returns the business seconds in [from, to) outside the
// pauses (which may overlap one another and the range's ends).
func (s *Schedule) ElapsedPaused(from, to time.Time, pauses []Interval) time.Duration {
	a, b := from.Unix(), to.Unix()
	n := s.elapsed(a, b)
	for _, p := range mergePauses(pauses, a, b) {
		n -= s.elapsed(p.a, p.b)
	}
	return time.Duration(n) * time.Second
}

// AddPaused returns the instant at which d business seconds outside the
// pauses have passed since start. ok is false when the clock is paused
// without end before reaching d, or the calendar runs out of open time.
func (s *Schedule) AddPaused(start time.Time, d time.Duration, pauses []Interval) (time.Time, bool) {
	cur, n := start.Unix(), int64(d/time.Second)
	for _, p := range mergePauses(pauses, cur, 1<<62) {
		end, ok := s.add(cur, n)
		if !ok || end <= p.a {
			return time.Unix(end, 0).UTC(), ok
		}
		n -= s.elapsed(cur, p.a)
		if p.b == 1<<62 {
			return start, false // paused with no end in sight
		}
		cur = p.b
	}
	end, ok := s.add(cur, n)
	return time.Unix(end, 0).UTC(), ok
}

// mergePauses clips pauses to [a, b), sorts and merges them; an open pause
// runs to b.
func mergePauses(ps []Interval, a, b int64) []span {
	out := make([]span, 0, len(ps))
	for _, p := range ps {
		pa, pb := p.From.Unix(), int64(1<<62)
		if !p.To.IsZero() {
			pb = p.To.Unix()
		}
		pa, pb = max(pa, a), min(pb, b)
		if pa < pb {
			out = append(out, span{pa, pb})
		}
	}
	slices.SortFunc(out, func(x, y span) int { return int(min(max(x.a-y.a, -1), 1)) })
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && merged[n-1].b >= p.a {
			merged[n-1].b = max(merged[n-1].b, p.b)
			continue
		}
		merged = append(merged, p)
	}
	return merged
}

// OpenAt reports whether the calendar is open at instant t.
func (s *Schedule) OpenAt(t time.Time) bool {
	u := t.Unix()
	return s.elapsed(u, u+1) == 1
}
