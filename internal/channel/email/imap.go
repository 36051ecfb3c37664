package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// CursorStore keeps where each mailbox's IMAP import stands.
type CursorStore interface {
	Mailboxes(ctx context.Context) ([]Mailbox, error)
	IMAPCursor(ctx context.Context, mailboxID int64) (validity, last uint32, err error)
	SetIMAPCursor(ctx context.Context, mailboxID int64, validity, last uint32) error
}

// Poller imports mail from the mailboxes that receive by IMAP. Each new
// mail (UID above the cursor) goes through intake; the cursor moves only
// after intake stored it, then the mail is marked seen, moved or deleted
// as the mailbox says. A crash anywhere fetches a mail again at worst,
// and intake stores it once. A UIDVALIDITY change restarts the folder
// from the beginning (intake's Message-ID check keeps that exact-once).
type Poller struct {
	store  CursorStore
	intake *Intake
	open   func(sealed string) (string, error)
	log    *slog.Logger
	// TLS is the client TLS configuration (tests trust their own CA).
	TLS *tls.Config
	// Batch bounds the mails fetched per poll of a mailbox.
	Batch int
	// Token returns a fresh OAuth2 access token for a mailbox that signs
	// in with OAuth2.
	Token func(ctx context.Context, mb *Mailbox) (string, error)
}

// signIn signs in by password, or by XOAUTH2/OAUTHBEARER with a fresh
// access token.
func (p *Poller) signIn(ctx context.Context, c *imapclient.Client, mb *Mailbox) error {
	if mb.Auth == "oauth2" {
		if p.Token == nil {
			return errors.New("OAuth2 is not available")
		}
		tok, err := p.Token(ctx, mb)
		if err != nil {
			return err
		}
		user := mb.IMAPUser
		if user == "" {
			user = mb.Address
		}
		if err := c.Authenticate(IMAPSASL(mb.OAuth.Mechanism, user, tok, mb.IMAPHost, mb.IMAPPort)); err != nil {
			return fmt.Errorf("signing in as %s with OAuth2: %w", user, err)
		}
		return nil
	}
	pw, err := p.open(mb.IMAPPassword)
	if err != nil {
		return err
	}
	if err := c.Login(mb.IMAPUser, pw).Wait(); err != nil {
		return fmt.Errorf("signing in as %s: %w", mb.IMAPUser, err)
	}
	return nil
}

// NewPoller builds the poller; open unseals a mailbox password.
func NewPoller(store CursorStore, intake *Intake, open func(string) (string, error), log *slog.Logger) *Poller {
	return &Poller{store: store, intake: intake, open: open, log: log, Batch: 200}
}

// Run polls every IMAP mailbox as often as it asks (at least every tick)
// until ctx ends, and keeps an IMAP IDLE connection to each mailbox whose
// server offers it, so that new mail is imported the moment it arrives
// rather than at the next poll. Errors are logged per mailbox and retried
// next time.
func (p *Poller) Run(ctx context.Context, tick time.Duration) {
	next := map[int64]time.Time{}
	t := time.NewTicker(tick)
	defer t.Stop()
	wake := make(chan int64, 16)
	type watcher struct {
		updated time.Time
		stop    context.CancelFunc
	}
	watching := map[int64]watcher{}
	defer func() {
		for _, w := range watching {
			w.stop()
		}
	}()
	for {
		mbs, err := p.store.Mailboxes(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("IMAP: listing mailboxes", "err", err)
		}
		seen := map[int64]bool{}
		for i := range mbs {
			mb := &mbs[i]
			if mb.IMAPHost == "" {
				continue
			}
			seen[mb.ID] = true
			if w, ok := watching[mb.ID]; !ok || !w.updated.Equal(mb.UpdatedAt) {
				if ok {
					w.stop() // the settings changed: watch with the new ones
				}
				wctx, stop := context.WithCancel(ctx)
				watching[mb.ID] = watcher{updated: mb.UpdatedAt, stop: stop}
				go p.watch(wctx, *mb, wake)
			}
			if time.Now().Before(next[mb.ID]) {
				continue
			}
			next[mb.ID] = time.Now().Add(time.Duration(mb.PollSeconds) * time.Second)
			if n, err := p.Poll(ctx, mb); err != nil && ctx.Err() == nil {
				p.log.Warn("IMAP: importing", "mailbox", mb.Address, "err", err)
			} else if n > 0 {
				p.log.Info("IMAP: imported", "mailbox", mb.Address, "mails", n)
			}
		}
		for id, w := range watching {
			if !seen[id] {
				w.stop()
				delete(watching, id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case id := <-wake:
			delete(next, id) // new mail announced: import it now
		}
	}
}

// errNoIdle: the server does not offer IDLE; polling alone serves it.
var errNoIdle = errors.New("the server does not offer IDLE")

// watch keeps one mailbox in IDLE until ctx ends, reconnecting after
// errors; it returns at once when the server has no IDLE.
func (p *Poller) watch(ctx context.Context, mb Mailbox, wake chan<- int64) {
	for ctx.Err() == nil {
		err := p.idle(ctx, &mb, wake)
		if errors.Is(err, errNoIdle) || ctx.Err() != nil {
			return
		}
		if err != nil {
			p.log.Warn("IMAP IDLE", "mailbox", mb.Address, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}

// IdleRenew is how long one IDLE command lasts before it is renewed
// (servers may drop a connection idle for 30 minutes, RFC 2177).
const IdleRenew = 25 * time.Minute

func (p *Poller) idle(ctx context.Context, mb *Mailbox, wake chan<- int64) error {
	news := make(chan struct{}, 1)
	c, err := p.dialWith(mb, &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
		if d.NumMessages != nil {
			select {
			case news <- struct{}{}:
			default:
			}
		}
	}})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := p.signIn(ctx, c, mb); err != nil {
		return err
	}
	if !c.Caps().Has(imap.CapIdle) {
		return errNoIdle
	}
	if _, err := c.Select(mb.IMAPFolder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return fmt.Errorf("opening folder %s: %w", mb.IMAPFolder, err)
	}
	for {
		cmd, err := c.Idle()
		if err != nil {
			return err
		}
		renew := time.NewTimer(IdleRenew)
		announced := false
		select {
		case <-ctx.Done():
		case <-news:
			announced = true
		case <-renew.C:
		}
		renew.Stop()
		if err := cmd.Close(); err != nil {
			return err
		}
		if err := cmd.Wait(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if announced {
			select {
			case wake <- mb.ID:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// Poll imports one mailbox's new mail once and returns how many mails it
// took in.
func (p *Poller) Poll(ctx context.Context, mb *Mailbox) (int, error) {
	c, err := p.dial(mb)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := p.signIn(ctx, c, mb); err != nil {
		return 0, err
	}
	sel, err := c.Select(mb.IMAPFolder, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("opening folder %s: %w", mb.IMAPFolder, err)
	}
	validity, last, err := p.store.IMAPCursor(ctx, mb.ID)
	if err != nil {
		return 0, err
	}
	if validity != sel.UIDValidity {
		validity, last = sel.UIDValidity, 0
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0) // last+1:*
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("searching new mail: %w", err)
	}
	n := 0
	for _, uid := range found.AllUIDs() {
		if uint32(uid) <= last { // "n:*" always matches the highest UID
			continue
		}
		if n >= p.Batch || ctx.Err() != nil {
			break
		}
		one := imap.UIDSetNum(uid)
		msgs, err := c.Fetch(one, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			return n, fmt.Errorf("fetching UID %d: %w", uid, err)
		}
		if len(msgs) == 0 || len(msgs[0].BodySection) == 0 {
			continue
		}
		if _, err := p.intake.Deliver(ctx, mb, msgs[0].BodySection[0].Bytes); err != nil {
			return n, fmt.Errorf("taking in UID %d: %w", uid, err)
		}
		if err := p.store.SetIMAPCursor(ctx, mb.ID, validity, uint32(uid)); err != nil {
			return n, err
		}
		n++
		if err := p.after(c, mb, one); err != nil {
			return n, err
		}
	}
	if n == 0 && last == 0 {
		// Remember the folder's validity even when it is empty.
		if err := p.store.SetIMAPCursor(ctx, mb.ID, validity, last); err != nil {
			return 0, err
		}
	}
	return n, c.Logout().Wait()
}

func (p *Poller) after(c *imapclient.Client, mb *Mailbox, uid imap.UIDSet) error {
	switch mb.IMAPAfter {
	case "move":
		if _, err := c.Move(uid, mb.IMAPMoveTo).Wait(); err != nil {
			return fmt.Errorf("moving an imported mail to %s: %w", mb.IMAPMoveTo, err)
		}
	case "delete":
		if err := c.Store(uid, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
			return fmt.Errorf("deleting an imported mail: %w", err)
		}
		if err := c.UIDExpunge(uid).Close(); err != nil {
			return fmt.Errorf("expunging an imported mail: %w", err)
		}
	default:
		if err := c.Store(uid, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close(); err != nil {
			return fmt.Errorf("marking an imported mail seen: %w", err)
		}
	}
	return nil
}

func (p *Poller) dial(mb *Mailbox) (*imapclient.Client, error) { return p.dialWith(mb, nil) }

func (p *Poller) dialWith(mb *Mailbox, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	addr := net.JoinHostPort(mb.IMAPHost, strconv.Itoa(mb.IMAPPort))
	opts := &imapclient.Options{TLSConfig: p.TLS, UnilateralDataHandler: h}
	var c *imapclient.Client
	var err error
	switch mb.IMAPTLS {
	case "none":
		c, err = imapclient.DialInsecure(addr, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(addr, opts)
	default:
		c, err = imapclient.DialTLS(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return c, nil
}

// Check is the result of testing a mailbox's IMAP connection: the step
// that failed ("" when all passed) and what the server or network said.
type Check struct {
	OK     bool   `json:"ok"`
	Step   string `json:"step,omitempty"` // dns, tcp, tls, auth, folder
	Detail string `json:"detail,omitempty"`
}

// CheckIMAP tries a mailbox's IMAP settings step by step (DNS, TCP, TLS,
// sign-in, folder) and says exactly which step failed.
func (p *Poller) CheckIMAP(ctx context.Context, mb *Mailbox) Check {
	fail := func(step string, err error) Check { return Check{Step: step, Detail: err.Error()} }
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if net.ParseIP(mb.IMAPHost) == nil {
		if _, err := net.DefaultResolver.LookupHost(ctx, mb.IMAPHost); err != nil {
			return fail("dns", err)
		}
	}
	addr := net.JoinHostPort(mb.IMAPHost, strconv.Itoa(mb.IMAPPort))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fail("tcp", err)
	}
	if mb.IMAPTLS == "tls" {
		cfg := p.TLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = mb.IMAPHost
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fail("tls", err)
		}
		tc.Close()
	} else {
		conn.Close()
	}
	c, err := p.dial(mb)
	if err != nil {
		return fail("tls", err) // STARTTLS negotiation
	}
	defer c.Close()
	if err := p.signIn(ctx, c, mb); err != nil {
		return fail("auth", err)
	}
	if _, err := c.Select(mb.IMAPFolder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return fail("folder", err)
	}
	_ = c.Logout().Wait()
	return Check{OK: true}
}
