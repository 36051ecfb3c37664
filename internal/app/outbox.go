package app

import (
	"context"
	"errors"
	"github.com/sportello/sportello/internal/automation"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/jobs"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/notice"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/ticket"
)

// mailTx is the store's transaction as the mailer writes to it: an
// outbox row and the job that sends it, in the same transaction.
type mailTx struct {
	*store.Tx
	q *jobs.Queue
}

func (m mailTx) InsertOutbound(ctx context.Context, o *email.Outbound) error {
	if err := m.Tx.InsertOutbound(ctx, o); err != nil {
		return err
	}
	return m.q.InsertTx(ctx, m.SQL(), jobs.SendMail{OutboxID: o.ID})
}

// inTx is the dispatcher of in-transaction reactions to a ticket change:
// the SLA clocks first (the acknowledgement quotes their deadline), then
// the mail the change sends.
func (d *Desk) inTx(ctx context.Context, tx ticket.Tx, r ticket.Reaction) error {
	f, err := d.SLA.Recompute(ctx, tx.(sla.Tx), r.Ticket, r.Now)
	if err != nil {
		return err
	}
	st := tx.(*store.Tx)
	if len(f.Alarms) > 0 {
		// Told after commit: the relay to other nodes takes a pool
		// connection, and a rolled-back alarm never fired.
		st.AfterCommit(func() { d.slaFired(*f) })
	}
	var due *time.Time
	for _, c := range f.Clocks {
		if c.Metric == sla.FirstReply && !c.Done() && c.Deadline != nil {
			due = c.Deadline
		}
	}
	if err := d.noticesInTx(ctx, st, r); err != nil {
		return err
	}
	if err := d.customerInTx(ctx, st, r); err != nil {
		return err
	}
	if err := d.Mailer.React(ctx, mailTx{st, d.Jobs}, r, due); err != nil {
		return err
	}
	return d.automationInTx(ctx, st, r)
}

// noticesInTx notes the in-app notices a change calls for (assigned,
// customer wrote, @mentioned), as each agent wants them, and tells their
// open workspaces after commit.
func (d *Desk) noticesInTx(ctx context.Context, st *store.Tx, r ticket.Reaction) error {
	var members []notice.Member
	if r.Message != nil && r.Message.Kind == ticket.KindNote && strings.Contains(r.Message.BodyText, "@") {
		var err error
		if members, err = st.NoticeMembers(ctx); err != nil {
			return err
		}
	}
	by := ""
	if r.Actor.Type == ticket.ActorAgent {
		var err error
		if by, err = st.AgentName(ctx, r.Actor.ID); err != nil {
			return err
		}
	}
	for _, n := range notice.For(r, members, by) {
		ok, err := st.WantsNotice(ctx, n.AgentID, n.Kind)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := st.InsertNotices(ctx, []int64{n.AgentID}, r.Ticket.ID, n.Kind, n.Detail, r.Now); err != nil {
			return err
		}
		agentID, ticketID := n.AgentID, r.Ticket.ID
		st.AfterCommit(func() { d.Hub.Publish(live.Event{Type: "notice", Ticket: ticketID, Agent: agentID}) })
	}
	return nil
}

// alarmInTx queues the SLA notices by mail inside the alarm's transaction.
func (d *Desk) alarmInTx(ctx context.Context, tx sla.Tx, t *ticket.Ticket, f *sla.Fired, now time.Time) error {
	kinds := make([]string, 0, len(f.Alarms))
	for _, a := range f.Alarms {
		kinds = append(kinds, string(a.Metric)+":"+a.Kind)
	}
	st := tx.(*store.Tx)
	if err := d.Mailer.Alarm(ctx, mailTx{st, d.Jobs}, t, f.Recipients, kinds, now); err != nil {
		return err
	}
	// Rules hear SLA alarms in a transaction of their own, right after
	// this one: their changes re-derive the clocks being saved here.
	for _, a := range f.Alarms {
		ev := string(automation.SLAWarning)
		if a.Kind == "breach" {
			ev = string(automation.SLABreach)
		}
		if err := d.Jobs.InsertTx(ctx, st.SQL(), RuleEvent{TicketID: t.ID, Event: ev, Metric: string(a.Metric)}); err != nil {
			return err
		}
	}
	return nil
}

// mailWorker sends one outbox row per job.
type mailWorker struct {
	river.WorkerDefaults[jobs.SendMail]
	d *Desk
}

func (w *mailWorker) Work(ctx context.Context, job *river.Job[jobs.SendMail]) error {
	err := w.d.Sender.Send(ctx, job.Args.OutboxID, job.Attempt, job.Attempt >= job.MaxAttempts)
	if errors.Is(err, store.ErrOutboundNotFound) || errors.Is(err, email.ErrPermanent) {
		// Nothing to retry: the row is gone, or the server refused the
		// mail for good (the row says so; an agent can resend).
		return river.JobCancel(err)
	}
	if err != nil {
		w.d.Log.Warn("sending mail", "outbox", job.Args.OutboxID, "attempt", job.Attempt, "err", err)
	}
	return err
}

// NextRetry backs off from the desk's base wait, doubling up to 30 min.
func (w *mailWorker) NextRetry(job *river.Job[jobs.SendMail]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.d.mailRetry, 30*time.Minute))
}

// Resend puts a failed or sent mail of a ticket back in the outbox.
func (d *Desk) Resend(ctx context.Context, ticketID, outboxID int64) error {
	return d.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RequeueOutbound(ctx, outboxID, ticketID, d.Now()); err != nil {
			return err
		}
		return d.Jobs.InsertTx(ctx, tx.SQL(), jobs.SendMail{OutboxID: outboxID})
	})
}

// StartJobs runs the job queue's workers (outbound mail) until Close.
func (d *Desk) StartJobs(ctx context.Context) error {
	if d.jobsOn {
		return nil
	}
	if err := d.Jobs.Start(ctx); err != nil {
		return err
	}
	d.jobsOn = true
	return nil
}
