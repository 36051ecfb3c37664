package app

import (
	"context"
	"fmt"
	"io"

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
	sum, err := demo.Fill(ctx, d.Store, d.Now(), 1)
	if err != nil {
		return fmt.Errorf("filling demo data: %w", err)
	}
	// The demo desk promises like a real one: the starter calendar and
	// policy, and every open ticket's clocks derived from its history.
	if _, err := d.SLA.InstallStarter(ctx); err != nil {
		return fmt.Errorf("demo SLA policy: %w", err)
	}
	if _, err := d.SLA.Scan(ctx); err != nil {
		return fmt.Errorf("demo SLA clocks: %w", err)
	}
	fmt.Fprintf(out, "demo: %s; SLA policy \"Standard\" on the calendar \"Ufficio (Europe/Rome)\"\n", sum)
	return nil
}
