package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// frozen is a clock the test moves by hand.
type frozen struct {
	mu sync.Mutex
	t  time.Time
}

func (c *frozen) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *frozen) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func (c *frozen) Set(s string) {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var rome, _ = time.LoadLocation("Europe/Rome")

func romeTime(s string) string {
	t, _ := time.ParseInLocation("2006-01-02 15:04", s, rome)
	return t.UTC().Format(time.RFC3339)
}

// clockOf returns the named metric's clock from GET /tickets/N/sla.
func clockOf(t *testing.T, r resp, metric string) map[string]any {
	t.Helper()
	for _, c := range r.JSON["clocks"].([]any) {
		if m := c.(map[string]any); m["metric"] == metric {
			return m
		}
	}
	t.Fatalf("no %s clock in %s", metric, r)
	return nil
}

func countEvents(t *testing.T, k *desk, num int64, field string) int {
	t.Helper()
	h := k.must(200, "admin", "GET", fmt.Sprintf("/api/v1/tickets/%d/history", num), nil)
	n := 0
	for _, e := range h.JSON["items"].([]any) {
		if e.(map[string]any)["field"] == field {
			n++
		}
	}
	return n
}

// The promise of the SLA issue, on each database, with a frozen clock: a
// ticket created Friday 16:00 in Rome under a 4 business-hour first-reply
// target is due Monday 11:00; a pending stretch moves the resolution
// deadline by the paused business time; the warning and the breach each
// fire exactly once, also across a restart of the server.
func TestSLAEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2025-05-30 16:00") // a Friday
		k := newDeskWith(t, db, app.Options{Now: clk.Now})
		cal := k.must(201, "admin", "POST", "/api/v1/calendars", map[string]any{
			"name": "Ufficio Roma", "timezone": "Europe/Rome",
			"week": map[string]string{"monday": "09:00-18:00", "tuesday": "09:00-18:00", "wednesday": "09:00-18:00", "thursday": "09:00-18:00", "friday": "09:00-18:00"},
		})
		k.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{
			"name": "Standard", "calendar_id": cal.num("id"), "warn_minutes": 30,
			"targets": map[string]any{"normal": map[string]any{
				"first_reply": map[string]any{"minutes": 240, "business": true},
				"resolution":  map[string]any{"minutes": 16 * 60, "business": true},
			}},
		})
		created := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{
			"subject": "Ordine non arrivato", "body": "Buongiorno, l'ordine 4411 non è ancora arrivato.",
			"requester": map[string]any{"email": "marta.fontana@example.it", "name": "Marta Fontana"},
			"channel":   "email", "team_id": k.teamID, "assignee_id": k.agents["agent"].ID,
		})
		num := created.num("number")
		if created.JSON["sla_deadline"] != romeTime("2025-06-02 11:00") {
			t.Errorf("the created ticket's next deadline: %v", created.JSON["sla_deadline"])
		}
		slaPath := fmt.Sprintf("/api/v1/tickets/%d/sla", num)
		s := k.must(200, "agent", "GET", slaPath, nil)
		if fr := clockOf(t, s, "first_reply"); fr["deadline"] != romeTime("2025-06-02 11:00") || fr["state"] != "active" {
			t.Fatalf("first reply: %v, want deadline Monday 11:00 Rome", fr)
		}
		res := clockOf(t, s, "resolution")
		if res["deadline"] != romeTime("2025-06-03 14:00") {
			t.Fatalf("resolution: %v, want Tuesday 14:00 (2 h Friday, 9 h Monday, 5 h Tuesday)", res)
		}
		tk := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", num), nil)
		if tk.JSON["sla_deadline"] != romeTime("2025-06-02 11:00") {
			t.Errorf("the ticket's next deadline: %v", tk.JSON["sla_deadline"])
		}

		// Monday 10:00: waiting on the customer until 15:00.
		clk.Set("2025-06-02 10:00")
		k.must(200, "agent", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", num), map[string]any{"status": "pending"})
		s = k.must(200, "agent", "GET", slaPath, nil)
		if res := clockOf(t, s, "resolution"); res["state"] != "paused" || res["deadline"] != nil {
			t.Fatalf("pending pauses resolution: %v", res)
		}

		scan := func(d *app.Desk) int {
			t.Helper()
			n, err := d.SLA.Scan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		// 10:31: the first-reply warning (30 min before 11:00) fires once.
		clk.Set("2025-06-02 10:31")
		if n := scan(k.d); n != 1 {
			t.Fatalf("warning: %d alarms fired, want 1", n)
		}
		if n := scan(k.d); n != 0 {
			t.Fatalf("a second scan fired %d alarms again", n)
		}
		// Restart the server: nothing fires twice.
		k.restart(clk)
		if n := scan(k.d); n != 0 {
			t.Fatalf("after a restart %d alarms fired again", n)
		}
		// 11:01: the breach fires once, across another restart.
		clk.Set("2025-06-02 11:01")
		if n := scan(k.d); n != 1 {
			t.Fatalf("breach: %d alarms fired, want 1", n)
		}
		k.restart(clk)
		if n := scan(k.d); n != 0 {
			t.Fatalf("after a restart the breach fired again (%d)", n)
		}
		if w, b := countEvents(t, k, num, "sla_warning"), countEvents(t, k, num, "sla_breach"); w != 1 || b != 1 {
			t.Fatalf("history has %d warnings and %d breaches, want 1 and 1", w, b)
		}
		s = k.must(200, "agent", "GET", slaPath, nil)
		if fr := clockOf(t, s, "first_reply"); fr["breached"] != true || fr["state"] != "active" {
			t.Fatalf("first reply after the deadline: %v", fr)
		}
		// The assignee and the team lead were told, each once per alarm.
		for _, role := range []string{"agent", "lead"} {
			n, err := k.d.Notices.Unread(context.Background(), k.agents[role].ID)
			if err != nil || n != 2 {
				t.Errorf("%s has %d unread notices (%v), want 2", role, n, err)
			}
		}

		// 15:00: the customer answered; 5 business hours were paused, so the
		// resolution deadline moves from Tuesday 14:00 to Wednesday 10:00.
		clk.Set("2025-06-02 15:00")
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "customer", "body": "Ecco il numero di tracciamento."})
		s = k.must(200, "agent", "GET", slaPath, nil)
		res = clockOf(t, s, "resolution")
		if res["state"] != "active" || res["deadline"] != romeTime("2025-06-04 10:00") {
			t.Fatalf("resolution after the pause: %v, want Wednesday 10:00", res)
		}
		if res["elapsed_business_seconds"].(float64) != 3*3600 {
			t.Errorf("resolution elapsed %v s, want 3 h (Friday 2 h, Monday 09–10)", res["elapsed_business_seconds"])
		}

		// A human public reply fulfils first reply (late: breached stays).
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "reply", "body": "Grazie Marta, verifico subito con il corriere."})
		s = k.must(200, "agent", "GET", slaPath, nil)
		if fr := clockOf(t, s, "first_reply"); fr["state"] != "fulfilled" || fr["breached"] != true {
			t.Fatalf("first reply after the reply: %v", fr)
		}
		rec := s.JSON["record"].(map[string]any)
		if rec["first_reply_business_seconds"].(float64) != 8*3600 {
			t.Errorf("first reply time: %v business seconds, want 8 h (Fri 16–18, Mon 09–15)", rec["first_reply_business_seconds"])
		}
		if br := rec["breaches"].(map[string]any); br["first_reply"].(float64) != 1 {
			t.Errorf("breaches: %v", br)
		}
	})
}

// Bad calendars and policies are refused with the field named, and a
// calendar with no open time gives "no deadline" instead of a hang.
func TestSLABadInputAndEmptyCalendar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00")
		k := newDeskWith(t, db, app.Options{Now: clk.Now})
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "Sovrapposto", "timezone": "Europe/Rome", "week": map[string]string{"monday": "09:00-13:00, 12:00-18:00"}}, "week.monday"},
			{map[string]any{"name": "Invertito", "timezone": "Europe/Rome", "week": map[string]string{"tuesday": "18:00-09:00"}}, "week.tuesday"},
			{map[string]any{"name": "Zona", "timezone": "Europe/Atlantide", "week": map[string]string{"monday": "09:00-18:00"}}, "timezone"},
			{map[string]any{"name": "Orario", "timezone": "Europe/Rome", "week": map[string]string{"monday": "9-18"}}, "week.monday"},
			{map[string]any{"name": "Giorno", "timezone": "Europe/Rome", "week": map[string]string{"lunedi": "09:00-18:00"}}, "week.lunedi"},
		} {
			r := k.must(422, "admin", "POST", "/api/v1/calendars", c.body)
			if f := problemField(r); f != c.field {
				t.Errorf("%v: field %q, want %q (%s)", c.body["name"], f, c.field, r)
			}
		}
		k.must(403, "agent", "POST", "/api/v1/calendars", map[string]any{"name": "X", "timezone": "UTC"})
		r := k.must(422, "admin", "POST", "/api/v1/sla-policies", map[string]any{"name": "Negativa",
			"targets": map[string]any{"high": map[string]any{"first_reply": map[string]any{"minutes": -60}}}})
		if f := problemField(r); f != "targets.high.first_reply" {
			t.Errorf("negative target: field %q (%s)", f, r)
		}

		// A night shift spills into the next day.
		night := k.must(201, "admin", "POST", "/api/v1/calendars", map[string]any{"name": "Notte", "timezone": "Europe/Rome",
			"week": map[string]string{"monday": "22:00-06:00+1"}})
		if w := night.JSON["week"].(map[string]any); w["monday"] != "22:00-24:00" || w["tuesday"] != "00:00-06:00" {
			t.Errorf("night shift: %v", w)
		}

		// Holidays from an iCalendar file; a file that is not one is refused.
		ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260619\r\nSUMMARY:San Gervasio\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		imported := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/calendars/%d/holidays", night.num("id")), ics)
		if hs := imported.JSON["holidays"].([]any); len(hs) != 1 || hs[0].(map[string]any)["name"] != "San Gervasio" {
			t.Errorf("imported holidays: %v", hs)
		}
		if f := problemField(k.must(422, "admin", "POST", fmt.Sprintf("/api/v1/calendars/%d/holidays", night.num("id")), "not a calendar")); f != "file" {
			t.Errorf("bad iCalendar file: field %q", f)
		}

		empty := k.must(201, "admin", "POST", "/api/v1/calendars", map[string]any{"name": "Mai aperto", "timezone": "Europe/Rome", "week": map[string]string{}})
		k.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{"name": "Impossibile", "calendar_id": empty.num("id"),
			"targets": map[string]any{"normal": map[string]any{"first_reply": map[string]any{"minutes": 60, "business": true}}}})
		created := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Aiuto", "body": "Non riesco ad accedere.",
			"requester": map[string]any{"email": "luca@example.it"}})
		s := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", created.num("number")), nil)
		if fr := clockOf(t, s, "first_reply"); fr["state"] != "active" || fr["deadline"] != nil {
			t.Fatalf("no open time must give no deadline: %v", fr)
		}
	})
}

// newDeskWith is newDesk with options (a frozen clock).
func newDeskWith(t *testing.T, db testdb.DB, opt app.Options) *desk {
	t.Helper()
	k := newDesk(t, db)
	k.d.Close()
	k.srv.Close()
	k.reopen(db, opt)
	return k
}

// restart closes the desk and opens a new one on the same database, as a
// server restart would.
func (k *desk) restart(clk *frozen) {
	k.t.Helper()
	k.d.Close()
	k.srv.Close()
	k.reopen(k.db, app.Options{Now: clk.Now})
}

// The SLA pages of the workspace: admins manage calendars and policies
// with errors next to the field in their language; agents may not; the
// inbox's Breached queue shows the overdue ticket with its badge, and the
// ticket page shows each metric.
func TestSLAWorkspace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00") // a Monday
		k := newDeskWith(t, db, app.Options{Now: clk.Now})
		admin := signedIn(t, k, "admin")
		if st, _, body := admin.req("GET", "/admin/sla", nil, ""); st != 200 || !strings.Contains(body, "Festività nazionali italiane") {
			t.Fatalf("SLA page: %d", st)
		}
		form := url.Values{"name": {"Ufficio"}, "timezone": {"Europe/Rome"}, "day_monday": {"09:00-13:00, 12:00-18:00"}, "italian": {"on"}}
		st, _, body := admin.req("POST", "/admin/calendars", form, "")
		if st != 422 || !strings.Contains(body, "Intervalli sovrapposti") || !strings.Contains(body, `value="09:00-13:00, 12:00-18:00"`) {
			t.Fatalf("overlap: %d, error next to Monday with the input kept expected", st)
		}
		form.Set("day_monday", "09:00-13:00, 14:00-18:00")
		if st, _, _ := admin.req("POST", "/admin/calendars", form, ""); st != http.StatusSeeOther {
			t.Fatalf("calendar save: %d", st)
		}
		cals, _ := k.d.SLA.Calendars(context.Background())
		pol := url.Values{"name": {"Standard"}, "calendar_id": {fmt.Sprint(cals[0].ID)}, "business": {"on"}, "warn": {"30m"},
			"t.normal.first_reply": {"-2h"}}
		if st, _, body := admin.req("POST", "/admin/policies", pol, ""); st != 422 || !strings.Contains(body, "Deve essere positivo") {
			t.Fatalf("negative target: %d", st)
		}
		pol.Set("t.normal.first_reply", "2h")
		if st, _, _ := admin.req("POST", "/admin/policies", pol, ""); st != http.StatusSeeOther {
			t.Fatalf("policy save: %d", st)
		}
		// The page lists them and fills the forms to edit them.
		pols, _ := k.d.SLA.Policies(context.Background())
		for _, path := range []string{"/admin/sla", fmt.Sprintf("/admin/sla?policy=%d", pols[0].ID), fmt.Sprintf("/admin/sla?calendar=%d", cals[0].ID)} {
			st, _, body := admin.req("GET", path, nil, "")
			if st != 200 || !strings.Contains(body, "Standard") || !strings.Contains(body, "Ufficio") {
				t.Fatalf("%s: %d", path, st)
			}
		}
		if _, _, body := admin.req("GET", fmt.Sprintf("/admin/sla?policy=%d", pols[0].ID), nil, ""); !strings.Contains(body, `value="2h"`) {
			t.Error("the policy form is not filled with its targets")
		}
		if st, _, _ := signedIn(t, k, "agent").req("GET", "/admin/sla", nil, ""); st != 403 {
			t.Errorf("an agent on the SLA page: %d", st)
		}
		created := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Stampante ferma", "body": "Non stampa più.",
			"requester": map[string]any{"email": "ugo@example.it"}, "team_id": k.teamID})
		num := created.num("number")
		clk.Set("2026-03-02 11:30") // due at 11:00 (09:00 + 2 business hours)
		agent := signedIn(t, k, "agent")
		_, _, body = agent.req("GET", "/?view=breached", nil, "")
		if !strings.Contains(body, fmt.Sprintf(`data-number="%d"`, num)) || !strings.Contains(body, "in ritardo di 30 min") {
			t.Fatalf("breached queue lacks the ticket or its badge")
		}
		_, _, body = agent.req("GET", "/?view=at_risk", nil, "")
		if strings.Contains(body, fmt.Sprintf(`data-number="%d"`, num)) {
			t.Error("a breached ticket is not at risk any more")
		}
		_, _, body = agent.req("GET", fmt.Sprintf("/tickets/%d", num), nil, "")
		if !strings.Contains(body, "Prima risposta") || !strings.Contains(body, "sla-breached") {
			t.Error("the ticket page shows no SLA panel")
		}
	})
}
