package app_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/testdb"
)

var linkIn = regexp.MustCompile(`https?://[^\s"<>]+/(closure|rate)/[A-Za-z0-9_.\-]+`)

// links returns the closure or survey links of a mail's text.
func links(m sunk, kind string) []string {
	var out []string
	for _, l := range linkIn.FindAllString(m.Text, -1) {
		if strings.Contains(l, "/"+kind+"/") {
			out = append(out, l)
		}
	}
	return out
}

// Closure and satisfaction on both databases (issue 12, DOMAIN §8), with
// mail through a real SMTP server and a frozen clock: solving asks the
// customer to confirm with signed links; opening a link records nothing;
// confirming closes; "not solved" reopens with the comment and cancels
// that resolution's survey; a day after solving the survey arrives, once;
// its link shows the form on GET (twice: nothing recorded), records the
// rating with its comment on POST, once even when posted twice; agents
// cannot rate; a tampered or another ticket's token is refused.
func TestClosureAndSurvey(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00")
		m, s := sendingDesk(t, db, app.Options{Now: clk.Now, JobPoll: 100 * time.Millisecond, SurveyRecheck: 200 * time.Millisecond})
		ctx := context.Background()
		// Rules hear the rating (csat_received) with its score: the
		// happy rating tells the lead (the ticket is closed by then: a
		// rule can tell people, not change it), the unhappy rule stays
		// still.
		for _, r := range []map[string]any{
			{"name": "Cliente contento", "events": []string{"csat_received"}, "active": true,
				"conditions": []map[string]any{{"field": "csat_rating", "op": "gt", "value": "3"}}, "actions": []map[string]any{{"type": "notify", "value": "lead", "text": "{{ticket.number}}: cliente contento"}}},
			{"name": "Cliente scontento", "events": []string{"csat_received"}, "active": true,
				"conditions": []map[string]any{{"field": "csat_rating", "op": "lt", "value": "3"}}, "actions": []map[string]any{{"type": "notify", "value": "lead", "text": "{{ticket.number}}: cliente scontento"}}},
		} {
			m.must(201, "admin", "POST", "/api/v1/rules", r)
		}
		m.must(422, "admin", "POST", "/api/v1/rules", map[string]any{"name": "Voto impossibile", "events": []string{"csat_received"},
			"conditions": []map[string]any{{"field": "csat_rating", "op": "is", "value": "9"}}, "actions": []map[string]any{{"type": "add_tags", "values": []string{"x"}}}})
		open := func(email, subject string) int64 {
			return m.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": subject, "body": "Buongiorno, " + subject,
				"requester": map[string]any{"email": email, "name": "Sara Neri"}, "team_id": m.teamID}).num("number")
		}
		solve := func(n int64) {
			m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", n), map[string]any{"kind": "reply", "body": "Risolto: il rimborso è partito.", "status": "solved"})
		}
		a := open("sara.neri@example.it", "Rimborso non arrivato")
		solve(a)
		mail := s.waitSubject("sara.neri@example.it", "ce lo confermi?", 10*time.Second)
		ls := links(mail, "closure")
		if len(ls) != 2 || !strings.HasSuffix(ls[0], "") {
			t.Fatalf("closure links: %v\n%s", ls, mail.Text)
		}
		visitor := newBrowser(t, m.desk)
		path := func(l string) string { u, _ := url.Parse(l); return u.Path }
		// Opening the link (a mail scanner, the customer) changes nothing.
		for range 2 {
			if st, _, page := visitor.req("GET", path(ls[0])+"?answer=yes", nil, ""); st != 200 || !strings.Contains(page, "Ce lo conferma?") {
				t.Fatalf("closure page: %d %s", st, page)
			}
		}
		if got := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", a), nil); got.JSON["status"] != "solved" {
			t.Fatalf("opening the link changed the ticket: %v", got.JSON["status"])
		}
		// A tampered token, or an agent's browser, cannot answer.
		if st, _, _ := visitor.req("POST", path(ls[0])+"x", url.Values{"answer": {"yes"}}, ""); st != 404 {
			t.Errorf("tampered closure token: %d", st)
		}
		if st, _, _ := signedIn(t, m.desk, "agent").req("POST", path(ls[0]), url.Values{"answer": {"yes"}}, ""); st != 403 {
			t.Errorf("an agent confirmed for the customer: %d", st)
		}
		if st, _, page := visitor.req("POST", path(ls[0]), url.Values{"answer": {"yes"}}, ""); st != 200 || !strings.Contains(page, "Grazie della conferma") {
			t.Fatalf("confirm: %d %s", st, page)
		}
		if got := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", a), nil); got.JSON["status"] != "closed" {
			t.Errorf("confirmed ticket is %v", got.JSON["status"])
		}

		// Not solved: the comment reopens the ticket; its survey is cancelled.
		b := open("luca.bianchi@example.it", "La app si chiude")
		solve(b)
		mb := s.waitSubject("luca.bianchi@example.it", "ce lo confermi?", 10*time.Second)
		lb := links(mb, "closure")
		if st, _, page := visitor.req("POST", path(lb[1]), url.Values{"answer": {"no"}, "comment": {"Si chiude ancora all'avvio."}}, ""); st != 200 || !strings.Contains(page, "di nuovo aperta") {
			t.Fatalf("not solved: %d %s", st, page)
		}
		got := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", b), nil)
		if got.JSON["status"] != "open" {
			t.Errorf("not solved left the ticket %v", got.JSON["status"])
		}
		if _, _, th := signedIn(t, m.desk, "agent").req("GET", fmt.Sprintf("/tickets/%d", b), nil, ""); !strings.Contains(th, "Si chiude ancora") {
			t.Errorf("the comment is not on the ticket")
		}

		// A day later, the survey of the confirmed ticket arrives, once;
		// the reopened one gets none.
		clk.Advance(25 * time.Hour)
		sv := s.waitSubject("sara.neri@example.it", "Come siamo andati", 15*time.Second)
		rl := links(sv, "rate")
		if len(rl) != 1 {
			t.Fatalf("survey link: %v\n%s", rl, sv.Text)
		}
		time.Sleep(1500 * time.Millisecond)                 // more checks by the workers: still one survey
		if n := len(s.to("sara.neri@example.it")); n != 3 { // reply, closure, survey
			t.Errorf("Sara got %d mails, want 3 (reply, closure, survey)", n)
		}
		for _, x := range s.to("luca.bianchi@example.it") {
			if strings.Contains(x.Msg.Header.Get("Subject"), "Come siamo andati") {
				t.Errorf("the reopened ticket got a survey")
			}
		}
		rp := path(rl[0])
		for range 2 {
			if st, _, page := visitor.req("GET", rp, nil, ""); st != 200 || !strings.Contains(page, `name="rating"`) {
				t.Fatalf("rating page: %d %s", st, page)
			}
		}
		if rs, _ := m.d.Store.Ratings(ctx, csat.Filter{}); len(rs) != 0 {
			t.Fatalf("opening the survey recorded %v", rs)
		}
		if st, _, _ := signedIn(t, m.desk, "lead").req("POST", rp, url.Values{"rating": {"5"}}, ""); st != 403 {
			t.Errorf("a lead rated: %d", st)
		}
		if st, _, page := visitor.req("POST", rp, url.Values{"rating": {"9"}}, ""); st != 422 || !strings.Contains(page, "da 1 a 5") {
			t.Errorf("rating 9: %d %s", st, page)
		}
		for i, want := range []string{"Grazie del suo giudizio", "Giudizio già dato"} {
			if st, _, page := visitor.req("POST", rp, url.Values{"rating": {fmt.Sprint(4 + i)}, "comment": {"Gentili e veloci."}}, ""); st != 200 || !strings.Contains(page, want) {
				t.Errorf("rating post %d: %d, want %q", i, st, want)
			}
		}
		told := func(what string) bool {
			ns, err := m.d.Notices.List(ctx, m.agents["lead"].ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if n.Kind == "rule" && strings.Contains(n.Detail, fmt.Sprintf("#%d: cliente %s", a, what)) {
					return true
				}
			}
			return false
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !told("contento"); {
			time.Sleep(100 * time.Millisecond)
		}
		if !told("contento") || told("scontento") {
			t.Errorf("the rating of 4 reached the rules: happy %v, unhappy %v", told("contento"), told("scontento"))
		}
		rs, err := m.d.Store.Ratings(ctx, csat.Filter{})
		if err != nil || len(rs) != 1 || rs[0].Rating != 4 || rs[0].Comment != "Gentili e veloci." || rs[0].TicketID != a {
			t.Fatalf("ratings: %+v %v", rs, err)
		}
		sum, err := m.d.Store.CSATSummary(ctx, csat.Filter{})
		if p, ok := sum.Percent(); err != nil || !ok || p != 100 || sum.Surveys != 1 {
			t.Errorf("summary: %+v %v", sum, err)
		}
		// The rating shows on the ticket, and on the leads' report with
		// the response rate and n beside the percentage.
		if _, _, page := signedIn(t, m.desk, "agent").req("GET", fmt.Sprintf("/tickets/%d", a), nil, ""); !strings.Contains(page, "4/5") || !strings.Contains(page, "Gentili e veloci.") {
			t.Errorf("the rating is not on the ticket page")
		}
		st, _, page := signedIn(t, m.desk, "lead").req("GET", "/reports/csat?from=01/03/2026&to=31/03/2026", nil, "")
		if st != 200 || !strings.Contains(page, "100 %") || !strings.Contains(page, "giudizi: 1 · sondaggi inviati: 1") {
			t.Errorf("CSAT report: %d %s", st, page)
		}
		if st, _, _ := signedIn(t, m.desk, "agent").req("GET", "/reports/csat", nil, ""); st != 403 {
			t.Errorf("an agent opened the CSAT report: %d", st)
		}
		// An expired link says so.
		clk.Advance(15 * 24 * time.Hour)
		if st, _, page := visitor.req("GET", rp, nil, ""); st != 404 || !strings.Contains(page, "scaduto") {
			t.Errorf("expired link: %d", st)
		}
	})
}
