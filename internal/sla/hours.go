package sla

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/fault"
)

// ParseHours reads one day's opening hours as people write them:
// "09:00-13:00, 14:00-18:00"; "" or "closed"/"chiuso" for none. A night
// shift is written with the next day marked: "22:00-06:00+1"; its part
// after midnight is returned as spill, for the next day. An interval that
// ends before it starts without the mark is an error.
func ParseHours(field, text string) (today, spill []bizhours.Span, err error) {
	text = strings.TrimSpace(text)
	if text == "" || strings.EqualFold(text, "closed") || strings.EqualFold(text, "chiuso") {
		return nil, nil, nil
	}
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' }) {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			a, b, ok = strings.Cut(strings.TrimSpace(part), "–")
		}
		b, overnight := strings.CutSuffix(strings.TrimSpace(b), "+1")
		start, err1 := parseClock(a)
		end, err2 := parseClock(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, nil, fault.Field(field, "hours", fmt.Sprintf("%q: write intervals as 09:00-13:00, separated by commas", strings.TrimSpace(part)))
		}
		switch {
		case overnight && end > 0 && end <= start:
			today = append(today, bizhours.Span{Start: start, End: 1440})
			spill = append(spill, bizhours.Span{Start: 0, End: end})
		case overnight || end <= start:
			return nil, nil, fault.Field(field, "interval", fmt.Sprintf("%s: an interval must start before it ends (a night shift is written 22:00-06:00+1)", strings.TrimSpace(part)))
		default:
			today = append(today, bizhours.Span{Start: start, End: end})
		}
	}
	return today, spill, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	s = strings.TrimSpace(s)
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) < 4 || len(s) > 5 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// ParseWeek reads the seven days' hours keyed by DayName; overnight
// intervals spill into the next day. Errors name the day; an unknown day
// name is an error too.
func ParseWeek(days map[string]string) ([7][]bizhours.Span, error) {
	var week [7][]bizhours.Span
	var ch fault.Checker
	for day := range days {
		ch.Check(slices.Contains(dayNames[:], day), "week."+day, "enum", "days are monday … sunday")
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		today, spill, err := ParseHours("week."+DayName(d), days[DayName(d)])
		if err != nil {
			var ve *fault.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					ch.Add(p.Field, p.Rule, p.Detail)
				}
			}
			continue
		}
		week[d] = append(week[d], today...)
		next := (d + 1) % 7
		week[next] = append(week[next], spill...)
	}
	for d := range week {
		slices.SortFunc(week[d], func(a, b bizhours.Span) int { return a.Start - b.Start })
	}
	return week, ch.Err()
}

// FormatHours writes a day's spans back as ParseHours reads them.
func FormatHours(spans []bizhours.Span) string {
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = bizhours.Clock(s.Start) + "-" + bizhours.Clock(s.End)
	}
	return strings.Join(parts, ", ")
}
