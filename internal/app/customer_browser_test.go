package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/testdb"
)

// The customer side end to end in Chromium, on both databases, with mail
// through a real SMTP server and a frozen clock (issue 12): a visitor
// finds an Italian article by a stemmed word, opens the contact form, is
// offered the article, sends anyway, and the ticket appears live in the
// agent's inbox; the customer signs in to the portal with the link from
// the mail, sees the agent's public reply and not the internal note, and
// replies; the agent solves; the customer confirms from the mail's link;
// a day later the survey arrives, and a rating with a comment is recorded
// once though the link is opened twice and the form sent twice.
func TestBrowserCustomerSide(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00")
		m, s := sendingDesk(t, db, app.Options{Now: clk.Now, JobPoll: 100 * time.Millisecond, SurveyRecheck: 200 * time.Millisecond})
		base := m.srv.URL
		lead := signedIn(t, m.desk, "lead")
		if st, _, _ := lead.req("POST", "/kb", url.Values{"lang": {"it"}, "title": {"Come restituire un prodotto"}, "state": {"published"},
			"body": {"Per i **resi** ha 30 giorni: compili il modulo dal suo account e stampi l'etichetta."}}, ""); st != 303 {
			t.Fatalf("article: %d", st)
		}

		// The agent waits on the team's queue.
		ag := newBrowserTab(t)
		step(t, ag, "the agent signs in", signIn(base, "agent@example.com", "password-agent"),
			chromedp.Navigate(base+"/?view=teams"), chromedp.WaitReady(chromedp.CSS(`html[data-live=on]`)))

		// The visitor searches in Italian: "reso" finds the article that
		// speaks of "resi", through the stem.
		v := newBrowserTab(t)
		step(t, v, "search the help centre", chromedp.Navigate(base+"/help/it"), chromedp.WaitVisible(chromedp.ID("help-q")),
			typeInto("#help-q", "reso"+kb.Enter),
			chromedp.WaitVisible(chromedp.Search(`//ul[contains(@class,"help-results")]//a[contains(., "Come restituire un prodotto")]`)))

		// The contact form offers the article; the visitor sends anyway.
		step(t, v, "the contact form", chromedp.Navigate(base+"/help/it/contact"), chromedp.WaitVisible(chromedp.ID("c-subject")),
			typeInto("#c-name", "Sara Neri"),
			typeInto("#c-email", "sara.neri@example.it"),
			typeInto("#c-subject", "Vorrei fare un reso"),
			chromedp.WaitVisible(chromedp.Search(`//aside[@id="suggestions"]//a[contains(., "Come restituire un prodotto")]`)),
			typeInto("#c-body", "Le scarpe sono piccole: come faccio il reso dell'ordine 4471?"))
		clk.Advance(10 * time.Second) // a person takes longer than a bot
		step(t, v, "send anyway", chromedp.Click(chromedp.CSS(`form[data-suggest] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`.help-card[role=status]`)))
		number := value[string](t, v, `(document.querySelector(".help-card[role=status]").innerText.match(/#(\d+)/) || [])[1] || ""`)
		if number == "" {
			t.Fatalf("the confirmation gives no number: %s", value[string](t, v, `document.body.innerText`))
		}
		step(t, ag, "the ticket appears live", chromedp.WaitVisible(chromedp.CSS(`tr[data-row][data-number="`+number+`"]`)))
		ack := s.waitSubject("sara.neri@example.it", "Vorrei fare un reso", 10*time.Second)
		if !strings.Contains(ack.Text, "#"+number) {
			t.Errorf("the acknowledgement does not give the number: %s", ack.Text)
		}

		// The agent replies and notes.
		n := number
		m.must(201, "agent", "POST", "/api/v1/tickets/"+n+"/messages", map[string]any{"kind": "note", "body": "NOTA INTERNA: cliente abituale"})
		m.must(201, "agent", "POST", "/api/v1/tickets/"+n+"/messages", map[string]any{"kind": "reply", "body": "Le abbiamo inviato l'etichetta per il reso."})

		// The portal, with the link from the mail.
		step(t, v, "ask for the portal link", chromedp.Navigate(base+"/portal?lang=it"), chromedp.WaitVisible(chromedp.ID("p-email")),
			typeInto("#p-email", "sara.neri@example.it"),
			chromedp.Click(chromedp.CSS(`form[action="/portal/link"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`[role=status]`)))
		pm := s.waitSubject("sara.neri@example.it", "link per accedere", 10*time.Second)
		pl := portalLinkIn.FindStringSubmatch(pm.Text)
		if pl == nil {
			t.Fatalf("no portal link: %s", pm.Text)
		}
		step(t, v, "sign in", chromedp.Navigate(base+pl[1]), chromedp.WaitVisible(chromedp.CSS(`form[action="`+pl[1]+`"] button`)),
			chromedp.Click(chromedp.CSS(`form[action="`+pl[1]+`"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/portal/tickets/`+n+`"]`)),
			chromedp.Click(chromedp.CSS(`a[href="/portal/tickets/`+n+`"]`)),
			chromedp.WaitVisible(chromedp.ID("p-body")))
		page := value[string](t, v, `document.body.innerText`)
		if !strings.Contains(page, "Le abbiamo inviato l'etichetta") || strings.Contains(page, "NOTA INTERNA") {
			t.Fatalf("the portal shows: %s", page)
		}
		step(t, v, "reply from the portal", typeInto("#p-body", "Grazie, spedisco domani."),
			chromedp.Click(chromedp.CSS(`form[action$="/messages"] button`)),
			chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"portal-text")][contains(., "spedisco domani")]`)))

		// The agent solves; the customer confirms from the mail.
		step(t, ag, "solve", chromedp.Navigate(base+"/tickets/"+n), chromedp.WaitVisible(chromedp.ID("body")),
			typeInto("#body", "Ricevuto il reso, rimborso in arrivo."),
			chromedp.SetValue(chromedp.ID("send-status"), "solved"),
			chromedp.Click(chromedp.CSS(`#composer button[type=submit]:not([value])`)),
			chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"msg-body")][contains(., "rimborso in arrivo")]`)))
		cm := s.waitSubject("sara.neri@example.it", "ce lo confermi?", 10*time.Second)
		cl := links(cm, "closure")
		if len(cl) != 2 {
			t.Fatalf("closure links: %v", cl)
		}
		// The mail's links name the desk's public address; the test's
		// server answers at its own.
		local := func(l string) string { u, _ := url.Parse(l); return base + u.RequestURI() }
		step(t, v, "confirm", chromedp.Navigate(local(cl[0])), chromedp.WaitVisible(chromedp.CSS(`button[value=yes]`)),
			chromedp.Click(chromedp.CSS(`button[value=yes]`)), chromedp.WaitVisible(chromedp.CSS(`[role=status]`)))
		if got := m.must(200, "agent", "GET", "/api/v1/tickets/"+n, nil); got.JSON["status"] != "closed" {
			t.Errorf("confirmed ticket is %v", got.JSON["status"])
		}

		// A day later: the survey; opened twice, sent twice, recorded once.
		clk.Advance(25 * time.Hour)
		sv := s.waitSubject("sara.neri@example.it", "Come siamo andati", 15*time.Second)
		rl := links(sv, "rate")
		if len(rl) != 1 {
			t.Fatalf("survey link: %v", rl)
		}
		for range 2 {
			step(t, v, "open the survey", chromedp.Navigate(local(rl[0])), chromedp.WaitVisible(chromedp.CSS(`input[name=rating][value="5"]`)))
		}
		if rs, _ := m.d.Store.Ratings(context.Background(), csat.Filter{}); len(rs) != 0 {
			t.Fatalf("opening the survey recorded %v", rs)
		}
		// Sent twice: the page's own post (a double click, a retry) and
		// the form: one rating, the second answer says it is in already.
		step(t, v, "fill the survey", chromedp.Click(chromedp.CSS(`input[name=rating][value="5"]`)),
			typeInto("#rate-comment", "Veloci e gentili."))
		first, err := chromedp.Run(v, chromedp.Evaluate[string](`(async () => { const f = document.querySelector('form[action^="/rate/"]');
			const r = await fetch(f.action, { method: "POST", body: new URLSearchParams(new FormData(f)) }); return await r.text(); })()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(first, "Grazie del suo giudizio") {
			t.Fatalf("the first post: %s", first)
		}
		step(t, v, "send the form too", chromedp.Click(chromedp.CSS(`form[action^="/rate/"] button`)),
			chromedp.WaitVisible(chromedp.Search(`//section[@role="status"][contains(., "già")]`)))
		// Back to the link: it says the rating is in.
		step(t, v, "the link again", chromedp.Navigate(local(rl[0])), chromedp.WaitVisible(chromedp.Search(`//section[@role="status"][contains(., "già")]`)))
		rs, err := m.d.Store.Ratings(context.Background(), csat.Filter{})
		if err != nil || len(rs) != 1 || rs[0].Rating != 5 || rs[0].Comment != "Veloci e gentili." || fmt.Sprint(rs[0].TicketID) != n {
			t.Fatalf("ratings: %+v %v", rs, err)
		}
	})
}
