package routing

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Pick, as a property over any team: never someone offline or at the cap,
// a speaker of the ticket's language when the team has one, and — giving
// tickets one after another — counts within one of each other.
func TestPickProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(rt, "agents")
		mode := rapid.SampledFrom([]string{RoundRobin, LeastLoaded}).Draw(rt, "mode")
		limit := rapid.IntRange(0, 5).Draw(rt, "cap")
		cands := make([]Candidate, n)
		for i := range cands {
			cands[i] = Candidate{AgentID: int64(i + 1), Online: rapid.Bool().Draw(rt, "online"),
				Languages: []string{rapid.SampledFrom([]string{"it", "en"}).Draw(rt, "lang")}}
		}
		lang := rapid.SampledFrom([]string{"", "it", "en", "de"}).Draw(rt, "ticket")
		speakers := slices.ContainsFunc(cands, func(c Candidate) bool { return lang != "" && c.Speaks(lang) })
		clock := int64(0)
		for k := 0; k < 30; k++ {
			id, ok := Pick(mode, limit, Need{Language: lang}, cands)
			if !ok {
				for _, c := range cands {
					if c.Online && (limit == 0 || c.Open < limit) && (!speakers || c.Speaks(lang)) {
						rt.Fatalf("nobody picked though agent %d could take it", c.AgentID)
					}
				}
				break
			}
			c := &cands[id-1]
			if !c.Online || (limit > 0 && c.Open >= limit) || (speakers && !c.Speaks(lang)) {
				rt.Fatalf("picked %+v (cap %d, language %q)", *c, limit, lang)
			}
			clock++
			c.Open, c.LastAssigned = c.Open+1, clock
		}
		lo, hi := 1<<30, 0
		for _, c := range cands {
			if c.Online && (!speakers || c.Speaks(lang)) {
				lo, hi = min(lo, c.Open), max(hi, c.Open)
			}
		}
		if hi > 0 && hi-lo > 1 {
			rt.Fatalf("unfair counts: %+v", cands)
		}
	})
}

// Topics are preferred, not required.
func TestPickPrefersTopics(t *testing.T) {
	cands := []Candidate{{AgentID: 1, Online: true, Languages: []string{"it"}}, {AgentID: 2, Online: true, Languages: []string{"it"}, Topics: []string{"fatture"}}}
	if id, _ := Pick(RoundRobin, 0, Need{Language: "it", Tags: []string{"fatture"}}, cands); id != 2 {
		t.Errorf("picked %d, want the agent who knows invoices", id)
	}
	if id, _ := Pick(RoundRobin, 0, Need{Language: "it", Tags: []string{"resi"}}, cands); id != 1 {
		t.Errorf("picked %d, want the first in turn", id)
	}
	if _, ok := Pick(Manual, 0, Need{}, cands); ok {
		t.Error("manual teams pick nobody")
	}
}

// The detector tells Italian from English in customers' words.
func TestDetect(t *testing.T) {
	d := NewDetector("it", "en")
	for text, want := range map[string]string{
		"Buongiorno, non riesco ad accedere al mio account da ieri sera, potete aiutarmi?": "it",
		"Hello, I cannot log in to my account since yesterday, can you help?":              "en",
		"Fattura sbagliata": "it",
		"ciao":              "",
		"Il pacco doveva arrivare lunedì ma non è arrivato":                          "it",
		"Ordine 4411 non arrivato\nBuongiorno, l'ordine 4411 non è ancora arrivato.": "it",
		"Thank you, the parcel arrived this morning":                                 "en",
	} {
		if got := d.Detect(text); got != want {
			t.Errorf("Detect(%q) = %q, want %q", text, got, want)
		}
	}
}

// BenchmarkPick: one assignment decision among 20 members.
func BenchmarkPick(b *testing.B) {
	cands := make([]Candidate, 20)
	for i := range cands {
		cands[i] = Candidate{AgentID: int64(i + 1), Online: i%3 != 0, Open: i % 4, LastAssigned: int64(i * 7 % 13), Languages: []string{[]string{"it", "en"}[i%2]}, Topics: []string{"resi"}}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		id, _ := Pick(RoundRobin, 5, Need{Language: "it", Tags: []string{"resi"}}, cands)
		cands[id-1].LastAssigned = int64(100 + i)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
