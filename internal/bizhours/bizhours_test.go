package bizhours

import (
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var rome = mustZone("Europe/Rome")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// office is DOMAIN.md's test calendar: Europe/Rome, Mon–Fri 09:00–18:00.
func office(holidays ...Holiday) *Schedule {
	c := &Calendar{Zone: rome, Holidays: holidays}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []Span{{9 * 60, 18 * 60}}
	}
	return Compile(c)
}

// nightly is open 22:00–06:00 every night, as two intervals per day.
func nightly() *Schedule {
	c := &Calendar{Zone: rome}
	for d := range c.Week {
		c.Week[d] = []Span{{0, 6 * 60}, {22 * 60, 1440}}
	}
	return Compile(c)
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDomainVectors runs the eight test vectors of DOMAIN.md §3.
func TestDomainVectors(t *testing.T) {
	h := time.Hour
	add := []struct {
		name   string
		s      *Schedule
		start  string
		d      time.Duration
		pauses []Interval
		want   string
	}{
		{"1 Friday plus 4h", office(), "2025-05-30 16:00", 4 * h, nil, "2025-06-02 11:00"},
		{"2 with holiday on Monday", office(Holiday{Name: "Festa della Repubblica", Month: 6, Day: 2}), "2025-05-30 16:00", 4 * h, nil, "2025-06-03 11:00"},
		{"3 created on Saturday", office(), "2025-05-31 10:00", 1 * h, nil, "2025-06-02 10:00"},
		{"7 paused on Tuesday", office(), "2025-06-09 17:00", 8 * h, []Interval{{at("2025-06-10 09:30"), at("2025-06-10 11:30")}}, "2025-06-10 18:00"},
		{"8 always open across the spring gap", Compile(Always(rome)), "2025-03-30 00:00", 4 * h, nil, "2025-03-30 05:00"},
	}
	for _, c := range add {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.s.AddPaused(at(c.start), c.d, c.pauses)
			if !ok || !got.Equal(at(c.want)) {
				t.Fatalf("got %s (ok %v), want %s", got.In(rome), ok, c.want)
			}
			if e := c.s.ElapsedPaused(at(c.start), got, c.pauses); e != c.d {
				t.Fatalf("elapsed back to the deadline = %s, want %s", e, c.d)
			}
		})
	}
	if e := Compile(Always(rome)).Elapsed(at("2025-03-30 00:00"), at("2025-03-30 05:00")); e != 4*h {
		t.Errorf("8: the wall clock moved 5 h but %s elapsed, want 4h", e)
	}
	elapsed := []struct {
		name     string
		s        *Schedule
		from, to string
		pauses   []Interval
		want     time.Duration
	}{
		{"4 nightly across the spring gap", nightly(), "2025-03-29 22:00", "2025-03-30 06:00", nil, 7 * h},
		{"5 nightly across the autumn overlap", nightly(), "2025-10-25 22:00", "2025-10-26 06:00", nil, 9 * h},
		{"6 Monday to Wednesday", office(), "2025-06-02 09:00", "2025-06-04 09:00", nil, 18 * h},
		{"6 with a pause on Tuesday", office(), "2025-06-02 09:00", "2025-06-04 09:00", []Interval{{at("2025-06-03 10:00"), at("2025-06-03 15:00")}}, 13 * h},
	}
	for _, c := range elapsed {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.ElapsedPaused(at(c.from), at(c.to), c.pauses); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

// Vectors 9 and 10 (issue 9): spans that are not in time order once
// turned into instants lose no time.
func TestUnorderedSpanVectors(t *testing.T) {
	// 9: special hours typed afternoon first; 09:00 + 1 h is 10:00.
	typed := &Calendar{Zone: rome, Overrides: []Override{{Date: Date{2026, time.June, 10}, Spans: []Span{{14 * 60, 18 * 60}, {9 * 60, 13 * 60}}}}}
	if got, ok := Compile(typed).Add(at("2026-06-10 09:00"), time.Hour); !ok || !got.Equal(at("2026-06-10 10:00")) {
		t.Errorf("9: 09:00 + 1h on out-of-order special hours = %s, want 10:00", got.In(rome))
	}
	if e := Compile(typed).Elapsed(at("2026-06-10 00:00"), at("2026-06-11 00:00")); e != 8*time.Hour {
		t.Errorf("9: the day holds %s, want 8h", e)
	}
	// 10: Rome, 29 March 2026: 02:30-02:45 falls in the spring gap and
	// moves to 03:30-03:45, inside 03:00-05:00: the day holds 2 h.
	gap := &Calendar{Zone: rome, Overrides: []Override{{Date: Date{2026, time.March, 29}, Spans: []Span{{150, 165}, {180, 300}}}}}
	if e := Compile(gap).Elapsed(at("2026-03-29 00:00"), at("2026-03-30 00:00")); e != 2*time.Hour {
		t.Errorf("10: the spring-forward day holds %s, want 2h", e)
	}
}

// Whatever the order a day's spans are given in, the open time is the
// same (issue 9: merging in typed order lost time).
func TestSpanOrderDoesNotMatter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		zone := mustZone(rapid.SampledFrom([]string{"Europe/Rome", "America/New_York", "Australia/Sydney", "UTC"}).Draw(t, "zone"))
		var spans []Span
		pos := 0
		for range rapid.IntRange(1, 4).Draw(t, "n") {
			if pos >= 1439 {
				break
			}
			a := rapid.IntRange(pos, 1439).Draw(t, "start")
			b := rapid.IntRange(a+1, 1440).Draw(t, "end")
			spans = append(spans, Span{a, b})
			pos = b
		}
		shuffled := rapid.Permutation(spans).Draw(t, "order")
		day := genInstant(t, "day").In(zone)
		d := Date{day.Year(), day.Month(), day.Day()}
		sorted := Compile(&Calendar{Zone: zone, Overrides: []Override{{Date: d, Spans: spans}}})
		typed := Compile(&Calendar{Zone: zone, Overrides: []Override{{Date: d, Spans: shuffled}}})
		from := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, zone).Add(-12 * time.Hour)
		to := from.Add(48 * time.Hour)
		if a, b := sorted.Elapsed(from, to), typed.Elapsed(from, to); a != b {
			t.Fatalf("spans %v hold %s, in the order %v %s", spans, a, shuffled, b)
		}
	})
}

func TestInstantDSTPolicy(t *testing.T) {
	cases := []struct {
		date Date
		min  int
		want string // RFC 3339
	}{
		{Date{2025, 3, 30}, 2*60 + 30, "2025-03-30T03:30:00+02:00"},  // gap: forward by the gap
		{Date{2025, 10, 26}, 2*60 + 30, "2025-10-26T02:30:00+02:00"}, // overlap: the earlier instant
		{Date{2025, 6, 2}, 1440, "2025-06-03T00:00:00+02:00"},
		{Date{2025, 1, 1}, 0, "2025-01-01T00:00:00+01:00"},
	}
	for _, c := range cases {
		got := time.Unix(Instant(rome, c.date, c.min), 0).In(rome).Format(time.RFC3339)
		if got != c.want {
			t.Errorf("%s %s: got %s, want %s", c.date, Clock(c.min), got, c.want)
		}
	}
	// A zone west of UTC with its own rules, to be sure the policy is not Rome's by accident.
	ny := mustZone("America/New_York")
	if got := time.Unix(Instant(ny, Date{2025, 11, 2}, 90), 0).In(ny).Format(time.RFC3339); got != "2025-11-02T01:30:00-04:00" {
		t.Errorf("New York overlap: got %s", got)
	}
	if got := time.Unix(Instant(ny, Date{2025, 3, 9}, 150), 0).In(ny).Format(time.RFC3339); got != "2025-03-09T03:30:00-04:00" {
		t.Errorf("New York gap: got %s", got)
	}
}

func TestSplitShiftsOverridesAndHolidays(t *testing.T) {
	c := &Calendar{Zone: rome, Holidays: ItalianHolidays()}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []Span{{9 * 60, 13 * 60}, {14 * 60, 18 * 60}} // lunch break
	}
	c.Overrides = []Override{
		{Date: Date{2026, 12, 24}, Spans: []Span{{9 * 60, 12 * 60}}}, // Christmas Eve: mornings only
		{Date: Date{2026, 12, 31}},                                   // closed
	}
	s := Compile(c)
	// 12:00 + 2h crosses the lunch break.
	if got, _ := s.Add(at("2026-06-03 12:00"), 2*time.Hour); !got.Equal(at("2026-06-03 15:00")) {
		t.Errorf("lunch break: got %s", got.In(rome))
	}
	// Easter Monday 2026 is 6 April; Friday 3 April 17:00 + 2h → Tuesday 7 April 10:00.
	if got, _ := s.Add(at("2026-04-03 17:00"), 2*time.Hour); !got.Equal(at("2026-04-07 10:00")) {
		t.Errorf("Easter Monday: got %s", got.In(rome))
	}
	// San Francesco is a holiday from 2026 only.
	if s.OpenAt(at("2026-10-05 10:00")) != true || s.OpenAt(at("2027-10-04 10:00")) != false || !s.OpenAt(at("2025-10-03 10:00")) {
		t.Error("4 October must be closed from 2026 on a weekday")
	}
	if s.OpenAt(at("2026-12-24 12:30")) || !s.OpenAt(at("2026-12-24 11:30")) || s.OpenAt(at("2026-12-31 10:00")) {
		t.Error("overrides not applied")
	}
	// 23 Dec 17:00 + 4h: 1h on the 23rd, 3h on the 24th (09–12), then 28th.
	if got, _ := s.Add(at("2026-12-23 17:00"), 4*time.Hour); !got.Equal(at("2026-12-24 12:00")) {
		t.Errorf("Christmas Eve: got %s", got.In(rome))
	}
	if got, _ := s.Add(at("2026-12-23 17:00"), 5*time.Hour); !got.Equal(at("2026-12-28 10:00")) {
		t.Errorf("across Christmas: got %s", got.In(rome))
	}
	// Across the new year, 30 Dec 17:00 + 3h → 2 Jan is a Saturday, so Monday 4 Jan 2027 11:00... 1 Jan is closed.
	if got, _ := s.Add(at("2026-12-30 17:00"), 3*time.Hour); !got.Equal(at("2027-01-04 11:00")) {
		t.Errorf("new year: got %s", got.In(rome))
	}
}

func TestEaster(t *testing.T) {
	for y, want := range map[int]string{2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28", 2038: "2038-04-25"} {
		if got := Easter(y).Format(time.DateOnly); got != want {
			t.Errorf("Easter %d: got %s, want %s", y, got, want)
		}
	}
}

func TestNoOpenTimeGivesNoDeadline(t *testing.T) {
	s := Compile(&Calendar{Zone: rome})
	if _, ok := s.Add(at("2026-01-01 00:00"), time.Hour); ok {
		t.Fatal("an empty calendar must give no deadline")
	}
	if e := s.Elapsed(at("2026-01-01 00:00"), at("2027-01-01 00:00")); e != 0 {
		t.Fatalf("elapsed on an empty calendar = %s", e)
	}
	// Open pause: no deadline either.
	if _, ok := office().AddPaused(at("2026-06-01 09:00"), 8*time.Hour, []Interval{{From: at("2026-06-01 10:00")}}); ok {
		t.Fatal("a clock paused without end has no deadline")
	}
}

func TestCheckSpans(t *testing.T) {
	if p := CheckSpans("monday", []Span{{600, 540}}); p == nil || p.Rule != "interval" {
		t.Errorf("inverted: %v", p)
	}
	if p := CheckSpans("monday", []Span{{540, 780}, {720, 1080}}); p == nil || p.Rule != "overlap" || !strings.Contains(p.Detail, "12:00–18:00") {
		t.Errorf("overlap: %v", p)
	}
	if p := CheckSpans("monday", []Span{{0, 1441}}); p == nil {
		t.Error("past midnight accepted")
	}
	if p := CheckSpans("monday", []Span{{540, 780}, {840, 1080}}); p != nil {
		t.Errorf("valid spans refused: %v", p)
	}
}

func TestParseICS(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260619\r\nSUMMARY:San Gervasio e\r\n  Protasio\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261207\r\nSUMMARY:Sant'Ambrogio (ponte)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	hs, err := ParseICS(strings.NewReader(ics))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Name != "San Gervasio e Protasio" || hs[0].From != 2026 || hs[0].Year != 0 || hs[1].Year != 2026 || hs[1].Day != 7 {
		t.Fatalf("got %+v", hs)
	}
	if d, ok := hs[0].On(2030); !ok || d != (Date{2030, 6, 19}) {
		t.Errorf("yearly rule: %v %v", d, ok)
	}
	if _, ok := hs[1].On(2027); ok {
		t.Error("a single date must not recur")
	}
	if _, err := ParseICS(strings.NewReader("hello")); err == nil {
		t.Error("a file that is not iCalendar must be refused")
	}
}

// genSchedule draws a calendar: random spans on random weekdays in a
// zone with DST, sometimes with holidays and a pause-free 24/7 day.
func genSchedule(t *rapid.T) *Schedule {
	zone := rapid.SampledFrom([]string{"Europe/Rome", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata"}).Draw(t, "zone")
	c := &Calendar{Zone: mustZone(zone)}
	for d := range c.Week {
		n := rapid.IntRange(0, 3).Draw(t, "spans")
		pos := 0
		for range n {
			if pos >= 1439 {
				break
			}
			a := rapid.IntRange(pos, 1439).Draw(t, "start")
			b := rapid.IntRange(a+1, 1440).Draw(t, "end")
			c.Week[d] = append(c.Week[d], Span{a, b})
			pos = b
		}
	}
	if rapid.Bool().Draw(t, "holidays") {
		c.Holidays = ItalianHolidays()
	}
	return Compile(c)
}

func genInstant(t *rapid.T, label string) time.Time {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	return time.Unix(base+rapid.Int64Range(0, 3*365*86400).Draw(t, label), 0).UTC()
}

func TestAddElapsedProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSchedule(t)
		start := genInstant(t, "start")
		d := time.Duration(rapid.Int64Range(0, 60*86400).Draw(t, "d")) * time.Second
		end, ok := s.Add(start, d)
		if !ok {
			if s.Elapsed(start, start.AddDate(Horizon, 0, 0)) >= d && d > 0 {
				t.Fatalf("no deadline although the calendar has %s open within the horizon", d)
			}
			return
		}
		if got := s.Elapsed(start, end); got != d {
			t.Fatalf("elapsed(t, add(t, %s)) = %s", d, got)
		}
		if end.Before(start) {
			t.Fatalf("deadline %s before start %s", end, start)
		}
		// Monotonic in d.
		d2 := d + time.Duration(rapid.Int64Range(0, 86400).Draw(t, "more"))*time.Second
		if end2, ok2 := s.Add(start, d2); ok2 && end2.Before(end) {
			t.Fatalf("add(%s) = %s before add(%s) = %s", d2, end2, d, end)
		}
		// Pauses never shorten a deadline, and the paused deadline is exact.
		p0 := start.Add(time.Duration(rapid.Int64Range(-86400, 10*86400).Draw(t, "pause")) * time.Second)
		p1 := p0.Add(time.Duration(rapid.Int64Range(1, 5*86400).Draw(t, "length")) * time.Second)
		pauses := []Interval{{p0, p1}}
		pend, pok := s.AddPaused(start, d, pauses)
		if pok {
			if pend.Before(end) {
				t.Fatalf("pause shortened the deadline: %s < %s", pend, end)
			}
			if got := s.ElapsedPaused(start, pend, pauses); got != d {
				t.Fatalf("elapsed with pause to the paused deadline = %s, want %s", got, d)
			}
		}
		// Additive: elapsed(a, c) = elapsed(a, b) + elapsed(b, c).
		mid := start.Add(time.Duration(rapid.Int64Range(0, 90*86400).Draw(t, "mid")) * time.Second)
		if end.After(mid) {
			if s.Elapsed(start, end) != s.Elapsed(start, mid)+s.Elapsed(mid, end) {
				t.Fatal("elapsed is not additive")
			}
		}
	})
}

// FuzzSchedule feeds arbitrary spans, instants and durations: no panic, no
// hang, and Add and Elapsed agree whenever there is a deadline.
func FuzzSchedule(f *testing.F) {
	f.Add(int16(540), int16(1080), uint8(31), int64(1748613600), int64(14400), "Europe/Rome")
	f.Add(int16(1320), int16(1440), uint8(127), int64(1743285600), int64(28800), "Europe/Rome")
	f.Add(int16(0), int16(0), uint8(0), int64(0), int64(1), "UTC")
	f.Fuzz(func(t *testing.T, a, b int16, days uint8, start, d int64, zone string) {
		z, err := time.LoadLocation(zone)
		if err != nil {
			return
		}
		c := &Calendar{Zone: z}
		sp := Span{int(a), int(b)}
		if CheckSpans("day", []Span{sp}) != nil {
			return
		}
		for wd := range 7 {
			if days&(1<<wd) != 0 {
				c.Week[wd] = []Span{sp}
			}
		}
		start = start % (200 * 365 * 86400)
		d = d % (400 * 86400)
		s := Compile(c)
		t0 := time.Unix(start, 0)
		end, ok := s.Add(t0, time.Duration(d)*time.Second)
		if ok && d > 0 && s.Elapsed(t0, end) != time.Duration(d)*time.Second {
			t.Fatalf("elapsed(add) mismatch for %+v days %b start %d d %d", sp, days, start, d)
		}
	})
}

// BenchmarkDeadline measures deadline computations on a realistic calendar:
// Europe/Rome, weekdays with a lunch break, Italian holidays, a resolution
// target of 24 business hours with one pause, from starts spread over a
// year (DOMAIN.md §3; goal ≥ 1,000,000/s on one core).
func BenchmarkDeadline(b *testing.B) {
	c := &Calendar{Zone: rome, Holidays: ItalianHolidays()}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []Span{{9 * 60, 13 * 60}, {14 * 60, 18 * 60}}
	}
	c.Week[time.Saturday] = []Span{{9 * 60, 12 * 60}}
	s := Compile(c)
	base := at("2026-01-01 00:00")
	starts := make([]time.Time, 4096)
	for i := range starts {
		starts[i] = base.Add(time.Duration(i*7919) * time.Minute)
	}
	s.Add(base, time.Hour) // compile the years outside the loop
	s.Add(base.AddDate(1, 0, 0), time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := starts[i%len(starts)]
		pause := []Interval{{st.Add(2 * time.Hour), st.Add(5 * time.Hour)}}
		if _, ok := s.AddPaused(st, 24*time.Hour, pause); !ok {
			b.Fatal("no deadline")
		}
	}
}
