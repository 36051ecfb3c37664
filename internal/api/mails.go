package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
)

// OutboundJSON is a mail the desk sent (or is sending) on a ticket.
type OutboundJSON struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"` // reply, ack, notify
	MessageID *int64     `json:"message_id"`
	To        string     `json:"to"`
	CC        []string   `json:"cc"`
	Subject   string     `json:"subject"`
	MailID    string     `json:"mail_id"`
	InReplyTo string     `json:"in_reply_to"`
	Status    string     `json:"status"` // queued, retrying, sent, failed
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// listTicketMails: GET /api/v1/tickets/{number}/mails — the ticket's
// outgoing mail with its delivery status and the server's last answer.
// Agents' notices are listed only to the agent they went to.
func (h *handler) listTicketMails(w http.ResponseWriter, r *http.Request) error {
	num, err := pathID(r, "number")
	if err != nil {
		return err
	}
	if _, err := h.Tickets.Get(r.Context(), actorOf(r), num); err != nil {
		return err
	}
	os, err := h.Store.OutboundOfTicket(r.Context(), num)
	if err != nil {
		return err
	}
	me := current(r)
	out := []OutboundJSON{}
	for _, o := range os {
		if o.Kind == "notify" && o.To != me.Email {
			continue
		}
		cc := o.CCs()
		if cc == nil {
			cc = []string{}
		}
		out = append(out, OutboundJSON{ID: o.ID, Kind: o.Kind, MessageID: o.MessageID, To: o.To, CC: cc, Subject: o.Subject, MailID: o.MailID,
			InReplyTo: o.InReplyTo, Status: o.Status, Attempts: o.Attempts, LastError: o.LastError, CreatedAt: o.CreatedAt, SentAt: o.SentAt})
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// resendMail: POST /api/v1/tickets/{number}/mails/{id}/resend — a failed
// (or sent) mail goes back in the outbox; 409 while it is on its way.
func (h *handler) resendMail(w http.ResponseWriter, r *http.Request) error {
	num, err := pathID(r, "number")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.Tickets.Get(r.Context(), actorOf(r), num); err != nil {
		return err
	}
	if err := h.Resend(r.Context(), num, id); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusAccepted, map[string]any{"id": id, "status": email.Queued})
}

// MailTemplateJSON is one customer template in one language.
type MailTemplateJSON struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	Custom   bool   `json:"custom"` // an admin changed the shipped text
}

// listMailTemplates: GET /api/v1/mail-templates — every template in every
// language, as customers get it now, with its placeholders.
func (h *handler) listMailTemplates(w http.ResponseWriter, r *http.Request) error {
	custom, err := h.Store.MailTemplates(r.Context())
	if err != nil {
		return err
	}
	out := []MailTemplateJSON{}
	for _, name := range email.Templates {
		for _, lang := range i18n.Languages {
			subj, body := h.Template(name, lang)
			c, ok := custom[name][lang]
			if ok {
				subj, body = c[0], c[1]
			}
			out = append(out, MailTemplateJSON{Name: name, Language: lang, Subject: subj, Body: body, Custom: ok})
		}
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out, "placeholders": email.Placeholders})
}

// putMailTemplate: PUT /api/v1/mail-templates/{name}/{lang} — an admin's
// version of a template; an empty subject and body restore the shipped
// text. Unknown placeholders are refused (422).
func (h *handler) putMailTemplate(w http.ResponseWriter, r *http.Request) error {
	name, lang := r.PathValue("name"), r.PathValue("lang")
	if !slices.Contains(email.Templates, name) {
		return fault.Field("name", "enum", "must be one of "+strings.Join(email.Templates, ", "))
	}
	if !i18n.Supported(lang) {
		return fault.Field("lang", "enum", "must be one of "+strings.Join(i18n.Languages, ", "))
	}
	var in struct {
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	in.Subject, in.Body = strings.TrimSpace(in.Subject), strings.TrimSpace(in.Body)
	var c fault.Checker
	c.Check(len(in.Subject) <= 200, "subject", "max_length", "must be at most 200 characters")
	c.Check(len(in.Body) <= 10000, "body", "max_length", "must be at most 10000 characters")
	c.Check((in.Subject == "") == (in.Body == ""), "body", "required", "give both subject and body, or neither to restore the shipped text")
	if err := c.Err(); err != nil {
		return err
	}
	if err := email.CheckTemplate("subject", in.Subject); err != nil {
		return err
	}
	if err := email.CheckTemplate("body", in.Body); err != nil {
		return err
	}
	if err := h.Store.SetMailTemplate(r.Context(), name, lang, in.Subject, in.Body, h.now()); err != nil {
		return err
	}
	subj, body := h.Template(name, lang)
	if in.Body != "" {
		subj, body = in.Subject, in.Body
	}
	return httpx.JSON(w, http.StatusOK, MailTemplateJSON{Name: name, Language: lang, Subject: subj, Body: body, Custom: in.Body != ""})
}
