package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Listener is the built-in SMTP server a mail server delivers to
// (--smtp-addr): the recipient address decides the mailbox, unknown
// recipients are refused at RCPT time, and a mail is acknowledged only
// once intake has stored it, so a sending server that hears no "250"
// delivers again (and the retry lands once).
type Listener struct {
	intake *Intake
	store  Store
	log    *slog.Logger
	srv    *smtp.Server
}

// NewListener builds the listener; maxBytes bounds a mail.
func NewListener(intake *Intake, store Store, log *slog.Logger, domain string, maxBytes int64) *Listener {
	l := &Listener{intake: intake, store: store, log: log}
	s := smtp.NewServer(l)
	s.Domain = domain
	s.MaxMessageBytes = maxBytes
	s.MaxRecipients = 50
	s.ReadTimeout = 5 * time.Minute
	s.WriteTimeout = time.Minute
	l.srv = s
	return l
}

// Serve accepts connections on ln until Close.
func (l *Listener) Serve(ln net.Listener) error {
	err := l.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops accepting and ends open sessions.
func (l *Listener) Close() error { return l.srv.Close() }

// NewSession implements smtp.Backend.
func (l *Listener) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{l: l}, nil
}

type session struct {
	l     *Listener
	boxes []*Mailbox
	from  string // the envelope sender ("" for <>, as bounces have)
}

func (s *session) Reset()        { s.boxes, s.from = nil, "" }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mb, err := s.l.store.MailboxByAddress(ctx, to)
	if errors.Is(err, ErrMailboxNotFound) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	}
	if err != nil {
		s.l.log.Warn("SMTP: looking up a recipient", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	for _, b := range s.boxes {
		if b.ID == mb.ID {
			return nil // one copy per mailbox
		}
	}
	s.boxes = append(s.boxes, mb)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // too large: go-smtp answers 552
	}
	raw = withReturnPath(raw, s.from)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, mb := range s.boxes {
		res, err := s.l.intake.Deliver(ctx, mb, raw)
		if err != nil {
			s.l.log.Warn("SMTP: taking in a mail", "mailbox", mb.Address, "err", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "could not store the mail; try again later"}
		}
		s.l.log.Info("mail in", "mailbox", mb.Address, "class", res.Class, "ticket", res.TicketID, "new", res.New, "duplicate", res.Duplicate)
	}
	return nil
}

// withReturnPath records the envelope sender as Return-Path, as the final
// delivery does, unless the mail carries one: an empty one (<>) is how a
// bounce is told, and the loop breakers never answer it.
func withReturnPath(raw []byte, from string) []byte {
	head := raw
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head = raw[:i]
	}
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 && i < len(head) {
		head = raw[:i]
	}
	low := bytes.ToLower(head)
	if bytes.HasPrefix(low, []byte("return-path:")) || bytes.Contains(low, []byte("\nreturn-path:")) {
		return raw
	}
	return append([]byte("Return-Path: <"+strings.Map(func(r rune) rune {
		if r < ' ' || r == '<' || r == '>' {
			return -1
		}
		return r
	}, from)+">\r\n"), raw...)
}
