package app_test

import (
	"context"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// idleImport runs the desk's IMAP poller against a real server with a
// poll interval of an hour: after the first (empty) poll, a mail another
// client appends must become a ticket within seconds, which only IMAP
// IDLE can do.
func idleImport(t *testing.T, k *desk, host string, port int, user, pass string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": user, "team_id": k.teamID,
		"imap": map[string]any{"host": host, "port": port, "tls": "none", "user": user, "password": pass, "after": "seen", "poll_seconds": 3600}})
	done := make(chan struct{})
	go func() { k.d.IMAPPoller().Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(1500 * time.Millisecond) // the first poll, and the IDLE connection
	c, err := imapclient.DialInsecure(net.JoinHostPort(host, strconv.Itoa(port)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	raw := "From: Giulia Conti <giulia.conti@example.it>\r\nTo: " + user + "\r\nSubject: Arrivata con IDLE " + id +
		"\r\nMessage-ID: <idle-" + id + "@example.it>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nBuongiorno, scrivo per il preventivo.\r\n"
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 15*time.Second; time.Sleep(100 * time.Millisecond) {
		ts, err := k.d.Tickets.List(context.Background(), ticket.System, ticket.Filter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if strings.HasSuffix(tk.Subject, id) {
				return
			}
		}
	}
	t.Fatal("the mail did not become a ticket within 15 s: IDLE did not wake the poller")
}

// IMAP IDLE against go-imap's in-memory server (which offers IDLE with
// IMAP4rev2), on both databases.
func TestIMAPIdle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		_, addr := memIMAP(t, "idle@bottega.example", "idle-password-1", "INBOX")
		_, port, _ := net.SplitHostPort(addr)
		idleImport(t, k, "127.0.0.1", mustAtoi(t, port), "idle@bottega.example", "idle-password-1")
	})
}

// IMAP IDLE against Debian's Dovecot, which .ci/mailservers starts and
// names in SPORTELLO_TEST_DOVECOT (host:port user password).
func TestDovecotIdle(t *testing.T) {
	env := os.Getenv("SPORTELLO_TEST_DOVECOT")
	if env == "" {
		t.Skip("SPORTELLO_TEST_DOVECOT is not set: .ci/mailservers starts Dovecot and sets it (CI does)")
	}
	f := strings.Fields(env)
	if len(f) != 3 {
		t.Fatalf("SPORTELLO_TEST_DOVECOT=%q: want host:port user password", env)
	}
	host, port, _ := net.SplitHostPort(f[0])
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		idleImport(t, newDesk(t, db), host, mustAtoi(t, port), f[1], f[2])
	})
}

// Delivery from Debian's Postfix to the built-in SMTP listener: Postfix
// (started by .ci/mailservers, named in SPORTELLO_TEST_POSTFIX as "its
// address, our listener's address") accepts a customer's mail and relays
// it to Sportello, where it becomes a ticket once, on both databases.
func TestPostfixRelay(t *testing.T) {
	env := os.Getenv("SPORTELLO_TEST_POSTFIX")
	if env == "" {
		t.Skip("SPORTELLO_TEST_POSTFIX is not set: .ci/mailservers starts Postfix and sets it (CI does)")
	}
	f := strings.Fields(env)
	if len(f) != 2 {
		t.Fatalf("SPORTELLO_TEST_POSTFIX=%q: want postfix-addr listener-addr", env)
	}
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "supporto@bottega.example", "team_id": k.teamID})
		var ln net.Listener
		var err error
		for range 50 { // the previous subtest's listener may still be closing
			if ln, err = net.Listen("tcp", f[1]); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		l := k.d.SMTPListener()
		go l.Serve(ln)
		defer l.Close()
		id := strconv.FormatInt(time.Now().UnixNano(), 36)
		raw := "From: Paolo Ricci <paolo.ricci@example.it>\r\nTo: supporto@bottega.example\r\nSubject: Via Postfix " + id +
			"\r\nMessage-ID: <postfix-" + id + "@example.it>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nLa caldaia non parte.\r\n"
		if err := smtp.SendMail(f[0], nil, "paolo.ricci@example.it", []string{"supporto@bottega.example"}, []byte(raw)); err != nil {
			t.Fatalf("handing the mail to Postfix: %v", err)
		}
		for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(200 * time.Millisecond) {
			ts, err := k.d.Tickets.List(context.Background(), ticket.System, ticket.Filter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) == 1 && ts[0].Subject == "Via Postfix "+id {
				th, _ := k.d.Tickets.Thread(context.Background(), ticket.System, ts[0].ID)
				if len(th) != 1 || !strings.Contains(th[0].BodyText, "caldaia") {
					t.Fatalf("thread: %+v", th)
				}
				return
			}
		}
		t.Fatal("Postfix did not deliver the mail to the listener within 60 s")
	})
}
