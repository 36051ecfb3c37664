package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/sportello/sportello/internal/ticket"
)

// SendStore is what the sender reads and writes, outside any transaction.
type SendStore interface {
	Outbound(ctx context.Context, id int64) (*Outbound, error)
	Mailbox(ctx context.Context, id int64) (*Mailbox, error)
	MessageAttachments(ctx context.Context, messageID int64) ([]ticket.Attachment, error)
	// MarkOutbound records an attempt's outcome.
	MarkOutbound(ctx context.Context, id int64, status, lastError string, attempts int, sentAt *time.Time, now time.Time) error
}

// Opener reads stored attachment content.
type Opener interface {
	Open(ctx context.Context, sum string) (io.ReadSeekCloser, error)
}

// Sender sends outbox rows through their mailbox's SMTP server.
type Sender struct {
	store SendStore
	files Opener
	// open unseals a stored secret (password, token).
	open func(string) (string, error)
	// token returns a fresh OAuth2 access token for a mailbox.
	token func(ctx context.Context, mb *Mailbox) (string, error)
	now   func() time.Time
	// TLS is the client TLS configuration (tests trust their own CA).
	TLS *tls.Config
	// Timeout bounds one delivery (connect, talk, send).
	Timeout time.Duration
}

// NewSender builds the sender.
func NewSender(store SendStore, files Opener, open func(string) (string, error), token func(context.Context, *Mailbox) (string, error), now func() time.Time) *Sender {
	return &Sender{store: store, files: files, open: open, token: token, now: now, Timeout: time.Minute}
}

// Send delivers outbox row id (attempt is 1-based; last says no retry
// follows). An error wrapping ErrPermanent will not mend by retrying.
func (s *Sender) Send(ctx context.Context, id int64, attempt int, last bool) error {
	o, err := s.store.Outbound(ctx, id)
	if err != nil {
		return err
	}
	if o.Status == Sent {
		return nil // delivered by an earlier run that died before it was told
	}
	err = s.deliver(ctx, o)
	now := s.now().UTC()
	switch {
	case err == nil:
		return s.store.MarkOutbound(ctx, id, Sent, "", attempt, &now, now)
	case errors.Is(err, ErrPermanent) || last:
		answer := strings.TrimPrefix(err.Error(), ErrPermanent.Error()+": ")
		if merr := s.store.MarkOutbound(context.WithoutCancel(ctx), id, Failed, answer, attempt, nil, now); merr != nil {
			return merr
		}
		return err
	default:
		if merr := s.store.MarkOutbound(context.WithoutCancel(ctx), id, Retrying, err.Error(), attempt, nil, now); merr != nil {
			return merr
		}
		return err
	}
}

// Reasons a mail is not sent that are the desk's own (not the server's
// answer); the workspace says them in the agent's language.
const (
	ReasonMailboxGone   = "the mailbox of this mail was deleted"
	ReasonNoSMTP        = "the mailbox has no SMTP server to send with"
	ReasonNotConnected  = "the mailbox is not connected to its OAuth2 provider: connect it on its page"
	ReasonRevokedPrefix = "the provider revoked this mailbox's access"
)

// Reasons lists the desk's own reasons with their catalog keys.
var Reasons = map[string]string{ReasonMailboxGone: "mail.reason.gone", ReasonNoSMTP: "mail.reason.no_smtp",
	ReasonNotConnected: "mail.reason.not_connected", ReasonRevokedPrefix: "mail.reason.revoked"}

func permanent(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrPermanent}, args...)...)
}

func (s *Sender) deliver(ctx context.Context, o *Outbound) error {
	if o.MailboxID == nil {
		return permanent("%s", ReasonMailboxGone)
	}
	mb, err := s.store.Mailbox(ctx, *o.MailboxID)
	if err != nil {
		return err
	}
	if mb.SMTPHost == "" {
		return permanent("%s", ReasonNoSMTP)
	}
	msg, err := s.compose(ctx, o, mb)
	if err != nil {
		return err
	}
	c, err := s.client(ctx, mb)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() && refusal(se.Reason) {
			return permanent("%s", oneLine(err.Error()))
		}
		return errors.New(oneLine(err.Error()))
	}
	return nil
}

// refusal tells the server's answers to a mail (a 5xx to MAIL FROM, RCPT
// TO or DATA: permanent) from trouble on the way (retried).
func refusal(r mail.SendErrReason) bool {
	switch r {
	case mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPDataClose:
		return true
	}
	return false
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// Compose builds the MIME of an outbox row (the raw mail the server gets).
func (s *Sender) compose(ctx context.Context, o *Outbound, mb *Mailbox) (*mail.Msg, error) {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.FromFormat(o.FromName, mb.Address); err != nil {
		return nil, permanent("from address: %v", err)
	}
	if err := m.EnvelopeFrom(mb.Address); err != nil {
		return nil, permanent("envelope sender: %v", err)
	}
	if err := m.To(o.To); err != nil {
		return nil, permanent("to %q: %v", o.To, err)
	}
	if ccs := o.CCs(); len(ccs) > 0 {
		if err := m.Cc(ccs...); err != nil {
			return nil, permanent("cc: %v", err)
		}
	}
	if o.ReplyTo != "" {
		if err := m.ReplyTo(o.ReplyTo); err != nil {
			return nil, permanent("reply-to: %v", err)
		}
	}
	m.Subject(o.Subject)
	m.SetMessageIDWithValue(o.MailID)
	m.SetDateWithValue(o.CreatedAt)
	if o.InReplyTo != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+o.InReplyTo+">")
	}
	if o.Refs != "" {
		refs := strings.Fields(o.Refs)
		for i := range refs {
			refs[i] = "<" + refs[i] + ">"
		}
		m.SetGenHeader(mail.HeaderReferences, strings.Join(refs, " "))
	}
	if o.Auto != "" {
		m.SetGenHeader(mail.Header("Auto-Submitted"), o.Auto)
		m.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	}
	m.SetGenHeader(mail.Header("X-Sportello-Ticket"), strconv.FormatInt(deref(o.TicketID), 10))
	m.SetBodyString(mail.TypeTextPlain, o.Text)
	if o.HTML != "" {
		m.AddAlternativeString(mail.TypeTextHTML, o.HTML)
	}
	if o.MessageID != nil {
		atts, err := s.store.MessageAttachments(ctx, *o.MessageID)
		if err != nil {
			return nil, err
		}
		for _, a := range atts {
			f, err := s.files.Open(ctx, a.SHA256)
			if err != nil {
				return nil, fmt.Errorf("attachment %s: %w", a.Filename, err)
			}
			m.AttachReadSeeker(a.Filename, f, mail.WithFileContentType(mail.ContentType(a.ContentType)))
			defer f.Close()
		}
	}
	return m, nil
}

// Raw returns the MIME an outbox row is sent as (for the thread's .eml
// download and the benchmarks).
func (s *Sender) Raw(ctx context.Context, o *Outbound, mb *Mailbox, w io.Writer) error {
	m, err := s.compose(ctx, o, mb)
	if err != nil {
		return err
	}
	_, err = m.WriteTo(w)
	return err
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// client builds the SMTP client of a mailbox: TLS as set, and sign-in by
// password or by an OAuth2 access token (XOAUTH2 or OAUTHBEARER).
func (s *Sender) client(ctx context.Context, mb *Mailbox) (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(mb.SMTPPort), mail.WithTimeout(s.Timeout), mail.WithHELO(helo(mb.Address))}
	tc := s.TLS.Clone()
	if tc == nil {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = mb.SMTPHost
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	switch mb.SMTPTLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	switch {
	case mb.Auth == "oauth2":
		if s.token == nil {
			return nil, permanent("OAuth2 is not available")
		}
		tok, err := s.token(ctx, mb)
		if err != nil {
			return nil, err
		}
		user := mb.SMTPUser
		if user == "" {
			user = mb.Address
		}
		opts = append(opts, mail.WithSMTPAuthCustom(SASLClient(mb.OAuth.Mechanism, user, tok, mb.SMTPHost, mb.SMTPPort)))
	case mb.SMTPUser != "":
		pw, err := s.open(mb.SMTPPassword)
		if err != nil {
			return nil, permanent("the SMTP password cannot be read with this desk's key: %v", err)
		}
		auth := mail.SMTPAuthPlain
		if mb.SMTPTLS == "none" {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(mb.SMTPUser), mail.WithPassword(pw))
	}
	c, err := mail.NewClient(mb.SMTPHost, opts...)
	if err != nil {
		return nil, permanent("SMTP settings: %v", err)
	}
	return c, nil
}

func helo(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	if d == "" {
		return "localhost"
	}
	return d
}

// CheckSMTP tries a mailbox's sending settings step by step (DNS, TCP,
// TLS, sign-in) and says which step failed.
func (s *Sender) CheckSMTP(ctx context.Context, mb *Mailbox) Check {
	fail := func(step string, err error) Check { return Check{Step: step, Detail: oneLine(err.Error())} }
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if mb.SMTPHost == "" {
		return Check{Step: "settings", Detail: "no SMTP server is set"}
	}
	if net.ParseIP(mb.SMTPHost) == nil {
		if _, err := net.DefaultResolver.LookupHost(ctx, mb.SMTPHost); err != nil {
			return fail("dns", err)
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(mb.SMTPHost, strconv.Itoa(mb.SMTPPort)))
	if err != nil {
		return fail("tcp", err)
	}
	conn.Close()
	c, err := s.client(ctx, mb)
	if err != nil {
		return fail("auth", err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		msg := err.Error()
		step := "auth"
		if strings.Contains(strings.ToLower(msg), "tls") || strings.Contains(msg, "x509") {
			step = "tls"
		}
		return fail(step, err)
	}
	_ = c.Close()
	return Check{OK: true}
}
