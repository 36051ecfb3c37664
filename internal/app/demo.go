package app

import (
	"context"
	"fmt"
	"github.com/sportello/sportello/internal/channel/email"
	"io"
	"time"

	"github.com/sportello/sportello/internal/demo"
)

// FillDemo fills an empty desk with the demo data set; a desk that already
// has tickets is left alone.
func (d *Desk) FillDemo(ctx context.Context, out io.Writer) error {
	n, err := d.Store.CountTickets(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(out, "demo: the desk already has %d tickets; nothing added\n", n)
		return nil
	}
	sum, err := d.Demo(ctx, d.Now(), 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: %s; SLA policy \"Standard\" on the calendar \"Ufficio (Europe/Rome)\"\n", sum)
	fmt.Fprintf(out, "demo: mailbox supporto@bottega.example receives through --smtp-addr; give it an SMTP server at /admin/mailboxes to send\n")
	return nil
}

// Demo fills the desk with the demo data set as of now (seed picks the
// variant) and, like a real desk, the starter SLA calendar and policy with
// every open ticket's clocks derived from its history.
func (d *Desk) Demo(ctx context.Context, now time.Time, seed uint64) (demo.Summary, error) {
	sum, err := demo.Fill(ctx, d.Store, now, seed)
	if err != nil {
		return sum, fmt.Errorf("filling demo data: %w", err)
	}
	if _, err := d.SLA.InstallStarter(ctx); err != nil {
		return sum, fmt.Errorf("demo SLA policy: %w", err)
	}
	if _, err := d.SLA.Scan(ctx); err != nil {
		return sum, fmt.Errorf("demo SLA clocks: %w", err)
	}
	// A mailbox for the first team: it receives through the built-in
	// listener (--smtp-addr) and sends once an admin gives it an SMTP
	// server on its page.
	teams, err := d.Store.Teams(ctx)
	if err != nil {
		return sum, err
	}
	mb := &email.Mailbox{Address: "supporto@bottega.example", Name: "Supporto Bottega", AutoAck: true, CreatedAt: now, UpdatedAt: now,
		Signatures: email.Texts{"it": "Il team di Bottega\nhttps://bottega.example", "en": "The Bottega team\nhttps://bottega.example"}}
	if len(teams) > 0 {
		mb.TeamID = &teams[0].ID
	}
	if err := mb.Validate(); err != nil {
		return sum, err
	}
	if err := d.Store.CreateMailbox(ctx, mb); err != nil {
		return sum, fmt.Errorf("demo mailbox: %w", err)
	}
	if err := d.demoKB(ctx, now); err != nil {
		return sum, err
	}
	if err := d.demoRatings(ctx); err != nil {
		return sum, fmt.Errorf("demo ratings: %w", err)
	}
	return sum, nil
}
