// Command soak puts a Sportello desk under sustained load through its HTTP
// API and checks that nothing is lost or doubled, as docs/RELIABILITY.md
// reports. It builds the sportello binary, starts it on a fresh data
// folder (SQLite) or a PostgreSQL database you name, creates an API token,
// then:
//
//  1. soak: N concurrent clients create tickets and reply to each, for the
//     given duration; every request counts, and the goal is zero errors
//     and zero timeouts;
//
//  2. kill rounds: the same load while the server is killed with SIGKILL
//     and restarted, several times; clients retry what was in flight with
//     the same Idempotency-Key, as a careful integration would;
//
//  3. check: every acknowledged ticket and reply is in the database
//     exactly once.
//
// Automation runs all along, as on a real desk: the tickets go to a team
// of four online agents assigned in turn (round-robin), two rules act on
// every ticket and every reply, a third is switched on and off every few
// seconds (every node reloads the rules each time), and a webhook to a
// receiver here hears every new ticket. The check adds: every ticket
// assigned, the turn fair (counts within one), each rule fired once per
// ticket, and every webhook delivery signed.
//
//	go run ./cmd/soak --clients 64 --duration 2m --kills 3
//	go run ./cmd/soak --database postgres://postgres@127.0.0.1:5432/soak?sslmode=disable
//
// The PostgreSQL database must exist and be empty.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the check
	_ "modernc.org/sqlite"             // the "sqlite" driver, for the check
)

func main() {
	clients := flag.Int("clients", 64, "concurrent clients")
	duration := flag.Duration("duration", 2*time.Minute, "length of the soak")
	kills := flag.Int("kills", 3, "SIGKILL rounds after the soak")
	round := flag.Duration("round", 15*time.Second, "load before each SIGKILL")
	database := flag.String("database", "", "postgres:// URL of an empty database (default: SQLite in a temporary folder)")
	mailRounds := flag.Int("mail-kills", 3, "SIGKILL rounds while mail servers deliver through the SMTP listener")
	flag.Parse()
	if err := run(*clients, *duration, *kills, *round, *database, *mailRounds); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type server struct {
	bin, data, database, addr, smtp string
	cmd                             *exec.Cmd
}

func (s *server) args(cmd ...string) []string {
	a := append(cmd, "--data", s.data)
	if s.database != "" {
		a = append(a, "--database", s.database)
	}
	return a
}

func (s *server) start() error {
	s.cmd = exec.Command(s.bin, s.args("serve", "--addr", s.addr, "--smtp-addr", s.smtp, "--log-level", "warn")...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, os.Stderr
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for range 300 {
		if res, err := http.Get("http://" + s.addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the server did not become ready in 30 s")
}

func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

func run(clients int, duration time.Duration, kills int, round time.Duration, database string, mailKills int) error {
	tmp, err := os.MkdirTemp("", "sportello-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "sportello")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sportello")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building sportello: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	smtpAddr := l2.Addr().String()
	l2.Close()
	s := &server{bin: bin, data: filepath.Join(tmp, "data"), database: database, addr: addr, smtp: smtpAddr}
	if err := s.start(); err != nil {
		return err
	}
	out, err := exec.Command(bin, s.args("token", "add", "--email", "admin@sportello.local", "--name", "soak")...).Output()
	if err != nil {
		s.stop()
		return fmt.Errorf("creating a token: %w", err)
	}
	token := ""
	for _, w := range strings.Fields(string(out)) {
		if strings.HasPrefix(w, "spt_") {
			token = w
		}
	}
	if token == "" {
		s.stop()
		return fmt.Errorf("no token in %q", out)
	}
	engine := "SQLite"
	if database != "" {
		engine = "PostgreSQL"
	}
	ld := &load{base: "http://" + addr, token: token, http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients}}}
	auto, err := ld.automate()
	if err != nil {
		s.stop()
		return fmt.Errorf("setting up automation: %w", err)
	}
	defer auto.close()

	fmt.Printf("== %s: %d clients, soak %s\n", engine, clients, duration)
	soak := ld.phase(clients, duration, nil)
	soak.print("soak")

	fmt.Printf("== %s: %d SIGKILL rounds, %s of load before each\n", engine, kills, round)
	var killed stats
	for k := range kills {
		st := ld.phase(clients, round, func() {
			s.kill()
			if err := s.start(); err != nil {
				fmt.Fprintln(os.Stderr, "restart:", err)
			}
		})
		st.print(fmt.Sprintf("round %d", k+1))
		killed.add(st)
	}
	if mailKills > 0 {
		if _, err := ld.post("/api/v1/mailboxes", `{"address":"supporto@soak.example","name":"Soak"}`); err != nil {
			s.stop()
			return fmt.Errorf("creating the mailbox: %w", err)
		}
		fmt.Printf("== %s: %d mail servers deliver through the SMTP listener, %d SIGKILL rounds\n", engine, clients/8+1, mailKills)
		for k := range mailKills {
			st := ld.mailPhase(s, clients/8+1, round, func() {
				s.kill()
				if err := s.start(); err != nil {
					fmt.Fprintln(os.Stderr, "restart:", err)
				}
			})
			st.print(fmt.Sprintf("mail round %d", k+1))
		}
	}
	auto.waitDeliveries(ld.ticketCount(), 5*time.Minute)
	s.stop()

	fmt.Printf("== %s: every acknowledged write exactly once\n", engine)
	if err := ld.check(s, engine); err != nil {
		return err
	}
	if err := ld.checkMail(s, engine); err != nil {
		return err
	}
	return ld.checkAutomation(s, engine, auto)
}

// post sends a JSON body with the token and wants 201.
func (ld *load) post(path, body string) (*http.Response, error) {
	req, _ := http.NewRequest("POST", ld.base+path, bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+ld.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := ld.http.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		return res, fmt.Errorf("status %d", res.StatusCode)
	}
	return res, nil
}

// mailPhase has mail servers deliver new mails over SMTP for d, killing
// and restarting Sportello halfway; like a real mail server, each one
// delivers a mail again until it hears "250".
func (ld *load) mailPhase(s *server, senders int, d time.Duration, kill func()) stats {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var total stats
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-time.After(d / 2):
			kill()
		}
	})
	start := time.Now()
	for c := range senders {
		wg.Go(func() {
			var st stats
			for ctx.Err() == nil {
				id := fmt.Sprintf("soak-mail-%d-%d", c, ld.seq.Add(1))
				raw := fmt.Sprintf("From: Cliente <cliente%d@example.it>\r\nTo: supporto@soak.example\r\nSubject: Mail %s\r\nMessage-ID: <%s@example.it>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nIl pacco %s non arriva.\r\n", c, id, id, id)
				for attempt := 0; ; attempt++ {
					t0 := time.Now()
					err := smtp.SendMail(s.smtp, nil, fmt.Sprintf("cliente%d@example.it", c), []string{"supporto@soak.example"}, []byte(raw))
					st.requests++
					if err == nil {
						st.lat = append(st.lat, time.Since(t0))
						st.tickets++
						ld.mu.Lock()
						ld.mails = append(ld.mails, id)
						ld.mu.Unlock()
						break
					}
					st.errors++
					if attempt == 0 {
						st.retried++
					}
					if attempt > 600 {
						fmt.Fprintln(os.Stderr, "SMTP:", err)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			mu.Lock()
			total.add(st)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

// checkMail: every mail the listener acknowledged is one ticket, and no
// mail made two.
func (ld *load) checkMail(s *server, engine string) error {
	if len(ld.mails) == 0 {
		return nil
	}
	db, driver, err := openCheck(s)
	if err != nil {
		return err
	}
	defer db.Close()
	dup, missing := 0, 0
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT subject FROM tickets WHERE subject LIKE 'Mail soak-mail-%' GROUP BY subject HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil {
		return err
	}
	for _, id := range ld.mails {
		var n int
		if err := db.QueryRow(rebind(driver, `SELECT COUNT(*) FROM tickets WHERE subject = ?`), "Mail "+id).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			missing++
		}
	}
	fmt.Printf("| %s | %d acknowledged mails | %d missing | %d twice |\n", engine, len(ld.mails), missing, dup)
	if missing > 0 || dup > 0 {
		return errors.New("acknowledged mails lost or doubled")
	}
	return nil
}

// load is the client side: what it sent and what was acknowledged.
type load struct {
	base, token string
	http        *http.Client
	seq         atomic.Int64
	mu          sync.Mutex
	acked       map[string]int64 // idempotency key → ticket number or message id
	mails       []string         // ids of the mails the SMTP listener acknowledged
	teamID      int64            // the team the tickets go to (automation)
}

// ticketCount is how many tickets were acknowledged.
func (ld *load) ticketCount() int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	n := 0
	for k := range ld.acked {
		if strings.HasSuffix(k, "-t") {
			n++
		}
	}
	return n
}

type stats struct {
	requests, errors, timeouts, retried, tickets int64
	lat                                          []time.Duration
	elapsed                                      time.Duration
}

func (s *stats) add(o stats) {
	s.requests += o.requests
	s.errors += o.errors
	s.timeouts += o.timeouts
	s.retried += o.retried
	s.tickets += o.tickets
	s.lat = append(s.lat, o.lat...)
	s.elapsed += o.elapsed
}

func (s stats) print(name string) {
	slices.Sort(s.lat)
	q := func(p float64) time.Duration {
		if len(s.lat) == 0 {
			return 0
		}
		return s.lat[min(len(s.lat)-1, int(float64(len(s.lat))*p))].Round(100 * time.Microsecond)
	}
	fmt.Printf("| %s | %d requests | %d errors | %d timeouts | %d retried after a kill | p50 %s | p95 %s | p99 %s | %.0f tickets/s |\n",
		name, s.requests, s.errors, s.timeouts, s.retried, q(.50), q(.95), q(.99), float64(s.tickets)/s.elapsed.Seconds())
}

// phase runs the clients for d; with kill set, it kills and restarts the
// server halfway through and clients retry until their request lands.
func (ld *load) phase(clients int, d time.Duration, kill func()) stats {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var total stats
	var down atomic.Bool
	var wg sync.WaitGroup
	if kill != nil {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d / 2):
			}
			down.Store(true)
			kill()
			down.Store(false)
		})
	}
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			var st stats
			for ctx.Err() == nil {
				n := ld.seq.Add(1)
				key := fmt.Sprintf("soak-%d-%d", c, n)
				num, ok := ld.send(&st, kill != nil, &down, "/api/v1/tickets", key+"-t",
					fmt.Sprintf(`{"subject":"Ordine %s","body":"Il pacco %s non è arrivato","requester":{"email":"cliente%d@example.it"},"channel":"email","team_id":%d}`, key, key, c, ld.teamID))
				if !ok {
					continue
				}
				st.tickets++
				ld.send(&st, kill != nil, &down, fmt.Sprintf("/api/v1/tickets/%d/messages", num), key+"-r",
					fmt.Sprintf(`{"kind":"reply","body":"Risposta %s: lo spediamo oggi"}`, key))
			}
			mu.Lock()
			total.add(st)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

// send posts body with an Idempotency-Key; during kill rounds a failure
// is retried with the same key until it is acknowledged.
func (ld *load) send(st *stats, retry bool, down *atomic.Bool, path, key, body string) (int64, bool) {
	for attempt := 0; ; attempt++ {
		t0 := time.Now()
		req, _ := http.NewRequest("POST", ld.base+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+ld.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		res, err := ld.http.Do(req)
		st.requests++
		if err == nil {
			var out struct {
				Number  int64 `json:"number"`
				Message struct {
					ID int64 `json:"id"`
				} `json:"message"`
			}
			_ = json.NewDecoder(res.Body).Decode(&out)
			res.Body.Close()
			if res.StatusCode == 201 {
				st.lat = append(st.lat, time.Since(t0))
				id := out.Number
				if id == 0 {
					id = out.Message.ID
				}
				ld.mu.Lock()
				if ld.acked == nil {
					ld.acked = map[string]int64{}
				}
				ld.acked[key] = id
				ld.mu.Unlock()
				return out.Number, true
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			st.timeouts++
		} else {
			st.errors++
		}
		if !retry || attempt > 600 {
			fmt.Fprintf(os.Stderr, "POST %s: %v\n", path, err)
			return 0, false
		}
		if attempt == 0 {
			st.retried++
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check reads the database: each acknowledged ticket holds its subject
// once, each acknowledged reply is there once, and no subject or reply
// appears twice.
// openCheck opens the desk's database for the checks, and names its
// driver (for rebind).
func openCheck(s *server) (*sql.DB, string, error) {
	if s.database != "" {
		db, err := sql.Open("pgx", s.database)
		return db, "pgx", err
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.data, "sportello.db")+"?_pragma=query_only(1)")
	return db, "sqlite", err
}

func (ld *load) check(s *server, engine string) error {
	db, driver, err := openCheck(s)
	if err != nil {
		return err
	}
	defer db.Close()
	dup := 0
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT subject FROM tickets WHERE subject LIKE 'Ordine soak-%' GROUP BY subject HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil {
		return err
	}
	dupMsg := 0
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT body_text FROM messages WHERE kind = 'reply' AND body_text LIKE 'Risposta soak-%' GROUP BY body_text HAVING COUNT(*) > 1) d`).Scan(&dupMsg); err != nil {
		return err
	}
	missing := 0
	tickets, replies := 0, 0
	for key, id := range ld.acked {
		var n int
		var err error
		if strings.HasSuffix(key, "-t") {
			tickets++
			err = db.QueryRow(rebind(driver, `SELECT COUNT(*) FROM tickets WHERE id = ? AND subject = ?`), id, "Ordine "+strings.TrimSuffix(key, "-t")).Scan(&n)
		} else {
			replies++
			err = db.QueryRow(rebind(driver, `SELECT COUNT(*) FROM messages WHERE id = ? AND body_text = ?`), id, "Risposta "+strings.TrimSuffix(key, "-r")+": lo spediamo oggi").Scan(&n)
		}
		if err != nil {
			return err
		}
		if n != 1 {
			missing++
			if missing < 5 {
				fmt.Fprintf(os.Stderr, "acknowledged %s (id %d) found %d times\n", key, id, n)
			}
		}
	}
	fmt.Printf("| %s | %d acknowledged tickets, %d acknowledged replies | %d missing | %d tickets twice | %d replies twice |\n",
		engine, tickets, replies, missing, dup, dupMsg)
	if missing > 0 || dup > 0 || dupMsg > 0 {
		return errors.New("acknowledged writes lost or doubled")
	}
	return nil
}

func rebind(driver, q string) string {
	if driver != "pgx" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
