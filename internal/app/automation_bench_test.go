package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// BenchmarkCreateTicketRules: tickets created through the ticket service
// with no rules, and with 200 active rules listening for new tickets (one
// in ten matches and tags the ticket), into a round-robin team of 10
// online agents (each creation is also an assignment decision under the
// team's lock).
func BenchmarkCreateTicketRules(b *testing.B) {
	for _, n := range []int{0, 200} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			benchEngines(b, func(b *testing.B, db testdb.DB) {
				d := benchDesk(b, db)
				ctx := context.Background()
				now := time.Now().UTC()
				var ids []int64
				for i := 0; i < 10; i++ {
					a := &agent.Agent{Email: fmt.Sprintf("b%d@example.com", i), Name: "Agente", Role: agent.RoleAgent, Language: "it",
						Timezone: "Europe/Rome", Availability: agent.Online, Active: true, CreatedAt: now, UpdatedAt: now}
					if err := d.Store.CreateAgent(ctx, a); err != nil {
						b.Fatal(err)
					}
					ids = append(ids, a.ID)
				}
				tm := &team.Team{Name: "Bench", Tier: 1, MemberIDs: ids, AssignMode: "round_robin", CreatedAt: now, UpdatedAt: now}
				if err := d.Store.CreateTeam(ctx, tm); err != nil {
					b.Fatal(err)
				}
				auto := d.Automation()
				for i := 0; i < n; i++ {
					word := fmt.Sprintf("parola%d", i)
					if i%10 == 0 {
						word = "ordine"
					}
					r := &automation.Rule{Name: fmt.Sprintf("Regola %d", i), Active: true, Events: []automation.Event{automation.TicketCreated},
						Conditions: []automation.Condition{{Field: "subject", Op: "contains", Values: []string{word}}, {Field: "channel", Op: "in", Values: []string{"email", "web"}},
							{Field: "message", Op: "matches", Value: `ordine\s+\d{4}`}},
						Actions: []automation.Action{{Type: "add_tags", Values: []string{fmt.Sprintf("r%d", i%20)}}}}
					if err := auto.SaveRule(ctx, r, time.Time{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					_, err := d.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: "Ordine 4411 non arrivato", BodyText: "Buongiorno, l'ordine 4411 non è ancora arrivato.",
						Requester: ticket.Requester{Email: fmt.Sprintf("c%d@example.com", i%500)}, Channel: ticket.ChannelEmail, TeamID: &tm.ID})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
			})
		})
	}
}
