package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// The mail pages of the workspace, on both databases: an admin adds a
// mailbox through the form (errors next to the field in Italian, input
// kept, the password never shown again), tests its connection and reads
// which step failed in words, edits a customer template (an unknown
// placeholder is refused) and deletes a mailbox only after confirming;
// a lead may not open the pages. On a ticket the composer says who
// receives the reply, the agent changes the CCs with the reply (a bad
// address comes back with the text kept), and the thread shows the mail's
// state.
func TestMailWorkspace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDeskWith(t, db, app.Options{JobPoll: 100 * time.Millisecond})
		s := newSink(t)
		if err := k.d.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		admin := signedIn(t, k, "admin")
		if st, _, _ := signedIn(t, k, "lead").req("GET", "/admin/mailboxes", nil, ""); st != http.StatusForbidden {
			t.Errorf("a lead opens the mailboxes page: %d", st)
		}
		form := url.Values{"address": {"assistenza@bottega.example"}, "name": {"Assistenza Bottega"}, "team_id": {strconv.FormatInt(k.teamID, 10)},
			"auto_ack": {"1"}, "smtp_host": {"127.0.0.1"}, "smtp_port": {"99999"}, "smtp_tls": {"none"}, "smtp_user": {"desk"},
			"smtp_password": {"smtp-secret-1"}, "auth": {"password"}, "signature_it": {"Il team"}}
		st, _, body := admin.req("POST", "/admin/mailboxes", form, "")
		if st != 422 || !strings.Contains(body, `value="99999"`) || !strings.Contains(body, `value="assistenza@bottega.example"`) || !strings.Contains(body, "invalid") {
			t.Fatalf("a bad port: %d", st)
		}
		form.Set("smtp_port", strconv.Itoa(s.port()))
		st, h, _ := admin.req("POST", "/admin/mailboxes", form, "")
		if st != http.StatusSeeOther {
			t.Fatalf("create: %d", st)
		}
		page := h.Get("Location")
		_, _, body = admin.req("GET", page, nil, "")
		if strings.Contains(body, "smtp-secret-1") || !strings.Contains(body, "lascia vuoto per non cambiarla") {
			t.Fatalf("the password is shown again, or not said to be set")
		}
		id := strings.TrimSuffix(strings.TrimPrefix(page, "/admin/mailboxes/"), "?saved=1")
		_, _, body = admin.req("POST", "/admin/mailboxes/"+id+"/test", url.Values{}, "")
		if !strings.Contains(body, "Invio SMTP</strong>: funziona.") {
			t.Fatalf("the test of a working mailbox: %s", snippet(body, "Invio SMTP"))
		}
		closed, _ := net.Listen("tcp", "127.0.0.1:0")
		closedPort := strings.Split(closed.Addr().String(), ":")[1]
		closed.Close()
		broken := url.Values{"address": {"rotta@bottega.example"}, "smtp_host": {"127.0.0.1"}, "smtp_port": {closedPort}, "smtp_tls": {"none"}, "auth": {"password"}}
		_, h, _ = admin.req("POST", "/admin/mailboxes", broken, "")
		brokenID := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/admin/mailboxes/"), "?saved=1")
		if _, _, body = admin.req("POST", "/admin/mailboxes/"+brokenID+"/test", url.Values{}, ""); !strings.Contains(body, "il server non risponde su quella porta") {
			t.Errorf("a closed port is not named: %s", snippet(body, "Invio SMTP"))
		}
		if _, _, body = admin.req("POST", "/admin/mailboxes/"+brokenID+"/test", url.Values{}, "en"); !strings.Contains(body, "Invio SMTP") {
			t.Errorf("the admin's own language (Italian) wins over the browser's")
		}
		// Delete asks first.
		if st, _, body = admin.req("POST", "/admin/mailboxes/"+brokenID+"/delete", url.Values{}, ""); st != 200 || !strings.Contains(body, "Eliminare la casella rotta@bottega.example?") {
			t.Fatalf("delete without confirmation: %d", st)
		}
		if st, _, _ = admin.req("GET", "/admin/mailboxes/"+brokenID, nil, ""); st != 200 {
			t.Fatalf("the mailbox is gone before the admin confirmed: %d", st)
		}
		if st, _, _ = admin.req("POST", "/admin/mailboxes/"+brokenID+"/delete", url.Values{"confirm": {"1"}}, ""); st != http.StatusSeeOther {
			t.Fatalf("confirmed delete: %d", st)
		}
		if st, _, _ = admin.req("GET", "/admin/mailboxes/"+brokenID, nil, ""); st != 404 {
			t.Errorf("deleted mailbox: %d", st)
		}
		// Templates: an unknown placeholder is refused; a good one is kept.
		bad := url.Values{"subject": {"Ricevuto: {subject}"}, "body": {"Ciao {nome}, il caso è {ticket}."}}
		if st, _, body = admin.req("POST", "/admin/mail-templates/ack/it", bad, ""); st != 422 || !strings.Contains(body, "Segnaposto sconosciuto") || !strings.Contains(body, "Ciao {nome}") {
			t.Fatalf("unknown placeholder: %d", st)
		}
		good := url.Values{"subject": {"Ricevuto: {subject}"}, "body": {"Ciao {name}, il tuo caso è {ticket}. Risponderemo {deadline}."}}
		if st, _, _ = admin.req("POST", "/admin/mail-templates/ack/it", good, ""); st != http.StatusSeeOther {
			t.Fatalf("template save: %d", st)
		}
		if _, _, body = admin.req("GET", "/admin/mailboxes", nil, ""); !strings.Contains(body, "Ciao Marta, il tuo caso è #1234") {
			t.Errorf("the preview does not fill the placeholders")
		}

		// The composer: who receives the reply, CCs changed with it.
		created := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Reso", "body": "Vorrei fare un reso.",
			"requester": map[string]any{"email": "luca.greco@example.it", "name": "Luca Greco"}, "channel": "phone", "team_id": k.teamID})
		num := created.num("number")
		agentB := signedIn(t, k, "agent")
		tp := fmt.Sprintf("/tickets/%d", num)
		_, _, body = agentB.req("GET", tp, nil, "")
		if !strings.Contains(body, "La risposta va a <strong>luca.greco@example.it</strong>") {
			t.Fatalf("the composer does not say who receives the reply")
		}
		reply := url.Values{"kind": {"reply"}, "body": {"Le mando l'etichetta per il reso."}, "cc": {"anna.greco@example.it, not-an-address"}, "was_cc": {""}, "form_token": {"tok-cc-1"}}
		if st, _, body = agentB.req("POST", tp+"/messages", reply, ""); st != 422 || !strings.Contains(body, "Indirizzo non valido: not-an-address") || !strings.Contains(body, "Le mando l&#39;etichetta") {
			t.Fatalf("a bad CC: %d %s", st, snippet(body, "cc-error"))
		}
		reply.Set("cc", "anna.greco@example.it")
		if st, _, _ = agentB.req("POST", tp+"/messages", reply, ""); st != http.StatusSeeOther {
			t.Fatalf("reply with CC: %d", st)
		}
		got := s.wait(1, 20*time.Second)
		if got.To[0] != "luca.greco@example.it" || len(got.To) != 2 || got.To[1] != "anna.greco@example.it" || !strings.Contains(header(got, "Cc"), "anna.greco@example.it") {
			t.Fatalf("the reply went to %v (Cc %q)", got.To, header(got, "Cc"))
		}
		for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(100 * time.Millisecond) {
			if _, _, body = agentB.req("GET", tp, nil, ""); strings.Contains(body, `badge mail-sent`) {
				break
			}
		}
		if !strings.Contains(body, `badge mail-sent`) || !strings.Contains(body, `value="anna.greco@example.it"`) {
			t.Fatalf("the thread does not show the sent mail, or the CC is not kept")
		}
	})
}

// snippet is the page text around a marker, for failure messages.
func snippet(body, near string) string {
	i := strings.Index(body, near)
	if i < 0 {
		return "(" + near + " not on the page)"
	}
	return body[max(0, i-200):min(len(body), i+300)]
}

// An HTML-only mail with an inline cid: image: the thread's sandboxed
// frame shows the image through a signed link that works without a
// cookie (the frame sends none) and not when tampered with; remote images
// stay blocked.
func TestInlineImages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		m := newMailDesk(t, db)
		png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
		raw := `From: Sara Bianchi <sara.bianchi@example.it>
To: supporto@bottega.example
Subject: Foto del pacco
Message-ID: <cid-1@example.it>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=UTF-8

<p>Ecco il pacco rotto:</p><img src="cid:foto1@example.it" alt="pacco"><img src="https://tracker.example/pixel.gif">
--rel
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-ID: <foto1@example.it>
Content-Disposition: inline

` + png + `
--rel--
`
		if err := m.send(t, "sara.bianchi@example.it", []string{"supporto@bottega.example"}, raw); err != nil {
			t.Fatal(err)
		}
		ts := m.tickets(t)
		if len(ts) != 1 {
			t.Fatalf("%d tickets", len(ts))
		}
		b := signedIn(t, m.desk, "agent")
		_, _, body := b.req("GET", fmt.Sprintf("/tickets/%d", ts[0].ID), nil, "")
		i := strings.Index(body, "/api/v1/inline/")
		if i < 0 {
			t.Fatalf("the frame does not point the cid: image at a signed link: %s", snippet(body, "srcdoc"))
		}
		if strings.Contains(body, "tracker.example") {
			t.Errorf("the remote image is not blocked")
		}
		// The link sits in the frame's srcdoc, escaped twice.
		link := body[i : i+strings.Index(body[i:], "&#34;")]
		link = strings.NewReplacer("&amp;amp;", "&", "&amp;", "&").Replace(link)
		res, err := http.Get(m.srv.URL + link) // no cookie, as from the sandboxed frame
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("the signed link %s: %d %s", link, res.StatusCode, res.Header.Get("Content-Type"))
		}
		res, _ = http.Get(m.srv.URL + strings.Replace(link, "sig=", "sig=x", 1))
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("a tampered link: %d", res.StatusCode)
		}
	})
}

// A reply that cannot go out for the desk's own reason (the mailbox has no
// SMTP server) says so in the agent's language and what to do.
func TestMailReasonInWords(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		m := newMailDeskWith(t, db, app.Options{JobPoll: 100 * time.Millisecond})
		if err := m.d.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		num := m.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Reso", "body": "Vorrei un reso.",
			"requester": map[string]any{"email": "gino@example.it"}, "team_id": m.teamID, "channel": "phone"}).num("number")
		m.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "reply", "body": "Ecco l'etichetta."})
		if st := waitMailStatus(m.desk, fmt.Sprintf("/api/v1/tickets/%d/mails", num), 0, "failed"); st != "failed" {
			t.Fatalf("the mail is %q", st)
		}
		_, _, body := signedIn(t, m.desk, "agent").req("GET", fmt.Sprintf("/tickets/%d", num), nil, "")
		if !strings.Contains(body, "la casella non ha un server SMTP per inviare") || strings.Contains(body, "permanent") {
			t.Errorf("the reason is not said in Italian: %s", snippet(body, "mail-state"))
		}
	})
}
