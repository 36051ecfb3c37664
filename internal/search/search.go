// Package search turns text into the terms Sportello indexes and queries,
// the same way on SQLite (FTS5) and PostgreSQL (tsvector): words are cut at
// anything that is not a letter or digit, lower-cased, common Italian and
// English words dropped, and each word indexed under its Italian and its
// English Snowball stem, so that "stampanti" finds "stampante" and
// "invoices" finds "invoice" whichever language the customer wrote in.
// Accents are folded after stemming, so "perche" finds "perché".
//
// Stemming happens here, in Go, for both engines: the databases index
// ready-made terms, so a query matches the same tickets on either one, and
// Highlight marks exactly the words that matched.
package search

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/italian"
	"golang.org/x/text/unicode/norm"
)

// MaxWordBytes skips longer "words" (hashes, base64, URLs run together):
// nobody searches for them and they bloat the index.
const MaxWordBytes = 40

// MaxQueryWords bounds a query; further words are ignored.
const MaxQueryWords = 12

// stopwords are too common in Italian and English to help find a ticket.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a ad al alla alle allo ai agli da dal dalla dalle dai dagli di del della
delle dei degli dello e ed è i il in la le lo gli l un una uno per con su sul sulla tra fra che chi non
ma o se si ci ne mi ti vi ho ha hai sono sei siamo come anche più
the an and or of to in on at for with by from is are was were be been it its this that these those
i you he she we they me my your our their as not but if so do does did have has had`) {
		m[w] = true
	}
	return m
}()

// word is one word of a text and where it sits (byte offsets).
type word struct {
	text       string
	start, end int
}

// words cuts text into lower-cased words of letters and digits.
func words(text string) []word {
	var out []word
	start := -1
	for i, r := range text {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		switch {
		case alnum && start < 0:
			start = i
		case !alnum && start >= 0:
			out = append(out, word{strings.ToLower(text[start:i]), start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, word{strings.ToLower(text[start:]), start, len(text)})
	}
	return out
}

// fold removes diacritics: "perché" → "perche".
func fold(s string) string {
	if isASCII(s) {
		return s
	}
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// termsOf appends the index terms of one lower-cased word to dst: nothing
// for stopwords and overlong words, the number itself for numbers, else the
// folded Italian and English stems (and those of the folded word, so that a
// query typed without accents meets a text written with them).
func termsOf(dst []string, w string) []string {
	if len(w) > MaxWordBytes || stopwords[w] {
		return dst
	}
	if isDigits(w) || len(w) == 1 {
		if len(w) == 1 && !isDigits(w) {
			return dst
		}
		return append(dst, w)
	}
	n := len(dst)
	add := func(t string) {
		t = fold(t)
		if t == "" {
			return
		}
		for _, have := range dst[n:] {
			if have == t {
				return
			}
		}
		dst = append(dst, t)
	}
	variants := []string{w}
	if f := fold(w); f != w {
		variants = append(variants, f)
	}
	for _, v := range variants {
		env := snowball.NewEnv(v)
		italian.Stem(env)
		add(env.Current())
		env = snowball.NewEnv(v)
		english.Stem(env)
		add(env.Current())
	}
	return dst
}

// Terms lists the index terms of a text, in order (a word may give two).
func Terms(text string) []string {
	var out []string
	for _, w := range words(text) {
		out = termsOf(out, w.text)
	}
	return out
}

// IndexText is Terms joined by spaces: the document both engines index.
func IndexText(text string) string { return strings.Join(Terms(text), " ") }

// Indexer is IndexText with a memory of the words it has stemmed, for
// indexing many documents in a row (the memory is bounded). Not safe for
// concurrent use.
type Indexer struct{ memo map[string][]string }

// IndexText returns the same as the package's IndexText.
func (ix *Indexer) IndexText(text string) string {
	if ix.memo == nil || len(ix.memo) > 200_000 {
		ix.memo = map[string][]string{}
	}
	var b strings.Builder
	for _, w := range words(text) {
		ts, ok := ix.memo[w.text]
		if !ok {
			ts = termsOf(nil, w.text)
			ix.memo[w.text] = ts
		}
		for _, t := range ts {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

// Query is a parsed search: every word must match, through any of its terms.
type Query struct {
	Raw   string
	Words [][]string // per query word, its alternative terms
	// Any makes one word enough (suggestions while a customer writes a
	// sentence); by default every word must match.
	Any bool
}

// ParseAny reads a query of which any word may match.
func ParseAny(raw string) Query {
	q := Parse(raw)
	q.Any = true
	return q
}

// Parse reads what an agent typed into a query. Words that give no term
// (stopwords, punctuation) are dropped; an all-stopword query is Empty.
func Parse(raw string) Query {
	q := Query{Raw: strings.TrimSpace(raw)}
	seen := map[string]bool{}
	for _, w := range words(q.Raw) {
		if len(q.Words) == MaxQueryWords {
			break
		}
		ts := termsOf(nil, w.text)
		if len(ts) == 0 || seen[strings.Join(ts, " ")] {
			continue
		}
		seen[strings.Join(ts, " ")] = true
		q.Words = append(q.Words, ts)
	}
	return q
}

// Empty reports whether the query has nothing to match.
func (q Query) Empty() bool { return len(q.Words) == 0 }

// FTS5 is the query in SQLite FTS5 syntax: ("a" OR "b") AND ("c").
// Terms hold only letters and digits, so quoting them is safe.
func (q Query) FTS5() string {
	parts := make([]string, len(q.Words))
	for i, alts := range q.Words {
		quoted := make([]string, len(alts))
		for j, t := range alts {
			quoted[j] = `"` + t + `"`
		}
		parts[i] = "(" + strings.Join(quoted, " OR ") + ")"
	}
	if q.Any {
		return strings.Join(parts, " OR ")
	}
	return strings.Join(parts, " AND ")
}

// TSQuery is the query in PostgreSQL to_tsquery syntax: ('a' | 'b') & 'c'.
func (q Query) TSQuery() string {
	parts := make([]string, len(q.Words))
	for i, alts := range q.Words {
		quoted := make([]string, len(alts))
		for j, t := range alts {
			quoted[j] = "'" + t + "'"
		}
		parts[i] = "(" + strings.Join(quoted, " | ") + ")"
	}
	if q.Any {
		return strings.Join(parts, " | ")
	}
	return strings.Join(parts, " & ")
}

// set is every term of the query, for highlighting.
func (q Query) set() map[string]bool {
	m := map[string]bool{}
	for _, alts := range q.Words {
		for _, t := range alts {
			m[t] = true
		}
	}
	return m
}

// Fragment is a piece of highlighted text; Mark pieces matched the query.
type Fragment struct {
	Text string
	Mark bool
}

// Score counts the query's words that text holds (in any of their stems):
// the relevance of a subject.
func (q Query) Score(text string) int {
	have := map[string]bool{}
	for _, w := range words(text) {
		for _, t := range termsOf(nil, w.text) {
			have[t] = true
		}
	}
	n := 0
	for _, alts := range q.Words {
		if slices.ContainsFunc(alts, func(t string) bool { return have[t] }) {
			n++
		}
	}
	return n
}

// Matches reports whether any word of text matches the query.
func (q Query) Matches(text string) bool {
	terms := q.set()
	for _, w := range words(text) {
		for _, t := range termsOf(nil, w.text) {
			if terms[t] {
				return true
			}
		}
	}
	return false
}

// Highlight returns text cut into fragments with the matching words
// marked. With width > 0 it returns a snippet of about width bytes around
// the first match (or the start of the text), cut at word boundaries, with
// "…" where text was left out.
func Highlight(text string, q Query, width int) []Fragment {
	terms := q.set()
	ws := words(text)
	var marks []word
	for _, w := range ws {
		for _, t := range termsOf(nil, w.text) {
			if terms[t] {
				marks = append(marks, w)
				break
			}
		}
	}
	from, to := 0, len(text)
	if width > 0 && len(text) > width {
		center := 0
		if len(marks) > 0 {
			center = marks[0].start
		}
		from = max(0, center-width/3)
		to = min(len(text), from+width)
		from = max(0, to-width)
		// Move the cuts to word boundaries.
		for _, w := range ws {
			if w.start < from && w.end > from {
				from = w.end
			}
			if w.start < to && w.end > to {
				to = w.start
			}
		}
	}
	var out []Fragment
	if from > 0 {
		out = append(out, Fragment{Text: "…"})
	}
	pos := from
	for _, m := range marks {
		if m.start < from || m.end > to {
			continue
		}
		if m.start > pos {
			out = append(out, Fragment{Text: text[pos:m.start]})
		}
		out = append(out, Fragment{Text: text[m.start:m.end], Mark: true})
		pos = m.end
	}
	if pos < to {
		out = append(out, Fragment{Text: text[pos:to]})
	}
	if to < len(text) {
		out = append(out, Fragment{Text: "…"})
	}
	return out
}

// Fold removes diacritics ("Niccolò" → "Niccolo"), for matching names
// typed without accents.
func Fold(s string) string { return fold(s) }
