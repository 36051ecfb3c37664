// Package app wires Sportello together: configuration → store → services →
// HTTP surfaces and background loops, and the command line around them.
// Nothing else knows both the domain packages and the store.
package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/config"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/jobs"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/metrics"
	"github.com/sportello/sportello/internal/notice"
	"github.com/sportello/sportello/internal/routing"
	"github.com/sportello/sportello/internal/secrets"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/webhook"
)

// Version is set at build time with -ldflags "-X …/app.Version=v1.2.3".
var Version = "dev"

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

const usage = `Sportello — a help desk in one binary.

Usage:
  sportello [serve] [flags]           start the help desk (default command)
  sportello migrate [up|status]       apply or list database migrations
  sportello user add --email E --name N --role admin|lead|agent
                                      add an agent (password from stdin, or generated)
  sportello user passwd --email E     set an agent's password (from stdin, or generated)
  sportello token add --email E --name N
                                      create an API token for an agent (printed once)
  sportello gen --tickets N           fill the database with N generated tickets (benchmarks)
  sportello version                   print the version

Run "sportello <command> -h" for the flags of a command.
`

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, getenv func(string) string, stdio IO) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdio)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdio)
	case "user":
		return userCmd(ctx, args, getenv, stdio)
	case "token":
		return tokenCmd(ctx, args, getenv, stdio)
	case "gen":
		return genCmd(ctx, args, getenv, stdio)
	case "version":
		fmt.Fprintln(stdio.Out, "sportello", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdio.Out, usage)
		return nil
	}
	fmt.Fprint(stdio.Err, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Options let tests and tools adjust a desk built by New.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log receives the desk's logs; default discards them.
	Log *slog.Logger
	// Auth tunes session and login throttling.
	Auth auth.Config
	// MailRetry is the first wait before an unsent mail is tried again
	// (doubled each time, at most 30 min); default 30s.
	MailRetry time.Duration
	// JobPoll is how often the job queue looks for due jobs; default 1s.
	JobPoll time.Duration
	// SurveyRecheck bounds how long a survey that came due early by the
	// desk's clock waits before it looks again (default 30 s).
	SurveyRecheck time.Duration
	// WebhookTimeout bounds one webhook delivery (default 10 s);
	// RuleScan is how often time rules run (default 1 min).
	WebhookTimeout time.Duration
	RuleScan       time.Duration
}

// Desk is a built Sportello: its store, services and HTTP handler.
type Desk struct {
	Cfg     config.Config
	Store   *store.Store
	Tickets *ticket.Service
	Auth    *auth.Service
	Files   blob.Store // the data folder on SQLite, the database on PostgreSQL
	Metrics *metrics.Metrics
	I18n    *i18n.Bundle
	Hub     *live.Hub
	SLA     *sla.Service
	Notices *notice.Service
	// Mail takes inbound mail in (the SMTP listener, the IMAP poller).
	Mail *email.Intake
	// Secrets seals mailbox passwords.
	Secrets *secrets.Box
	// Jobs is the job queue; Mailer decides what mail a change sends and
	// Sender sends it.
	Jobs          *jobs.Queue
	Mailer        *email.Mailer
	Sender        *email.Sender
	mailRetry     time.Duration
	jobsOn        bool
	inlineKey     []byte
	surveyRecheck time.Duration
	// Links signs what customers are given: the contact form's time
	// token, closure and survey links.
	Links   *auth.Links
	Log     *slog.Logger
	Now     func() time.Time
	handler http.Handler
	node    string // this process, to ignore its own relayed events
	rules   ruleCache
	// lang detects customers' languages among the help centre's
	// (refreshLanguages keeps it current).
	lang  *routing.Detector
	hooks *webhook.Client
	// ruleScan is how often time rules look for tickets (default 1 min).
	ruleScan time.Duration
}

// New opens the database, applies migrations and builds every service and
// the HTTP handler. Close it when done.
func New(ctx context.Context, cfg config.Config, opt Options) (*Desk, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	folder, err := blob.New(cfg.DataDir + "/attachments")
	if err != nil {
		st.Close()
		return nil, err
	}
	var files blob.Store = folder
	if st.Dialect() == store.Postgres {
		// Nodes share nothing but PostgreSQL: content lives there, and
		// files an earlier version left in this node's folder move in.
		db := st.Blobs()
		if err := importFolder(ctx, folder, db, opt.Log); err != nil {
			st.Close()
			return nil, err
		}
		files = db
	}
	d := &Desk{Cfg: cfg, Store: st, Files: files, Metrics: metrics.New(), Log: opt.Log, Now: opt.Now}
	d.node = newNodeID()
	var relay func(live.Event)
	if st.CanNotify() {
		relay = d.relayOut
	}
	d.Hub = live.NewHub(opt.Now, relay)
	d.SLA = sla.NewService(st, opt.Now)
	d.SLA.OnFire = d.slaFired
	d.SLA.AlarmInTx = d.alarmInTx
	d.Notices = notice.NewService(st, opt.Now)
	d.lang = routing.NewDetector(i18n.Languages...)
	d.Tickets = ticket.NewService(st, files, opt.Now, ticket.Options{OnChange: d.ticketChanged, InTx: d.inTx,
		DetectLanguage: d.lang.Detect})
	d.Auth = auth.NewService(st, opt.Now, opt.Auth)
	key, err := st.Secret(ctx, "mail-token", func() string { return auth.RandomSecret(32) })
	if err != nil {
		st.Close()
		return nil, err
	}
	signer := email.NewSigner([]byte(key))
	ik, err := st.Secret(ctx, "inline-images", func() string { return auth.RandomSecret(32) })
	if err != nil {
		st.Close()
		return nil, err
	}
	d.inlineKey = []byte(ik)
	ck, err := st.Secret(ctx, "customer-links", func() string { return auth.RandomSecret(32) })
	if err != nil {
		st.Close()
		return nil, err
	}
	d.Links = auth.NewLinks([]byte(ck))
	d.Mail = email.NewIntake(st, d.Tickets, files, signer, opt.Now)
	if d.Secrets, err = secrets.Load(cfg.SecretKey, cfg.DataDir); err != nil {
		st.Close()
		return nil, err
	}
	if d.I18n, err = i18n.New(); err != nil {
		st.Close()
		return nil, err
	}
	d.Mailer = email.NewMailer(signer, d.I18n, cfg.BaseURL, "Europe/Rome")
	d.Sender = email.NewSender(st, files, d.Secrets.Open, d.oauthToken, opt.Now)
	d.mailRetry = opt.MailRetry
	if d.mailRetry <= 0 {
		d.mailRetry = 30 * time.Second
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &mailWorker{d: d})
	river.AddWorker(workers, &surveyWorker{d: d})
	river.AddWorker(workers, &ruleEventWorker{d: d})
	river.AddWorker(workers, &webhookWorker{d: d})
	if opt.WebhookTimeout <= 0 {
		opt.WebhookTimeout = 10 * time.Second
	}
	d.hooks = webhook.NewClient(opt.WebhookTimeout)
	d.ruleScan = opt.RuleScan
	if d.ruleScan <= 0 {
		d.ruleScan = time.Minute
	}
	d.surveyRecheck = opt.SurveyRecheck
	if d.surveyRecheck <= 0 {
		d.surveyRecheck = 30 * time.Second
	}
	db, pool := st.Handles()
	if d.Jobs, err = jobs.Open(ctx, db, pool, workers, jobs.Config{Poll: opt.JobPoll, Log: opt.Log}); err != nil {
		st.Close()
		return nil, err
	}
	if err := d.seedAutomation(ctx); err != nil {
		d.Jobs.Close()
		st.Close()
		return nil, fmt.Errorf("adding the shipped rules and macros: %w", err)
	}
	if err := d.refreshLanguages(ctx); err != nil {
		d.Jobs.Close()
		st.Close()
		return nil, fmt.Errorf("reading the help centre's languages: %w", err)
	}
	if d.handler, err = d.routes(); err != nil {
		d.Jobs.Close()
		st.Close()
		return nil, err
	}
	return d, nil
}

// importFolder copies into the database the attachment files of the data
// folder that it does not hold yet (once per file; the folder is left as
// it was, for the admin to remove).
func importFolder(ctx context.Context, folder *blob.FS, db *store.Blobs, log *slog.Logger) error {
	moved := 0
	err := folder.Each(func(sum string) error {
		ok, err := db.Has(ctx, sum)
		if err != nil || ok {
			return err
		}
		f, err := folder.Open(ctx, sum)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
		if got, _, err := db.Put(ctx, data); err != nil {
			return err
		} else if got != sum {
			log.Warn("attachment file does not match its name; not imported", "file", sum)
			return nil
		}
		moved++
		return nil
	})
	if err != nil {
		return fmt.Errorf("moving attachment files into the database: %w", err)
	}
	if moved > 0 {
		log.Info("moved attachment files into the database", "files", moved)
	}
	return nil
}

// IMAPPoller imports the mail of the mailboxes that receive by IMAP.
func (d *Desk) IMAPPoller() *email.Poller {
	p := email.NewPoller(d.Store, d.Mail, d.Secrets.Open, d.Log)
	p.Token = d.oauthToken
	return p
}

// SMTPListener is the built-in SMTP server over this desk's intake.
func (d *Desk) SMTPListener() *email.Listener {
	host := "sportello"
	if u, err := url.Parse(d.Cfg.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return email.NewListener(d.Mail, d.Store, d.Log, host, int64(d.Cfg.SMTPMaxMB)<<20)
}

// Handler is the desk's whole HTTP surface.
func (d *Desk) Handler() http.Handler { return d.handler }

// Close stops the job queue (letting a mail being sent finish, briefly)
// and releases the database.
func (d *Desk) Close() error {
	if d.jobsOn {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = d.Jobs.Stop(ctx)
		cancel()
		d.jobsOn = false
	}
	d.Jobs.Close()
	return d.Store.Close()
}

// EnsureAdmin creates the first admin when the desk has none and returns
// its one-time password ("" when an admin already exists).
func (d *Desk) EnsureAdmin(ctx context.Context) (email, password string, err error) {
	n, err := d.Store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", "", err
	}
	password = auth.RandomSecret(12)
	hash, err := auth.HashPassword(password)
	if err != nil {
		return "", "", err
	}
	now := d.Now().UTC()
	a := &agent.Agent{Email: d.Cfg.AdminEmail, Name: "Admin", Role: agent.RoleAdmin, Language: "it", Timezone: "Europe/Rome",
		Availability: agent.Offline, Active: true, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := a.Validate(); err != nil {
		return "", "", fmt.Errorf("--admin-email: %w", err)
	}
	if err := d.Store.CreateAgent(ctx, a); err != nil {
		return "", "", fmt.Errorf("creating the first admin: %w", err)
	}
	return a.Email, password, nil
}

// ticketChanged tells connected workspaces (on every node) about a
// committed change, scoped to the agents who may see the ticket.
func (d *Desk) ticketChanged(c ticket.Change) {
	d.Hub.TicketChanged(c.Ticket.ID, c.What, c.By, live.ScopeOf(c.Ticket.TeamID, c.Ticket.AssigneeID))
}

// slaFired tells connected workspaces about alarms: the ticket's rows and
// the recipients' notice counts refresh live.
func (d *Desk) slaFired(f sla.Fired) {
	d.Hub.TicketChanged(f.TicketID, "sla", 0, live.ScopeOf(f.TeamID, f.AssigneeID))
	for _, a := range f.Recipients {
		d.Hub.Publish(live.Event{Type: "notice", Ticket: f.TicketID, Agent: a})
	}
	for _, a := range f.Alarms {
		d.Log.Info("SLA alarm", "ticket", f.TicketID, "metric", a.Metric, "kind", a.Kind)
	}
}

// slaScan fires due SLA warnings and breaches and carries on recomputes
// after configuration changes, every interval until ctx ends.
func (d *Desk) slaScan(ctx context.Context) {
	d.SLA.Run(ctx, time.Duration(d.Cfg.SLAScanSeconds)*time.Second, func(err error) { d.Log.Warn("SLA scan", "err", err) })
}

// sessionJanitor deletes expired sessions and refreshes planner statistics
// once an hour until ctx ends.
func (d *Desk) sessionJanitor(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := d.Store.DeleteExpiredSessions(ctx, d.Now()); err != nil && ctx.Err() == nil {
			d.Log.Warn("deleting expired sessions", "err", err)
		} else if n > 0 {
			d.Log.Info("deleted expired sessions", "count", n)
		}
		if _, err := d.Store.ForgetIdempotencyKeys(ctx, d.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			d.Log.Warn("forgetting idempotency keys", "err", err)
		}
		if err := d.Store.DeleteExpiredPortal(ctx, d.Now()); err != nil && ctx.Err() == nil {
			d.Log.Warn("forgetting portal sign-ins", "err", err)
		}
		if err := d.Store.Optimize(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("refreshing planner statistics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// autoClose closes solved tickets due for closing every ten minutes until
// ctx ends. Several nodes may run it at once (see ticket.CloseSolved).
func (d *Desk) autoClose(ctx context.Context) {
	if d.Cfg.AutoCloseDays == 0 {
		return
	}
	after := time.Duration(d.Cfg.AutoCloseDays) * 24 * time.Hour
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		for {
			n, err := d.Tickets.CloseSolved(ctx, d.Store, after, 500)
			if err != nil && ctx.Err() == nil {
				d.Log.Warn("closing solved tickets", "err", err)
			}
			if n > 0 {
				d.Log.Info("closed solved tickets", "count", n, "after_days", d.Cfg.AutoCloseDays)
			}
			if n < 500 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdio IO) error {
	cfg, _, err := config.Parse("sportello serve", args, getenv, stdio.Err, true)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := newLogger(cfg, stdio.Err)
	d, err := New(ctx, cfg, Options{Log: log})
	if err != nil {
		return err
	}
	defer d.Close()
	log.Info("database ready", "where", d.Store.Where)
	if d.Store.Dialect() == store.Postgres && cfg.SecretKey == "" {
		log.Warn("no --secret-key: mailbox passwords are sealed with this node's own key in the data folder; give every node the same --secret-key")
	}
	email, pw, err := d.EnsureAdmin(ctx)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := d.FillDemo(ctx, stdio.Out); err != nil {
			return err
		}
	}
	if pw != "" || cfg.Demo {
		// Setup hashed passwords with argon2id (64 MiB each): give that
		// memory back now rather than carry it while idle.
		debug.FreeOSMemory()
	}
	srv := &http.Server{
		Addr: cfg.Addr, Handler: d.Handler(),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "Sportello %s is running at %s (%s)\n", Version, cfg.BaseURL, d.Store.Where)
	if pw != "" {
		fmt.Fprintf(stdio.Out, "\nFirst start: an admin account was created. The password is shown only now.\n")
		fmt.Fprintf(stdio.Out, "  sign in at: %s/login\n  email:      %s\n  password:   %s\n\n", cfg.BaseURL, email, pw)
	}
	bg, stopBg := context.WithCancel(ctx)
	defer stopBg()
	go d.sessionJanitor(bg)
	go d.RelayIn(bg)
	go d.autoClose(bg)
	go d.slaScan(bg)
	go d.timeRules(bg, d.ruleScan)
	go d.IMAPPoller().Run(bg, 5*time.Second)
	if err := d.StartJobs(bg); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.SMTPAddr != "" {
		sl, err := listen(cfg.SMTPAddr)
		if err != nil {
			return fmt.Errorf("--smtp-addr: %w", err)
		}
		smtpSrv := d.SMTPListener()
		defer smtpSrv.Close()
		go func() { errc <- smtpSrv.Serve(sl) }()
		log.Info("SMTP listener ready", "addr", cfg.SMTPAddr)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// readSecret reads a password from stdin when something is piped in.
func readSecret(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", nil // a terminal: generate instead of echoing a password
		}
	}
	if in == nil {
		return "", nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
