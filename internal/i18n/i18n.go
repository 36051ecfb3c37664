// Package i18n holds Sportello's message catalogs (Italian and English, both
// complete: a test fails when a key is missing in one) and formats what the
// user reads per locale: messages with plurals, dates in the viewer's time
// zone, and relative times such as "2 ore fa".
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalog/*.json
var catalogs embed.FS

// Languages Sportello speaks, the first being the default.
var Languages = []string{"it", "en"}

// Bundle holds the parsed catalogs; build it once with New.
type Bundle struct {
	b *goi18n.Bundle
}

// New parses the embedded catalogs.
func New() (*Bundle, error) {
	b := goi18n.NewBundle(language.Italian)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range Languages {
		if _, err := b.LoadMessageFileFS(catalogs, "catalog/"+l+".json"); err != nil {
			return nil, fmt.Errorf("loading the %s catalog: %w", l, err)
		}
	}
	return &Bundle{b: b}, nil
}

// Keys lists the message ids of one catalog (for the completeness test).
func Keys(lang string) ([]string, error) {
	raw, err := catalogs.ReadFile("catalog/" + lang + ".json")
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys, nil
}

// Match picks the best supported language for an Accept-Language header.
func Match(accept string) string { return MatchAmong(accept, Languages) }

// MatchAmong picks, of langs (two-letter codes, the first the default),
// the one an Accept-Language header prefers: the help centre's languages
// may be more than the catalogues'.
func MatchAmong(accept string, langs []string) string {
	if len(langs) == 0 {
		return Languages[0]
	}
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil {
		return langs[0]
	}
	for _, t := range tags {
		base, _ := t.Base()
		for _, l := range langs {
			if base.String() == l {
				return l
			}
		}
	}
	return langs[0]
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Printer formats for one language and time zone.
type Printer struct {
	Lang string
	Loc  *time.Location
	l    *goi18n.Localizer
}

// Printer returns a printer for lang in the named IANA zone (UTC if bad).
func (b *Bundle) Printer(lang, zone string) *Printer {
	if !Supported(lang) {
		lang = Languages[0]
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return &Printer{Lang: lang, Loc: loc, l: goi18n.NewLocalizer(b.b, lang)}
}

// T translates id; data is alternating key, value pairs for the template.
// A missing id renders as the id itself so that it is noticed, never blank.
func (p *Printer) T(id string, data ...any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		td := map[string]any{}
		for i := 0; i+1 < len(data); i += 2 {
			k := fmt.Sprint(data[i])
			td[k] = data[i+1]
			if k == "Count" {
				cfg.PluralCount = data[i+1]
			}
		}
		cfg.TemplateData = td
	}
	s, err := p.l.Localize(cfg)
	if err != nil {
		return id
	}
	return s
}

// Date formats an instant as a local date and time for the viewer.
func (p *Printer) Date(t time.Time) string {
	t = t.In(p.Loc)
	if p.Lang == "en" {
		return t.Format("2 Jan 2006, 15:04")
	}
	months := []string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"}
	return fmt.Sprintf("%d %s %d, %s", t.Day(), months[t.Month()-1], t.Year(), t.Format("15:04"))
}

// When writes an instant in words for a customer, in the printer's zone:
// "lunedì 2 giugno alle 11:00", "Monday 2 June at 11:00".
func (p *Printer) When(t time.Time) string {
	t = t.In(p.Loc)
	if p.Lang == "en" {
		return t.Format("Monday 2 January at 15:04")
	}
	days := []string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	months := []string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
	return fmt.Sprintf("%s %d %s alle %s", days[t.Weekday()], t.Day(), months[t.Month()-1], t.Format("15:04"))
}

// Ago says how long before now t was, in words ("2 ore fa", "3 days ago").
func (p *Printer) Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return p.T("time.just_now")
	case d < time.Hour:
		return p.T("time.minutes_ago", "Count", int(d/time.Minute))
	case d < 24*time.Hour:
		return p.T("time.hours_ago", "Count", int(d/time.Hour))
	case d < 60*24*time.Hour:
		return p.T("time.days_ago", "Count", int(d/(24*time.Hour)))
	}
	return p.Date(t)
}

// Span says a length of time compactly: "2 g 4 h", "3 h 20 min", "12 min".
func (p *Printer) Span(d time.Duration) string { return p.span(d, true) }

// Hours says a length of business time without days ("24 h", not "1 g":
// 24 business hours are three working days).
func (p *Printer) Hours(d time.Duration) string { return p.span(d, false) }

func (p *Printer) span(d time.Duration, withDays bool) string {
	if d < 0 {
		d = -d
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	if !withDays {
		days, hours = 0, int(d/time.Hour)
	}
	switch {
	case days > 0 && hours > 0:
		return p.T("dur.days", "Count", days) + " " + p.T("dur.hours", "Count", hours)
	case days > 0:
		return p.T("dur.days", "Count", days)
	case hours > 0 && mins > 0:
		return p.T("dur.hours", "Count", hours) + " " + p.T("dur.minutes", "Count", mins)
	case hours > 0:
		return p.T("dur.hours", "Count", hours)
	}
	if d > 0 {
		mins = max(mins, 1) // under a minute still shows as time passing
	}
	return p.T("dur.minutes", "Count", mins)
}

// Lower is a template helper.
func Lower(s string) string { return strings.ToLower(s) }
