package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// sink is a real SMTP server on 127.0.0.1 that keeps what it is sent: the
// mail server the desk's mailbox sends through. It can be stopped and
// started again on the same port, and told to refuse a recipient.
type sink struct {
	t      testing.TB
	addr   string
	mu     sync.Mutex
	mails  []sunk
	refuse map[string]bool
	srv    *smtp.Server
}

type sunk struct {
	From string
	To   []string
	Raw  string
	Msg  *mail.Message
	Text string // the decoded text part
	HTML string // the decoded HTML part
}

func newSink(t testing.TB) *sink {
	s := &sink{t: t, refuse: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *sink) serve(ln net.Listener) {
	srv := smtp.NewServer(s)
	srv.Domain = "mx.bottega.example"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

func (s *sink) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// start listens again on the same port.
func (s *sink) start() {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(ln)
}

func (s *sink) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s      *sink
	from   string
	to     []string
	authed bool
}

// The sink signs its clients in with PLAIN: the mailbox's password,
// sealed at rest, must come back right.
func (x *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "desk" || pass != "smtp-secret-1" {
			return errors.New("bad credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *sinkSession) Reset()        { x.from, x.to = "", nil }
func (x *sinkSession) Logout() error { return nil }
func (x *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.refuse[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	x.to = append(x.to, to)
	return nil
}
func (x *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	env, err := enmime.ReadEnvelope(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, sunk{From: x.from, To: x.to, Raw: string(raw), Msg: m, Text: env.Text, HTML: env.HTML})
	x.s.mu.Unlock()
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mails)
}

// wait returns the n-th mail (1-based) once it arrived.
func (s *sink) wait(n int, within time.Duration) sunk {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.mails) >= n {
			m := s.mails[n-1]
			s.mu.Unlock()
			return m
		}
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("mail %d did not arrive within %s (%d arrived)", n, within, s.count())
	return sunk{}
}

// sendingDesk is a mail desk whose mailbox sends through a sink, with
// the job queue running.
func sendingDesk(t *testing.T, db testdb.DB, opt app.Options) (*mailDesk, *sink) {
	t.Helper()
	m := newMailDeskWith(t, db, opt)
	s := newSink(t)
	mbs := m.must(200, "admin", "GET", "/api/v1/mailboxes", nil)
	id := int64(mbs.JSON["items"].([]any)[0].(map[string]any)["id"].(float64))
	m.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/mailboxes/%d", id), map[string]any{
		"auto_ack":   true,
		"smtp":       map[string]any{"host": "127.0.0.1", "port": s.port(), "tls": "none", "user": "desk", "password": "smtp-secret-1"},
		"signatures": map[string]string{"it": "Il team di Bottega", "en": "The Bottega team"},
	})
	if err := m.d.StartJobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, s
}

func header(m sunk, name string) string { return m.Msg.Header.Get(name) }

// The outbox end to end, on both databases, with a frozen clock on a
// Friday at 16:00 under a 4 business-hour first-reply target: a
// customer's mail gets one acknowledgement in Italian with the number
// and "lunedì 2 giugno alle 11:00"; an out-of-office answer to it opens
// nothing and is not acknowledged; the agent's reply reaches the SMTP
// server threaded (In-Reply-To, References, marker, signed Reply-To,
// signature, "Agent via Desk"); the customer's answers land in the same
// ticket when the client kept only In-Reply-To (Apple Mail) and when it
// dropped every header but quoted our body (the hidden reference).
func TestOutboxEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2025-05-30 16:00")
		m, s := sendingDesk(t, db, app.Options{Now: clk.Now, JobPoll: 100 * time.Millisecond})
		cal := m.must(201, "admin", "POST", "/api/v1/calendars", map[string]any{
			"name": "Ufficio Roma", "timezone": "Europe/Rome",
			"week": map[string]string{"monday": "09:00-18:00", "tuesday": "09:00-18:00", "wednesday": "09:00-18:00", "thursday": "09:00-18:00", "friday": "09:00-18:00"},
		})
		m.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{
			"name": "Standard", "calendar_id": cal.num("id"),
			"targets": map[string]any{"normal": map[string]any{"first_reply": map[string]any{"minutes": 240, "business": true}}},
		})
		first := `From: Marta Fontana <marta.fontana@example.it>
To: Supporto Bottega <supporto@bottega.example>
Subject: Ordine 4411 non arrivato
Message-ID: <first-4411@example.it>
Content-Type: text/plain; charset=UTF-8

Buongiorno, l'ordine 4411 non è ancora arrivato.
`
		if err := m.send(t, "marta.fontana@example.it", []string{"supporto@bottega.example"}, first); err != nil {
			t.Fatal(err)
		}
		ts := m.tickets(t)
		if len(ts) != 1 {
			t.Fatalf("%d tickets", len(ts))
		}
		num := ts[0].ID
		ack := s.wait(1, 20*time.Second)
		tag := fmt.Sprintf("[#%d]", num)
		if ack.To[0] != "marta.fontana@example.it" || !strings.Contains(header(ack, "Subject"), tag) {
			t.Fatalf("acknowledgement to %v, subject %q", ack.To, header(ack, "Subject"))
		}
		if !strings.Contains(ack.Text, "lunedì 2 giugno alle 11:00") || !strings.Contains(ack.Text, "Ciao Marta") || !strings.Contains(ack.HTML, "lunedì 2 giugno alle 11:00") {
			t.Fatalf("the acknowledgement does not quote the deadline in Italian:\n%s", ack.Raw)
		}
		if header(ack, "Auto-Submitted") != "auto-replied" || header(ack, "X-Auto-Response-Suppress") != "All" {
			t.Errorf("acknowledgement headers: Auto-Submitted %q, X-Auto-Response-Suppress %q", header(ack, "Auto-Submitted"), header(ack, "X-Auto-Response-Suppress"))
		}
		if header(ack, "In-Reply-To") != "<first-4411@example.it>" || !strings.Contains(header(ack, "Reply-To"), fmt.Sprintf("supporto+t%d.", num)) {
			t.Errorf("acknowledgement threading: In-Reply-To %q, Reply-To %q", header(ack, "In-Reply-To"), header(ack, "Reply-To"))
		}
		if ack.From != "supporto@bottega.example" {
			t.Errorf("envelope sender %q, want the mailbox (bounces come back to it)", ack.From)
		}

		// Marta's out-of-office answers the acknowledgement.
		ooo := fmt.Sprintf(`From: Marta Fontana <marta.fontana@example.it>
To: %s
Subject: Risposta automatica: %s
Message-ID: <ooo-4411@example.it>
In-Reply-To: %s
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=UTF-8

Sono fuori ufficio fino al 9 giugno.
`, header(ack, "Reply-To"), header(ack, "Subject"), header(ack, "Message-ID"))
		if err := m.send(t, "marta.fontana@example.it", []string{"supporto@bottega.example"}, ooo); err != nil {
			t.Fatal(err)
		}
		if n := len(m.tickets(t)); n != 1 {
			t.Fatalf("the out-of-office answer opened a ticket: %d tickets", n)
		}

		// The agent replies; the mail reaches the server threaded.
		clk.Set("2025-06-02 09:30")
		m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "reply",
			"body": "Buongiorno Marta, il corriere consegnerà domani."})
		rep := s.wait(2, 20*time.Second)
		if s.count() != 2 {
			t.Fatalf("%d mails: the out-of-office answer was acknowledged?", s.count())
		}
		if header(rep, "In-Reply-To") != "<first-4411@example.it>" {
			t.Errorf("reply In-Reply-To %q", header(rep, "In-Reply-To"))
		}
		refs := header(rep, "References")
		if !strings.Contains(refs, "<first-4411@example.it>") || !strings.Contains(refs, header(ack, "Message-ID")) {
			t.Errorf("reply References %q lack the customer's and the acknowledgement's ids", refs)
		}
		if !strings.Contains(header(rep, "From"), "Agent Person via Supporto Bottega") || header(rep, "Auto-Submitted") != "" {
			t.Errorf("reply From %q, Auto-Submitted %q", header(rep, "From"), header(rep, "Auto-Submitted"))
		}
		if !strings.HasPrefix(rep.Text, "##- Rispondi sopra questa riga") || !strings.Contains(rep.Text, "Il team di Bottega") || !strings.Contains(rep.HTML, "sportello-ref:t") {
			t.Errorf("reply body lacks the marker, the signature or the hidden reference:\n%s", rep.Raw)
		}
		// The server has the mail; the worker records "sent" a moment after.
		var mails resp
		for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
			mails = m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/mails", num), nil)
			if items := mails.JSON["items"].([]any); len(items) == 2 && items[1].(map[string]any)["status"] == "sent" {
				break
			}
		}
		if items := mails.JSON["items"].([]any); len(items) != 2 || items[1].(map[string]any)["status"] != "sent" {
			t.Fatalf("the ticket's mails: %s", mails)
		}

		// Apple Mail: In-Reply-To only, a new subject.
		apple := fmt.Sprintf(`From: Marta Fontana <marta.fontana@example.it>
To: %s
Subject: Consegna
Message-ID: <apple-4411@example.it>
In-Reply-To: %s
Content-Type: text/plain; charset=UTF-8

Perfetto, grazie.

Il giorno 2 giu 2025, alle ore 09:30, Supporto Bottega ha scritto:
> Buongiorno Marta, il corriere consegnerà domani.
`, header(rep, "Reply-To"), header(rep, "Message-ID"))
		// Outlook that rewrote every header: only the quoted body is ours.
		htmlBody := strings.SplitN(rep.HTML, "sportello-ref:", 2)[1]
		ref := "sportello-ref:" + htmlBody[:strings.IndexAny(htmlBody, "<\r\n")]
		outlook := fmt.Sprintf(`From: Marta Fontana <marta.fontana@example.it>
To: supporto@bottega.example
Subject: consegna ordine
Message-ID: <outlook-4411@example.it>
Content-Type: text/html; charset=UTF-8

<p>Ancora una domanda: serve la firma?</p><hr><div><span style="display:none">%s</span>Buongiorno Marta</div>
`, ref)
		for _, raw := range []string{apple, outlook} {
			if err := m.send(t, "marta.fontana@example.it", []string{"supporto@bottega.example"}, raw); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(m.tickets(t)); n != 1 {
			t.Fatalf("the customer's answers opened new tickets: %d tickets", n)
		}
		th := m.thread(t, num)
		if len(th) < 5 || !strings.Contains(th[len(th)-2].BodyText, "Perfetto") || !strings.Contains(th[len(th)-1].BodyText+th[len(th)-1].BodyHTML, "serve la firma") {
			t.Fatalf("the answers are not on the ticket: %d messages", len(th))
		}
		if strings.Contains(th[len(th)-2].BodyText, "consegnerà domani") {
			t.Errorf("the quoted original is shown again: %q", th[len(th)-2].BodyText)
		}
		// Only the first mail was acknowledged, whatever came after.
		if s.count() != 2 {
			t.Errorf("%d mails sent, want the acknowledgement and the reply only", s.count())
		}
	})
}

// The outbox keeps a reply while the SMTP server is down for a minute
// and delivers it once the server is back; a recipient the server
// refuses for good (550 5.1.1) marks the mail failed with the server's
// answer, and the agent's resend delivers it once the server accepts.
func TestOutboxSurvivesDowntime(t *testing.T) {
	t.Parallel()
	// Both databases wait out their minute at the same time.
	eachParallel(t, func(t *testing.T, db testdb.DB) {
		m, s := sendingDesk(t, db, app.Options{MailRetry: 2 * time.Second, JobPoll: 200 * time.Millisecond})
		created := m.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{
			"subject": "Fattura errata", "body": "La fattura 88 ha l'IVA sbagliata.",
			"requester": map[string]any{"email": "luca.greco@example.it", "name": "Luca Greco"},
			"channel":   "phone", "team_id": m.teamID,
		})
		num := created.num("number")
		s.stop()
		m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "reply", "body": "La correggiamo oggi."})
		down := time.Now()
		path := fmt.Sprintf("/api/v1/tickets/%d/mails", num)
		for time.Since(down) < 5*time.Second {
			time.Sleep(200 * time.Millisecond)
		}
		r := m.must(200, "agent", "GET", path, nil)
		it := r.JSON["items"].([]any)[0].(map[string]any)
		if it["status"] != "retrying" || it["last_error"] == "" {
			t.Fatalf("while the server is down: %v", it)
		}
		time.Sleep(time.Minute - time.Since(down))
		s.start()
		got := s.wait(1, 90*time.Second)
		if got.To[0] != "luca.greco@example.it" || !strings.Contains(got.Text, "La correggiamo oggi") {
			t.Fatalf("delivered: %v %q", got.To, got.Raw)
		}
		if st := waitMailStatus(m.desk, path, 0, "sent"); st != "sent" {
			t.Fatalf("after delivery the mail is %q", st)
		}

		// A refused recipient: failed, with the server's answer; resend.
		s.mu.Lock()
		s.refuse["luca.greco@example.it"] = true
		s.mu.Unlock()
		m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "reply", "body": "Ecco la fattura corretta."})
		var second map[string]any
		for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(100 * time.Millisecond) {
			items := m.must(200, "agent", "GET", path, nil).JSON["items"].([]any)
			if second = items[len(items)-1].(map[string]any); second["status"] == "failed" {
				break
			}
		}
		if second["status"] != "failed" || !strings.Contains(second["last_error"].(string), "550") {
			t.Fatalf("a refused recipient: %v", second)
		}
		resend := fmt.Sprintf("%s/%d/resend", path, int64(second["id"].(float64)))
		m.must(404, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/mails/%d/resend", num+1000, int64(second["id"].(float64))), nil)
		s.mu.Lock()
		s.refuse["luca.greco@example.it"] = false
		s.mu.Unlock()
		m.must(202, "agent", "POST", resend, nil)
		if got := s.wait(2, 20*time.Second); !strings.Contains(got.Text, "Ecco la fattura corretta") {
			t.Fatalf("resent: %q", got.Raw)
		}
	})
}

// Loop breakers and agents' mail notices, on both databases: mail from a
// no-reply address opens a ticket but is never acknowledged, nor is a
// mail system's; one address gets at most 10 acknowledgements in 3 hours
// however many new mails it sends; an agent assigned by a colleague, the
// assignee of a ticket the customer answers, and the lead of a breached
// ticket get a notice by mail in their language, unless they switched it
// off; nobody is told of their own assignment.
func TestAutomaticMailLimitsAndNotices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00") // a Monday
		m, s := sendingDesk(t, db, app.Options{Now: clk.Now, JobPoll: 100 * time.Millisecond})
		mail := func(from, id string) {
			t.Helper()
			raw := "From: " + from + "\nTo: supporto@bottega.example\nSubject: Richiesta " + id + "\nMessage-ID: <" + id + "@example.it>\nContent-Type: text/plain; charset=UTF-8\n\nTesto " + id + "\n"
			if err := m.send(t, from, []string{"supporto@bottega.example"}, raw); err != nil {
				t.Fatal(err)
			}
		}
		mail("noreply@shop.example", "nr1")
		// A mail system writes with an empty envelope sender (<>).
		if err := m.send(t, "", []string{"supporto@bottega.example"}, "From: MAILER-DAEMON@mx.example\nTo: supporto@bottega.example\nSubject: Richiesta md1\nMessage-ID: <md1@example.it>\n\nTesto md1\n"); err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			mail("insistente@example.it", fmt.Sprintf("loop%d", i))
		}
		// The mail system's message is machine mail with no ticket to
		// join: kept raw, no ticket (DOMAIN §7); the others open tickets.
		if n := len(m.tickets(t)); n != 13 {
			t.Fatalf("%d tickets, want 13", n)
		}
		s.wait(10, 20*time.Second)
		time.Sleep(time.Second)
		if n := s.count(); n != 10 {
			t.Fatalf("%d acknowledgements, want 10 (the per-address limit; none to no-reply or the mail system)", n)
		}
		if n := len(s.to("insistente@example.it")); n != 10 {
			t.Errorf("%d acknowledgements to the insistent address, want 10", n)
		}
		if n := len(s.to("noreply@shop.example")) + len(s.to("MAILER-DAEMON@mx.example")); n != 0 {
			t.Errorf("%d acknowledgements to a no-reply address or a mail system", n)
		}
		// A mail whose envelope sender is empty (<>) is never answered,
		// whatever its From says.
		if err := m.send(t, "", []string{"supporto@bottega.example"}, "From: persona@example.it\nTo: supporto@bottega.example\nSubject: Domanda\nMessage-ID: <null-sender@example.it>\n\nUna domanda.\n"); err != nil {
			t.Fatal(err)
		}
		// A second mailbox of the same team answers its own mail.
		m.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "vendite@bottega.example", "name": "Vendite Bottega",
			"team_id": m.teamID, "auto_ack": true, "smtp": map[string]any{"host": "127.0.0.1", "port": s.port(), "tls": "none", "user": "desk", "password": "smtp-secret-1"}})
		raw := "From: nuovo.cliente@example.it\nTo: vendite@bottega.example\nSubject: Preventivo\nMessage-ID: <sales-1@example.it>\n\nVorrei un preventivo.\n"
		if err := m.send(t, "nuovo.cliente@example.it", []string{"vendite@bottega.example"}, raw); err != nil {
			t.Fatal(err)
		}
		if got := s.waitTo("nuovo.cliente@example.it", 1, 20*time.Second); !strings.Contains(header(got, "From"), "vendite@bottega.example") {
			t.Errorf("the acknowledgement of mail to vendite@ came from %q", header(got, "From"))
		}
		if n := len(s.to("persona@example.it")); n != 0 {
			t.Errorf("a mail with an empty envelope sender was acknowledged")
		}
		// Three hours later the address is acknowledged again.
		clk.Set("2026-03-02 12:01")
		mail("insistente@example.it", "loop-later")
		s.waitTo("insistente@example.it", 11, 20*time.Second)

		// Notices: the agent speaks English; the lead speaks Italian and
		// switched SLA mail off.
		ctx := context.Background()
		en := "en"
		ag := m.agents["agent"]
		ag.Language = en
		if err := m.d.Store.UpdateAgent(ctx, ag, agent.Patch{Language: &en}); err != nil {
			t.Fatal(err)
		}
		off := "assigned,customer"
		lead := m.agents["lead"]
		lead.MailNotices = off
		if err := m.d.Store.UpdateAgent(ctx, lead, agent.Patch{MailNotices: &off}); err != nil {
			t.Fatal(err)
		}
		tk := m.tickets(t)[2].ID // the insistent customer's second ticket
		m.must(200, "lead", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk), map[string]any{"assignee_id": ag.ID})
		got := s.waitTo(ag.Email, 1, 20*time.Second)
		if !strings.Contains(header(got, "Subject"), "Assigned to you") || !strings.Contains(got.Text, fmt.Sprintf("/tickets/%d", tk)) || header(got, "Auto-Submitted") != "auto-generated" {
			t.Fatalf("assignment notice: %q\n%s", header(got, "Subject"), got.Text)
		}
		// The lead takes the ticket: no mail to anyone for taking it.
		m.must(200, "lead", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk), map[string]any{"assignee_id": lead.ID})
		// The customer answers: the assignee (the lead, in Italian) hears.
		th := m.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/mails", tk), nil)
		ackID := th.JSON["items"].([]any)[0].(map[string]any)["mail_id"].(string)
		reply := fmt.Sprintf("From: insistente@example.it\nTo: supporto@bottega.example\nSubject: Re: Richiesta\nMessage-ID: <answer-1@example.it>\nIn-Reply-To: <%s>\nContent-Type: text/plain; charset=UTF-8\n\nEcco i dati che mancavano.\n", ackID)
		if err := m.send(t, "insistente@example.it", []string{"supporto@bottega.example"}, reply); err != nil {
			t.Fatal(err)
		}
		got = s.waitTo(lead.Email, 1, 20*time.Second)
		if !strings.Contains(header(got, "Subject"), "Il cliente ha risposto") || !strings.Contains(got.Text, "Ecco i dati che mancavano") {
			t.Fatalf("customer-reply notice: %q\n%s", header(got, "Subject"), got.Text)
		}
		time.Sleep(500 * time.Millisecond)
		if n := len(s.to(lead.Email)); n != 1 {
			t.Errorf("the lead got %d notices, want 1 (none for taking the ticket)", n)
		}
		if n := len(s.to(ag.Email)); n != 1 {
			t.Errorf("the agent got %d notices, want 1", n)
		}

		// An SLA breach: the assignee hears by mail; the lead, who
		// switched SLA mail off, does not (the in-app notice stays).
		m.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{"name": "Rapida",
			"targets": map[string]any{"normal": map[string]any{"first_reply": map[string]any{"minutes": 30}}}})
		late := m.must(201, "lead", "POST", "/api/v1/tickets", map[string]any{"subject": "Stampante ferma", "body": "Non stampa.",
			"requester": map[string]any{"name": "Ufficio", "email": "ufficio@example.it"}, "channel": "phone", "team_id": m.teamID, "assignee_id": ag.ID})
		clk.Set("2026-03-02 13:30")
		if _, err := m.d.SLA.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		// Workers send in parallel: the breach notice may overtake the
		// notice of the assignment, so it is picked by its subject.
		got = s.waitSubject(ag.Email, "SLA alert", 20*time.Second)
		if !strings.Contains(header(got, "Subject"), "SLA alert") || !strings.Contains(got.Text, fmt.Sprintf("#%d", late.num("number"))) ||
			!strings.Contains(got.Text, "SLA breached: First reply") {
			t.Fatalf("SLA notice: %q\n%s", header(got, "Subject"), got.Text)
		}
		time.Sleep(500 * time.Millisecond)
		if n := len(s.to(lead.Email)); n != 1 {
			t.Errorf("the lead got %d mails, want 1: SLA mail is off for them", n)
		}
	})
}

// to lists the mails the sink holds for an address.
func (s *sink) to(addr string) []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunk
	for _, m := range s.mails {
		for _, r := range m.To {
			if r == addr {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// waitSubject returns the first mail to addr whose subject has part.
func (s *sink) waitSubject(addr, part string, within time.Duration) sunk {
	s.t.Helper()
	for start := time.Now(); time.Since(start) < within; time.Sleep(50 * time.Millisecond) {
		for _, m := range s.to(addr) {
			subj, err := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
			if err != nil {
				subj = m.Msg.Header.Get("Subject")
			}
			if strings.Contains(subj, part) {
				return m
			}
		}
	}
	s.t.Fatalf("no mail to %s with %q in its subject within %s", addr, part, within)
	return sunk{}
}

// waitTo returns the n-th mail (1-based) to addr once it arrived.
func (s *sink) waitTo(addr string, n int, within time.Duration) sunk {
	s.t.Helper()
	for start := time.Now(); time.Since(start) < within; time.Sleep(50 * time.Millisecond) {
		if ms := s.to(addr); len(ms) >= n {
			return ms[n-1]
		}
	}
	s.t.Fatalf("mail %d to %s did not arrive within %s", n, addr, within)
	return sunk{}
}

// eachParallel is testdb.Each with the two databases' subtests running
// side by side (for tests that mostly wait).
func eachParallel(t *testing.T, fn func(t *testing.T, db testdb.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, testdb.DB{Engine: "sqlite", DataDir: t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, testdb.Postgres(t))
	})
}

// waitMailStatus waits (up to 10 s) for the i-th mail of a ticket's mail
// list to reach want and returns the status it last had: the server
// holds a mail a moment before the worker records it as sent.
func waitMailStatus(k *desk, path string, i int, want string) string {
	st := ""
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		items := k.must(200, "agent", "GET", path, nil).JSON["items"].([]any)
		if i < len(items) {
			if st = items[i].(map[string]any)["status"].(string); st == want {
				break
			}
		}
	}
	return st
}
