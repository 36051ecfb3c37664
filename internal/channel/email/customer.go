package email

import (
	"context"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/ticket"
)

// Mail the customer side sends, from templates admins may change per
// language: the portal's sign-in link, "solved: can you confirm?" and the
// satisfaction survey. Each goes through the outbox like a reply.

// Kinds of customer mail (outbox rows).
const (
	KindPortal = "portal" // the portal's one-time sign-in link
	KindSolved = "solved" // the problem is solved: can you confirm?
	KindSurvey = "survey" // how did we do?
)

// CustomerMail is one of those mails to compose: to the contact, about
// the ticket (none for the portal link), with its links.
type CustomerMail struct {
	Kind      string
	Ticket    *ticket.Ticket // nil for the portal link
	ContactID int64
	// Vars fill the template's links: {link}, or {confirm} and {reopen}.
	Vars map[string]string
	Now  time.Time
}

// Customer queues a customer mail in tx. Automatic mail (closure,
// survey) keeps to the loop breakers; the sign-in link, asked for by the
// person, does not. Nothing is sent to a contact without a deliverable
// address or when the desk has no mailbox.
func (ml *Mailer) Customer(ctx context.Context, tx OutboxTx, cm CustomerMail) error {
	var tid int64
	var team *int64
	if cm.Ticket != nil {
		tid, team = cm.Ticket.ID, cm.Ticket.TeamID
	}
	mb, err := tx.TicketMailbox(ctx, tid, team)
	if err != nil || mb == nil {
		return err
	}
	to, name, lang, bad, err := tx.Recipient(ctx, cm.ContactID)
	if err != nil || to == "" || bad {
		return err
	}
	auto := cm.Kind != KindPortal
	if auto {
		if !MayAutoReply(to, func(a string) bool { return baseAddress(a) == mb.Address }) {
			return nil
		}
		if ok, err := ml.underLimits(ctx, tx, to, tid, cm.Now); err != nil || !ok {
			return err
		}
	}
	if lang == "" && cm.Ticket != nil {
		lang = cm.Ticket.Language
	}
	if !i18n.Supported(lang) {
		lang = i18n.Languages[0]
	}
	p := ml.words.Printer(lang, ml.Zone)
	subj, body, ok, err := tx.MailTemplate(ctx, cm.Kind, lang)
	if err != nil {
		return err
	}
	if !ok {
		subj, body = DefaultTemplate(p, cm.Kind)
	}
	vars := map[string]string{"name": firstName(name), "desk": fromName("", mb)}
	for k, v := range cm.Vars {
		vars[k] = v
	}
	if cm.Ticket != nil {
		vars["ticket"], vars["subject"] = "#"+strconv.FormatInt(cm.Ticket.ID, 10), cm.Ticket.Subject
	}
	subj, body = Fill(subj, vars), Fill(body, vars)
	o := &Outbound{MailboxID: &mb.ID, Kind: cm.Kind, MailID: newMailID(mb.Address), FromName: fromName("", mb),
		To: to, Subject: subj, CreatedAt: cm.Now, UpdatedAt: cm.Now}
	if auto {
		o.Auto = "auto-generated"
	}
	if cm.Ticket != nil {
		o.TicketID = &cm.Ticket.ID
		o.Subject = SubjectTag(cm.Ticket.ID) + " " + subj
		o.ReplyTo = ml.signer.ReplyAddress(mb.Address, cm.Ticket.ID)
		last, refs, err := tx.MailThread(ctx, cm.Ticket.ID)
		if err != nil {
			return err
		}
		o.InReplyTo, o.Refs = last, strings.Join(refs, " ")
		o.Text, o.HTML = ml.body(cm.Ticket.ID, body, linkify(body, cm.Vars), mb.Signatures.For(lang))
	} else {
		o.Text = body
		o.HTML = "<!doctype html><html><body>" + linkify(body, cm.Vars) + "</body></html>"
	}
	return tx.InsertOutbound(ctx, o)
}

// linkify is the body as HTML with the links' addresses clickable.
func linkify(body string, links map[string]string) string {
	h := textToHTML(body)
	for _, l := range links {
		if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			e := html.EscapeString(l)
			h = strings.Replace(h, e, `<a href="`+e+`">`+e+`</a>`, 1)
		}
	}
	return h
}
