package sla

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/bizhours"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// Store is what the SLA service needs from persistence.
type Store interface {
	Calendars(ctx context.Context) ([]Calendar, error)
	Calendar(ctx context.Context, id int64) (*Calendar, error)
	SaveCalendar(ctx context.Context, c *Calendar) error
	DeleteCalendar(ctx context.Context, id int64) error
	Policies(ctx context.Context) ([]Policy, error)
	Policy(ctx context.Context, id int64) (*Policy, error)
	SavePolicy(ctx context.Context, p *Policy) error
	DeletePolicy(ctx context.Context, id int64) error
	// SLATx runs fn in a transaction.
	SLATx(ctx context.Context, fn func(Tx) error) error
	// DueTickets lists up to limit tickets with an alarm due at now.
	DueTickets(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// RecomputeBatch returns the next unsolved tickets to re-derive after a
	// configuration change, with the change's generation, or none when no
	// recompute is pending; AdvanceRecompute records progress.
	RecomputeBatch(ctx context.Context, limit int) ([]int64, int64, error)
	AdvanceRecompute(ctx context.Context, gen, after int64, done bool) error
	TicketClocks(ctx context.Context, ticketID int64) ([]Clock, error)
}

// Tx is what a recompute writes, inside the transaction of the change.
type Tx interface {
	// Calendars and Policies read the configuration through the
	// transaction's own connection (see Service.config).
	Calendars(ctx context.Context) ([]Calendar, error)
	Policies(ctx context.Context) ([]Policy, error)
	TicketForUpdate(ctx context.Context, id int64) (*ticket.Ticket, error)
	SLAHistory(ctx context.Context, t *ticket.Ticket) (*History, error)
	Clocks(ctx context.Context, ticketID int64) (map[Metric]Clock, error)
	// SaveClocks stores a ticket's clocks and record; prev are the clocks
	// stored before, so that nothing is written when nothing changed.
	SaveClocks(ctx context.Context, ticketID int64, clocks []Clock, prev map[Metric]Clock, rec Record, now time.Time) error
	InsertEvents(ctx context.Context, evs []ticket.Event) error
	// AlarmRecipients are the agents told about a ticket's alarms: its
	// assignee and the leads of its team (admins when there is neither).
	AlarmRecipients(ctx context.Context, t *ticket.Ticket) ([]int64, error)
	InsertNotices(ctx context.Context, agentIDs []int64, ticketID int64, kind, detail string, now time.Time) error
}

// Fired reports alarms that fired on a ticket, after commit.
type Fired struct {
	TicketID int64
	// TeamID and AssigneeID say who may hear of the ticket.
	TeamID, AssigneeID *int64

	Alarms     []Alarm
	Recipients []int64
	// Clocks are the ticket's clocks as derived now (the acknowledgement
	// quotes the first-reply deadline).
	Clocks []Clock
}

// Service keeps clocks and fires alarms.
type Service struct {
	store Store
	now   func() time.Time
	// OnFire, when set, is told about alarms after their transaction
	// commits (live updates, mail). It must not block.
	OnFire func(Fired)
	// AlarmInTx, when set, hears alarms inside the transaction that fires
	// them (on the ticket's row lock): mail notices are queued there, so
	// an alarm and its mail commit together, once.
	AlarmInTx func(ctx context.Context, tx Tx, t *ticket.Ticket, f *Fired, now time.Time) error
	// Progress, when set, is told how many tickets each recompute batch
	// re-derived (the generator prints it).
	Progress func(n int)

	// mu guards the cached configuration; it is never held across a
	// database call.
	mu       sync.Mutex
	cfg      *config
	loadedAt time.Time
	gen      uint64 // bumped by invalidate: a load begun earlier is not kept
}

// config is a snapshot of calendars and policies, compiled.
type config struct {
	policies []Policy
	scheds   map[int64]*bizhours.Schedule
	always   *bizhours.Schedule
}

// configTTL bounds how stale another node's edits may look here.
const configTTL = 10 * time.Second

// NewService builds the SLA service; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// config returns the compiled calendars and policies, reloading them
// through tx when the cache is older than configTTL. The reload uses the
// caller's transaction, never the pool: a transaction that waits for a
// second connection deadlocks once every connection is held by one
// (issue 9). Concurrent reloads may each read; the last one wins.
func (s *Service) config(ctx context.Context, tx Tx) (*config, error) {
	s.mu.Lock()
	c, at, gen := s.cfg, s.loadedAt, s.gen
	s.mu.Unlock()
	if c != nil && s.now().Sub(at) < configTTL {
		return c, nil
	}
	cals, err := tx.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	pols, err := tx.Policies(ctx)
	if err != nil {
		return nil, err
	}
	c, err = compileConfig(cals, pols)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen {
		s.cfg, s.loadedAt = c, s.now()
	}
	s.mu.Unlock()
	return c, nil
}

func compileConfig(cals []Calendar, pols []Policy) (*config, error) {
	c := &config{scheds: map[int64]*bizhours.Schedule{}, always: bizhours.Compile(bizhours.Always(time.UTC))}
	for i := range cals {
		bc, err := cals[i].Check()
		if err != nil {
			return nil, fmt.Errorf("calendar %d: %w", cals[i].ID, err)
		}
		c.scheds[cals[i].ID] = bizhours.Compile(bc)
	}
	for _, p := range pols {
		if p.Active {
			c.policies = append(c.policies, p)
		}
	}
	slices.SortStableFunc(c.policies, func(a, b Policy) int { return a.Position - b.Position })
	return c, nil
}

// Schedule returns the compiled business hours of a calendar (ok false
// when there is no such calendar), read through tx when the cache is old:
// rules ask whether a ticket is within hours and how long it waited.
func (s *Service) Schedule(ctx context.Context, tx Tx, calendarID int64) (*bizhours.Schedule, bool, error) {
	c, err := s.config(ctx, tx)
	if err != nil {
		return nil, false, err
	}
	sc, ok := c.scheds[calendarID]
	return sc, ok, nil
}

// invalidate drops the cached configuration after a local edit.
func (s *Service) invalidate() {
	s.mu.Lock()
	s.cfg = nil
	s.gen++
	s.mu.Unlock()
}

// Recompute re-derives the clocks of ticket t (as just written) inside tx,
// the transaction of the change that touched it, fires the alarms already
// due, stores it all, and sets t's next deadline and warning.
func (s *Service) Recompute(ctx context.Context, tx Tx, t *ticket.Ticket, now time.Time) (*Fired, error) {
	return s.recompute(ctx, tx, t, now, false)
}

// recomputeID locks and reads ticket id, then re-derives it.
func (s *Service) recomputeID(ctx context.Context, tx Tx, id int64, now time.Time, quiet bool) (*Fired, error) {
	t, err := tx.TicketForUpdate(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.recompute(ctx, tx, t, now, quiet)
}

// recompute is Recompute; quiet marks alarms already due as fired without
// events or notices. A configuration change re-derives every open ticket
// quietly: turning SLA on over a backlog of old tickets must not send
// thousands of breach notices at once (the Breached queue lists them).
func (s *Service) recompute(ctx context.Context, tx Tx, t *ticket.Ticket, now time.Time, quiet bool) (*Fired, error) {
	cfg, err := s.config(ctx, tx)
	if err != nil {
		return nil, err
	}
	id := t.ID
	h, err := tx.SLAHistory(ctx, t)
	if err != nil {
		return nil, err
	}
	var pol *Policy
	for i := range cfg.policies {
		if cfg.policies[i].Matches(t, h.OrgID) {
			pol = &cfg.policies[i]
			break
		}
	}
	sch := Schedules{Always: cfg.always}
	if pol != nil && pol.CalendarID != nil {
		sch.Business = cfg.scheds[*pol.CalendarID]
	}
	prev, err := tx.Clocks(ctx, id)
	if err != nil {
		return nil, err
	}
	clocks, rec := Derive(h, pol, sch, now, prev)
	alarms := Fire(clocks, now)
	if quiet {
		alarms = nil
	}
	out := &Fired{TicketID: id, TeamID: t.TeamID, AssigneeID: t.AssigneeID, Alarms: alarms, Clocks: clocks}
	if len(alarms) > 0 {
		out.Recipients, err = tx.AlarmRecipients(ctx, t)
		if err != nil {
			return nil, err
		}
		evs := make([]ticket.Event, len(alarms))
		for i, a := range alarms {
			evs[i] = ticket.Event{TicketID: id, ActorType: ticket.ActorSystem, Field: "sla_" + a.Kind, After: string(a.Metric), CreatedAt: now}
			if err := tx.InsertNotices(ctx, out.Recipients, id, "sla_"+a.Kind, string(a.Metric), now); err != nil {
				return nil, err
			}
		}
		if err := tx.InsertEvents(ctx, evs); err != nil {
			return nil, err
		}
		if s.AlarmInTx != nil {
			if err := s.AlarmInTx(ctx, tx, t, out, now); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.SaveClocks(ctx, id, clocks, prev, rec, now); err != nil {
		return nil, err
	}
	due, warn, _ := Next(clocks, now)
	t.SLADue, t.SLAWarn = ticket.DeadlineUnix(due), ticket.DeadlineUnix(warn)
	return out, nil
}

// Scan fires the alarms that are due and carries on a pending recompute
// after a configuration change. It returns how many alarms fired. Each
// ticket is handled in its own transaction, under its row lock, so alarms
// fire once even with several nodes scanning.
func (s *Service) Scan(ctx context.Context) (int, error) {
	now := s.now().UTC().Truncate(time.Second)
	fired := 0
	for {
		ids, err := s.store.DueTickets(ctx, now, 500)
		if err != nil {
			return fired, err
		}
		n, err := s.recomputeAll(ctx, ids, now, false)
		fired += n
		if err != nil || len(ids) < 500 {
			if err != nil {
				return fired, err
			}
			break
		}
	}
	for {
		ids, gen, err := s.store.RecomputeBatch(ctx, 500)
		if err != nil || len(ids) == 0 {
			return fired, err
		}
		if _, err := s.recomputeAll(ctx, ids, now, true); err != nil {
			return fired, err
		}
		if s.Progress != nil {
			s.Progress(len(ids))
		}
		if err := s.store.AdvanceRecompute(ctx, gen, ids[len(ids)-1], len(ids) < 500); err != nil {
			return fired, err
		}
	}
}

// RecomputeTickets re-derives the clocks of the given tickets now, quietly
// (as a configuration change does).
func (s *Service) RecomputeTickets(ctx context.Context, ids []int64) error {
	_, err := s.recomputeAll(ctx, ids, s.now().UTC().Truncate(time.Second), true)
	return err
}

// recomputeAll re-derives tickets in short transactions of up to 50
// tickets, each under its row lock, and reports the alarms after commit.
func (s *Service) recomputeAll(ctx context.Context, ids []int64, now time.Time, quiet bool) (int, error) {
	n := 0
	for start := 0; start < len(ids); start += 50 {
		batch := ids[start:min(start+50, len(ids))]
		var fired []Fired
		err := s.store.SLATx(ctx, func(tx Tx) error {
			fired = fired[:0]
			for _, id := range batch {
				f, err := s.recomputeID(ctx, tx, id, now, quiet)
				if err != nil {
					return fmt.Errorf("SLA recompute of ticket %d: %w", id, err)
				}
				if len(f.Alarms) > 0 {
					fired = append(fired, *f)
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		for _, f := range fired {
			n += len(f.Alarms)
			if s.OnFire != nil {
				s.OnFire(f)
			}
		}
	}
	return n, nil
}

// Run scans every interval until ctx ends; errors are reported to logf
// and the loop carries on (the next pass retries).
func (s *Service) Run(ctx context.Context, interval time.Duration, logf func(error)) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		if _, err := s.Scan(ctx); err != nil && ctx.Err() == nil {
			logf(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}

// Clocks returns a ticket's stored clocks (the caller checks visibility).
func (s *Service) Clocks(ctx context.Context, ticketID int64) ([]Clock, error) {
	return s.store.TicketClocks(ctx, ticketID)
}

// Calendars lists the calendars.
func (s *Service) Calendars(ctx context.Context) ([]Calendar, error) { return s.store.Calendars(ctx) }

// Calendar returns one calendar.
func (s *Service) Calendar(ctx context.Context, id int64) (*Calendar, error) {
	return s.store.Calendar(ctx, id)
}

// SaveCalendar validates and stores a calendar (new when ID is 0); open
// tickets are re-derived by the scan.
func (s *Service) SaveCalendar(ctx context.Context, c *Calendar) error {
	if _, err := c.Check(); err != nil {
		return err
	}
	now := s.now().UTC()
	if c.ID == 0 {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	if err := s.store.SaveCalendar(ctx, c); err != nil {
		return err
	}
	s.invalidate()
	return nil
}

// ImportHolidays adds to calendar id the holidays of an iCalendar file
// (all-day events; yearly ones recur) that it does not have yet, and
// returns how many it added.
func (s *Service) ImportHolidays(ctx context.Context, id int64, ics io.Reader) (int, error) {
	c, err := s.store.Calendar(ctx, id)
	if err != nil {
		return 0, err
	}
	hs, err := bizhours.ParseICS(ics)
	if err != nil {
		return 0, fault.Field("file", "ics", err.Error())
	}
	added := 0
	for _, h := range hs {
		if !slices.Contains(c.Holidays, h) {
			c.Holidays = append(c.Holidays, h)
			added++
		}
	}
	if added == 0 {
		return 0, nil
	}
	return added, s.SaveCalendar(ctx, c)
}

// DeleteCalendar removes a calendar no policy uses.
func (s *Service) DeleteCalendar(ctx context.Context, id int64) error {
	if err := s.store.DeleteCalendar(ctx, id); err != nil {
		return err
	}
	s.invalidate()
	return nil
}

// Policies lists every policy in order.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	ps, err := s.store.Policies(ctx)
	slices.SortStableFunc(ps, func(a, b Policy) int { return a.Position - b.Position })
	return ps, err
}

// Policy returns one policy.
func (s *Service) Policy(ctx context.Context, id int64) (*Policy, error) {
	return s.store.Policy(ctx, id)
}

// SavePolicy validates and stores a policy (new when ID is 0); open
// tickets are re-derived by the scan.
func (s *Service) SavePolicy(ctx context.Context, p *Policy) error {
	if err := p.Check(); err != nil {
		return err
	}
	if p.CalendarID != nil {
		if _, err := s.store.Calendar(ctx, *p.CalendarID); err != nil {
			return fault.Field("calendar_id", "exists", "no calendar has this id")
		}
	}
	if p.Pauses == nil {
		p.Pauses = DefaultPauses()
	}
	now := s.now().UTC()
	if p.ID == 0 {
		p.CreatedAt = now
	}
	p.UpdatedAt = now
	if err := s.store.SavePolicy(ctx, p); err != nil {
		return err
	}
	s.invalidate()
	return nil
}

// DeletePolicy removes a policy.
func (s *Service) DeletePolicy(ctx context.Context, id int64) error {
	if err := s.store.DeletePolicy(ctx, id); err != nil {
		return err
	}
	s.invalidate()
	return nil
}
