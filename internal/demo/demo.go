// Package demo fills an empty desk with a believable help desk: three teams,
// eight agents, 300 contacts in 40 organisations and about 1,500 tickets
// over the last 90 days, in Italian and English, with threads, notes, tags,
// priorities and statuses spread the way a real desk has them. Everything
// goes through the ticket service under a moving clock, so the history of
// each ticket is exactly what real use would have recorded.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// Store is what the demo writes through.
type Store interface {
	ticket.Store
	CreateAgent(ctx context.Context, a *agent.Agent) error
	CreateTeam(ctx context.Context, t *team.Team) error
	UpdateTeam(ctx context.Context, t *team.Team, since time.Time) error
	CreateOrganisation(ctx context.Context, o *contact.Organisation) error
	CreateContact(ctx context.Context, c *contact.Contact) error
	CreateFieldDef(ctx context.Context, d *ticket.FieldDef) error
}

// Files is the attachment store (the demo attaches nothing, but the ticket
// service needs one).
type Files = ticket.Files

type noFiles struct{}

func (noFiles) Put(context.Context, []byte) (string, string, error) {
	return "", "", fmt.Errorf("the demo stores no files")
}

// Summary tells what Fill created.
type Summary struct {
	Teams, Agents, Organisations, Contacts, Tickets, Messages int
	AgentPassword                                             string
}

func (s Summary) String() string {
	return fmt.Sprintf("%d teams, %d agents, %d organisations, %d contacts, %d tickets, %d messages; demo agents sign in with password %s",
		s.Teams, s.Agents, s.Organisations, s.Contacts, s.Tickets, s.Messages, s.AgentPassword)
}

type demoAgent struct {
	a    *agent.Agent
	team int // index into teams
}

// Fill creates the demo desk, with now as the present moment.
func Fill(ctx context.Context, st Store, now time.Time, seed uint64) (Summary, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var sum Summary
	now = now.UTC().Truncate(time.Second)
	clock := now.Add(-91 * 24 * time.Hour)
	svc := ticket.NewService(st, noFiles{}, func() time.Time { return clock }, ticket.Options{})

	sum.AgentPassword = auth.RandomSecret(9)
	hash, err := auth.HashPassword(sum.AgentPassword)
	if err != nil {
		return sum, err
	}
	var teams []*team.Team
	for _, t := range teamSpecs {
		tm := &team.Team{Name: t.name, Tier: t.tier, Languages: []string{"it", "en"}, Topics: t.topics, CreatedAt: clock, UpdatedAt: clock}
		if err := st.CreateTeam(ctx, tm); err != nil {
			return sum, fmt.Errorf("team %s: %w", t.name, err)
		}
		teams = append(teams, tm)
	}
	var agents []demoAgent
	for _, s := range agentSpecs {
		a := &agent.Agent{Email: s.email, Name: s.name, Role: s.role, Language: s.lang, Timezone: "Europe/Rome",
			Availability: agent.Online, Active: true, PasswordHash: hash, CreatedAt: clock, UpdatedAt: clock}
		if err := st.CreateAgent(ctx, a); err != nil {
			return sum, fmt.Errorf("agent %s: %w", s.email, err)
		}
		t := teams[s.team]
		t.MemberIDs = append(t.MemberIDs, a.ID)
		a.TeamIDs = []int64{t.ID}
		agents = append(agents, demoAgent{a: a, team: s.team})
	}
	for _, t := range teams {
		if err := st.UpdateTeam(ctx, t, time.Time{}); err != nil {
			return sum, err
		}
	}
	sum.Teams, sum.Agents = len(teams), len(agents)

	for _, f := range fieldSpecs {
		f.CreatedAt, f.UpdatedAt, f.Active = clock, clock, true
		if err := st.CreateFieldDef(ctx, &f); err != nil {
			return sum, err
		}
	}

	var orgs []*contact.Organisation
	for _, o := range orgSpecs {
		org := &contact.Organisation{Name: o.name, Domains: []string{o.domain}, CreatedAt: clock, UpdatedAt: clock}
		if err := st.CreateOrganisation(ctx, org); err != nil {
			return sum, fmt.Errorf("organisation %s: %w", o.name, err)
		}
		orgs = append(orgs, org)
	}
	sum.Organisations = len(orgs)

	type person struct {
		c    *contact.Contact
		lang string
	}
	var people []person
	seen := map[string]bool{}
	for len(people) < 300 {
		english := rng.IntN(100) < 30
		first, last := pick(rng, italianFirst), pick(rng, italianLast)
		lang := "it"
		if english {
			first, last, lang = pick(rng, englishFirst), pick(rng, englishLast), "en"
		}
		local := strings.ToLower(asciiFold(first) + "." + asciiFold(last))
		var domain string
		if rng.IntN(100) < 80 {
			o := orgSpecs[rng.IntN(len(orgSpecs))]
			domain = o.domain
		} else {
			domain = pick(rng, freeMail)
		}
		email := local + "@" + domain
		if seen[email] {
			continue
		}
		seen[email] = true
		c := &contact.Contact{Name: first + " " + last, Emails: []string{email}, Language: lang, CreatedAt: clock, UpdatedAt: clock}
		if rng.IntN(3) == 0 {
			c.Phones = []string{fmt.Sprintf("+39 3%02d %03d %04d", rng.IntN(100), rng.IntN(1000), rng.IntN(10000))}
		}
		if err := c.Validate(); err != nil {
			return sum, err
		}
		if err := st.CreateContact(ctx, c); err != nil {
			return sum, fmt.Errorf("contact %s: %w", email, err)
		}
		people = append(people, person{c, lang})
	}
	sum.Contacts = len(people)

	// Ticket arrival times: ~1,500 over 90 days, busier on weekdays and in
	// office hours, as a real desk sees them.
	start := now.Add(-90 * 24 * time.Hour)
	var arrivals []time.Time
	for t := start; t.Before(now.Add(-30 * time.Minute)); {
		t = t.Add(time.Duration(rng.ExpFloat64() * float64(40*time.Minute)))
		local := t.In(rome)
		wd, h := local.Weekday(), local.Hour()
		weight := 100
		if wd == time.Saturday || wd == time.Sunday {
			weight = 25
		}
		if h < 8 || h >= 19 {
			weight = weight * 30 / 100
		}
		if rng.IntN(100) < weight && t.Before(now.Add(-30*time.Minute)) {
			arrivals = append(arrivals, t)
		}
	}
	for _, at := range arrivals {
		p := people[rng.IntN(len(people))]
		sc := scenarios[rng.IntN(len(scenarios))]
		if err := playTicket(ctx, svc, &clock, rng, at, now, p.c, p.lang, sc, teams, agents, &sum); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

var rome = mustZone("Europe/Rome")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return l
}

func pick[T any](rng *rand.Rand, l []T) T { return l[rng.IntN(len(l))] }

func asciiFold(s string) string {
	return strings.NewReplacer("à", "a", "è", "e", "é", "e", "ì", "i", "ò", "o", "ù", "u", "'", "", " ", "").Replace(s)
}

// playTicket creates one ticket at `at` and plays its life forward up to
// now: first reply, notes, customer answers, status changes, solve, close.
func playTicket(ctx context.Context, svc *ticket.Service, clock *time.Time, rng *rand.Rand, at, now time.Time,
	c *contact.Contact, lang string, sc scenario, teams []*team.Team, agents []demoAgent, sum *Summary) error {
	txt := sc.it
	if lang == "en" {
		txt = sc.en
	}
	name := strings.Fields(c.Name)[0]
	fill := func(s string, number int64, agentName string) string {
		return strings.NewReplacer("{name}", name, "{n}", fmt.Sprint(number), "{agent}", agentName,
			"{order}", fmt.Sprintf("%d-%05d", 2026, rng.IntN(99999))).Replace(s)
	}
	prio := sc.priority
	switch r := rng.IntN(100); {
	case r < 12:
		prio = ticket.PriorityLow
	case r < 40 && prio == ticket.PriorityUrgent:
		prio = ticket.PriorityHigh // not every outage report is one
	case r < 20 && prio < ticket.PriorityHigh:
		prio++
	}
	*clock = at
	teamIdx := sc.team
	var teamID = teams[teamIdx].ID
	ch := pick(rng, []ticket.Channel{ticket.ChannelEmail, ticket.ChannelEmail, ticket.ChannelEmail, ticket.ChannelWeb, ticket.ChannelWeb, ticket.ChannelChat, ticket.ChannelPhone, ticket.ChannelTelegram})
	in := ticket.NewTicket{Subject: fill(txt.subject, 0, ""), BodyText: fill(txt.body, 0, ""), Requester: ticket.Requester{ID: c.ID},
		Channel: ch, Priority: &prio, TeamID: &teamID, Tags: sc.tags, Language: lang}
	if sc.product != "" {
		in.CustomFields = map[string]any{"prodotto": sc.product}
	}
	created, err := svc.Create(ctx, ticket.System, in)
	if err != nil {
		return fmt.Errorf("demo ticket: %w", err)
	}
	sum.Tickets++
	sum.Messages++
	t := created.Ticket
	// Who works it: a member of the team.
	var members []demoAgent
	for _, a := range agents {
		if a.team == teamIdx {
			members = append(members, a)
		}
	}
	ag := members[rng.IntN(len(members))]
	actor := ticket.AgentActor(ag.a)
	age := now.Sub(at)
	step := func(d time.Duration) bool {
		next := clock.Add(d)
		if next.After(now) {
			return false
		}
		*clock = next
		return true
	}
	// Recent tickets stop part-way through their life, so the desk has a
	// live backlog: new, open, pending, like a real queue on a weekday.
	recent := func(within time.Duration, pct int) bool { return age < within && rng.IntN(100) < pct }
	if recent(30*time.Hour, 70) {
		return nil
	}
	firstReply := time.Duration(10+rng.IntN(300)) * time.Minute
	if prio == ticket.PriorityUrgent {
		firstReply = time.Duration(5+rng.IntN(40)) * time.Minute
	}
	if !step(firstReply) {
		return nil
	}
	aid := ag.a.ID
	if _, err := svc.Update(ctx, actor, t.ID, ticket.Patch{AssigneeID: ticket.Ref{Set: true, ID: &aid}}); err != nil {
		return err
	}
	if recent(4*24*time.Hour, 35) {
		return nil
	}
	if sc.escalate && rng.IntN(100) < 70 {
		note := fill(txt.note, t.ID, ag.a.Name)
		if _, err := svc.AddMessage(ctx, actor, t.ID, ticket.NewMessage{Kind: ticket.KindNote, BodyText: note}); err != nil {
			return err
		}
		sum.Messages++
		l2 := teams[1].ID
		if _, err := svc.Update(ctx, actor, t.ID, ticket.Patch{TeamID: ticket.Ref{Set: true, ID: &l2}, AddTags: []string{"escalation"}}); err != nil {
			return err
		}
	}
	status := ticket.StatusPending
	if rng.IntN(100) < 35 {
		status = ticket.StatusSolved
	}
	if _, err := svc.AddMessage(ctx, actor, t.ID, ticket.NewMessage{Kind: ticket.KindReply, BodyText: fill(txt.reply, t.ID, ag.a.Name), Status: &status}); err != nil {
		return err
	}
	sum.Messages++
	if status == ticket.StatusPending {
		if recent(10*24*time.Hour, 55) {
			return nil
		}
		if !step(time.Duration(1+rng.IntN(30)) * time.Hour) {
			return nil
		}
		if _, err := svc.AddMessage(ctx, ticket.System, t.ID, ticket.NewMessage{Kind: ticket.KindCustomer, BodyText: fill(txt.followUp, t.ID, ag.a.Name), Channel: ch}); err != nil {
			return err
		}
		sum.Messages++
		if recent(7*24*time.Hour, 40) {
			return nil
		}
		if !step(time.Duration(20+rng.IntN(240)) * time.Minute) {
			return nil
		}
		solved := ticket.StatusSolved
		if rng.IntN(100) < 4 {
			solved = ticket.StatusOnHold
		}
		if _, err := svc.AddMessage(ctx, actor, t.ID, ticket.NewMessage{Kind: ticket.KindReply, BodyText: fill(txt.close, t.ID, ag.a.Name), Status: &solved}); err != nil {
			return err
		}
		sum.Messages++
		if solved != ticket.StatusSolved {
			return nil
		}
	}
	// A few customers come back after the solve: a reopen.
	if rng.IntN(100) < 8 {
		if !step(time.Duration(2+rng.IntN(48)) * time.Hour) {
			return nil
		}
		if _, err := svc.AddMessage(ctx, ticket.System, t.ID, ticket.NewMessage{Kind: ticket.KindCustomer, BodyText: fill(txt.reopen, t.ID, ""), Channel: ch}); err != nil {
			return err
		}
		sum.Messages++
		if !step(time.Duration(30+rng.IntN(300)) * time.Minute) {
			return nil
		}
		solved := ticket.StatusSolved
		if _, err := svc.AddMessage(ctx, actor, t.ID, ticket.NewMessage{Kind: ticket.KindReply, BodyText: fill(txt.close, t.ID, ag.a.Name), Status: &solved}); err != nil {
			return err
		}
		sum.Messages++
	}
	// Solved tickets close after four days without a reply (DOMAIN.md §2).
	if step(4 * 24 * time.Hour) {
		closed := ticket.StatusClosed
		if _, err := svc.Update(ctx, ticket.System, t.ID, ticket.Patch{Status: &closed}); err != nil {
			return err
		}
	}
	return nil
}
