package automation

import (
	"fmt"
	"testing"

	"github.com/sportello/sportello/internal/ticket"
)

// rules200 builds 200 active rules of the shapes desks write: subject
// keywords, channel and priority tests, a pattern, tags, custom fields;
// one in ten matches the benchmark's ticket.
func rules200() []Rule {
	var out []Rule
	for i := 0; i < 200; i++ {
		r := Rule{ID: int64(i + 1), Name: fmt.Sprintf("Regola %d", i), Active: true, Events: []Event{TicketCreated}, Match: "all",
			Actions: []Action{{Type: ActAddTags, Values: []string{"r"}}}}
		word := fmt.Sprintf("parola%d", i)
		if i%10 == 0 {
			word = "ordine"
		}
		r.Conditions = []Condition{
			{Field: "subject", Op: OpContains, Values: []string{word, "urgente"}},
			{Field: "channel", Op: OpIn, Values: []string{"email", "web"}},
			{Field: "priority", Op: OpLt, Value: "urgent"},
		}
		if i%4 == 0 {
			r.Conditions = append(r.Conditions, Condition{Field: "message", Op: OpMatches, Value: `ordine\s+\d{4}`})
		}
		if i%5 == 0 {
			r.Match = "any"
			r.Conditions = append(r.Conditions, Condition{Field: "tags", Op: OpContains, Values: []string{"vip"}}, Condition{Field: "custom_fields.contratto", Op: OpIs, Value: "gold"})
		}
		r.Compile()
		out = append(out, r)
	}
	return out
}

// BenchmarkEvaluate200Rules: one event (a new email ticket) tested
// against 200 active rules, as every ticket change does.
func BenchmarkEvaluate200Rules(b *testing.B) {
	rs := rules200()
	t := &ticket.Ticket{ID: 4411, Subject: "Ordine 4411 non arrivato", Status: ticket.StatusNew, Priority: ticket.PriorityNormal,
		Channel: ticket.ChannelEmail, Language: "it", Tags: []string{"spedizione"}, CustomFields: ticket.Fields{"contratto": "silver"}}
	f := Facts{Event: TicketCreated, Ticket: t, Message: &ticket.Message{BodyText: "Buongiorno, l'ordine 4411 non è ancora arrivato e il corriere non risponde."}}
	b.ReportAllocs()
	b.ResetTimer()
	fired := 0
	for i := 0; i < b.N; i++ {
		for j := range rs {
			if ok, _ := rs[j].Evaluate(f); ok {
				fired++
			}
		}
	}
	b.ReportMetric(float64(b.N*len(rs))/b.Elapsed().Seconds(), "rules/s")
	if fired == 0 {
		b.Fatal("no rule matched")
	}
}
