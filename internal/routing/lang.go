// Package routing sends each ticket to the right person at once: it
// detects the language a customer writes in (whatlanggo, restricted to the
// languages the desk serves) and picks the agent of a team who should take
// a new ticket (round-robin or least-loaded, online agents only, under a
// cap of open tickets, by language and topic skills).
//
// Both are pure: the store gathers the candidates under the team's lock,
// so that concurrent tickets never pick past a cap, and Pick decides.
package routing

import (
	"strings"

	"github.com/abadojack/whatlanggo"
)

// byCode maps ISO 639-1 codes to whatlanggo's languages.
var byCode = func() map[string]whatlanggo.Lang {
	m := map[string]whatlanggo.Lang{}
	for i := 0; i < 200; i++ {
		l := whatlanggo.Lang(i)
		if c := l.Iso6391(); c != "" {
			m[c] = l
		}
	}
	return m
}()

// Supported reports whether the detector knows a language code.
func Supported(code string) bool { _, ok := byCode[code]; return ok }

// Detector guesses the language of customers' words among the ones a
// desk serves.
type Detector struct {
	allow map[whatlanggo.Lang]bool
}

// NewDetector detects among codes (Italian and English always).
func NewDetector(codes ...string) *Detector {
	d := &Detector{allow: map[whatlanggo.Lang]bool{whatlanggo.Ita: true, whatlanggo.Eng: true}}
	for _, c := range codes {
		if l, ok := byCode[strings.ToLower(c)]; ok {
			d.allow[l] = true
		}
	}
	return d
}

// Detect returns the ISO 639-1 code of text's language, or "" when the
// text is too short or too mixed to tell reliably.
func (d *Detector) Detect(text string) string {
	text = strings.TrimSpace(text)
	if len([]rune(text)) < 12 {
		return ""
	}
	if len(text) > 4000 {
		text = text[:4000] // the start says it; trigram counting is linear
	}
	info := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: d.allow})
	if !d.allow[info.Lang] || info.Confidence <= 0.02 {
		return ""
	}
	return info.Lang.Iso6391()
}
