package app

import (
	"context"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/jobs"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/ticket"
)

// Closure and satisfaction (DOMAIN §8): when a ticket is solved the
// customer is asked to confirm, with two signed links, and a survey is
// queued for a delay later (24 hours unless an admin changes it). The
// survey's worker sends it only if the ticket is still solved at that
// resolution (a reopen cancels it) and only once (its row).

// Link purposes and lifetimes.
const (
	LinkClosure = "closure"
	LinkSurvey  = "csat"
	linkLife    = 14 * 24 * time.Hour
)

// customerInTx queues, in the transaction that solved a ticket, the
// closure confirmation and the survey job.
func (d *Desk) customerInTx(ctx context.Context, st *store.Tx, r ticket.Reaction) error {
	t := r.Ticket
	solved := false
	for _, e := range r.Events {
		solved = solved || (e.TicketID == t.ID && e.Field == "status" && e.After == string(ticket.StatusSolved))
	}
	if !solved || t.SolvedAt == nil || t.MergedIntoID != nil {
		return nil
	}
	res := t.Resolution()
	fields := []string{strconv.FormatInt(t.ID, 10), strconv.FormatInt(t.RequesterID, 10), strconv.FormatInt(res, 10)}
	tok := d.Links.Make(LinkClosure, r.Now.Add(linkLife), fields...)
	base := d.Cfg.BaseURL + "/closure/" + tok
	if err := d.Mailer.Customer(ctx, mailTx{st, d.Jobs}, email.CustomerMail{Kind: email.KindSolved, Ticket: t, ContactID: t.RequesterID,
		Vars: map[string]string{"confirm": base + "?answer=yes", "reopen": base + "?answer=no"}, Now: r.Now}); err != nil {
		return err
	}
	cs := csat.DefaultSettings()
	if _, err := st.Setting(ctx, csat.SettingsKey, &cs); err != nil {
		return err
	}
	return d.Jobs.InsertAtTx(ctx, st.SQL(), jobs.Survey{TicketID: t.ID, Resolution: res}, r.Now.Add(time.Duration(cs.DelayHours)*time.Hour))
}

// surveyWorker sends a resolution's survey when it is due.
type surveyWorker struct {
	river.WorkerDefaults[jobs.Survey]
	d *Desk
}

func (w *surveyWorker) Work(ctx context.Context, job *river.Job[jobs.Survey]) error {
	d := w.d
	now := d.Now()
	var wait time.Duration
	err := d.Store.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.TicketForUpdate(ctx, job.Args.TicketID)
		if err != nil {
			return nil // the ticket is gone: no survey
		}
		if (t.Status != ticket.StatusSolved && t.Status != ticket.StatusClosed) || t.Resolution() != job.Args.Resolution {
			return nil // reopened since: this resolution's survey is cancelled
		}
		cs := csat.DefaultSettings()
		if _, err := tx.Setting(ctx, csat.SettingsKey, &cs); err != nil {
			return err
		}
		if due := t.SolvedAt.Add(time.Duration(cs.DelayHours) * time.Hour); now.Before(due) {
			// Early by the desk's clock (another node's, a test's): look
			// again soon, never later than it is due.
			wait = min(due.Sub(now), d.surveyRecheck)
			return nil
		}
		first, err := tx.InsertSurvey(ctx, t.ID, job.Args.Resolution, t.RequesterID, now)
		if err != nil || !first {
			return err
		}
		fields := []string{strconv.FormatInt(t.ID, 10), strconv.FormatInt(t.RequesterID, 10), strconv.FormatInt(job.Args.Resolution, 10)}
		link := d.Cfg.BaseURL + "/rate/" + d.Links.Make(LinkSurvey, now.Add(linkLife), fields...)
		return d.Mailer.Customer(ctx, mailTx{tx, d.Jobs}, email.CustomerMail{Kind: email.KindSurvey, Ticket: t, ContactID: t.RequesterID,
			Vars: map[string]string{"link": link}, Now: now})
	})
	if err == nil && wait > 0 {
		return river.JobSnooze(wait)
	}
	return err
}

// portalMail queues the mail with a customer's portal sign-in link.
func (d *Desk) portalMail(ctx context.Context, contactID int64, link string) error {
	return d.Store.InTx(ctx, func(tx *store.Tx) error {
		return d.Mailer.Customer(ctx, mailTx{tx, d.Jobs}, email.CustomerMail{Kind: email.KindPortal, ContactID: contactID,
			Vars: map[string]string{"link": link}, Now: d.Now()})
	})
}
