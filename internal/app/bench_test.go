package app_test

// Benchmarks for docs/BENCHMARKS.md. The small ones build their own desk;
// the ones "at 1M" read a database filled beforehand with `sportello gen`:
//
//	SPORTELLO_BENCH_SQLITE=/path/to/data-dir      (holds sportello.db)
//	SPORTELLO_BENCH_POSTGRES=postgres://…/db
//
// and skip, saying so, when those are not set.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

func benchEngines(b *testing.B, fn func(b *testing.B, db testdb.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, testdb.DB{Engine: "sqlite", DataDir: b.TempDir()}) })
	b.Run("postgres", func(b *testing.B) { fn(b, testdb.Postgres(b)) })
}

func benchDesk(b *testing.B, db testdb.DB) *app.Desk { return startNode(b, db, db.DataDir) }

// BenchmarkCreateTicketService: tickets created through the ticket service
// (validation, contact lookup, ticket, message, events, tags in one
// transaction), one at a time.
func BenchmarkCreateTicketService(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := d.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: "Ordine non arrivato", BodyText: "Buongiorno, il mio ordine non è ancora arrivato.",
				Requester: ticket.Requester{Email: fmt.Sprintf("c%d@example.com", i%500)}, Tags: []string{"spedizione"}})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	})
}

// BenchmarkCreateTicketHTTP: POST /api/v1/tickets over loopback TCP with
// 16 concurrent clients (2 cores × parallelism 8), bearer token auth.
func BenchmarkCreateTicketHTTP(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		srv := httptest.NewServer(d.Handler())
		defer srv.Close()
		tok := benchToken(b, d)
		var n atomic.Int64
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		c := &http.Client{Transport: tr}
		b.SetParallelism(max(1, 16/runtimeProcs()))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				body, _ := json.Marshal(map[string]any{"subject": "Fattura errata", "body": "La partita IVA è sbagliata.",
					"requester": map[string]any{"email": fmt.Sprintf("h%d@example.com", i%500)}})
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/tickets", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				res, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 201 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	})
}

func benchToken(b *testing.B, d *app.Desk) string {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	a := &agent.Agent{Email: fmt.Sprintf("bench%d@example.com", now.UnixNano()), Name: "Bench", Role: agent.RoleAdmin, Language: "it",
		Timezone: "Europe/Rome", Availability: agent.Online, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := d.Store.CreateAgent(ctx, a); err != nil {
		b.Fatal(err)
	}
	tok, _, err := d.Auth.NewToken(ctx, a.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func runtimeProcs() int { return max(1, testingProcs) }

// bigDesk opens a pre-generated database, or skips.
func bigDesk(b *testing.B, engine string) *app.Desk {
	b.Helper()
	var db testdb.DB
	switch engine {
	case "sqlite":
		dir := os.Getenv("SPORTELLO_BENCH_SQLITE")
		if dir == "" {
			b.Skip("set SPORTELLO_BENCH_SQLITE to a data folder filled with `sportello gen --tickets 1000000`")
		}
		db = testdb.DB{Engine: "sqlite", DataDir: dir}
	default:
		url := os.Getenv("SPORTELLO_BENCH_POSTGRES")
		if url == "" {
			b.Skip("set SPORTELLO_BENCH_POSTGRES to a database filled with `sportello gen --tickets 1000000`")
		}
		db = testdb.DB{Engine: "postgres", URL: url, DataDir: b.TempDir()}
	}
	return benchDesk(b, db)
}

// bigServer serves a pre-generated desk over loopback with an admin token.
func bigServer(b *testing.B, engine string) (*app.Desk, *httptest.Server, string) {
	d := bigDesk(b, engine)
	srv := httptest.NewServer(d.Handler())
	b.Cleanup(srv.Close)
	return d, srv, benchToken(b, d)
}

// latencies runs fn b.N times and reports p50/p95/p99 in milliseconds.
func latencies(b *testing.B, fn func()) {
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		fn()
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(float64(len(ds)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

func getJSON(b *testing.B, c *http.Client, url, tok string) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var v map[string]any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d %v", url, res.StatusCode, v)
	}
}

// BenchmarkListTeamOpenAt1M: GET /api/v1/tickets?team=T&status=open&sort=-created
// (the 50 newest open tickets of a team) on a 1,000,000-ticket database,
// through HTTP, cycling over the generated teams.
func BenchmarkListTeamOpenAt1M(b *testing.B) { benchTeamList(b, "-created") }

// BenchmarkListTeamByDeadlineAt1M: the same list sorted by next SLA
// deadline (a team's queue as its lead sees it by deadline).
func BenchmarkListTeamByDeadlineAt1M(b *testing.B) { benchTeamList(b, "deadline") }

func benchTeamList(b *testing.B, sort string) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d, srv, tok := bigServer(b, engine)
			teams, err := d.Store.Teams(context.Background())
			if err != nil || len(teams) == 0 {
				b.Fatal("no teams", err)
			}
			i := 0
			latencies(b, func() {
				t := teams[i%len(teams)]
				i++
				getJSON(b, srv.Client(), fmt.Sprintf("%s/api/v1/tickets?team=%d&status=open&sort=%s&per_page=50", srv.URL, t.ID, sort), tok)
			})
		})
	}
}

// BenchmarkGetTicket20MessagesAt1M: GET /api/v1/tickets/{n} for a ticket
// with 20 messages, in the 1,000,000-ticket database.
func BenchmarkGetTicket20MessagesAt1M(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d, srv, tok := bigServer(b, engine)
			ctx := context.Background()
			res, err := d.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: "Thread lungo", BodyText: "Primo messaggio",
				Requester: ticket.Requester{Email: "thread@example.com"}})
			if err != nil {
				b.Fatal(err)
			}
			for i := 1; i < 20; i++ {
				kind := ticket.KindReply
				if i%2 == 0 {
					kind = ticket.KindCustomer
				}
				if _, err := d.Tickets.AddMessage(ctx, ticket.System, res.Ticket.ID, ticket.NewMessage{Kind: kind,
					BodyText: fmt.Sprintf("Messaggio %d: grazie per la pazienza, stiamo verificando con il corriere e la aggiorniamo entro domani.", i)}); err != nil {
					b.Fatal(err)
				}
			}
			url := fmt.Sprintf("%s/api/v1/tickets/%d", srv.URL, res.Ticket.ID)
			latencies(b, func() { getJSON(b, srv.Client(), url, tok) })
		})
	}
}

// pageGet fetches a workspace page with a session cookie and checks 200.
func pageGet(b *testing.B, c *http.Client, url, session string) int {
	req, _ := http.NewRequest("GET", url, nil)
	req.AddCookie(&http.Cookie{Name: "sportello_session", Value: session})
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d", url, res.StatusCode)
	}
	return int(n)
}

func benchSession(b *testing.B, d *app.Desk) string {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	a := &agent.Agent{Email: fmt.Sprintf("page%d@example.com", now.UnixNano()), Name: "Page Bench", Role: agent.RoleAdmin, Language: "it",
		Timezone: "Europe/Rome", Availability: agent.Online, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := d.Store.CreateAgent(ctx, a); err != nil {
		b.Fatal(err)
	}
	tok, err := d.Auth.NewSession(ctx, a.ID)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// BenchmarkInboxPageAt1M: GET /?view=open (six queue counts plus 50 rows
// with requester, team and assignee names) as an admin, who sees all of a
// 1,000,000-ticket desk.
func BenchmarkInboxPageAt1M(b *testing.B) { benchPageAt1M(b, "/?view=open") }

// benchPageAt1M measures one workspace page on both big desks.
func benchPageAt1M(b *testing.B, path string) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d := bigDesk(b, engine)
			srv := httptest.NewServer(d.Handler())
			defer srv.Close()
			s := benchSession(b, d)
			latencies(b, func() { pageGet(b, srv.Client(), srv.URL+path, s) })
		})
	}
}

// BenchmarkTicketPageAt1M: GET /tickets/{n} for a ticket with 20 messages.
func BenchmarkTicketPageAt1M(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d := bigDesk(b, engine)
			srv := httptest.NewServer(d.Handler())
			defer srv.Close()
			s := benchSession(b, d)
			ctx := context.Background()
			res, err := d.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: "Pagina lunga", BodyText: "Primo messaggio",
				Requester: ticket.Requester{Email: "page@example.com"}})
			if err != nil {
				b.Fatal(err)
			}
			for i := 1; i < 20; i++ {
				if _, err := d.Tickets.AddMessage(ctx, ticket.System, res.Ticket.ID, ticket.NewMessage{Kind: ticket.KindNote,
					BodyText: fmt.Sprintf("Nota %d: verificato con il magazzino, la spedizione parte domani.", i)}); err != nil {
					b.Fatal(err)
				}
			}
			url := fmt.Sprintf("%s/tickets/%d", srv.URL, res.Ticket.ID)
			latencies(b, func() { pageGet(b, srv.Client(), url, s) })
		})
	}
}

// BenchmarkSearchPageAt1M: GET /search?q=… (ranked tickets with
// highlighted subject and snippet, plus matching contacts) as an admin
// over a 1,000,000-ticket desk, for words of different rarity: an order
// code found once, a product found in ~2.5 % of tickets, a word found in
// most tickets, two words together, and a common word with a status filter.
func BenchmarkSearchPageAt1M(b *testing.B) {
	queries := []struct{ name, query string }{
		{"rare", "q=%d"},
		{"product", "q=stampanti"},
		{"common", "q=tracking"},
		{"two-words", "q=router+connessione"},
		{"common-filtered", "q=tracking&status=open"},
		// By the requester (issue 11): a surname about 1 contact in 60
		// has, a first name and surname together, and the filter the
		// type-ahead sets (one contact's tickets, newest first).
		{"requester-surname", "q=Greco"},
		{"requester-name", "q=Giulia+Greco"},
		{"requester-filter", "requester=%c"},
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, qq := range queries {
			b.Run(engine+"/"+qq.name, func(b *testing.B) {
				d := bigDesk(b, engine)
				srv := httptest.NewServer(d.Handler())
				defer srv.Close()
				s := benchSession(b, d)
				i := 0
				latencies(b, func() {
					q := qq.query
					if strings.Contains(q, "%d") {
						q = fmt.Sprintf(q, 1000000+1+(i*7919)%1000000) // a different order code each time
					}
					if strings.Contains(q, "%c") {
						q = strings.Replace(q, "%c", strconv.Itoa(1+(i*7919)%50000), 1) // a different contact each time
					}
					i++
					pageGet(b, srv.Client(), srv.URL+"/search?"+q, s)
				})
			})
		}
	}
}

// BenchmarkLookupContactsAt1M: the type-ahead of the requester filter
// and the new-ticket form, GET /lookup/contacts?q=…, on the 50,000
// contacts of the 1,000,000-ticket desk: a surname's first letters, a
// first name and surname, an address domain, a phone number's digits.
func BenchmarkLookupContactsAt1M(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d := bigDesk(b, engine)
			srv := httptest.NewServer(d.Handler())
			defer srv.Close()
			s := benchSession(b, d)
			queries := []string{"gre", "giulia gre", "ferramenta", "rossi", "libero.example"}
			i := 0
			latencies(b, func() {
				q := queries[i%len(queries)]
				i++
				pageGet(b, srv.Client(), srv.URL+"/lookup/contacts?q="+url.QueryEscape(q), s)
			})
		})
	}
}

// BenchmarkInboxByRequesterAt1M: GET /?view=open&sort=requester, the one
// inbox order that sorts the whole queue (by the requester's name).
func BenchmarkInboxByRequesterAt1M(b *testing.B) { benchPageAt1M(b, "/?view=open&sort=requester") }

// BenchmarkInboxByDeadlineAt1M: the inbox sorted by next SLA deadline
// ("open" = new and open tickets, every one with running clocks) and the
// two SLA queues, as an admin over a 1,000,000-ticket desk.
func BenchmarkInboxByDeadlineAt1M(b *testing.B) {
	for _, p := range []struct{ name, path string }{
		{"open", "/?view=open&sort=deadline"},
		{"waiting", "/?view=waiting&sort=deadline"},
		{"breached", "/?view=breached"},
		{"at-risk", "/?view=at_risk"},
	} {
		b.Run(p.name, func(b *testing.B) { benchPageAt1M(b, p.path) })
	}
}

// BenchmarkSLAScanAt1M: one pass of the SLA scan over a 1,000,000-ticket
// desk (about 270,000 open tickets with clocks) when nothing is due: what
// every node does every --sla-scan-seconds.
func BenchmarkSLAScanAt1M(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d := bigDesk(b, engine)
			ctx := context.Background()
			if _, err := d.SLA.Scan(ctx); err != nil { // fire what is due, once
				b.Fatal(err)
			}
			latencies(b, func() {
				if _, err := d.SLA.Scan(ctx); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkSLARecompute: re-deriving the clocks of open tickets from their
// histories, as after a configuration change, in tickets per second (the
// generator's tickets: ~5 messages and a few status changes each). One
// iteration re-derives the 10,000 oldest open tickets.
func BenchmarkSLARecompute(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			d := bigDesk(b, engine)
			ctx := context.Background()
			open, err := d.Tickets.List(ctx, ticket.System, ticket.Filter{Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusOnHold}, Sort: "number", Limit: 10000})
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, len(open))
			for i, t := range open {
				ids[i] = t.ID
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.SLA.RecomputeTickets(ctx, ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "tickets/s")
		})
	}
}

// BenchmarkSignInAnswers times the answers a stranger can provoke: a known
// email with a wrong password, an unknown email, a locked account. They
// should cost the same (one argon2id comparison each), so that timing does
// not reveal which emails have accounts (issue 9).
func BenchmarkSignInAnswers(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		ctx := context.Background()
		now := time.Now().UTC()
		for _, email := range []string{"known@example.com", "locked@example.com"} {
			a := &agent.Agent{Email: email, Name: "Bench", Role: agent.RoleAgent, Language: "it", Timezone: "Europe/Rome",
				Availability: agent.Online, Active: true, PasswordHash: mustHash(b, "the right password"), CreatedAt: now, UpdatedAt: now}
			if err := d.Store.CreateAgent(ctx, a); err != nil {
				b.Fatal(err)
			}
		}
		for range 6 {
			d.Auth.Login(ctx, "locked@example.com", "wrong", "203.0.113.1")
		}
		var n atomic.Int64
		for _, c := range []struct{ name, email string }{{"known", "known@example.com"}, {"unknown", "nobody@example.com"}, {"locked", "locked@example.com"}} {
			b.Run(c.name, func(b *testing.B) {
				var id int64
				if c.name == "known" {
					id = mustAgentID(b, d, c.email)
				}
				for b.Loop() {
					// A fresh address each time: the per-address budget is
					// not what is measured here.
					ip := fmt.Sprintf("198.51.%d.%d", n.Add(1)/250%250, n.Load()%250)
					if id != 0 {
						// Keep the known account below the lockout.
						d.Store.ResetLoginFailures(ctx, id)
					}
					d.Auth.Login(ctx, c.email, "a wrong password", ip)
				}
			})
		}
	})
}

func mustHash(b *testing.B, pw string) string {
	h, err := auth.HashPassword(pw)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func mustAgentID(b *testing.B, d *app.Desk, email string) int64 {
	a, err := d.Store.AgentByEmail(context.Background(), email)
	if err != nil {
		b.Fatal(err)
	}
	return a.ID
}

// BenchmarkMailIntakeSMTP measures mails taken in through the built-in
// SMTP listener (parse, classify, thread, store): one SMTP connection, a
// new customer mail per operation, each opening a ticket.
func BenchmarkMailIntakeSMTP(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		addr := benchListener(b, d)
		c, err := smtp.Dial(addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		i := 0
		for b.Loop() {
			i++
			if err := c.Mail("cliente@example.it"); err != nil {
				b.Fatal(err)
			}
			if err := c.Rcpt("supporto@bottega.example"); err != nil {
				b.Fatal(err)
			}
			w, err := c.Data()
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(w, "From: Cliente <cliente%d@example.it>\r\nTo: supporto@bottega.example\r\nSubject: Ordine %d non arrivato\r\nMessage-ID: <bench-%d@example.it>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nBuongiorno, l'ordine %d non è arrivato.\r\n\r\nGrazie\r\n", i%500, i, i, i)
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
	})
}

// BenchmarkOutboxToSMTP measures the outbox: agents' replies written with
// their outbox row and job in one transaction, then sent by the job
// queue's workers (go-mail, one SMTP connection per mail) to a local SMTP
// server; the figure is replies delivered per second, from the first
// reply to the last mail the server holds.
func BenchmarkOutboxToSMTP(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		ctx := context.Background()
		s := newSink(b)
		now := time.Now().UTC()
		sealed, err := d.Secrets.Seal("smtp-secret-1")
		if err != nil {
			b.Fatal(err)
		}
		if err := createMailbox(ctx, d, &email.Mailbox{Address: "supporto@bottega.example", Name: "Supporto", SMTPHost: "127.0.0.1",
			SMTPPort: s.port(), SMTPTLS: "none", SMTPUser: "desk", SMTPPassword: sealed, Auth: "password", CreatedAt: now, UpdatedAt: now}); err != nil {
			b.Fatal(err)
		}
		if err := d.StartJobs(ctx); err != nil {
			b.Fatal(err)
		}
		ag := &agent.Agent{Email: "marco@bottega.example", Name: "Marco Rossi", Role: agent.RoleAdmin, Language: "it", Timezone: "Europe/Rome",
			Availability: agent.Online, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := d.Store.CreateAgent(ctx, ag); err != nil {
			b.Fatal(err)
		}
		actor := ticket.AgentActor(ag)
		var ids []int64
		for i := range 20 {
			c, err := d.Tickets.Create(ctx, ticket.System, ticket.NewTicket{Subject: "Reso", BodyText: "Vorrei un reso.",
				Requester: ticket.Requester{Email: fmt.Sprintf("cliente%d@example.it", i)}, Channel: ticket.ChannelEmail})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, c.Ticket.ID)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := d.Tickets.AddMessage(ctx, actor, ids[i%len(ids)], ticket.NewMessage{Kind: ticket.KindReply,
				BodyText: "Le abbiamo spedito l'etichetta per il reso."}); err != nil {
				b.Fatal(err)
			}
		}
		s.wait(b.N, 10*time.Minute)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
	})
}

// BenchmarkIntake25MB measures one 25 MB mail (a 24 MB attachment, base64
// in the mail) taken in through the SMTP listener: the time, and the
// largest heap seen while it was read, stored raw, parsed and written.
func BenchmarkIntake25MB(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		addr := benchListener(b, d)
		payload := make([]byte, 18<<20) // 18 MiB of data is about 25 MB in base64
		for i := range payload {
			payload[i] = byte(i * 7 % 251)
		}
		enc := base64.StdEncoding.EncodeToString(payload)
		var body strings.Builder
		for i := 0; i < len(enc); i += 76 {
			body.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
		}
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}()
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		size := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			raw := fmt.Sprintf("From: Studio Rossi <studio@example.it>\r\nTo: supporto@bottega.example\r\nSubject: Planimetrie %d\r\nMessage-ID: <big-%d-%d@example.it>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nIn allegato le planimetrie.\r\n--b\r\nContent-Type: application/pdf; name=planimetrie.pdf\r\nContent-Disposition: attachment; filename=planimetrie.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n", i, i, time.Now().UnixNano(), body.String())
			size = len(raw)
			if err := smtp.SendMail(addr, nil, "studio@example.it", []string{"supporto@bottega.example"}, []byte(raw)); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		close(stop)
		b.ReportMetric(float64(size)/1e6, "MB/mail")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-MiB")
	})
}

// createMailbox validates (filling the defaults) and stores a mailbox.
func createMailbox(ctx context.Context, d *app.Desk, m *email.Mailbox) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return d.Store.CreateMailbox(ctx, m)
}

// BenchmarkContactSearchAt50k measures contact search by any word (a
// surname), any part of an address (a domain) and a phone number typed
// differently, in a desk of 50,000 contacts, through the store (what the
// API and the page call).
func BenchmarkContactSearchAt50k(b *testing.B) {
	benchEngines(b, func(b *testing.B, db testdb.DB) {
		d := benchDesk(b, db)
		ctx := context.Background()
		surnames := []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
			"Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Wright", "Smith"}
		firsts := []string{"Marco", "Giulia", "Luca", "Sara", "Paolo", "Elena", "Davide", "Chiara", "James", "Emily"}
		now := time.Now().UTC()
		const n = 50000
		for i := 0; i < n; i++ {
			first, last := firsts[i%len(firsts)], surnames[(i/len(firsts))%len(surnames)]
			c := &contact.Contact{Name: fmt.Sprintf("%s %s %d", first, last, i), CreatedAt: now, UpdatedAt: now,
				Emails: []string{fmt.Sprintf("%s.%s%d@azienda%d.example", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, " ", "")), i, i%700)},
				Phones: []string{fmt.Sprintf("+39 3%02d %03d %04d", i%100, (i/100)%1000, i%10000)}}
			if err := d.Store.CreateContact(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		queries := []string{"Greco", "azienda123.example", "305 000 0005", "giulia moretti", "wright"}
		// Each kind of query on its own: the slow one is not hidden by
		// the fast.
		for _, q := range queries {
			b.Run(strings.NewReplacer(" ", "_", ".", "_").Replace(q), func(b *testing.B) {
				latencies(b, func() {
					if _, err := d.Store.Contacts(ctx, contact.Filter{Query: q, Limit: 25}); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	})
}

// benchListener gives the desk the mailbox supporto@bottega.example and
// serves its SMTP listener on 127.0.0.1 until the benchmark ends.
func benchListener(b *testing.B, d *app.Desk) string {
	now := time.Now().UTC()
	if err := createMailbox(context.Background(), d, &email.Mailbox{Address: "supporto@bottega.example", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l := d.SMTPListener()
	go l.Serve(ln)
	b.Cleanup(func() { l.Close() })
	return ln.Addr().String()
}
