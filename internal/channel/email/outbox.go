package email

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/ticket"
)

// Outbound is one mail of the outbox: written inside the transaction of
// the change that causes it, sent by a job, and kept with what the
// server answered.
type Outbound struct {
	ID        int64      `db:"id"`
	MailboxID *int64     `db:"mailbox_id"`
	TicketID  *int64     `db:"ticket_id"`
	MessageID *int64     `db:"message_id"` // the ticket message it carries
	Kind      string     `db:"kind"`       // reply, ack or notify
	MailID    string     `db:"mail_id"`    // our Message-ID, without brackets
	FromName  string     `db:"from_name"`
	ReplyTo   string     `db:"reply_to"`
	To        string     `db:"to_addr"`
	CC        string     `db:"cc_addrs"` // comma-separated
	Subject   string     `db:"subject"`
	Text      string     `db:"body_text"`
	HTML      string     `db:"body_html"`
	InReplyTo string     `db:"in_reply_to"`
	Refs      string     `db:"refs"` // space-separated, oldest first
	Auto      string     `db:"auto"` // "", auto-generated or auto-replied (Auto-Submitted)
	Status    string     `db:"status"`
	Attempts  int        `db:"attempts"`
	LastError string     `db:"last_error"`
	CreatedAt time.Time  `db:"created_at"`
	UpdatedAt time.Time  `db:"updated_at"`
	SentAt    *time.Time `db:"sent_at"`
}

// Outbox statuses.
const (
	Queued   = "queued"
	Retrying = "retrying"
	Sent     = "sent"
	Failed   = "failed"
)

// CCs lists the CC addresses.
func (o *Outbound) CCs() []string {
	if o.CC == "" {
		return nil
	}
	return strings.Split(o.CC, ",")
}

// Texts is a text per language (a mailbox's signatures), stored as JSON.
type Texts map[string]string

// Scan reads the JSON column.
func (t *Texts) Scan(v any) error {
	out := Texts{}
	if err := scanJSON(v, &out); err != nil {
		return err
	}
	*t = out
	return nil
}

// scanJSON reads a JSON text column (string, bytes or NULL) into dst.
func scanJSON(v, dst any) error {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	case nil:
		return nil
	default:
		return fmt.Errorf("cannot scan %T as JSON", v)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, dst)
}

// Value writes the JSON column.
func (t Texts) Value() (driver.Value, error) {
	if t == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(t))
	return string(b), err
}

// For returns the text in lang, else in the first language that has one.
func (t Texts) For(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	for _, l := range i18n.Languages {
		if s := t[l]; s != "" {
			return s
		}
	}
	return ""
}

// OutboxTx is what the mailer reads and writes inside a change's
// transaction: only through that transaction (never a second pool
// connection while it is open).
type OutboxTx interface {
	// TicketMailbox is the mailbox a ticket's mail goes out through: the
	// one its newest inbound mail came to, else the one of its team, else
	// the desk's first; nil when the desk has none.
	TicketMailbox(ctx context.Context, ticketID int64, teamID *int64) (*Mailbox, error)
	// MailboxTx reads one mailbox (nil when it no longer exists).
	MailboxTx(ctx context.Context, id int64) (*Mailbox, error)
	// MailThread returns the newest inbound Message-ID of a ticket and
	// its stored ids, oldest first (at most 20).
	MailThread(ctx context.Context, ticketID int64) (last string, refs []string, err error)
	// Recipient returns a contact's primary address, name, language and
	// whether mail to it bounced permanently.
	Recipient(ctx context.Context, contactID int64) (addr, name, lang string, undeliverable bool, err error)
	// CCRecipients are the deliverable addresses of a ticket's CCs.
	CCRecipients(ctx context.Context, ticketID int64) ([]string, error)
	// AgentMail returns an agent's address, name, language, time zone
	// and which mail notices they want; ok is false for an inactive or
	// unknown agent.
	AgentMail(ctx context.Context, agentID int64) (addr, name, lang, zone string, notices []string, ok bool, err error)
	// MailTemplate returns an admin's version of a template (ok false:
	// the shipped text applies).
	MailTemplate(ctx context.Context, name, lang string) (subject, body string, ok bool, err error)
	// AutoMailsSince counts automatic mail sent to addr since t; and to a
	// ticket's customers since t.
	AutoMailsSince(ctx context.Context, addr string, since time.Time) (int, error)
	TicketAutoMailsSince(ctx context.Context, ticketID int64, since time.Time) (int, error)
	// InsertOutbound writes the mail (setting its ID), records its
	// Message-ID for threading, and queues the job that sends it.
	InsertOutbound(ctx context.Context, o *Outbound) error
}

// Mailer decides which mails a change sends: the agent's public reply to
// the requester and CCs, the acknowledgement of a new ticket, the notices
// agents asked for. It writes them to the outbox in the change's
// transaction; a job sends them.
type Mailer struct {
	signer Signer
	words  *i18n.Bundle
	// BaseURL is the desk's address, for links in agents' notices.
	BaseURL string
	// Zone is the time zone deadlines are written in for customers.
	Zone string
	// AddressLimit automatic mails to one address per AddressWindow, and
	// TicketLimit to one ticket's customers per day, break loops that
	// detection missed (DOMAIN §7).
	AddressLimit  int
	AddressWindow time.Duration
	TicketLimit   int
}

// NewMailer builds the mailer.
func NewMailer(signer Signer, words *i18n.Bundle, baseURL, zone string) *Mailer {
	if zone == "" {
		zone = "Europe/Rome"
	}
	return &Mailer{signer: signer, words: words, BaseURL: strings.TrimRight(baseURL, "/"), Zone: zone,
		AddressLimit: 10, AddressWindow: 3 * time.Hour, TicketLimit: 5}
}

// Notice kinds an agent can switch.
const (
	NoticeAssigned = "assigned"
	NoticeCustomer = "customer"
	NoticeSLA      = "sla"
	NoticeRule     = "rule"
)

// NoticeKinds lists them in display order.
var NoticeKinds = []string{NoticeAssigned, NoticeCustomer, NoticeSLA, NoticeRule}

// React is called inside every ticket change's transaction. firstReply
// is the first-reply deadline the SLA derived (nil: none).
func (ml *Mailer) React(ctx context.Context, tx OutboxTx, r ticket.Reaction, firstReply *time.Time) error {
	t, m := r.Ticket, r.Message
	if m != nil {
		switch {
		case m.Kind == ticket.KindReply:
			if err := ml.reply(ctx, tx, r); err != nil {
				return err
			}
		case m.Kind == ticket.KindCustomer && r.Created:
			if err := ml.acknowledge(ctx, tx, r, firstReply); err != nil {
				return err
			}
		case m.Kind == ticket.KindCustomer && t.AssigneeID != nil:
			if err := ml.notice(ctx, tx, t, *t.AssigneeID, NoticeCustomer, r.Now, m.BodyText); err != nil {
				return err
			}
		}
	}
	for _, e := range r.Events {
		if e.Field != "assignee" || e.TicketID != t.ID || e.After == "" {
			continue
		}
		id, err := strconv.ParseInt(e.After, 10, 64)
		if err != nil || (r.Actor.Type == ticket.ActorAgent && r.Actor.ID == id) {
			continue // assigning yourself needs no mail
		}
		if err := ml.notice(ctx, tx, t, id, NoticeAssigned, r.Now, ""); err != nil {
			return err
		}
	}
	return nil
}

// Alarm queues the SLA notices of alarms that fired, inside their
// transaction; alarms are "metric:kind" ("first_reply:breach").
func (ml *Mailer) Alarm(ctx context.Context, tx OutboxTx, t *ticket.Ticket, recipients []int64, alarms []string, now time.Time) error {
	for _, a := range recipients {
		if err := ml.notice(ctx, tx, t, a, NoticeSLA, now, strings.Join(alarms, ",")); err != nil {
			return err
		}
	}
	return nil
}

// Notify mails an agent a notice of a rule or an escalation (kind
// "rule"), when they get those by mail.
func (ml *Mailer) Notify(ctx context.Context, tx OutboxTx, t *ticket.Ticket, agentID int64, kind string, now time.Time, detail string) error {
	return ml.notice(ctx, tx, t, agentID, kind, now, detail)
}

func (ml *Mailer) reply(ctx context.Context, tx OutboxTx, r ticket.Reaction) error {
	t, m := r.Ticket, r.Message
	mb, err := tx.TicketMailbox(ctx, t.ID, t.TeamID)
	if err != nil || mb == nil {
		return err
	}
	to, _, lang, bad, err := tx.Recipient(ctx, t.RequesterID)
	if err != nil {
		return err
	}
	ccs, err := tx.CCRecipients(ctx, t.ID)
	if err != nil {
		return err
	}
	if to == "" || bad {
		if len(ccs) == 0 {
			return nil // a phone customer, or an address that bounces: nothing to send
		}
		to, ccs = ccs[0], ccs[1:]
	}
	ccs = slices.DeleteFunc(ccs, func(a string) bool { return a == to })
	if lang == "" {
		lang = t.Language
	}
	last, refs, err := tx.MailThread(ctx, t.ID)
	if err != nil {
		return err
	}
	agentName := ""
	if m.AuthorAgentID != nil {
		_, agentName, _, _, _, _, err = tx.AgentMail(ctx, *m.AuthorAgentID)
		if err != nil {
			return err
		}
	}
	sig := mb.Signatures.For(lang)
	o := &Outbound{
		MailboxID: &mb.ID, TicketID: &t.ID, MessageID: &m.ID, Kind: "reply", MailID: newMailID(mb.Address),
		FromName: fromName(agentName, mb), ReplyTo: ml.signer.ReplyAddress(mb.Address, t.ID),
		To: to, CC: strings.Join(ccs, ","), Subject: replySubject(t, last != ""),
		InReplyTo: last, Refs: strings.Join(refs, " "), CreatedAt: r.Now, UpdatedAt: r.Now,
	}
	if m.Automatic() {
		o.Auto = "auto-generated"
	}
	o.Text, o.HTML = ml.body(t.ID, m.BodyText, m.BodyHTML, sig)
	return tx.InsertOutbound(ctx, o)
}

// body lays out a customer mail: the reply marker on top, the message,
// the signature; the HTML part carries the signed reference hidden, for
// clients that rewrite every header.
func (ml *Mailer) body(ticketID int64, text, htm, sig string) (string, string) {
	var tb strings.Builder
	tb.WriteString(ReplyMarker + "\n\n")
	tb.WriteString(strings.TrimSpace(text))
	if sig != "" {
		tb.WriteString("\n\n-- \n" + sig)
	}
	tb.WriteString("\n\n" + SubjectTag(ticketID) + "\n")
	var hb strings.Builder
	hb.WriteString(`<div style="color:#888;font-size:12px">` + html.EscapeString(ReplyMarker) + `</div>`)
	hb.WriteString(`<span style="display:none;font-size:0;color:transparent">` + ml.signer.Ref(ticketID) + `</span>`)
	if htm != "" {
		hb.WriteString("<div>" + htm + "</div>")
	} else {
		hb.WriteString("<div>" + textToHTML(text) + "</div>")
	}
	if sig != "" {
		hb.WriteString(`<div style="color:#555">-- <br>` + textToHTML(sig) + `</div>`)
	}
	hb.WriteString(`<div style="color:#888;font-size:12px">` + SubjectTag(ticketID) + `</div>`)
	return tb.String(), "<!doctype html><html><body>" + hb.String() + "</body></html>"
}

func textToHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(strings.TrimSpace(s)), "\n", "<br>\n")
}

func replySubject(t *ticket.Ticket, isReply bool) string {
	s := SubjectTag(t.ID) + " " + t.Subject
	if isReply {
		s = "Re: " + s
	}
	return s
}

func fromName(agentName string, mb *Mailbox) string {
	desk := mb.Name
	if desk == "" {
		desk = mb.Address
	}
	if agentName == "" {
		return desk
	}
	return agentName + " via " + desk
}

// newMailID makes a Message-ID in the mailbox's domain.
func newMailID(mailbox string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	_, domain, _ := strings.Cut(mailbox, "@")
	if domain == "" {
		domain = "sportello.invalid"
	}
	return "sportello." + hex.EncodeToString(b[:]) + "@" + domain
}

// machineSender matches addresses no desk should answer automatically.
var machineSender = regexp.MustCompile(`(?i)^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|notifications?)([+.\-_@]|$)`)

// MayAutoReply reports whether automatic mail may go to addr at all
// (DOMAIN §7: never to an empty return path, a mail system, a no-reply
// address, or the desk itself).
func MayAutoReply(addr string, own func(string) bool) bool {
	addr = agent.NormaliseEmail(addr)
	if addr == "" || machineSender.MatchString(addr) {
		return false
	}
	return own == nil || !own(addr)
}

// WebSourceHelp marks a message written on the help centre's contact
// form (its meta "source"): it is acknowledged like a mail.
const WebSourceHelp = "help_form"

// acknowledge sends a new mailed ticket's acknowledgement: once (only
// the change that opened the ticket), in the customer's language, with
// the number and the first-reply deadline; never to machine mail (which
// opens no ticket), never past the loop limits.
func (ml *Mailer) acknowledge(ctx context.Context, tx OutboxTx, r ticket.Reaction, due *time.Time) error {
	t, m := r.Ticket, r.Message
	var mb *Mailbox
	var err error
	switch {
	case m.Channel == ticket.ChannelEmail:
		mbID, _ := m.Meta["mailbox_id"].(float64)
		if n, ok := m.Meta["mailbox_id"].(int64); ok {
			mbID = float64(n)
		}
		if cls, _ := m.Meta["mail_class"].(string); cls != "" && cls != string(Customer) {
			return nil
		}
		if mbID == 0 {
			return nil
		}
		// The mailbox the mail came to answers it (its address, its
		// setting), whatever else its team has.
		mb, err = tx.MailboxTx(ctx, int64(mbID))
	case m.Channel == ticket.ChannelWeb && m.Meta["source"] == WebSourceHelp:
		// The help centre's contact form: the team's mailbox (or the
		// desk's first) acknowledges, as it would a mail.
		mb, err = tx.TicketMailbox(ctx, t.ID, t.TeamID)
	default:
		return nil
	}
	if err != nil || mb == nil || !mb.AutoAck {
		return err
	}
	to, name, lang, bad, err := tx.Recipient(ctx, t.RequesterID)
	if err != nil || to == "" || bad {
		return err
	}
	if sender, _ := m.Meta["return_path_empty"].(bool); sender {
		return nil
	}
	if !MayAutoReply(to, func(a string) bool { return baseAddress(a) == mb.Address }) {
		return nil
	}
	if ok, err := ml.underLimits(ctx, tx, to, t.ID, r.Now); err != nil || !ok {
		return err
	}
	if lang == "" {
		lang = t.Language
	}
	if !i18n.Supported(lang) {
		lang = i18n.Languages[0]
	}
	p := ml.words.Printer(lang, ml.Zone)
	subj, body, ok, err := tx.MailTemplate(ctx, "ack", lang)
	if err != nil {
		return err
	}
	if !ok {
		subj, body = DefaultTemplate(p, "ack")
	}
	deadline := p.T("mail.ack.asap")
	if due != nil {
		deadline = p.T("mail.ack.by", "When", p.When(*due))
	}
	vars := map[string]string{"name": firstName(name), "ticket": "#" + strconv.FormatInt(t.ID, 10), "subject": t.Subject,
		"deadline": deadline, "desk": fromName("", mb)}
	subj, body = Fill(subj, vars), Fill(body, vars)
	last, refs, err := tx.MailThread(ctx, t.ID)
	if err != nil {
		return err
	}
	if id, _ := m.Meta["message_id"].(string); id != "" {
		last = id
		if !slices.Contains(refs, id) {
			refs = append(refs, id)
		}
	}
	o := &Outbound{
		MailboxID: &mb.ID, TicketID: &t.ID, Kind: "ack", MailID: newMailID(mb.Address), FromName: fromName("", mb),
		ReplyTo: ml.signer.ReplyAddress(mb.Address, t.ID), To: to, Subject: SubjectTag(t.ID) + " " + subj,
		InReplyTo: last, Refs: strings.Join(refs, " "), Auto: "auto-replied", CreatedAt: r.Now, UpdatedAt: r.Now,
	}
	o.Text, o.HTML = ml.body(t.ID, body, "", mb.Signatures.For(lang))
	return tx.InsertOutbound(ctx, o)
}

func (ml *Mailer) underLimits(ctx context.Context, tx OutboxTx, to string, ticketID int64, now time.Time) (bool, error) {
	n, err := tx.AutoMailsSince(ctx, to, now.Add(-ml.AddressWindow))
	if err != nil || n >= ml.AddressLimit {
		return false, err
	}
	n, err = tx.TicketAutoMailsSince(ctx, ticketID, now.Add(-24*time.Hour))
	return err == nil && n < ml.TicketLimit, err
}

// notice mails an agent about a ticket, when they want that kind.
func (ml *Mailer) notice(ctx context.Context, tx OutboxTx, t *ticket.Ticket, agentID int64, kind string, now time.Time, detail string) error {
	addr, _, lang, zone, wants, ok, err := tx.AgentMail(ctx, agentID)
	if err != nil || !ok || addr == "" || !slices.Contains(wants, kind) {
		return err
	}
	mb, err := tx.TicketMailbox(ctx, t.ID, t.TeamID)
	if err != nil || mb == nil {
		return err
	}
	p := ml.words.Printer(lang, zone)
	if kind == NoticeSLA {
		// "first_reply:breach" in the agent's words ("SLA violato: prima risposta").
		var said []string
		for _, a := range strings.Split(detail, ",") {
			metric, what, _ := strings.Cut(a, ":")
			said = append(said, p.T("event.sla_"+what, "Metric", p.T("metric."+metric)))
		}
		detail = strings.Join(said, "\n")
	}
	subj := SubjectTag(t.ID) + " " + p.T("mail.notice."+kind+".subject", "Subject", t.Subject)
	var b strings.Builder
	b.WriteString(p.T("mail.notice."+kind+".body", "Number", t.ID, "Subject", t.Subject) + "\n\n")
	if detail != "" {
		d := []rune(strings.TrimSpace(detail))
		if len(d) > 500 {
			d = append(d[:500], '…')
		}
		b.WriteString(string(d) + "\n\n")
	}
	link := ml.BaseURL + "/tickets/" + strconv.FormatInt(t.ID, 10)
	b.WriteString(link + "\n\n-- \n" + p.T("mail.notice.footer"))
	text := b.String()
	htm := "<!doctype html><html><body><p>" + textToHTML(text) + "</p></body></html>"
	htm = strings.Replace(htm, html.EscapeString(link), `<a href="`+html.EscapeString(link)+`">`+html.EscapeString(link)+`</a>`, 1)
	o := &Outbound{
		MailboxID: &mb.ID, TicketID: &t.ID, Kind: "notify", MailID: newMailID(mb.Address), FromName: fromName("", mb),
		To: addr, Subject: subj, Text: text, HTML: htm, Auto: "auto-generated", CreatedAt: now, UpdatedAt: now,
	}
	return tx.InsertOutbound(ctx, o)
}

func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Templates customers receive, and their placeholders.
var (
	Templates    = []string{"ack", KindSolved, KindSurvey, KindPortal}
	Placeholders = []string{"name", "ticket", "subject", "deadline", "desk", "link", "confirm", "reopen"}
)

// DefaultTemplate is the shipped text of a template in p's language.
func DefaultTemplate(p *i18n.Printer, name string) (subject, body string) {
	return p.T("mail.tpl." + name + ".subject"), p.T("mail.tpl." + name + ".body")
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// Fill replaces {placeholders} with their values.
func Fill(s string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// CheckTemplate refuses a template with an unknown {placeholder}.
func CheckTemplate(field, s string) error {
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(Placeholders, m[1]) {
			return fault.Field(field, "placeholder", "unknown placeholder {"+m[1]+"}; use {"+strings.Join(Placeholders, "}, {")+"}")
		}
	}
	return nil
}

// ErrPermanent marks a send that retrying cannot mend (the server refused
// the mail for good, or the mailbox cannot send).
var ErrPermanent = errors.New("permanent")
