package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/internal/webhook"
)

// automation is what the soak sets up on the desk before the load, and the
// webhook receiver that counts what it hears.
type automation struct {
	agents        []int64
	ruleNew       int64 // fires on every new ticket
	ruleReply     int64 // fires on every agent reply
	churn         int64 // switched on and off all along
	secret        string
	srv           *http.Server
	stopChurn     chan struct{}
	churned       atomic.Int64
	mu            sync.Mutex
	deliveries    map[string]bool // X-Sportello-Delivery ids heard
	soakHeard     map[string]bool // those of the load's tickets (not the mail rounds')
	received, bad atomic.Int64
}

// call sends a JSON request with the token and decodes the answer.
func (ld *load) call(method, path string, in, out any, want int) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, ld.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+ld.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := ld.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// automate makes four online agents in a round-robin team, two rules
// that act on every ticket and reply, one rule that a goroutine switches
// all along, and a webhook to a receiver on 127.0.0.1.
func (ld *load) automate() (*automation, error) {
	a := &automation{deliveries: map[string]bool{}, soakHeard: map[string]bool{}, stopChurn: make(chan struct{})}
	var id struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	for i := range 4 {
		if err := ld.call("POST", "/api/v1/agents", map[string]any{"email": fmt.Sprintf("turno%d@soak.example", i), "name": fmt.Sprintf("Turno %d", i), "role": "agent"}, &id, 201); err != nil {
			return nil, err
		}
		if err := ld.call("PATCH", fmt.Sprintf("/api/v1/agents/%d", id.ID), map[string]any{"availability": "online", "skill_languages": []string{"it"}}, nil, 200); err != nil {
			return nil, err
		}
		a.agents = append(a.agents, id.ID)
	}
	if err := ld.call("POST", "/api/v1/teams", map[string]any{"name": "Soak L1", "tier": 1, "member_ids": a.agents, "assign_mode": "round_robin"}, &id, 201); err != nil {
		return nil, err
	}
	ld.teamID = id.ID
	rules := []struct {
		dst  *int64
		body map[string]any
	}{
		{&a.ruleNew, map[string]any{"name": "Soak: ordini", "active": true, "events": []string{"ticket_created"},
			"conditions": []map[string]any{{"field": "subject", "op": "contains", "value": "ordine"}},
			"actions":    []map[string]any{{"type": "add_tags", "values": []string{"ordini"}}, {"type": "set_priority", "value": "high"}}}},
		{&a.ruleReply, map[string]any{"name": "Soak: risposto", "active": true, "events": []string{"agent_reply"},
			"actions": []map[string]any{{"type": "add_tags", "values": []string{"risposto"}}}}},
		{&a.churn, map[string]any{"name": "Soak: va e viene", "active": false, "events": []string{"customer_message"},
			"actions": []map[string]any{{"type": "add_tags", "values": []string{"mai"}}}}},
	}
	for _, r := range rules {
		if err := ld.call("POST", "/api/v1/rules", r.body, &id, 201); err != nil {
			return nil, err
		}
		*r.dst = id.ID
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(a.receive)}
	go a.srv.Serve(ln)
	if err := ld.call("POST", "/api/v1/webhooks", map[string]any{"name": "Soak", "url": "http://" + ln.Addr().String() + "/hook",
		"events": []string{"ticket_created"}, "active": true, "allow_private": true}, &id, 201); err != nil {
		a.srv.Close()
		return nil, err
	}
	a.secret = id.Secret
	go func() {
		for on := true; ; on = !on {
			select {
			case <-a.stopChurn:
				return
			case <-time.After(3 * time.Second):
			}
			// Errors while the server is killed are expected: the
			// next switch tries again.
			if ld.call("PUT", fmt.Sprintf("/api/v1/rules/%d", a.churn), map[string]any{"active": on}, nil, 200) == nil {
				a.churned.Add(1)
			}
		}
	}()
	return a, nil
}

// receive is the webhook receiver: it checks the signature and counts the
// deliveries it heard (a delivery may come again after a kill).
func (a *automation) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := webhook.Verify(a.secret, r.Header.Get("X-Sportello-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		a.bad.Add(1)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	a.received.Add(1)
	var p struct {
		Ticket struct {
			Subject string `json:"subject"`
		} `json:"ticket"`
	}
	_ = json.Unmarshal(body, &p)
	id := r.Header.Get("X-Sportello-Delivery")
	a.mu.Lock()
	a.deliveries[id] = true
	if strings.HasPrefix(p.Ticket.Subject, "Ordine soak-") {
		a.soakHeard[id] = true
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// heard is how many distinct deliveries the receiver heard, and how many
// of them were of the load's tickets.
func (a *automation) heard() (all, load int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.deliveries), len(a.soakHeard)
}

// waitDeliveries waits (at most d) until the receiver heard n distinct
// deliveries: the queue drains after the load.
func (a *automation) waitDeliveries(n int, d time.Duration) {
	close(a.stopChurn)
	from, _ := a.heard()
	start := time.Now()
	// Until every ticket was heard, or nothing new came for 15 s (the
	// rest are deliveries a kill left running, due at the rescue).
	last, lastAt := from, time.Now()
	for end := time.Now().Add(d); time.Now().Before(end) && time.Since(lastAt) < 15*time.Second; time.Sleep(200 * time.Millisecond) {
		all, load := a.heard()
		if load >= n {
			break
		}
		if all != last {
			last, lastAt = all, time.Now()
		}
	}
	all, _ := a.heard()
	got := all - from
	took := time.Since(start)
	if time.Since(lastAt) >= 15*time.Second {
		took -= time.Since(lastAt) // the idle wait is not draining
	}
	fmt.Printf("  webhook queue after the load: %d deliveries in %s (%.0f/s)\n", got, took.Round(time.Second), float64(got)/took.Seconds())
}

func (a *automation) close() { a.srv.Close() }

// checkAutomation: every acknowledged ticket of the load is assigned, the
// round-robin turn is fair, each rule fired exactly once per ticket (and
// per replied ticket), the switched rule never acted, and every webhook
// delivery heard was signed.
func (ld *load) checkAutomation(s *server, engine string, a *automation) error {
	db, _, err := openCheck(s)
	if err != nil {
		return err
	}
	defer db.Close()
	var tickets, unassigned, newTwice, replyTwice, newFired, replyFired, never int
	q := func(dst *int, query string) {
		if err == nil {
			err = db.QueryRow(query).Scan(dst)
		}
	}
	soak := `SELECT id FROM tickets WHERE subject LIKE 'Ordine soak-%'`
	q(&tickets, `SELECT COUNT(*) FROM (`+soak+`) s`)
	q(&unassigned, `SELECT COUNT(*) FROM tickets WHERE subject LIKE 'Ordine soak-%' AND assignee_id IS NULL`)
	fired := func(rule int64) string {
		return fmt.Sprintf(`SELECT ticket_id, COUNT(*) AS n FROM ticket_events WHERE actor_type = 'rule' AND field = 'rule' AND actor_id = %d GROUP BY ticket_id`, rule)
	}
	q(&newFired, `SELECT COUNT(*) FROM (`+fired(a.ruleNew)+`) f WHERE ticket_id IN (`+soak+`)`)
	q(&newTwice, `SELECT COUNT(*) FROM (`+fired(a.ruleNew)+`) f WHERE n > 1`)
	q(&replyFired, `SELECT COUNT(*) FROM (`+fired(a.ruleReply)+`) f`)
	q(&replyTwice, `SELECT COUNT(*) FROM (`+fired(a.ruleReply)+`) f WHERE n > 1`)
	q(&never, fmt.Sprintf(`SELECT COUNT(*) FROM ticket_events WHERE actor_type = 'rule' AND actor_id = %d`, a.churn))
	if err != nil {
		return err
	}
	var replied int
	q(&replied, `SELECT COUNT(DISTINCT ticket_id) FROM messages WHERE kind = 'reply' AND body_text LIKE 'Risposta soak-%'`)
	rows, err := db.Query(`SELECT assignee_id, COUNT(*) FROM tickets WHERE subject LIKE 'Ordine soak-%' AND assignee_id IS NOT NULL GROUP BY assignee_id`)
	if err != nil {
		return err
	}
	lo, hi := -1, 0
	for rows.Next() {
		var who int64
		var n int
		if err := rows.Scan(&who, &n); err != nil {
			rows.Close()
			return err
		}
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	rows.Close()
	all, heard := a.heard()
	fmt.Printf("| %s | %d tickets, %d unassigned, turn spread %d (%d–%d per agent) | rule on new tickets fired on %d, twice on %d | rule on replies fired on %d of %d replied, twice on %d | switched rule: %d switches, %d actions | webhook: %d deliveries heard (%d of the load's tickets, %d requests), %d unsigned |\n",
		engine, tickets, unassigned, hi-lo, lo, hi, newFired, newTwice, replyFired, replied, replyTwice, a.churned.Load(), never, all, heard, a.received.Load(), a.bad.Load())
	var errs []error
	if unassigned > 0 {
		errs = append(errs, fmt.Errorf("%d tickets left unassigned with four agents online", unassigned))
	}
	if hi-lo > 1 {
		errs = append(errs, fmt.Errorf("round-robin spread %d (want at most 1)", hi-lo))
	}
	if newFired != tickets || newTwice > 0 || replyTwice > 0 || replyFired != replied {
		errs = append(errs, errors.New("a rule did not fire exactly once per ticket"))
	}
	if never > 0 {
		errs = append(errs, errors.New("a rule that listens for no event of the load acted"))
	}
	// A delivery in flight when the server was killed stays "running"
	// until the queue rescues it (jobs.go: after 5 minutes), then goes
	// again: counted here as due, not lost.
	var stuck int
	q(&stuck, `SELECT COUNT(*) FROM river_job WHERE kind = 'webhook' AND state = 'running'`)
	if err != nil {
		return err
	}
	fmt.Printf("  webhook deliveries in flight at a kill, due again at the rescue: %d\n", stuck)
	if a.bad.Load() > 0 || heard+stuck < tickets {
		errs = append(errs, fmt.Errorf("webhook: %d unsigned, %d of %d tickets heard, %d due at the rescue", a.bad.Load(), heard, tickets, stuck))
	}
	return errors.Join(errs...)
}
