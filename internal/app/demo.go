package app

import (
	"context"
	"fmt"
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
	return sum, nil
}
