package app

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/gen"
	"github.com/sportello/sportello/internal/sla"
)

func genCmd(ctx context.Context, args []string, getenv func(string) string, stdio IO) error {
	var opt gen.Options
	st, _, _, err := openStore(ctx, "sportello gen", args, getenv, stdio, func(fs *flag.FlagSet) {
		fs.IntVar(&opt.Tickets, "tickets", 10000, "how many tickets to add (0: none, only derive SLA clocks)")
		fs.IntVar(&opt.Messages, "messages", 5, "messages per ticket (average)")
		fs.IntVar(&opt.Teams, "teams", 10, "teams to spread tickets over (created if missing)")
		fs.Int64Var(&opt.Seed, "seed", 1, "random seed")
	})
	if err != nil {
		return quietHelp(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	opt.Progress = func(done int) {
		el := time.Since(start)
		fmt.Fprintf(stdio.Out, "\r%d/%d tickets, %.0f tickets/s ", done, opt.Tickets, float64(done)/el.Seconds())
	}
	if opt.Tickets < 0 {
		return fmt.Errorf("--tickets %d: must not be negative", opt.Tickets)
	}
	if opt.Tickets > 0 {
		if err := gen.Fill(ctx, st, opt); err != nil {
			return err
		}
	}
	// Clocks for the open tickets under the starter policy (or the desk's
	// own policies), so that SLA queues and benchmarks have real deadlines.
	svc := sla.NewService(st, time.Now)
	if _, err := svc.InstallStarter(ctx); err != nil {
		return err
	}
	slaStart, done := time.Now(), 0
	svc.Progress = func(n int) {
		done += n
		fmt.Fprintf(stdio.Out, "\rSLA clocks: %d open tickets, %.0f/s ", done, float64(done)/time.Since(slaStart).Seconds())
	}
	if _, err := svc.Scan(ctx); err != nil {
		return err
	}
	el := time.Since(start)
	if opt.Tickets == 0 {
		fmt.Fprintf(stdio.Out, "\nderived SLA clocks of %d open tickets in %s into %s\n", done, el.Round(time.Second), st.Where)
		return nil
	}
	fmt.Fprintf(stdio.Out, "\ngenerated %d tickets with ~%d messages each in %s (%.0f tickets/s) into %s\n",
		opt.Tickets, opt.Messages, el.Round(time.Second), float64(opt.Tickets)/el.Seconds(), st.Where)
	return nil
}
