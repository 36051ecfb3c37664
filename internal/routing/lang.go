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
	"sync/atomic"
	"unicode"

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
// desk serves. The languages can change while it is used (an admin adds
// one to the help centre): SetLanguages swaps the set atomically.
type Detector struct {
	allow atomic.Pointer[map[whatlanggo.Lang]bool]
}

// NewDetector detects among codes (Italian and English always).
func NewDetector(codes ...string) *Detector {
	d := &Detector{}
	d.SetLanguages(codes...)
	return d
}

// SetLanguages makes the detector choose among codes (Italian and English
// always); codes whatlanggo does not know are ignored.
func (d *Detector) SetLanguages(codes ...string) {
	allow := map[whatlanggo.Lang]bool{whatlanggo.Ita: true, whatlanggo.Eng: true}
	for _, c := range codes {
		if l, ok := byCode[strings.ToLower(c)]; ok {
			allow[l] = true
		}
	}
	d.allow.Store(&allow)
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
	// whatlanggo's trigrams misjudge short Italian mails ("Buongiorno,
	// l'ordine 4411 non è ancora arrivato." comes out English with 0.6
	// confidence): the function words of the two languages the desk
	// always serves decide first when they clearly disagree.
	if l := byFunctionWords(text); l != "" {
		return l
	}
	allow := *d.allow.Load()
	info := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: allow})
	if !allow[info.Lang] || info.Confidence <= 0.02 {
		return ""
	}
	return info.Lang.Iso6391()
}

var functionWords = map[string]map[string]bool{
	"it": set("il", "lo", "la", "i", "gli", "le", "un", "una", "di", "da", "che", "non", "è", "e", "per", "con", "sono", "ho", "mio", "mia",
		"ancora", "buongiorno", "buonasera", "grazie", "salve", "ciao", "del", "della", "al", "alla", "nel", "come", "ma", "anche", "mi", "si", "potete", "vorrei"),
	"en": set("the", "a", "an", "and", "is", "are", "not", "my", "i", "you", "to", "of", "have", "has", "please", "thanks", "thank", "hello",
		"hi", "with", "for", "on", "in", "it", "this", "that", "can", "cannot", "was", "be", "since", "would", "could", "your"),
}

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// byFunctionWords counts Italian and English function words; it answers
// when there are at least three and one language has at least twice the
// other's, and "" otherwise.
func byFunctionWords(text string) string {
	it, en := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r)
	}) {
		if functionWords["it"][w] {
			it++
		}
		if functionWords["en"][w] {
			en++
		}
	}
	switch {
	case it+en < 3:
		return ""
	case it >= 2*en && it > en:
		return "it"
	case en >= 2*it && en > it:
		return "en"
	}
	return ""
}
