package app_test

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// mailDesk is a desk with its built-in SMTP listener on a real port and
// one mailbox, supporto@bottega.example, for the test team.
type mailDesk struct {
	*desk
	smtpAddr string
}

func newMailDesk(t *testing.T, db testdb.DB) *mailDesk {
	t.Helper()
	return newMailDeskWith(t, db, app.Options{})
}

func newMailDeskWith(t *testing.T, db testdb.DB, opt app.Options) *mailDesk {
	t.Helper()
	k := newDeskWith(t, db, opt)
	k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "Supporto@Bottega.example", "name": "Supporto Bottega", "team_id": k.teamID})
	if r := k.do("admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "supporto+x@bottega.example"}); r.Status != 422 || problemField(r) != "address" {
		t.Fatalf("a mailbox with a +tag: %d %s", r.Status, r)
	}
	if r := k.do("admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "supporto@bottega.example"}); r.Status != 409 {
		t.Fatalf("a second mailbox with the same address: %d %s", r.Status, r)
	}
	k.must(403, "lead", "GET", "/api/v1/mailboxes", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := k.d.SMTPListener()
	go l.Serve(ln)
	t.Cleanup(func() { l.Close() })
	return &mailDesk{desk: k, smtpAddr: ln.Addr().String()}
}

// send delivers a mail over SMTP as a mail server would.
func (m *mailDesk) send(t *testing.T, from string, to []string, raw string) error {
	t.Helper()
	return smtp.SendMail(m.smtpAddr, nil, from, to, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

func (m *mailDesk) tickets(t *testing.T) []ticket.Ticket {
	t.Helper()
	ts, err := m.d.Tickets.List(context.Background(), ticket.System, ticket.Filter{Limit: 100, Sort: "number", IncludeMerge: true})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (m *mailDesk) thread(t *testing.T, id int64) []ticket.Message {
	t.Helper()
	ms, err := m.d.Tickets.Thread(context.Background(), ticket.System, id)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// Mail reaches the desk through the built-in SMTP listener, on both
// databases: a new mail opens a ticket in the mailbox's team with the
// visible text; the same mail delivered again lands once; a reply that
// dropped References, or changed the subject to "R: …", joins its
// ticket; a stranger quoting the ticket opens a new, linked ticket; an
// out-of-office answer becomes a note that reopens nothing; a 5.1.1
// bounce marks the address undeliverable; an unknown recipient is refused
// at RCPT time.
func TestMailThroughSMTPListener(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		m := newMailDesk(t, db)
		ctx := context.Background()
		first := `From: Marta Fontana <marta.fontana@example.it>
To: Supporto Bottega <supporto@bottega.example>
Subject: Ordine 4411 non arrivato
Date: Mon, 2 Jun 2025 09:00:00 +0200
Message-ID: <first-4411@example.it>
Content-Type: text/plain; charset=UTF-8

Buongiorno, l'ordine 4411 non è ancora arrivato.

Marta
`
		for range 2 { // a mail server that delivers twice
			if err := m.send(t, "marta.fontana@example.it", []string{"supporto@bottega.example"}, first); err != nil {
				t.Fatal(err)
			}
		}
		ts := m.tickets(t)
		if len(ts) != 1 {
			t.Fatalf("%d tickets after one mail delivered twice", len(ts))
		}
		tk := ts[0]
		if tk.Subject != "Ordine 4411 non arrivato" || tk.Channel != ticket.ChannelEmail || tk.TeamID == nil || *tk.TeamID != m.teamID {
			t.Fatalf("the new ticket: %+v", tk)
		}
		if th := m.thread(t, tk.ID); len(th) != 1 || !strings.Contains(th[0].BodyText, "non è ancora arrivato") {
			t.Fatalf("thread: %+v", th)
		}

		// Apple Mail style: In-Reply-To only, subject "R: …".
		reply := `From: Marta Fontana <marta.fontana@example.it>
To: supporto@bottega.example
Subject: R: Ordine 4411 non arrivato
Message-ID: <reply-4411@example.it>
In-Reply-To: <first-4411@example.it>
Content-Type: text/plain; charset=UTF-8

Aggiungo il numero di tracking: BRT123.

Il giorno lun 2 giu 2025 alle 09:00 Marta Fontana <marta.fontana@example.it> ha scritto:
> Buongiorno, l'ordine 4411 non è ancora arrivato.
`
		if err := m.send(t, "marta.fontana@example.it", []string{"supporto@bottega.example"}, reply); err != nil {
			t.Fatal(err)
		}
		th := m.thread(t, tk.ID)
		if len(m.tickets(t)) != 1 || len(th) != 2 || th[1].BodyText != "Aggiungo il numero di tracking: BRT123." {
			t.Fatalf("the reply: %d tickets, thread %+v", len(m.tickets(t)), th)
		}

		// A stranger quoting the ticket's number and its Message-ID.
		hijack := fmt.Sprintf(`From: Sconosciuto <chi@altrove.example>
To: supporto@bottega.example
Subject: Re: [#%d] Ordine 4411 non arrivato
Message-ID: <hijack@altrove.example>
In-Reply-To: <first-4411@example.it>
Content-Type: text/plain; charset=UTF-8

Fatemi vedere quell'ordine.
`, tk.ID)
		if err := m.send(t, "chi@altrove.example", []string{"supporto@bottega.example"}, hijack); err != nil {
			t.Fatal(err)
		}
		ts = m.tickets(t)
		if len(ts) != 2 || len(m.thread(t, tk.ID)) != 2 {
			t.Fatalf("a stranger's reply joined the ticket: %d tickets, %d messages", len(ts), len(m.thread(t, tk.ID)))
		}
		if ts[1].FollowUpOfID == nil || *ts[1].FollowUpOfID != tk.ID {
			t.Errorf("the stranger's ticket is not linked to the one it named: %+v", ts[1])
		}

		// The agent solves it; an out-of-office answer arrives.
		if _, err := m.d.Tickets.Update(ctx, ticket.System, tk.ID, ticket.Patch{Status: ptr(ticket.StatusSolved)}); err != nil {
			t.Fatal(err)
		}
		ooo := `From: Marta Fontana <marta.fontana@example.it>
To: supporto@bottega.example
Subject: Risposta automatica: Ordine 4411 non arrivato
Message-ID: <ooo-4411@example.it>
In-Reply-To: <reply-4411@example.it>
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=UTF-8

Sono fuori ufficio fino al 16 giugno.
`
		if err := m.send(t, "marta.fontana@example.it", []string{"supporto@bottega.example"}, ooo); err != nil {
			t.Fatal(err)
		}
		got, _ := m.d.Tickets.Get(ctx, ticket.System, tk.ID)
		th = m.thread(t, tk.ID)
		if got.Status != ticket.StatusSolved || len(m.tickets(t)) != 2 || th[len(th)-1].Kind != ticket.KindNote {
			t.Fatalf("out-of-office: status %s, %d tickets, last message %s", got.Status, len(m.tickets(t)), th[len(th)-1].Kind)
		}

		// A permanent bounce of a mail to the stranger.
		bounce := `From: Mail Delivery System <MAILER-DAEMON@mx.bottega.example>
To: supporto@bottega.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.bottega.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

Your message could not be delivered.
--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.bottega.example

Final-Recipient: rfc822; chi@altrove.example
Action: failed
Status: 5.1.1

--R
Content-Type: message/rfc822

From: supporto@bottega.example
To: chi@altrove.example
Subject: Re: Ordine
Message-ID: <hijack@altrove.example>

x
--R--
`
		if err := m.send(t, "", []string{"supporto@bottega.example"}, bounce); err != nil {
			t.Fatal(err)
		}
		if st, err := m.d.Store.Undeliverable(ctx, "chi@altrove.example"); err != nil || st != "5.1.1" {
			t.Errorf("the bounced address: %q %v, want 5.1.1", st, err)
		}
		if n := len(m.tickets(t)); n != 2 {
			t.Errorf("a bounce opened a ticket: %d", n)
		}

		// The ticket shows the address as undeliverable, and every mail
		// can be downloaded exactly as it came.
		b := signedIn(t, m.desk, "admin")
		if _, _, page := b.req("GET", fmt.Sprintf("/tickets/%d", ts[1].ID), nil, ""); !strings.Contains(page, "non recapitabile (5.1.1)") {
			t.Error("the requester card does not say the address bounced")
		}
		first1 := m.thread(t, tk.ID)[0]
		raw := m.do("agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/messages/%d/raw", tk.ID, first1.ID), nil)
		if raw.Status != 200 || raw.Header.Get("Content-Type") != "message/rfc822" || !strings.Contains(raw.String(), "Message-ID: <first-4411@example.it>") {
			t.Errorf("the raw mail: %d %s %.200s", raw.Status, raw.Header.Get("Content-Type"), raw)
		}

		// Unknown recipients are refused at RCPT time.
		err := m.send(t, "x@example.com", []string{"nessuno@bottega.example"}, "Subject: x\n\nx\n")
		if err == nil || !strings.Contains(err.Error(), "550") {
			t.Errorf("an unknown recipient: %v, want a 550", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Hostile and broken mail through the listener: a mail over the size
// limit is refused (552) and leaves nothing; an HTML-only mail with
// scripts, event handlers and remote images is stored sanitised; a mail
// without a Message-ID delivered twice lands once; broken MIME still
// opens a ticket; and the mailbox keeps flowing after each.
func TestHostileMailThroughSMTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		m := newMailDesk(t, db)
		big := "From: a@example.com\nTo: supporto@bottega.example\nSubject: enorme\nMessage-ID: <big@example.com>\n\n" + strings.Repeat("x", 36<<20) + "\n"
		// The listener answers 552 and hangs up; a client still writing
		// may see the reset first. Either way nothing is stored.
		if err := m.send(t, "a@example.com", []string{"supporto@bottega.example"}, big); err == nil {
			t.Error("a mail over --smtp-max-mb was accepted")
		}
		if n := len(m.tickets(t)); n != 0 {
			t.Fatalf("a refused mail opened %d tickets", n)
		}
		evil := `From: Troll <troll@example.com>
To: supporto@bottega.example
Subject: Offerta
Message-ID: <evil@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8

<p onclick="steal()">Ciao</p><script>alert(1)</script><img src="https://tracker.example/p.gif" onerror="x()"><style>body{background:url(https://exfil.example/?c=1)}</style><a href="javascript:alert(2)">clic</a>
`
		noID := `From: Senza Id <senzaid@example.com>
To: supporto@bottega.example
Subject: Nessun Message-ID

Questo messaggio non ha un Message-ID.
`
		broken := `From: Rotto <rotto@example.com>
To: supporto@bottega.example
Subject: MIME rotto
Message-ID: <broken@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="X"

--X
Content-Type: text/plain

testo leggibile
--X
Content-Type: application/pdf; name="a.pdf"
Content-Transfer-Encoding: base64

!!!non base64!!!
`
		for _, raw := range []string{evil, noID, noID, broken} {
			if err := m.send(t, "x@example.com", []string{"supporto@bottega.example"}, raw); err != nil {
				t.Fatal(err)
			}
		}
		ts := m.tickets(t)
		if len(ts) != 3 {
			t.Fatalf("%d tickets, want 3 (the evil one, the one without id once, the broken one)", len(ts))
		}
		html := m.thread(t, ts[0].ID)[0].BodyHTML
		for _, bad := range []string{"<script", "onclick", "onerror", `href="javascript:`, "tracker.example", "exfil.example", "<style"} {
			if strings.Contains(strings.ToLower(html), bad) {
				t.Errorf("the stored HTML keeps %q: %s", bad, html)
			}
		}
		if !strings.Contains(html, "Ciao") {
			t.Errorf("the stored HTML lost the text: %s", html)
		}
		if th := m.thread(t, ts[2].ID); !strings.Contains(th[0].BodyText, "testo leggibile") {
			t.Errorf("broken MIME: %+v", th)
		}
	})
}

// literal is a mail for IMAP APPEND.
type literal struct{ *strings.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// A mailbox that receives by IMAP, against a real IMAP server over TCP
// (go-imap's in-memory server): new mail becomes tickets and moves to the
// archive folder; a mail that turns up again (another copy with the same
// Message-ID, as after a crash between storing and moving) is not stored
// twice; the password is sealed at rest and never sent back.
func TestIMAPImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		user, addr := memIMAP(t, "desk@bottega.example", "imap-password-123", "INBOX", "Archivio")
		host, port, _ := net.SplitHostPort(addr)
		mail := func(id, subject string) string {
			return "From: Cliente <cliente." + id + "@example.it>\r\nTo: desk@bottega.example\r\nSubject: " + subject +
				"\r\nMessage-ID: <" + id + "@example.it>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nTesto di " + subject + "\r\n"
		}
		appendMail := func(raw string) {
			if _, err := user.Append("INBOX", literal{strings.NewReader(raw)}, &imap.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		appendMail(mail("a1", "Prima richiesta"))
		appendMail(mail("a2", "Seconda richiesta"))
		created := k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "desk@bottega.example", "team_id": k.teamID,
			"imap": map[string]any{"host": host, "port": mustAtoi(t, port), "tls": "none", "user": "desk@bottega.example", "password": "imap-password-123",
				"after": "move", "move_to": "Archivio", "poll_seconds": 30}})
		if strings.Contains(created.String(), "imap-password-123") || !strings.Contains(created.String(), `"password_set":true`) {
			t.Fatalf("the API answer: %s", created)
		}
		mb, err := k.d.Store.MailboxByAddress(ctx, "desk@bottega.example")
		if err != nil {
			t.Fatal(err)
		}
		if mb.IMAPPassword == "" || strings.Contains(mb.IMAPPassword, "imap-password-123") {
			t.Fatalf("the password is stored as %q", mb.IMAPPassword)
		}
		p := k.d.IMAPPoller()
		if n, err := p.Poll(ctx, mb); err != nil || n != 2 {
			t.Fatalf("first poll: %d mails, %v", n, err)
		}
		if st, _ := user.Status("INBOX", &imap.StatusOptions{NumMessages: true}); st == nil || *st.NumMessages != 0 {
			t.Errorf("imported mail was not moved out of INBOX: %+v", st)
		}
		if st, _ := user.Status("Archivio", &imap.StatusOptions{NumMessages: true}); st == nil || *st.NumMessages != 2 {
			t.Errorf("the archive holds %+v", st)
		}
		appendMail(mail("a3", "Terza richiesta"))
		appendMail(mail("a1", "Prima richiesta")) // the same mail again
		if n, err := p.Poll(ctx, mb); err != nil || n != 2 {
			t.Fatalf("second poll: %d mails, %v", n, err)
		}
		ts, err := k.d.Tickets.List(ctx, ticket.System, ticket.Filter{Limit: 10, Sort: "number"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 3 || ts[0].Subject != "Prima richiesta" || ts[2].Subject != "Terza richiesta" || *ts[0].TeamID != k.teamID {
			t.Fatalf("tickets after two polls: %+v", ts)
		}
		if n, err := p.Poll(ctx, mb); err != nil || n != 0 {
			t.Fatalf("a poll with nothing new: %d, %v", n, err)
		}

		// "Test connection" names the step that fails.
		if r := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/mailboxes/%d/test", mb.ID), nil); check(r, "imap")["ok"] != true {
			t.Errorf("the working mailbox's check: %s", r)
		}
		closed, _ := net.Listen("tcp", "127.0.0.1:0")
		closedPort := mustAtoi(t, strings.Split(closed.Addr().String(), ":")[1])
		closed.Close()
		for _, c := range []struct {
			imap map[string]any
			step string
		}{
			{map[string]any{"host": host, "port": mustAtoi(t, port), "tls": "none", "user": "desk@bottega.example", "password": "wrong-password-1"}, "auth"},
			{map[string]any{"host": host, "port": mustAtoi(t, port), "tls": "none", "user": "desk@bottega.example", "password": "imap-password-123", "folder": "Nessuna"}, "folder"},
			{map[string]any{"host": "127.0.0.1", "port": closedPort, "tls": "none", "user": "u", "password": "p"}, "tcp"},
			{map[string]any{"host": host, "port": mustAtoi(t, port), "tls": "tls", "user": "u", "password": "p"}, "tls"},
			{map[string]any{"host": "imap.does-not-exist.invalid", "port": 993, "tls": "tls", "user": "u", "password": "p"}, "dns"},
		} {
			box := k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": fmt.Sprintf("prova-%s@bottega.example", c.step), "imap": c.imap})
			r := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/mailboxes/%d/test", box.num("id")), nil)
			if got := check(r, "imap"); got["ok"] != false || got["step"] != c.step {
				t.Errorf("check expecting %s: %s", c.step, r)
			}
		}
	})
}

// memIMAP serves one user with the given folders from go-imap's
// in-memory server (IMAP4rev2, which includes IDLE) on 127.0.0.1 and
// returns the user and the server's address.
func memIMAP(t *testing.T, login, password string, folders ...string) (*imapmemserver.User, string) {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(login, password)
	for _, f := range folders {
		if err := user.Create(f, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true,
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return user, ln.Addr().String()
}

// check is one side (imap, smtp) of a mailbox test's answer.
func check(r resp, side string) map[string]any {
	c, _ := r.JSON[side].(map[string]any)
	return c
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
