package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func TestStemsFindOtherForms(t *testing.T) {
	cases := []struct {
		query, text string
		match       bool
	}{
		{"stampanti", "La stampante non stampa più", true},
		{"fatture", "Vi chiedo la fattura di marzo", true},
		{"invoices", "I need my invoice for March", true},
		{"charged", "You are charging me twice", true},
		{"perche", "Non capisco perché", true},
		{"perché", "non capisco perche", true},
		{"Città", "la citta di Roma", true},
		{"12345", "ordine n. 12345 non arrivato", true},
		{"1234", "ordine n. 12345 non arrivato", false},
		{"mario.rossi@example.it", "scrive Mario Rossi da example.it", true},
		{"stampante", "Il router non si accende", false},
	}
	for _, c := range cases {
		if got := Parse(c.query).Matches(c.text); got != c.match {
			t.Errorf("Parse(%q).Matches(%q) = %v, want %v (query terms %v, text terms %v)", c.query, c.text, got, c.match, Parse(c.query).Words, Terms(c.text))
		}
	}
}

func TestStopwordsAndNoise(t *testing.T) {
	if q := Parse("il la the and di ..."); !q.Empty() {
		t.Fatalf("stopwords gave terms %v", q.Words)
	}
	if got := Terms(strings.Repeat("x", MaxWordBytes+1) + " ok"); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("overlong word kept: %v", got)
	}
	if got := len(Parse("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14").Words); got != MaxQueryWords {
		t.Fatalf("query kept %d words, want %d", got, MaxQueryWords)
	}
}

func TestQuerySyntax(t *testing.T) {
	q := Parse("Stampanti rotte")
	if got := q.FTS5(); got != `("stampant" OR "stampanti") AND ("rott")` {
		t.Fatalf("FTS5 = %s", got)
	}
	for _, part := range []string{"'stampant'", " | ", " & "} {
		if !strings.Contains(q.TSQuery(), part) {
			t.Fatalf("TSQuery %q lacks %q", q.TSQuery(), part)
		}
	}
	if strings.Count(q.FTS5(), "(") != 2 {
		t.Fatalf("FTS5 groups: %s", q.FTS5())
	}
}

func TestHighlight(t *testing.T) {
	q := Parse("fattura")
	frs := Highlight("Buongiorno, la Fattura di marzo è sbagliata. Le fatture di aprile no.", q, 0)
	var marked []string
	var whole strings.Builder
	for _, f := range frs {
		whole.WriteString(f.Text)
		if f.Mark {
			marked = append(marked, f.Text)
		}
	}
	if !slices.Equal(marked, []string{"Fattura", "fatture"}) {
		t.Fatalf("marked %v", marked)
	}
	if whole.String() != "Buongiorno, la Fattura di marzo è sbagliata. Le fatture di aprile no." {
		t.Fatalf("text changed: %q", whole.String())
	}
	long := strings.Repeat("parole inutili ", 40) + "qui c'è la fattura cercata " + strings.Repeat("altre parole ", 40)
	snip := Highlight(long, q, 80)
	if snip[0].Text != "…" || snip[len(snip)-1].Text != "…" {
		t.Fatalf("snippet not cut on both sides: %q…%q", snip[0].Text, snip[len(snip)-1].Text)
	}
	if !slices.ContainsFunc(snip, func(f Fragment) bool { return f.Mark && f.Text == "fattura" }) {
		t.Fatalf("snippet lost the match: %v", snip)
	}
}

// Every word of a text, searched for alone, finds the text and is marked.
func TestPropertyEveryWordFindsItsText(t *testing.T) {
	vocab := []string{"stampante", "fattura", "perché", "città", "invoice", "charged", "connessione", "ordine", "12345", "Rossi", "ÉCOLE", "naïve"}
	rapid.Check(t, func(t *rapid.T) {
		ws := rapid.SliceOfN(rapid.SampledFrom(vocab), 1, 8).Draw(t, "words")
		text := strings.Join(ws, " ")
		w := rapid.SampledFrom(ws).Draw(t, "query")
		q := Parse(w)
		if q.Empty() {
			return
		}
		if !q.Matches(text) {
			t.Fatalf("%q does not find %q", w, text)
		}
		marked := false
		for _, f := range Highlight(text, q, 0) {
			marked = marked || f.Mark
		}
		if !marked {
			t.Fatalf("%q found %q but marked nothing", w, text)
		}
	})
}

func FuzzHighlight(f *testing.F) {
	for _, s := range []string{"La stampante è rotta", "perché? perche!", "a\u0301b c\u0300", "ñ", ""} {
		f.Add(s, "stampante perche")
	}
	f.Fuzz(func(t *testing.T, text, query string) {
		q := Parse(query)
		_ = q.FTS5()
		_ = q.TSQuery()
		var whole strings.Builder
		for _, fr := range Highlight(text, q, 0) {
			whole.WriteString(fr.Text)
		}
		if whole.String() != text {
			t.Fatalf("highlight changed the text: %q → %q", text, whole.String())
		}
		for _, fr := range Highlight(text, q, 60) {
			if utf8.ValidString(text) && !utf8.ValidString(fr.Text) {
				t.Fatalf("snippet cut a character: %q", fr.Text)
			}
		}
		for _, term := range Terms(text) {
			if strings.ContainsAny(term, `"' `) {
				t.Fatalf("term %q would break the query syntax", term)
			}
		}
	})
}

func TestIndexerMatchesIndexText(t *testing.T) {
	var ix Indexer
	for _, s := range []string{"La stampante è rotta, perché?", "Invoices charged twice", "", "l'ordine 12345 è in città"} {
		if got, want := ix.IndexText(s), IndexText(s); got != want {
			t.Fatalf("Indexer %q, IndexText %q", got, want)
		}
	}
}

func TestScoreCountsSubjectWords(t *testing.T) {
	q := Parse("stampanti fattura")
	for text, want := range map[string]int{
		"La stampante non stampa la fattura": 2,
		"Stampanti in ufficio":               1,
		"Ordine non arrivato":                0,
		"Invoice and printer":                0,
	} {
		if got := q.Score(text); got != want {
			t.Errorf("Score(%q) = %d, want %d", text, got, want)
		}
	}
}
