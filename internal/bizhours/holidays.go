package bizhours

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// Holiday is a rule that closes a date: a fixed day every year (Month and
// Day), a day relative to Easter Sunday (Easter set, Day is the offset in
// days), or one date (Year set). From and To bound the years in which the
// rule holds (0 = unbounded), so that a set of holidays is data with a
// validity range rather than code.
type Holiday struct {
	Name   string     `json:"name"`
	Year   int        `json:"year,omitempty"` // one date only
	Month  time.Month `json:"month,omitempty"`
	Day    int        `json:"day"`
	Easter bool       `json:"easter,omitempty"`
	From   int        `json:"from,omitempty"`
	To     int        `json:"to,omitempty"`
}

// On returns the date the rule closes in year y, if any.
func (h Holiday) On(y int) (Date, bool) {
	if (h.From != 0 && y < h.From) || (h.To != 0 && y > h.To) || (h.Year != 0 && h.Year != y) {
		return Date{}, false
	}
	if h.Easter {
		e := Easter(y).AddDate(0, 0, h.Day)
		return Date{e.Year(), e.Month(), e.Day()}, true
	}
	t := time.Date(y, h.Month, h.Day, 12, 0, 0, 0, time.UTC)
	if t.Month() != h.Month { // 29 February in a common year
		return Date{}, false
	}
	return Date{y, h.Month, h.Day}, true
}

// Check validates a holiday rule.
func (h Holiday) Check(field string) *Problem {
	switch {
	case strings.TrimSpace(h.Name) == "":
		return &Problem{field + ".name", "required", "a holiday needs a name"}
	case h.Easter && (h.Day < -60 || h.Day > 60):
		return &Problem{field + ".day", "range", "an Easter offset must be within 60 days"}
	case !h.Easter && (h.Month < 1 || h.Month > 12 || h.Day < 1 || h.Day > 31):
		return &Problem{field + ".date", "date", "month must be 1–12 and day 1–31"}
	case h.From != 0 && h.To != 0 && h.To < h.From:
		return &Problem{field + ".to", "range", "the last year comes before the first"}
	}
	if h.Year != 0 {
		if _, ok := h.On(h.Year); !ok {
			return &Problem{field + ".date", "date", "no such date"}
		}
	}
	return nil
}

func (c *Calendar) holidaysIn(y int) map[Date]bool {
	out := map[Date]bool{}
	for _, h := range c.Holidays {
		if d, ok := h.On(y); ok {
			out[d] = true
		}
	}
	return out
}

// Easter returns Easter Sunday of year y (Gregorian; the anonymous
// algorithm published by Nature in 1876), at noon UTC.
func Easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 12, 0, 0, 0, time.UTC)
}

// ItalianHolidays is the preset of Italian national holidays (DOMAIN.md
// §3), including Easter Monday and San Francesco from 2026 (law
// 151/2025). The local patron saint is added by the desk.
func ItalianHolidays() []Holiday {
	return []Holiday{
		{Name: "Capodanno", Month: 1, Day: 1},
		{Name: "Epifania", Month: 1, Day: 6},
		{Name: "Lunedì dell'Angelo", Easter: true, Day: 1},
		{Name: "Festa della Liberazione", Month: 4, Day: 25},
		{Name: "Festa del Lavoro", Month: 5, Day: 1},
		{Name: "Festa della Repubblica", Month: 6, Day: 2},
		{Name: "Ferragosto", Month: 8, Day: 15},
		{Name: "San Francesco d'Assisi", Month: 10, Day: 4, From: 2026},
		{Name: "Ognissanti", Month: 11, Day: 1},
		{Name: "Immacolata Concezione", Month: 12, Day: 8},
		{Name: "Natale", Month: 12, Day: 25},
		{Name: "Santo Stefano", Month: 12, Day: 26},
	}
}

// ParseICS reads holidays from an iCalendar file (RFC 5545): every VEVENT
// with an all-day DTSTART becomes a holiday named by its SUMMARY; one with
// RRULE FREQ=YEARLY recurs every year from its start (until UNTIL, when
// given). Other components and properties are ignored.
func ParseICS(r io.Reader) ([]Holiday, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += l[1:] // unfold (RFC 5545 §3.1)
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading calendar file: %w", err)
	}
	var out []Holiday
	var ev map[string]string
	sawCalendar := false
	for n, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		prop, _, _ := strings.Cut(name, ";")
		prop = strings.ToUpper(prop)
		switch {
		case prop == "BEGIN" && strings.EqualFold(value, "VCALENDAR"):
			sawCalendar = true
		case prop == "BEGIN" && strings.EqualFold(value, "VEVENT"):
			ev = map[string]string{}
		case prop == "END" && strings.EqualFold(value, "VEVENT") && ev != nil:
			h, err := icsHoliday(ev)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			out = append(out, h)
			ev = nil
		case ev != nil:
			ev[prop] = value
		}
	}
	if !sawCalendar {
		return nil, fmt.Errorf("not an iCalendar file: no BEGIN:VCALENDAR")
	}
	return out, nil
}

func icsHoliday(ev map[string]string) (Holiday, error) {
	start := ev["DTSTART"]
	if len(start) < 8 {
		return Holiday{}, fmt.Errorf("event without an all-day DTSTART")
	}
	t, err := time.Parse("20060102", start[:8])
	if err != nil {
		return Holiday{}, fmt.Errorf("DTSTART %q is not a date", start)
	}
	summary := strings.NewReplacer(`\,`, ",", `\;`, ";", `\n`, " ", `\\`, `\`).Replace(ev["SUMMARY"])
	h := Holiday{Name: strings.TrimSpace(summary), Month: t.Month(), Day: t.Day(), Year: t.Year()}
	if h.Name == "" {
		h.Name = t.Format(time.DateOnly)
	}
	if rule := strings.ToUpper(ev["RRULE"]); strings.Contains(rule, "FREQ=YEARLY") {
		h.Year, h.From = 0, t.Year()
		for _, part := range strings.Split(rule, ";") {
			if v, ok := strings.CutPrefix(part, "UNTIL="); ok && len(v) >= 4 {
				fmt.Sscanf(v[:4], "%d", &h.To)
			}
		}
	}
	return h, nil
}
