package email

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/ticket"
)

// Mailbox is an address the desk receives mail at.
type Mailbox struct {
	ID      int64  `db:"id"`
	Address string `db:"address"`
	Name    string `db:"name"`
	TeamID  *int64 `db:"team_id"`
	AutoAck bool   `db:"auto_ack"`
	// IMAP receiving; IMAPHost "" means the SMTP listener only.
	IMAPHost     string `db:"imap_host"`
	IMAPPort     int    `db:"imap_port"`
	IMAPTLS      string `db:"imap_tls"` // tls, starttls or none
	IMAPUser     string `db:"imap_user"`
	IMAPPassword string `db:"imap_password"` // sealed (internal/secrets)
	IMAPFolder   string `db:"imap_folder"`
	IMAPAfter    string `db:"imap_after"` // seen, move or delete
	IMAPMoveTo   string `db:"imap_move_to"`
	PollSeconds  int    `db:"poll_seconds"`
	// Sending by SMTP; SMTPHost "" means the mailbox cannot send yet.
	SMTPHost     string `db:"smtp_host"`
	SMTPPort     int    `db:"smtp_port"`
	SMTPTLS      string `db:"smtp_tls"` // tls, starttls or none
	SMTPUser     string `db:"smtp_user"`
	SMTPPassword string `db:"smtp_password"` // sealed
	// Auth is how the mailbox signs in to both servers: password or
	// oauth2 (then OAuth holds the provider and the sealed tokens).
	Auth  string `db:"auth"`
	OAuth OAuth  `db:"oauth"`
	// Signatures end the mails a mailbox sends, per language.
	Signatures Texts     `db:"signatures"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

// ErrMailboxNotFound reports an address no mailbox has.
var ErrMailboxNotFound = fmt.Errorf("mailbox %w", fault.NotFound)

// Validate checks a mailbox before it is stored.
func (m *Mailbox) Validate() error {
	var c fault.Checker
	m.Address = agent.NormaliseEmail(m.Address)
	m.Name = strings.TrimSpace(m.Name)
	c.Check(agent.ValidEmail(m.Address) && !strings.Contains(m.Address, "+"), "address", "email", "must be a plain email address (no +tag)")
	c.Check(len(m.Name) <= 200, "name", "max_length", "must be at most 200 characters")
	if m.IMAPPort == 0 {
		m.IMAPPort = 993
	}
	if m.IMAPTLS == "" {
		m.IMAPTLS = "tls"
	}
	if m.IMAPFolder == "" {
		m.IMAPFolder = "INBOX"
	}
	if m.IMAPAfter == "" {
		m.IMAPAfter = "seen"
	}
	if m.PollSeconds == 0 {
		m.PollSeconds = 60
	}
	if m.SMTPPort == 0 {
		m.SMTPPort = 587
	}
	if m.SMTPTLS == "" {
		m.SMTPTLS = "starttls"
	}
	if m.Auth == "" {
		m.Auth = "password"
	}
	c.Check(m.Auth == "password" || m.Auth == "oauth2", "auth", "enum", "must be password or oauth2")
	_, preset := OAuthPresets[m.OAuth.Provider]
	c.Check(preset || m.OAuth.Provider == "" || m.OAuth.Provider == "custom", "oauth.provider", "enum", "must be google, microsoft or custom")
	if m.SMTPHost != "" {
		c.Check(m.SMTPPort > 0 && m.SMTPPort < 65536, "smtp_port", "range", "must be 1 to 65535")
		c.Check(m.SMTPTLS == "tls" || m.SMTPTLS == "starttls" || m.SMTPTLS == "none", "smtp_tls", "enum", "must be tls, starttls or none")
	}
	for lang, sig := range m.Signatures {
		c.Check(i18n.Supported(lang), "signatures."+lang, "language", "must be one of "+strings.Join(i18n.Languages, ", "))
		c.Check(len(sig) <= 2000, "signatures."+lang, "max_length", "must be at most 2000 characters")
	}
	if m.IMAPHost != "" {
		c.Check(m.IMAPPort > 0 && m.IMAPPort < 65536, "imap_port", "range", "must be 1 to 65535")
		c.Check(m.IMAPTLS == "tls" || m.IMAPTLS == "starttls" || m.IMAPTLS == "none", "imap_tls", "enum", "must be tls, starttls or none")
		c.Check(m.IMAPUser != "", "imap_user", "required", "the IMAP user name is required")
		c.Check(m.IMAPAfter == "seen" || m.IMAPAfter == "move" || m.IMAPAfter == "delete", "imap_after", "enum", "must be seen, move or delete")
		c.Check(m.IMAPAfter != "move" || m.IMAPMoveTo != "", "imap_move_to", "required", "name the folder imported mail moves to")
		c.Check(m.PollSeconds >= 10 && m.PollSeconds <= 3600, "poll_seconds", "range", "must be 10 to 3600")
	}
	return c.Err()
}

// Seen is a mail a mailbox took in before.
type Seen struct {
	TicketID *int64
	Class    Class
}

// Store is what intake needs from persistence.
type Store interface {
	// MailboxByAddress finds the mailbox of an address (its plus part
	// ignored).
	MailboxByAddress(ctx context.Context, address string) (*Mailbox, error)
	Mailboxes(ctx context.Context) ([]Mailbox, error)
	// MailSeen tells whether mailbox took in messageID already.
	MailSeen(ctx context.Context, mailboxID int64, messageID string) (*Seen, error)
	// TicketByMessageIDs returns the ticket of the newest stored mail
	// among ids (any mailbox, either direction), or 0.
	TicketByMessageIDs(ctx context.Context, ids []string) (int64, error)
	// RememberMail records a mail's id, ticket and class (idempotent).
	RememberMail(ctx context.Context, mailboxID int64, messageID string, ticketID *int64, direction string, class Class, rawSHA256 string, now time.Time) error
	// Participates tells whether an email address takes part in a
	// ticket: its requester, a CC, or a contact of the requester's
	// organisation.
	Participates(ctx context.Context, ticketID int64, email string) (bool, error)
	// ContactIDByEmail finds or creates the contact of an address.
	ContactIDByEmail(ctx context.Context, email, name string, now time.Time) (int64, error)
	// MarkUndeliverable records a permanent bounce on an address.
	MarkUndeliverable(ctx context.Context, email, status string) error
}

// Tickets is the ticket service as intake uses it.
type Tickets interface {
	Create(ctx context.Context, actor ticket.Actor, in ticket.NewTicket) (*ticket.Created, error)
	AddMessage(ctx context.Context, actor ticket.Actor, id int64, in ticket.NewMessage) (*ticket.Added, error)
}

// Files keeps the raw mail.
type Files interface {
	Put(ctx context.Context, data []byte) (sum, contentType string, err error)
}

// Intake turns inbound mail into tickets, the same way whatever received
// it: raw MIME stored first (nothing is ever lost), parsed, classified,
// threaded, then written once (a mail delivered twice, or again after a
// crash, lands once: its Message-ID is the idempotency key of the write).
type Intake struct {
	store   Store
	tickets Tickets
	files   Files
	signer  Signer
	now     func() time.Time
	// MaxAttachment bounds one attachment; larger ones stay in the raw
	// mail only.
	MaxAttachment int
}

// NewIntake builds the intake.
func NewIntake(store Store, tickets Tickets, files Files, signer Signer, now func() time.Time) *Intake {
	return &Intake{store: store, tickets: tickets, files: files, signer: signer, now: now, MaxAttachment: 10 << 20}
}

// Result says what became of a mail.
type Result struct {
	Class     Class
	TicketID  int64 // 0 when the mail joined no ticket (machine mail without a thread)
	New       bool  // a ticket was opened for it
	Linked    int64 // the ticket a refused reference pointed at (anti-hijack)
	Duplicate bool  // the mailbox had it already; nothing was written
}

// Deliver takes one raw mail addressed to mailbox.
func (in *Intake) Deliver(ctx context.Context, mb *Mailbox, raw []byte) (*Result, error) {
	sum, _, err := in.files.Put(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("keeping the raw mail: %w", err)
	}
	m, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	mailboxes, err := in.store.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	own := func(addr string) bool {
		base := baseAddress(addr)
		for _, x := range mailboxes {
			if x.Address == base {
				return true
			}
		}
		return false
	}
	res := &Result{Class: Classify(m, own)}
	if seen, err := in.store.MailSeen(ctx, mb.ID, m.MessageID); err != nil {
		return nil, err
	} else if seen != nil {
		res.Duplicate, res.Class = true, seen.Class
		if seen.TicketID != nil {
			res.TicketID = *seen.TicketID
		}
		return res, nil
	}
	from := ""
	if m.From != nil {
		from = agent.NormaliseEmail(m.From.Address)
	}
	now := in.now().UTC()
	idem := &ticket.Idempotency{Key: "mail:" + fmt.Sprint(mb.ID) + ":" + m.MessageID, Fingerprint: "mail"}

	if res.Class == Bounce && m.Report != nil {
		for _, r := range m.Report.Recipients {
			if r.Permanent() && r.Address != "" {
				if err := in.store.MarkUndeliverable(ctx, r.Address, r.Status); err != nil {
					return nil, err
				}
			}
		}
	}
	threadID, signed, err := in.thread(ctx, m)
	if err != nil {
		return nil, err
	}
	if res.Class != Customer {
		// Machine mail: kept as a note on its ticket, never reopening it,
		// never touching SLA, never acknowledged.
		if threadID != 0 {
			_, err := in.tickets.AddMessage(ctx, ticket.System, threadID, ticket.NewMessage{Kind: ticket.KindNote, Automatic: true,
				BodyText: machineNote(res.Class, m), Channel: ticket.ChannelEmail, Idem: idem,
				Meta: map[string]any{"mail_class": string(res.Class), "message_id": m.MessageID, "raw_sha256": sum}})
			if err != nil && !errors.Is(err, ticket.ErrClosed) {
				return nil, err
			}
			res.TicketID = threadID
		}
		return res, in.remember(ctx, mb, m, res, sum, now)
	}
	if threadID != 0 && !signed {
		ok, err := in.store.Participates(ctx, threadID, from)
		if err != nil {
			return nil, err
		}
		if !ok {
			// Anti-hijack: someone who does not take part in the ticket
			// (a stranger quoting its number or an old reference) opens
			// a new ticket, linked to the one they named.
			res.Linked, threadID = threadID, 0
		}
	}
	text := VisibleText(m.Text)
	if strings.TrimSpace(text) == "" {
		text = m.Text
	}
	if strings.TrimSpace(text) == "" && m.HTML == "" {
		text = "(" + m.Subject + ")"
	}
	atts := in.attachments(m)
	meta := map[string]any{"message_id": m.MessageID, "raw_sha256": sum, "mailbox_id": mb.ID, "mail_class": string(res.Class)}
	if cids := inlineImages(m, atts); len(cids) > 0 {
		meta["cids"] = cids // the thread shows cid: images from the stored files
	}
	if m.ReturnPath == "" && m.Header("Return-Path") != "" {
		meta["return_path_empty"] = true
	}
	if threadID != 0 {
		author, err := in.store.ContactIDByEmail(ctx, from, name(m), now)
		if err != nil {
			return nil, err
		}
		added, err := in.tickets.AddMessage(ctx, ticket.System, threadID, ticket.NewMessage{Kind: ticket.KindCustomer, BodyText: text,
			BodyHTML: htmlIfNoText(m), AuthorContactID: &author, Channel: ticket.ChannelEmail, Attachments: atts, Meta: meta, Idem: idem})
		if err != nil {
			return nil, err
		}
		res.TicketID, res.New = added.Ticket.ID, added.FollowUp
		return res, in.remember(ctx, mb, m, res, sum, now)
	}
	subject := NormaliseSubject(m.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	if len([]rune(subject)) > 250 {
		subject = string([]rune(subject)[:250])
	}
	nt := ticket.NewTicket{Subject: subject, BodyText: text, BodyHTML: htmlIfNoText(m),
		Requester: ticket.Requester{Email: from, Name: name(m)}, Channel: ticket.ChannelEmail, TeamID: mb.TeamID,
		CCEmails: in.ccs(m, from, own), Attachments: atts, Meta: meta, Idem: idem}
	if res.Linked != 0 {
		nt.FollowUpOf = &res.Linked
	}
	created, err := in.tickets.Create(ctx, ticket.System, nt)
	if err != nil {
		return nil, err
	}
	res.TicketID, res.New = created.Ticket.ID, !created.Replayed
	return res, in.remember(ctx, mb, m, res, sum, now)
}

func (in *Intake) remember(ctx context.Context, mb *Mailbox, m *Message, res *Result, sum string, now time.Time) error {
	var tid *int64
	if res.TicketID != 0 {
		tid = &res.TicketID
	}
	return in.store.RememberMail(ctx, mb.ID, m.MessageID, tid, "in", res.Class, sum, now)
}

// thread finds the ticket a mail belongs to, in DOMAIN §7's order: a
// signed token in a recipient address (signed: the sender needs no other
// proof), a "[#n]" subject tag, then In-Reply-To and References against
// every stored Message-ID (one surviving id is enough; for a bounce, the
// Message-ID it returns), then the signed reference hidden in the body of
// our mail. A subject alone never threads.
func (in *Intake) thread(ctx context.Context, m *Message) (id int64, signed bool, err error) {
	for _, a := range append(append([]*mailAddress{}, addrs(m.To)...), addrs(m.Cc)...) {
		if n, ok := in.signer.TicketFromAddress(a.Address); ok {
			return n, true, nil
		}
	}
	if n, ok := TicketFromSubject(m.Subject); ok {
		return n, false, nil
	}
	ids := append(append([]string{}, m.InReplyTo...), m.References...)
	if m.Report != nil && m.Report.Original != "" {
		ids = append(ids, m.Report.Original)
	}
	if len(ids) > 0 {
		n, err := in.store.TicketByMessageIDs(ctx, ids)
		if err != nil || n != 0 {
			return n, false, err
		}
	}
	// Our hidden reference, quoted back by a client that rewrote or
	// dropped every header. Quoted text can be forwarded, so it proves
	// nothing about the sender: the participation check applies.
	if n, ok := in.signer.TicketFromBody(m.HTML); ok {
		return n, false, nil
	}
	if n, ok := in.signer.TicketFromBody(m.Text); ok {
		return n, false, nil
	}
	return 0, false, nil
}

// ccs are the mail's other recipients that are not the desk: they become
// the new ticket's CCs.
func (in *Intake) ccs(m *Message, from string, own func(string) bool) []string {
	var out []string
	seen := map[string]bool{from: true}
	for _, a := range append(addrs(m.To), addrs(m.Cc)...) {
		e := agent.NormaliseEmail(a.Address)
		if e == "" || seen[e] || own(e) || !agent.ValidEmail(e) {
			continue
		}
		seen[e] = true
		out = append(out, e)
		if len(out) >= 20 {
			break
		}
	}
	return out
}

func (in *Intake) attachments(m *Message) []ticket.NewAttachment {
	var out []ticket.NewAttachment
	for _, a := range m.Attachments {
		if len(a.Data) == 0 || len(a.Data) > in.MaxAttachment || len(out) >= 20 {
			continue // kept in the raw mail
		}
		fn := a.Filename
		if fn == "" {
			fn = "inline-" + a.ContentID
		}
		out = append(out, ticket.NewAttachment{Filename: fn, Data: a.Data})
	}
	return out
}

// inlineImages maps the Content-IDs of a mail's kept inline parts to the
// file names they are stored under.
func inlineImages(m *Message, kept []ticket.NewAttachment) map[string]any {
	names := map[string]bool{}
	for _, a := range kept {
		names[a.Filename] = true
	}
	out := map[string]any{}
	for _, a := range m.Attachments {
		fn := a.Filename
		if fn == "" {
			fn = "inline-" + a.ContentID
		}
		if a.ContentID != "" && names[fn] && strings.HasPrefix(a.ContentType, "image/") {
			out[a.ContentID] = fn
		}
	}
	return out
}

// htmlIfNoText keeps the HTML body only for mails that have no text part
// (the ticket service sanitises it); otherwise the visible text is the
// message and the raw mail keeps the rest.
func htmlIfNoText(m *Message) string {
	if strings.TrimSpace(m.Text) == "" || m.TextFromHTML {
		return m.HTML
	}
	return ""
}

func machineNote(c Class, m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s\n", c, m.Subject)
	if m.Report != nil {
		for _, r := range m.Report.Recipients {
			fmt.Fprintf(&b, "%s: %s %s\n", r.Address, r.Action, r.Status)
		}
	}
	t := strings.TrimSpace(m.Text)
	if len(t) > 2000 {
		t = t[:2000] + "…"
	}
	b.WriteString(t)
	return b.String()
}

func name(m *Message) string {
	if m.From == nil {
		return ""
	}
	n := []rune(strings.TrimSpace(m.From.Name))
	if len(n) > 200 {
		n = n[:200]
	}
	return string(n)
}

// baseAddress drops an address's plus part: support+t12.x@d → support@d.
func baseAddress(addr string) string {
	addr = agent.NormaliseEmail(addr)
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

// BaseAddress is baseAddress for the stores and listeners.
func BaseAddress(addr string) string { return baseAddress(addr) }
