package i18n

import (
	"slices"
	"testing"
	"time"
)

// Both catalogs hold exactly the same keys.
func TestCatalogsComplete(t *testing.T) {
	it, err := Keys("it")
	if err != nil {
		t.Fatal(err)
	}
	en, err := Keys("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range it {
		if !slices.Contains(en, k) {
			t.Errorf("%q is in it.json but missing from en.json", k)
		}
	}
	for _, k := range en {
		if !slices.Contains(it, k) {
			t.Errorf("%q is in en.json but missing from it.json", k)
		}
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		p := b.Printer(lang, "Europe/Rome")
		for _, k := range it {
			if got := p.T(k, "Count", 2, "Name", "X", "Role", "Y", "ID", "Z"); got == k || got == "" {
				t.Errorf("%s: %q does not render", lang, k)
			}
		}
	}
}

func TestFormatting(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	it, en := b.Printer("it", "Europe/Rome"), b.Printer("en", "Europe/London")
	cases := []struct{ got, want string }{
		{it.Ago(now.Add(-2*time.Hour), now), "2 ore fa"},
		{it.Ago(now.Add(-1*time.Hour), now), "1 ora fa"},
		{en.Ago(now.Add(-3*24*time.Hour), now), "3 days ago"},
		{en.Ago(now.Add(-time.Minute), now), "1 minute ago"},
		{it.Date(now), "29 mar 2026, 14:00"}, // CEST began that morning
		{en.Date(now), "29 Mar 2026, 13:00"}, // BST too
		{b.Printer("de", "Nowhere/City").T("login.title"), "Accedi"},
		{it.Span(0), "0 min"},
		{it.Span(20 * time.Second), "1 min"},
		{it.Span(time.Minute), "1 min"},
		{it.Span(25 * time.Hour), "1 g 1 h"},
		{en.Span(2*time.Hour + 5*time.Minute), "2 h 5 min"},
		{en.Span(-49 * time.Hour), "2 d 1 h"},
		{it.Hours(24*time.Hour + 30*time.Minute), "24 h 30 min"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
	if Match("en-GB,en;q=0.9,it;q=0.5") != "en" || Match("fr-FR") != "it" || Match("it-CH") != "it" {
		t.Error("Accept-Language matching")
	}
}
