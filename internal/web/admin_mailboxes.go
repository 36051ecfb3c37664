package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// MailStore is what the mail pages read and write.
type MailStore interface {
	Mailboxes(ctx context.Context) ([]email.Mailbox, error)
	Mailbox(ctx context.Context, id int64) (*email.Mailbox, error)
	CreateMailbox(ctx context.Context, m *email.Mailbox) error
	UpdateMailbox(ctx context.Context, m *email.Mailbox, since time.Time) error
	DeleteMailbox(ctx context.Context, id int64) error
	OutboundOfTicket(ctx context.Context, ticketID int64) ([]email.Outbound, error)
	OutboundStatus(ctx context.Context) (map[string]int, error)
	MailTemplates(ctx context.Context) (map[string]map[string][2]string, error)
	SetMailTemplate(ctx context.Context, name, lang, subject, body string, now time.Time) error
	ContactIDByEmail(ctx context.Context, email, name string, now time.Time) (int64, error)
}

// MailDeps are the mail channel's services the pages use.
type MailDeps struct {
	Store MailStore
	// Seal encrypts a secret before it is stored.
	Seal func(string) (string, error)
	// CheckIMAP and CheckSMTP try a mailbox's settings step by step.
	CheckIMAP, CheckSMTP func(ctx context.Context, mb *email.Mailbox) email.Check
	// Resend puts a failed or sent mail back in the outbox.
	Resend func(ctx context.Context, ticketID, outboxID int64) error
	// Template is the shipped text of a customer template.
	Template func(name, lang string) (subject, body string)
}

type mailboxesData struct {
	Boxes     []email.Mailbox
	Outbox    map[string]int
	Templates []templateView
	Saved     string
}

type templateView struct {
	Name, Lang, Subject, Body string
	Custom                    bool
	Preview                   string
	Error                     string
	Field                     string
}

type mailboxData struct {
	M         *email.Mailbox
	New       bool
	Teams     []team.Team
	Errors    map[string]string
	Checks    []checkView
	Confirm   bool // the delete asks first
	Connected bool
	Presets   []string
	Langs     []string
}

type checkView struct {
	Side, Label, Step, Detail string
	OK                        bool
}

// mailboxesShow: GET /admin/mailboxes — the desk's addresses, the outbox
// at a glance, and the customer templates per language with a preview.
func (h *handler) mailboxesShow(w http.ResponseWriter, r *http.Request) error {
	return h.mailboxesPage(w, r, http.StatusOK, nil, r.URL.Query().Get("saved"))
}

func (h *handler) mailboxesPage(w http.ResponseWriter, r *http.Request, status int, bad *templateView, saved string) error {
	a := current(r)
	pr := h.printer(r, a)
	d := mailboxesData{Saved: saved}
	var err error
	if d.Boxes, err = h.Mail.Store.Mailboxes(r.Context()); err != nil {
		return err
	}
	if d.Outbox, err = h.Mail.Store.OutboundStatus(r.Context()); err != nil {
		return err
	}
	custom, err := h.Mail.Store.MailTemplates(r.Context())
	if err != nil {
		return err
	}
	for _, name := range email.Templates {
		for _, lang := range i18n.Languages {
			v := templateView{Name: name, Lang: lang}
			v.Subject, v.Body = h.Mail.Template(name, lang)
			if c, ok := custom[name][lang]; ok {
				v.Subject, v.Body, v.Custom = c[0], c[1], true
			}
			if bad != nil && bad.Name == name && bad.Lang == lang {
				v.Subject, v.Body, v.Error, v.Field = bad.Subject, bad.Body, bad.Error, bad.Field
			}
			v.Preview = email.Fill(v.Body, samplePlaceholders(h.I18n.Printer(lang, a.Timezone), h.Now()))
			d.Templates = append(d.Templates, v)
		}
	}
	return h.render(w, r, status, "mailboxes", page{P: pr, Agent: a, Title: pr.T("mailboxes.title"), Now: h.Now(), Data: d})
}

// samplePlaceholders fill a template's preview.
func samplePlaceholders(p *i18n.Printer, now time.Time) map[string]string {
	due := now.Add(26 * time.Hour).Truncate(time.Hour)
	return map[string]string{"name": "Marta", "ticket": "#1234", "subject": p.T("mailboxes.sample_subject"),
		"deadline": p.T("mail.ack.by", "When", p.When(due)), "desk": "Supporto Bottega",
		"link": "https://help.example/…", "confirm": "https://help.example/…/confirm", "reopen": "https://help.example/…/reopen"}
}

// mailTemplateSave: POST /admin/mail-templates/{name}/{lang}
func (h *handler) mailTemplateSave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	name, lang := r.PathValue("name"), r.PathValue("lang")
	if !i18n.Supported(lang) || !slices.Contains(email.Templates, name) {
		return fault.NotFound
	}
	pr := h.printer(r, current(r))
	v := templateView{Name: name, Lang: lang, Subject: strings.TrimSpace(r.PostFormValue("subject")), Body: strings.TrimSpace(r.PostFormValue("body"))}
	if r.PostFormValue("reset") == "1" {
		v.Subject, v.Body = "", ""
	}
	err := email.CheckTemplate("subject", v.Subject)
	if err == nil {
		err = email.CheckTemplate("body", v.Body)
	}
	if err == nil && (v.Subject == "") != (v.Body == "") {
		err = fault.Field("body", "required", "give both subject and body")
	}
	if ps := problemsOf(err); ps != nil {
		v.Field, v.Error = ps[0].Field, pr.T("form."+ps[0].Rule)
		if ps[0].Rule == "placeholder" {
			v.Error = pr.T("mailboxes.bad_placeholder", "List", "{"+strings.Join(email.Placeholders, "}, {")+"}")
		}
		return h.mailboxesPage(w, r, http.StatusUnprocessableEntity, &v, "")
	}
	if err := h.Mail.Store.SetMailTemplate(r.Context(), name, lang, v.Subject, v.Body, h.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/mailboxes?saved="+name+"-"+lang+"#tpl-"+name+"-"+lang, http.StatusSeeOther)
	return nil
}

func mailboxID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, email.ErrMailboxNotFound
	}
	return id, nil
}

// mailboxShow: GET /admin/mailboxes/{id} ("new" for the empty form).
func (h *handler) mailboxShow(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("id") == "new" {
		return h.mailboxPage(w, r, http.StatusOK, mailboxData{M: &email.Mailbox{AutoAck: true, IMAPPort: 993, IMAPTLS: "tls", IMAPFolder: "INBOX",
			IMAPAfter: "seen", PollSeconds: 60, SMTPPort: 587, SMTPTLS: "starttls", Auth: "password"}, New: true})
	}
	id, err := mailboxID(r)
	if err != nil {
		return err
	}
	mb, err := h.Mail.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	return h.mailboxPage(w, r, http.StatusOK, mailboxData{M: mb, Connected: r.URL.Query().Get("connected") == "1"})
}

func (h *handler) mailboxPage(w http.ResponseWriter, r *http.Request, status int, d mailboxData) error {
	a := current(r)
	pr := h.printer(r, a)
	var err error
	if d.Teams, err = h.Store.Teams(r.Context()); err != nil {
		return err
	}
	d.Presets, d.Langs = []string{"google", "microsoft", "custom"}, i18n.Languages
	title := pr.T("mailboxes.new")
	if !d.New {
		title = d.M.Address
	}
	return h.render(w, r, status, "mailbox", page{P: pr, Agent: a, Title: title, Now: h.Now(), Data: d})
}

// mailboxForm reads the form onto m; secrets left empty are kept.
func (h *handler) mailboxForm(r *http.Request, m *email.Mailbox) error {
	f := r.PostForm
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(f.Get(k))); return n }
	m.Address, m.Name = f.Get("address"), f.Get("name")
	m.TeamID = nil
	if id, err := strconv.ParseInt(f.Get("team_id"), 10, 64); err == nil && id > 0 {
		m.TeamID = &id
	}
	m.AutoAck = f.Get("auto_ack") == "1"
	m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUser = strings.TrimSpace(f.Get("imap_host")), num("imap_port"), f.Get("imap_tls"), f.Get("imap_user")
	m.IMAPFolder, m.IMAPAfter, m.IMAPMoveTo, m.PollSeconds = f.Get("imap_folder"), f.Get("imap_after"), f.Get("imap_move_to"), num("poll_seconds")
	m.SMTPHost, m.SMTPPort, m.SMTPTLS, m.SMTPUser = strings.TrimSpace(f.Get("smtp_host")), num("smtp_port"), f.Get("smtp_tls"), f.Get("smtp_user")
	m.Auth = f.Get("auth")
	o := m.OAuth
	if f.Get("oauth_client_id") != o.ClientID || f.Get("oauth_token_url") != o.TokenURL {
		o.RefreshToken, o.AccessToken = "", ""
	}
	o.Provider, o.ClientID, o.AuthURL, o.TokenURL, o.Mechanism = f.Get("oauth_provider"), strings.TrimSpace(f.Get("oauth_client_id")),
		strings.TrimSpace(f.Get("oauth_auth_url")), strings.TrimSpace(f.Get("oauth_token_url")), f.Get("oauth_mechanism")
	o.Scopes = strings.Fields(f.Get("oauth_scopes"))
	o.FillPreset()
	m.Signatures = email.Texts{}
	for _, l := range i18n.Languages {
		if s := strings.TrimSpace(f.Get("signature_" + l)); s != "" {
			m.Signatures[l] = s
		}
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if m.TeamID != nil {
		teams, err := h.Store.Teams(r.Context())
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(teams, func(t team.Team) bool { return t.ID == *m.TeamID }) {
			return fault.Field("team_id", "exists", "no team has this id")
		}
	}
	seal := func(field string, dst *string) error {
		if v := f.Get(field); v != "" {
			s, err := h.Mail.Seal(v)
			if err != nil {
				return err
			}
			*dst = s
		}
		return nil
	}
	if err := seal("imap_password", &m.IMAPPassword); err != nil {
		return err
	}
	if err := seal("smtp_password", &m.SMTPPassword); err != nil {
		return err
	}
	if err := seal("oauth_client_secret", &o.ClientSecret); err != nil {
		return err
	}
	m.OAuth = o
	return nil
}

func (h *handler) formErrors(r *http.Request, err error) map[string]string {
	pr := h.printer(r, current(r))
	out := map[string]string{}
	for _, p := range problemsOf(err) {
		out[strings.SplitN(p.Field, ".", 2)[0]] = pr.T("form." + p.Rule)
	}
	return out
}

// mailboxCreate: POST /admin/mailboxes
func (h *handler) mailboxCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	now := h.Now().UTC()
	m := &email.Mailbox{CreatedAt: now, UpdatedAt: now}
	err := h.mailboxForm(r, m)
	if err == nil {
		err = h.Mail.Store.CreateMailbox(r.Context(), m)
	}
	if problemsOf(err) != nil {
		return h.mailboxPage(w, r, http.StatusUnprocessableEntity, mailboxData{M: m, New: true, Errors: h.formErrors(r, err)})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/mailboxes/"+strconv.FormatInt(m.ID, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

// mailboxUpdate: POST /admin/mailboxes/{id} — refused (409, nothing
// written) when someone changed the mailbox since the form was read.
func (h *handler) mailboxUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := mailboxID(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	m, err := h.Mail.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	err = h.mailboxForm(r, m)
	if err == nil {
		m.UpdatedAt = h.Now().UTC()
		err = h.Mail.Store.UpdateMailbox(r.Context(), m, wasUpdated(r))
	}
	if problemsOf(err) != nil {
		return h.mailboxPage(w, r, http.StatusUnprocessableEntity, mailboxData{M: m, Errors: h.formErrors(r, err)})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/mailboxes/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

// mailboxTest: POST /admin/mailboxes/{id}/test — tries the saved settings
// and says, in the admin's language, which step failed.
func (h *handler) mailboxTest(w http.ResponseWriter, r *http.Request) error {
	id, err := mailboxID(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	mb, err := h.Mail.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	pr := h.printer(r, current(r))
	var checks []checkView
	add := func(side string, c email.Check) {
		v := checkView{Side: side, Label: pr.T("mailboxes." + side), OK: c.OK, Detail: c.Detail}
		if !c.OK {
			v.Step = pr.T("mailboxes.step." + c.Step)
		}
		checks = append(checks, v)
	}
	if mb.IMAPHost != "" {
		add("imap", h.Mail.CheckIMAP(r.Context(), mb))
	}
	if mb.SMTPHost != "" {
		add("smtp", h.Mail.CheckSMTP(r.Context(), mb))
	}
	if len(checks) == 0 {
		checks = append(checks, checkView{Side: "none", Label: pr.T("mailboxes.nothing_to_test")})
	}
	return h.mailboxPage(w, r, http.StatusOK, mailboxData{M: mb, Checks: checks})
}

// mailboxDelete: POST /admin/mailboxes/{id}/delete — asks first (the page
// says what happens), deletes with confirm=1.
func (h *handler) mailboxDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := mailboxID(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	mb, err := h.Mail.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "1" {
		return h.mailboxPage(w, r, http.StatusOK, mailboxData{M: mb, Confirm: true})
	}
	if err := h.Mail.Store.DeleteMailbox(r.Context(), id); err != nil && !errors.Is(err, email.ErrMailboxNotFound) {
		return err
	}
	http.Redirect(w, r, "/admin/mailboxes?saved=deleted", http.StatusSeeOther)
	return nil
}

// mailResend: POST /tickets/{number}/mails/{id}/resend
func (h *handler) mailResend(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return fault.NotFound
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	a := current(r)
	if _, err := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n); err != nil {
		return err
	}
	if err := h.Mail.Resend(r.Context(), n, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10)+"#mail-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}
