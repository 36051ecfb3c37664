package web

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/ticket"
)

// The contact form (/help/{lang}/contact): name, email, subject, message,
// attachments and the custom fields an admin shows to customers. It makes
// a ticket on the web channel, acknowledged by mail like a mailed one.
// Spam is kept out without any outside service: a field people never see
// (bots fill it), a signed time token (a form sent within seconds of being
// shown is a bot's; one older than a day is sent again), and limits per
// address and per email.

// Contact form limits.
const (
	formMinAge      = 3 * time.Second
	formMaxAge      = 24 * time.Hour
	formPerIP       = 5 // per formWindow
	formPerEmail    = 3
	formWindow      = 10 * time.Minute
	formMaxBody     = 20_000
	formHoneypot    = "website" // the field people never see
	formTokenPurpse = "help-form"
)

type helpForm struct {
	Name, Email, Subject, Body string
	Token                      string // the signed time token, also the idempotency key
	Custom                     map[string]string
	Fields                     []fieldView
	Errors                     map[string]string
	Notice                     string // a problem with the whole form (too fast, too many)
}

// floodGate counts recent posts per key in memory (per node: a desk on
// several nodes multiplies the limit by their number, which still stops a
// flood).
type floodGate struct {
	mu   sync.Mutex
	hits map[string][]time.Time
}

// allow records a post for key and reports whether it is within n in
// window.
func (g *floodGate) allow(key string, n int, window time.Duration, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hits == nil {
		g.hits = map[string][]time.Time{}
	}
	if len(g.hits) > 50_000 { // forget everyone rather than grow without end
		clear(g.hits)
	}
	recent := g.hits[key][:0]
	for _, t := range g.hits[key] {
		if now.Sub(t) < window {
			recent = append(recent, t)
		}
	}
	if len(recent) >= n {
		g.hits[key] = recent
		return false
	}
	g.hits[key] = append(recent, now)
	return true
}

// customerFields are the active custom fields an admin shows customers.
func (h *handler) customerFields(r *http.Request, values, errs map[string]string) ([]fieldView, error) {
	defs, err := h.Tickets.FieldDefs(r.Context())
	if err != nil {
		return nil, err
	}
	var out []fieldView
	for _, d := range defs {
		if d.Active && d.CustomerVisible {
			out = append(out, fieldView{Key: d.Key, Label: d.Label, Type: string(d.Type), Options: d.Options, Value: values[d.Key], Error: errs["custom_fields."+d.Key]})
		}
	}
	return out, nil
}

func (h *handler) contactFormPage(w http.ResponseWriter, r *http.Request, status int, lang string, f helpForm) error {
	b, err := h.brand(r.Context())
	if err != nil {
		return err
	}
	if f.Fields, err = h.customerFields(r, f.Custom, f.Errors); err != nil {
		return err
	}
	if f.Token == "" || status == http.StatusOK {
		f.Token = h.Links.Make(formTokenPurpse, h.Now().Add(formMaxAge), strconv.FormatInt(h.Now().UnixMilli(), 10), auth.RandomSecret(8))
	}
	pr := h.helpPrinter(lang)
	pg := helpPage{P: pr, Brand: b, Lang: lang, Title: pr.T("help.contact.title") + " · " + b.Name, NoIndex: true, Data: f,
		Embed: r.URL.Query().Get("embed") == "1"}
	for _, l := range b.Languages {
		pg.Alternates = append(pg.Alternates, helpAlt{Lang: l, URL: h.abs("/help/" + l + "/contact"), Name: langName(l)})
	}
	return h.renderHelp(w, r, status, "help_contact", pg, false)
}

// helpContactShow: GET /help/{lang}/contact.
func (h *handler) helpContactShow(w http.ResponseWriter, r *http.Request) error {
	_, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	return h.contactFormPage(w, r, http.StatusOK, lang, helpForm{Subject: strings.TrimSpace(r.URL.Query().Get("subject"))})
}

// helpContactSubmit: POST /help/{lang}/contact — validates everything
// before writing; on a problem the form comes back with the error next to
// the field and nothing lost; sent twice (Back, a double click) it opens
// the first ticket's page again, not a second ticket.
func (h *handler) helpContactSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	_, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	atts, perr := h.parseComposer(w, r)
	pr := h.helpPrinter(lang)
	v := r.PostForm
	f := helpForm{Name: strings.TrimSpace(v.Get("name")), Email: strings.TrimSpace(v.Get("email")), Subject: strings.TrimSpace(v.Get("subject")),
		Body: v.Get("body"), Token: v.Get("form_token"), Custom: map[string]string{}, Errors: map[string]string{}}
	if perr != nil {
		f.Notice = pr.T("help.contact.too_large")
		return h.contactFormPage(w, r, http.StatusRequestEntityTooLarge, lang, f)
	}
	now := h.Now()
	// A bot: the field no person sees is filled.
	if v.Get(formHoneypot) != "" {
		f.Notice = pr.T("help.contact.refused")
		return h.contactFormPage(w, r, http.StatusUnprocessableEntity, lang, f)
	}
	fields, terr := h.Links.Check(f.Token, formTokenPurpse, now)
	switch {
	case terr == auth.ErrExpired:
		f.Notice = pr.T("help.contact.expired")
		f.Token = ""
		return h.contactFormPage(w, r, http.StatusUnprocessableEntity, lang, f)
	case terr != nil || len(fields) != 2:
		f.Notice = pr.T("help.contact.refused")
		f.Token = ""
		return h.contactFormPage(w, r, http.StatusUnprocessableEntity, lang, f)
	}
	if shown, err := strconv.ParseInt(fields[0], 10, 64); err != nil || now.Sub(time.UnixMilli(shown)) < formMinAge {
		f.Notice = pr.T("help.contact.too_fast")
		return h.contactFormPage(w, r, http.StatusTooManyRequests, lang, f)
	}
	// Each field next to its rule.
	if f.Name == "" {
		f.Errors["name"] = pr.T("form.required")
	} else if utf8.RuneCountInString(f.Name) > 200 {
		f.Errors["name"] = pr.T("form.max_length")
	}
	if agent.NormaliseEmail(f.Email) == "" || !strings.Contains(f.Email, "@") {
		f.Errors["email"] = pr.T("form.email")
	}
	if f.Subject == "" {
		f.Errors["subject"] = pr.T("form.required")
	} else if utf8.RuneCountInString(f.Subject) > 250 {
		f.Errors["subject"] = pr.T("form.max_length_250")
	}
	if strings.TrimSpace(f.Body) == "" {
		f.Errors["body"] = pr.T("form.required")
	} else if len(f.Body) > formMaxBody {
		f.Errors["body"] = pr.T("help.contact.body_long")
	}
	defs, err := h.Tickets.FieldDefs(ctx)
	if err != nil {
		return err
	}
	custom := map[string]any{}
	for _, d := range defs {
		raw := strings.TrimSpace(v.Get("cf_" + d.Key))
		if !d.Active || !d.CustomerVisible {
			continue
		}
		f.Custom[d.Key] = raw
		switch {
		case raw == "" && d.Required:
			f.Errors["custom_fields."+d.Key] = pr.T("form.required")
		case raw == "":
		case d.Type == ticket.FieldNumber:
			n, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
			if err != nil {
				f.Errors["custom_fields."+d.Key] = pr.T("form.number")
				continue
			}
			custom[d.Key] = n
		default:
			custom[d.Key] = raw
		}
	}
	if len(f.Errors) > 0 {
		return h.contactFormPage(w, r, http.StatusUnprocessableEntity, lang, f)
	}
	// Floods: per address, then per email.
	if !h.flood.allow("ip:"+httpx.ClientIP(r, h.Proxies), formPerIP, formWindow, now) ||
		!h.flood.allow("email:"+agent.NormaliseEmail(f.Email), formPerEmail, formWindow, now) {
		f.Notice = pr.T("help.contact.flood", "Minutes", int(formWindow/time.Minute))
		return h.contactFormPage(w, r, http.StatusTooManyRequests, lang, f)
	}
	nt := ticket.NewTicket{Subject: f.Subject, BodyText: f.Body, Channel: ticket.ChannelWeb, Language: lang,
		Requester: ticket.Requester{Email: f.Email, Name: f.Name}, Attachments: atts,
		Meta: map[string]any{"source": email.WebSourceHelp},
		Idem: &ticket.Idempotency{Key: "help-form:" + fields[1], Fingerprint: "help-form"}}
	if len(custom) > 0 {
		nt.CustomFields = custom
	}
	// The form's requests go to the team of the desk's first mailbox,
	// as mail to it would.
	if h.Mail.Store != nil {
		mbs, err := h.Mail.Store.Mailboxes(ctx)
		if err != nil {
			return err
		}
		for _, mb := range mbs {
			if mb.TeamID != nil {
				nt.TeamID = mb.TeamID
				break
			}
		}
	}
	res, err := h.Tickets.Create(ctx, ticket.System, nt)
	if ps := problemsOf(err); ps != nil {
		for _, p := range ps {
			field := strings.TrimPrefix(p.Field, "requester.")
			if _, seen := f.Errors[field]; !seen {
				f.Errors[field] = pr.T("form." + p.Rule)
			}
		}
		return h.contactFormPage(w, r, http.StatusUnprocessableEntity, lang, f)
	}
	if err != nil {
		return err
	}
	// The page says the number; the rest comes by mail.
	sent := "/help/" + lang + "/contact/sent?t=" + h.Links.Make("help-sent", now.Add(time.Hour), strconv.FormatInt(res.Ticket.ID, 10))
	if r.URL.Query().Get("embed") == "1" {
		sent += "&embed=1"
	}
	http.Redirect(w, r, sent, http.StatusSeeOther)
	return nil
}

// helpContactSent: GET /help/{lang}/contact/sent — "we have your request
// #N"; the number shows only with the signed token the form gave.
func (h *handler) helpContactSent(w http.ResponseWriter, r *http.Request) error {
	b, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	n := ""
	if fs, err := h.Links.Check(r.URL.Query().Get("t"), "help-sent", h.Now()); err == nil && len(fs) == 1 {
		n = fs[0]
	}
	pr := h.helpPrinter(lang)
	return h.renderHelp(w, r, http.StatusOK, "help_sent", helpPage{P: pr, Brand: b, Lang: lang, Title: pr.T("help.sent.title") + " · " + b.Name, NoIndex: true, Data: n,
		Embed: r.URL.Query().Get("embed") == "1"}, false)
}
