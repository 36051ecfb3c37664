package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/ticket"
)

// noDeadline is ticket.NoDeadline as SQL: the partial indexes on the
// warning and alarm columns hold only rows below it, and a query uses them
// only when it repeats that condition literally.
var noDeadline = strconv.FormatInt(ticket.NoDeadline, 10)

type calendarRow struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	Zone      string    `db:"timezone"`
	Week      string    `db:"week"`
	Holidays  string    `db:"holidays"`
	Overrides string    `db:"overrides"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (r *calendarRow) calendar() (sla.Calendar, error) {
	c := sla.Calendar{ID: r.ID, Name: r.Name, Zone: r.Zone, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	var week [][]bizhours.Span
	if err := json.Unmarshal([]byte(r.Week), &week); err != nil {
		return c, fmt.Errorf("calendar %d week: %w", r.ID, err)
	}
	copy(c.Week[:], week)
	if err := json.Unmarshal([]byte(r.Holidays), &c.Holidays); err != nil {
		return c, fmt.Errorf("calendar %d holidays: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Overrides), &c.Overrides); err != nil {
		return c, fmt.Errorf("calendar %d overrides: %w", r.ID, err)
	}
	return c, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data is marshalled here
	}
	return string(b)
}

const calendarCols = `id, name, timezone, week, holidays, overrides, created_at, updated_at`

// Calendars lists every calendar by name.
func (s *Store) Calendars(ctx context.Context) ([]sla.Calendar, error) {
	return listCalendars(ctx, s.r, s.q)
}

// Calendars lists every calendar inside the transaction: the SLA service
// fills its cache here rather than from the pool, which could wait forever
// for a connection that this transaction's peers hold.
func (tx *Tx) Calendars(ctx context.Context) ([]sla.Calendar, error) {
	return listCalendars(ctx, txQuerier{tx}, tx.s.q)
}

func listCalendars(ctx context.Context, db sqlx.QueryerContext, rebind func(string) string) ([]sla.Calendar, error) {
	var rows []calendarRow
	if err := sqlx.SelectContext(ctx, db, &rows, rebind(`SELECT `+calendarCols+` FROM calendars ORDER BY LOWER(name), id`)); err != nil {
		return nil, fmt.Errorf("listing calendars: %w", err)
	}
	out := make([]sla.Calendar, len(rows))
	for i := range rows {
		c, err := rows[i].calendar()
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// Calendar reads one calendar.
func (s *Store) Calendar(ctx context.Context, id int64) (*sla.Calendar, error) {
	var r calendarRow
	if err := s.get(ctx, &r, `SELECT `+calendarCols+` FROM calendars WHERE id = ?`, id); err != nil {
		return nil, notFound(err, sla.ErrCalendarNotFound)
	}
	c, err := r.calendar()
	return &c, err
}

// SaveCalendar inserts (ID 0) or updates a calendar and asks for a
// recompute of open tickets.
func (s *Store) SaveCalendar(ctx context.Context, c *sla.Calendar) error {
	if c.Holidays == nil {
		c.Holidays = []bizhours.Holiday{}
	}
	if c.Overrides == nil {
		c.Overrides = []sla.Override{}
	}
	week := make([][]bizhours.Span, 7)
	for d := range week {
		week[d] = c.Week[d]
		if week[d] == nil {
			week[d] = []bizhours.Span{}
		}
	}
	err := s.InTx(ctx, func(tx *Tx) error {
		if c.ID == 0 {
			if err := tx.queryRow(ctx, `INSERT INTO calendars (name, timezone, week, holidays, overrides, created_at, updated_at) VALUES (?,?,?,?,?,?,?) RETURNING id`,
				c.Name, c.Zone, mustJSON(week), mustJSON(c.Holidays), mustJSON(c.Overrides), utc(c.CreatedAt), utc(c.UpdatedAt)).Scan(&c.ID); err != nil {
				return err
			}
		} else {
			res, err := tx.exec(ctx, `UPDATE calendars SET name=?, timezone=?, week=?, holidays=?, overrides=?, updated_at=? WHERE id=?`,
				c.Name, c.Zone, mustJSON(week), mustJSON(c.Holidays), mustJSON(c.Overrides), utc(c.UpdatedAt), c.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return sla.ErrCalendarNotFound
			}
		}
		return tx.requestRecompute(ctx)
	})
	if isUnique(err) {
		return conflict("name", "another calendar has this name")
	}
	if err != nil {
		return fmt.Errorf("saving calendar: %w", err)
	}
	return nil
}

// DeleteCalendar removes a calendar that no policy uses.
func (s *Store) DeleteCalendar(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM sla_policies WHERE calendar_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return sla.ErrCalendarInUse
		}
		res, err := tx.exec(ctx, `DELETE FROM calendars WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("deleting calendar: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sla.ErrCalendarNotFound
		}
		return nil
	})
}

type policyRow struct {
	ID          int64     `db:"id"`
	Name        string    `db:"name"`
	Position    int       `db:"position"`
	Active      bool      `db:"active"`
	CalendarID  *int64    `db:"calendar_id"`
	Conditions  string    `db:"conditions"`
	Targets     string    `db:"targets"`
	Pauses      string    `db:"pauses"`
	WarnSeconds int64     `db:"warn_seconds"`
	WarnPercent int       `db:"warn_percent"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

func (r *policyRow) policy() (sla.Policy, error) {
	p := sla.Policy{ID: r.ID, Name: r.Name, Position: r.Position, Active: r.Active, CalendarID: r.CalendarID,
		WarnSeconds: r.WarnSeconds, WarnPercent: r.WarnPercent, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, f := range []struct {
		src string
		dst any
	}{{r.Conditions, &p.Match}, {r.Targets, &p.Targets}, {r.Pauses, &p.Pauses}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return p, fmt.Errorf("SLA policy %d: %w", r.ID, err)
		}
	}
	return p, nil
}

const policyCols = `id, name, position, active, calendar_id, conditions, targets, pauses, warn_seconds, warn_percent, created_at, updated_at`

// Policies lists every policy in order.
func (s *Store) Policies(ctx context.Context) ([]sla.Policy, error) {
	return listPolicies(ctx, s.r, s.q)
}

// Policies lists every policy inside the transaction (see Tx.Calendars).
func (tx *Tx) Policies(ctx context.Context) ([]sla.Policy, error) {
	return listPolicies(ctx, txQuerier{tx}, tx.s.q)
}

func listPolicies(ctx context.Context, db sqlx.QueryerContext, rebind func(string) string) ([]sla.Policy, error) {
	var rows []policyRow
	if err := sqlx.SelectContext(ctx, db, &rows, rebind(`SELECT `+policyCols+` FROM sla_policies ORDER BY position, id`)); err != nil {
		return nil, fmt.Errorf("listing SLA policies: %w", err)
	}
	out := make([]sla.Policy, len(rows))
	for i := range rows {
		p, err := rows[i].policy()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// Policy reads one policy.
func (s *Store) Policy(ctx context.Context, id int64) (*sla.Policy, error) {
	var r policyRow
	if err := s.get(ctx, &r, `SELECT `+policyCols+` FROM sla_policies WHERE id = ?`, id); err != nil {
		return nil, notFound(err, sla.ErrPolicyNotFound)
	}
	p, err := r.policy()
	return &p, err
}

// SavePolicy inserts (ID 0) or updates a policy and asks for a recompute.
func (s *Store) SavePolicy(ctx context.Context, p *sla.Policy) error {
	err := s.InTx(ctx, func(tx *Tx) error {
		args := []any{p.Name, p.Position, p.Active, p.CalendarID, mustJSON(p.Match), mustJSON(p.Targets), mustJSON(p.Pauses), p.WarnSeconds, p.WarnPercent}
		if p.ID == 0 {
			if err := tx.queryRow(ctx, `INSERT INTO sla_policies (name, position, active, calendar_id, conditions, targets, pauses, warn_seconds, warn_percent, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id`, append(args, utc(p.CreatedAt), utc(p.UpdatedAt))...).Scan(&p.ID); err != nil {
				return err
			}
		} else {
			res, err := tx.exec(ctx, `UPDATE sla_policies SET name=?, position=?, active=?, calendar_id=?, conditions=?, targets=?, pauses=?, warn_seconds=?, warn_percent=?, updated_at=? WHERE id=?`,
				append(args, utc(p.UpdatedAt), p.ID)...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return sla.ErrPolicyNotFound
			}
		}
		return tx.requestRecompute(ctx)
	})
	if isUnique(err) {
		return conflict("name", "another policy has this name")
	}
	if err != nil {
		return fmt.Errorf("saving SLA policy: %w", err)
	}
	return nil
}

// DeletePolicy removes a policy; tickets under it are re-derived.
func (s *Store) DeletePolicy(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM sla_policies WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("deleting SLA policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sla.ErrPolicyNotFound
		}
		return tx.requestRecompute(ctx)
	})
}

// requestRecompute restarts the walk over unsolved tickets that re-derives
// their clocks under the new configuration.
func (tx *Tx) requestRecompute(ctx context.Context) error {
	_, err := tx.exec(ctx, `UPDATE sla_recompute SET pending = TRUE, after_id = 0, generation = generation + 1 WHERE id = 1`)
	return err
}

// RecomputeBatch returns the next unsolved tickets to re-derive and the
// generation of the request they belong to, or none when no recompute is
// pending.
func (s *Store) RecomputeBatch(ctx context.Context, limit int) ([]int64, int64, error) {
	var st struct {
		Pending    bool  `db:"pending"`
		After      int64 `db:"after_id"`
		Generation int64 `db:"generation"`
	}
	if err := s.get(ctx, &st, `SELECT pending, after_id, generation FROM sla_recompute WHERE id = 1`); err != nil {
		return nil, 0, fmt.Errorf("reading SLA recompute state: %w", err)
	}
	if !st.Pending {
		return nil, 0, nil
	}
	var ids []int64
	err := s.r.SelectContext(ctx, &ids, s.q(`SELECT id FROM tickets WHERE id > ? AND status IN ('new','open','pending','on_hold') ORDER BY id LIMIT ?`), st.After, limit)
	if err == nil && len(ids) == 0 {
		err = s.AdvanceRecompute(ctx, st.Generation, st.After, true)
	}
	return ids, st.Generation, err
}

// AdvanceRecompute records progress of generation gen; done ends the walk.
// A newer request (another generation) is left alone: it starts over.
func (s *Store) AdvanceRecompute(ctx context.Context, gen, after int64, done bool) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE sla_recompute SET after_id = ?, pending = ? WHERE id = 1 AND generation = ?`), after, !done, gen)
	if err != nil {
		return fmt.Errorf("advancing SLA recompute: %w", err)
	}
	return nil
}

// DueTickets lists tickets whose earliest unfired alarm is due at now.
func (s *Store) DueTickets(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	if err := s.r.SelectContext(ctx, &ids, s.q(`SELECT id FROM tickets WHERE sla_alarm <= ? AND sla_alarm < `+noDeadline+` ORDER BY sla_alarm LIMIT ?`), now.Unix(), limit); err != nil {
		return nil, fmt.Errorf("finding due SLA alarms: %w", err)
	}
	return ids, nil
}

// SLATx runs fn in a write transaction for the SLA service.
func (s *Store) SLATx(ctx context.Context, fn func(sla.Tx) error) error {
	return s.InTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// SLAHistory reads what a ticket's clocks are derived from.
func (tx *Tx) SLAHistory(ctx context.Context, t *ticket.Ticket) (*sla.History, error) {
	h := &sla.History{Ticket: t}
	if err := tx.queryRow(ctx, `SELECT organisation_id FROM contacts WHERE id = ?`, t.RequesterID).Scan(&h.OrgID); err != nil {
		return nil, fmt.Errorf("reading requester's organisation: %w", err)
	}
	var sts []struct {
		At time.Time     `db:"created_at"`
		To ticket.Status `db:"after"`
	}
	if err := tx.sel(ctx, &sts, `SELECT created_at, after FROM ticket_events WHERE ticket_id = ? AND field = 'status' ORDER BY id`, t.ID); err != nil {
		return nil, fmt.Errorf("reading status history: %w", err)
	}
	for _, s := range sts {
		h.Statuses = append(h.Statuses, sla.StatusChange{At: s.At, To: s.To})
	}
	var msgs []struct {
		At      time.Time          `db:"created_at"`
		Kind    ticket.MessageKind `db:"kind"`
		ByAgent bool               `db:"by_agent"`
		Meta    ticket.Fields      `db:"meta"`
	}
	if err := tx.sel(ctx, &msgs, `SELECT created_at, kind, author_agent_id IS NOT NULL AS by_agent, meta FROM messages
WHERE ticket_id = ? AND kind IN ('customer','reply') ORDER BY created_at, id`, t.ID); err != nil {
		return nil, fmt.Errorf("reading messages for SLA: %w", err)
	}
	for _, m := range msgs {
		auto, _ := m.Meta["automatic"].(bool)
		h.Posts = append(h.Posts, sla.Post{At: m.At, Customer: m.Kind == ticket.KindCustomer, HumanReply: m.Kind == ticket.KindReply && m.ByAgent && !auto})
	}
	return h, nil
}

type clockRow struct {
	TicketID        int64      `db:"ticket_id"`
	Metric          sla.Metric `db:"metric"`
	PolicyID        int64      `db:"policy_id"`
	Target          int64      `db:"target_seconds"`
	Business        bool       `db:"business"`
	State           sla.State  `db:"state"`
	Cycle           int        `db:"cycle"`
	StartedAt       time.Time  `db:"started_at"`
	StoppedAt       *time.Time `db:"stopped_at"`
	Deadline        *time.Time `db:"deadline"`
	WarnAt          *time.Time `db:"warn_at"`
	ElapsedBusiness int64      `db:"elapsed_business"`
	ElapsedCalendar int64      `db:"elapsed_calendar"`
	Breached        bool       `db:"breached"`
	Breaches        int        `db:"breaches"`
	WarnedCycle     int        `db:"warned_cycle"`
	BreachedCycle   int        `db:"breached_cycle"`
	ComputedAt      time.Time  `db:"computed_at"`
}

func (r *clockRow) clock() sla.Clock {
	return sla.Clock{Metric: r.Metric, PolicyID: r.PolicyID, Target: time.Duration(r.Target) * time.Second, Business: r.Business,
		State: r.State, Cycle: r.Cycle, StartedAt: r.StartedAt, StoppedAt: r.StoppedAt, Deadline: r.Deadline, WarnAt: r.WarnAt,
		ElapsedBusiness: time.Duration(r.ElapsedBusiness) * time.Second, ElapsedCalendar: time.Duration(r.ElapsedCalendar) * time.Second,
		Breached: r.Breached, Breaches: r.Breaches, WarnedCycle: r.WarnedCycle, BreachedCycle: r.BreachedCycle}
}

const clockCols = `ticket_id, metric, policy_id, target_seconds, business, state, cycle, started_at, stopped_at, deadline, warn_at,
elapsed_business, elapsed_calendar, breached, breaches, warned_cycle, breached_cycle, computed_at`

// Clocks reads a ticket's stored clocks inside the transaction.
func (tx *Tx) Clocks(ctx context.Context, ticketID int64) (map[sla.Metric]sla.Clock, error) {
	var rows []clockRow
	if err := tx.sel(ctx, &rows, `SELECT `+clockCols+` FROM ticket_sla WHERE ticket_id = ?`, ticketID); err != nil {
		return nil, fmt.Errorf("reading SLA clocks: %w", err)
	}
	out := make(map[sla.Metric]sla.Clock, len(rows))
	for i := range rows {
		out[rows[i].Metric] = rows[i].clock()
	}
	return out, nil
}

// TicketClocks reads a ticket's stored clocks in metric order.
func (s *Store) TicketClocks(ctx context.Context, ticketID int64) ([]sla.Clock, error) {
	var rows []clockRow
	if err := s.r.SelectContext(ctx, &rows, s.q(`SELECT `+clockCols+` FROM ticket_sla WHERE ticket_id = ?`), ticketID); err != nil {
		return nil, fmt.Errorf("reading SLA clocks: %w", err)
	}
	var out []sla.Clock
	for _, m := range sla.Metrics {
		for i := range rows {
			if rows[i].Metric == m {
				out = append(out, rows[i].clock())
			}
		}
	}
	return out, nil
}

// SaveClocks stores a ticket's clocks and metric record and the queue
// summary (next deadline, warning and alarm) on the ticket row, writing
// only what changed: most ticket changes move no deadline, and every write
// of the summary also rewrites three index entries.
func (tx *Tx) SaveClocks(ctx context.Context, ticketID int64, clocks []sla.Clock, prev map[sla.Metric]sla.Clock, rec sla.Record, now time.Time) error {
	same := len(clocks) == len(prev)
	for _, c := range clocks {
		p, ok := prev[c.Metric]
		same = same && ok && c.Same(p)
	}
	if !same {
		if len(prev) > 0 {
			if _, err := tx.exec(ctx, `DELETE FROM ticket_sla WHERE ticket_id = ?`, ticketID); err != nil {
				return fmt.Errorf("clearing SLA clocks: %w", err)
			}
		}
		for _, c := range clocks {
			_, err := tx.exec(ctx, `INSERT INTO ticket_sla (`+clockCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				ticketID, c.Metric, c.PolicyID, int64(c.Target/time.Second), c.Business, c.State, c.Cycle, utc(c.StartedAt), utcPtr(c.StoppedAt),
				utcPtr(c.Deadline), utcPtr(c.WarnAt), int64(c.ElapsedBusiness/time.Second), int64(c.ElapsedCalendar/time.Second),
				c.Breached, c.Breaches, c.WarnedCycle, c.BreachedCycle, utc(now))
			if err != nil {
				return fmt.Errorf("storing SLA clock: %w", err)
			}
		}
	}
	if err := tx.saveRecord(ctx, ticketID, rec, now); err != nil {
		return err
	}
	due, warn, alarm := sla.Next(clocks, now)
	d, w, a := ticket.DeadlineUnix(due), ticket.DeadlineUnix(warn), ticket.DeadlineUnix(alarm)
	if _, err := tx.exec(ctx, `UPDATE tickets SET sla_due = ?, sla_warn = ?, sla_alarm = ? WHERE id = ? AND (sla_due <> ? OR sla_warn <> ? OR sla_alarm <> ?)`,
		d, w, a, ticketID, d, w, a); err != nil {
		return fmt.Errorf("storing next deadline: %w", err)
	}
	return nil
}

type recordRow struct {
	PolicyID *int64 `db:"policy_id"`
	FRB      *int64 `db:"first_reply_business"`
	FRC      *int64 `db:"first_reply_calendar"`
	FSB      *int64 `db:"first_resolution_business"`
	FSC      *int64 `db:"first_resolution_calendar"`
	LSB      *int64 `db:"full_resolution_business"`
	LSC      *int64 `db:"full_resolution_calendar"`
	B1       int    `db:"breaches_first_reply"`
	B2       int    `db:"breaches_next_reply"`
	B3       int    `db:"breaches_resolution"`
	B4       int    `db:"breaches_periodic_update"`
	Reopens  int    `db:"reopens"`
}

const recordCols = `policy_id, first_reply_business, first_reply_calendar, first_resolution_business, first_resolution_calendar,
full_resolution_business, full_resolution_calendar, breaches_first_reply, breaches_next_reply, breaches_resolution, breaches_periodic_update, reopens`

func (r recordRow) record() *sla.Record {
	return &sla.Record{PolicyID: r.PolicyID, FirstReplyBusiness: r.FRB, FirstReplyCalendar: r.FRC, FirstResolutionBusiness: r.FSB,
		FirstResolutionCalendar: r.FSC, FullResolutionBusiness: r.LSB, FullResolutionCalendar: r.LSC, Reopens: r.Reopens,
		Breaches: map[sla.Metric]int{sla.FirstReply: r.B1, sla.NextReply: r.B2, sla.Resolution: r.B3, sla.PeriodicUpdate: r.B4}}
}

func rowOf(r sla.Record) recordRow {
	return recordRow{PolicyID: r.PolicyID, FRB: r.FirstReplyBusiness, FRC: r.FirstReplyCalendar, FSB: r.FirstResolutionBusiness,
		FSC: r.FirstResolutionCalendar, LSB: r.FullResolutionBusiness, LSC: r.FullResolutionCalendar, Reopens: r.Reopens,
		B1: r.Breaches[sla.FirstReply], B2: r.Breaches[sla.NextReply], B3: r.Breaches[sla.Resolution], B4: r.Breaches[sla.PeriodicUpdate]}
}

// saveRecord writes a ticket's metric record when it changed; a ticket
// with nothing to record yet has no row.
func (tx *Tx) saveRecord(ctx context.Context, ticketID int64, rec sla.Record, now time.Time) error {
	var old recordRow
	err := tx.queryRow(ctx, `SELECT `+recordCols+` FROM ticket_metrics WHERE ticket_id = ?`, ticketID).StructScan(&old)
	switch {
	case errors.Is(err, errNoRows):
		if rec.Empty() {
			return nil
		}
	case err != nil:
		return fmt.Errorf("reading metric record: %w", err)
	case reflect.DeepEqual(old, rowOf(rec)): // compares the pointed-to values
		return nil
	}
	r := rowOf(rec)
	_, err = tx.exec(ctx, `INSERT INTO ticket_metrics (ticket_id, `+recordCols+`, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (ticket_id) DO UPDATE SET policy_id = excluded.policy_id, first_reply_business = excluded.first_reply_business,
first_reply_calendar = excluded.first_reply_calendar, first_resolution_business = excluded.first_resolution_business,
first_resolution_calendar = excluded.first_resolution_calendar, full_resolution_business = excluded.full_resolution_business,
full_resolution_calendar = excluded.full_resolution_calendar, breaches_first_reply = excluded.breaches_first_reply,
breaches_next_reply = excluded.breaches_next_reply, breaches_resolution = excluded.breaches_resolution,
breaches_periodic_update = excluded.breaches_periodic_update, reopens = excluded.reopens, updated_at = excluded.updated_at`,
		ticketID, r.PolicyID, r.FRB, r.FRC, r.FSB, r.FSC, r.LSB, r.LSC, r.B1, r.B2, r.B3, r.B4, r.Reopens, utc(now))
	if err != nil {
		return fmt.Errorf("storing metric record: %w", err)
	}
	return nil
}

// MetricRecord reads a ticket's metric record (an empty one when nothing
// has been recorded yet).
func (s *Store) MetricRecord(ctx context.Context, ticketID int64) (*sla.Record, error) {
	var r recordRow
	if err := s.get(ctx, &r, `SELECT `+recordCols+` FROM ticket_metrics WHERE ticket_id = ?`, ticketID); err != nil {
		if errors.Is(err, errNoRows) {
			return recordRow{}.record(), nil
		}
		return nil, err
	}
	return r.record(), nil
}

// AlarmRecipients returns the ticket's assignee and its team's leads; the
// admins when there is neither.
func (tx *Tx) AlarmRecipients(ctx context.Context, t *ticket.Ticket) ([]int64, error) {
	var ids []int64
	err := tx.sel(ctx, &ids, `SELECT id FROM agents WHERE active AND (id = ? OR (role = 'lead' AND id IN (SELECT agent_id FROM team_members WHERE team_id = ?))) ORDER BY id`,
		t.AssigneeID, t.TeamID)
	if err == nil && len(ids) == 0 {
		err = tx.sel(ctx, &ids, `SELECT id FROM agents WHERE active AND role = 'admin' ORDER BY id`)
	}
	if err != nil {
		return nil, fmt.Errorf("finding who to notify: %w", err)
	}
	return ids, nil
}
