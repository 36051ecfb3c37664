package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
)

// MailboxJSON is a mailbox as the API shows it. Secrets (passwords,
// OAuth2 client secret and tokens) are never sent back, only whether
// they are set.
type MailboxJSON struct {
	ID         int64             `json:"id"`
	Address    string            `json:"address"`
	Name       string            `json:"name"`
	TeamID     *int64            `json:"team_id"`
	AutoAck    bool              `json:"auto_ack"`
	IMAP       *IMAPJSON         `json:"imap"`
	SMTP       *SMTPJSON         `json:"smtp"`
	Auth       string            `json:"auth"`
	OAuth      *OAuthJSON        `json:"oauth,omitempty"`
	Signatures map[string]string `json:"signatures"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// IMAPJSON is a mailbox's IMAP receiving.
type IMAPJSON struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	TLS         string `json:"tls"`
	User        string `json:"user"`
	Password    string `json:"password,omitempty"`
	PasswordSet bool   `json:"password_set"`
	Folder      string `json:"folder"`
	After       string `json:"after"`
	MoveTo      string `json:"move_to"`
	PollSeconds int    `json:"poll_seconds"`
}

// SMTPJSON is a mailbox's sending server.
type SMTPJSON struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	TLS         string `json:"tls"`
	User        string `json:"user"`
	Password    string `json:"password,omitempty"`
	PasswordSet bool   `json:"password_set"`
}

// OAuthJSON is a mailbox's OAuth2 provider; the client secret goes in
// and never comes out.
type OAuthJSON struct {
	Provider     string   `json:"provider"`
	AuthURL      string   `json:"auth_url"`
	TokenURL     string   `json:"token_url"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes"`
	Mechanism    string   `json:"mechanism"`
	Connected    bool     `json:"connected"`
}

func mailboxJSON(m *email.Mailbox) MailboxJSON {
	out := MailboxJSON{ID: m.ID, Address: m.Address, Name: m.Name, TeamID: m.TeamID, AutoAck: m.AutoAck, Auth: m.Auth,
		Signatures: m.Signatures, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	if out.Signatures == nil {
		out.Signatures = map[string]string{}
	}
	if m.IMAPHost != "" {
		out.IMAP = &IMAPJSON{Host: m.IMAPHost, Port: m.IMAPPort, TLS: m.IMAPTLS, User: m.IMAPUser, PasswordSet: m.IMAPPassword != "",
			Folder: m.IMAPFolder, After: m.IMAPAfter, MoveTo: m.IMAPMoveTo, PollSeconds: m.PollSeconds}
	}
	if m.SMTPHost != "" {
		out.SMTP = &SMTPJSON{Host: m.SMTPHost, Port: m.SMTPPort, TLS: m.SMTPTLS, User: m.SMTPUser, PasswordSet: m.SMTPPassword != ""}
	}
	if m.Auth == "oauth2" || m.OAuth.ClientID != "" {
		o := m.OAuth
		out.OAuth = &OAuthJSON{Provider: o.Provider, AuthURL: o.AuthURL, TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: o.Scopes,
			Mechanism: o.Mechanism, Connected: o.Connected()}
	}
	return out
}

// listMailboxes: GET /api/v1/mailboxes
func (h *handler) listMailboxes(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.Store.Mailboxes(r.Context())
	if err != nil {
		return err
	}
	out := make([]MailboxJSON, len(ms))
	for i := range ms {
		out[i] = mailboxJSON(&ms[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// mailboxIn is a create (every field) or a change (only the fields sent).
type mailboxIn struct {
	Address    *string           `json:"address"`
	Name       *string           `json:"name"`
	TeamID     optID             `json:"team_id"`
	AutoAck    *bool             `json:"auto_ack"`
	IMAP       *IMAPJSON         `json:"imap"`
	SMTP       *SMTPJSON         `json:"smtp"`
	Auth       *string           `json:"auth"`
	OAuth      *OAuthJSON        `json:"oauth"`
	Signatures map[string]string `json:"signatures"`
	// UpdatedAt, on a change, is when the caller read the mailbox: a
	// change made since by someone else is not overwritten (409).
	UpdatedAt *time.Time `json:"updated_at"`
}

// apply sets on m what in carries; a password left empty keeps the
// stored one.
func applyMailbox(m *email.Mailbox, in mailboxIn, seal func(string) (string, error)) error {
	if in.Address != nil {
		m.Address = *in.Address
	}
	if in.Name != nil {
		m.Name = *in.Name
	}
	if in.TeamID.Set {
		m.TeamID = in.TeamID.Value
	}
	if in.AutoAck != nil {
		m.AutoAck = *in.AutoAck
	}
	if i := in.IMAP; i != nil {
		m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUser = i.Host, i.Port, i.TLS, i.User
		m.IMAPFolder, m.IMAPAfter, m.IMAPMoveTo, m.PollSeconds = i.Folder, i.After, i.MoveTo, i.PollSeconds
		if i.Password != "" {
			sealed, err := seal(i.Password)
			if err != nil {
				return err
			}
			m.IMAPPassword = sealed
		}
		if m.IMAPHost == "" {
			m.IMAPPassword = ""
		}
	}
	if sm := in.SMTP; sm != nil {
		m.SMTPHost, m.SMTPPort, m.SMTPTLS, m.SMTPUser = sm.Host, sm.Port, sm.TLS, sm.User
		if sm.Password != "" {
			sealed, err := seal(sm.Password)
			if err != nil {
				return err
			}
			m.SMTPPassword = sealed
		}
		if m.SMTPHost == "" {
			m.SMTPPassword = ""
		}
	}
	if in.Auth != nil {
		m.Auth = *in.Auth
	}
	if o := in.OAuth; o != nil {
		cur := m.OAuth
		if cur.ClientID != o.ClientID || cur.TokenURL != o.TokenURL {
			cur.RefreshToken, cur.AccessToken = "", "" // another client: connect again
		}
		cur.Provider, cur.AuthURL, cur.TokenURL, cur.ClientID, cur.Scopes, cur.Mechanism = o.Provider, o.AuthURL, o.TokenURL, o.ClientID, o.Scopes, o.Mechanism
		cur.FillPreset()
		if o.ClientSecret != "" {
			sealed, err := seal(o.ClientSecret)
			if err != nil {
				return err
			}
			cur.ClientSecret = sealed
		}
		m.OAuth = cur
	}
	if in.Signatures != nil {
		m.Signatures = email.Texts(in.Signatures)
	}
	return nil
}

// createMailbox: POST /api/v1/mailboxes — an address the desk receives
// at (IMAP or the built-in SMTP listener) and sends from (SMTP), and the
// team its new tickets go to.
func (h *handler) createMailbox(w http.ResponseWriter, r *http.Request) error {
	var in mailboxIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	m := &email.Mailbox{CreatedAt: now, UpdatedAt: now}
	if in.IMAP != nil && in.IMAP.Host == "" {
		return fault.Field("imap.host", "required", "name the IMAP server, or leave imap out")
	}
	if in.SMTP != nil && in.SMTP.Host == "" {
		return fault.Field("smtp.host", "required", "name the SMTP server, or leave smtp out")
	}
	if err := h.checkMailbox(r, m, in); err != nil {
		return err
	}
	if err := h.Store.CreateMailbox(r.Context(), m); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusCreated, mailboxJSON(m))
}

// checkMailbox validates in against m before anything is sealed or
// written, then applies it.
func (h *handler) checkMailbox(r *http.Request, m *email.Mailbox, in mailboxIn) error {
	probe := *m
	if err := applyMailbox(&probe, in, func(string) (string, error) { return "sealed", nil }); err != nil {
		return err
	}
	if err := probe.Validate(); err != nil {
		return err
	}
	if probe.TeamID != nil {
		if _, err := h.Store.Team(r.Context(), *probe.TeamID); err != nil {
			return fault.Field("team_id", "exists", "no team has this id")
		}
	}
	if err := applyMailbox(m, in, h.Seal); err != nil {
		return err
	}
	return m.Validate()
}

// updateMailbox: PATCH /api/v1/mailboxes/{id} — changes only the fields
// sent; passwords left out are kept.
func (h *handler) updateMailbox(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in mailboxIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	m, err := h.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	since := m.UpdatedAt
	if in.UpdatedAt != nil {
		since = *in.UpdatedAt
	}
	if err := h.checkMailbox(r, m, in); err != nil {
		return err
	}
	m.UpdatedAt = h.now()
	if err := h.Store.UpdateMailbox(r.Context(), m, since); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, mailboxJSON(m))
}

// deleteMailbox: DELETE /api/v1/mailboxes/{id} — the address stops
// receiving; tickets and their mail stay.
func (h *handler) deleteMailbox(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteMailbox(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testMailbox: POST /api/v1/mailboxes/{id}/test — tries the mailbox's
// receiving (IMAP) and sending (SMTP) settings and answers, for each,
// which step failed (dns, tcp, tls, auth, folder).
func (h *handler) testMailbox(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	mb, err := h.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	if mb.IMAPHost == "" && mb.SMTPHost == "" {
		return fault.Field("imap", "required", "this mailbox neither receives by IMAP nor sends by SMTP")
	}
	out := map[string]email.Check{}
	if mb.IMAPHost != "" {
		out["imap"] = h.CheckIMAP(r.Context(), mb)
	}
	if mb.SMTPHost != "" {
		out["smtp"] = h.CheckSMTP(r.Context(), mb)
	}
	return httpx.JSON(w, http.StatusOK, out)
}

// oauthStart: GET /api/v1/mailboxes/{id}/oauth/start — sends the admin's
// browser to the provider's authorisation page (302).
func (h *handler) oauthStart(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.OAuthStart(r.Context(), id, current(r).ID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// oauthCallback: GET /api/v1/mailbox-oauth/callback — where the provider
// sends the admin back with a code (or an error); the tokens are kept
// and the admin lands on the mailbox's page.
func (h *handler) oauthCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return fault.Field("error", "oauth", "the provider did not connect the mailbox: "+httpx.Clip(e+" "+q.Get("error_description"), 300))
	}
	id, err := h.OAuthFinish(r.Context(), current(r).ID, q.Get("state"), q.Get("code"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/mailboxes/%d?connected=1", id), http.StatusSeeOther)
	return nil
}
