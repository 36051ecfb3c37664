package api

import (
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
)

// MailboxJSON is a mailbox as the API shows it.
type MailboxJSON struct {
	ID        int64     `json:"id"`
	Address   string    `json:"address"`
	Name      string    `json:"name"`
	TeamID    *int64    `json:"team_id"`
	AutoAck   bool      `json:"auto_ack"`
	IMAP      *IMAPJSON `json:"imap"`
	CreatedAt time.Time `json:"created_at"`
}

// IMAPJSON is a mailbox's IMAP receiving; the password is never sent
// back, only whether one is set.
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

func mailboxJSON(m *email.Mailbox) MailboxJSON {
	out := MailboxJSON{ID: m.ID, Address: m.Address, Name: m.Name, TeamID: m.TeamID, AutoAck: m.AutoAck, CreatedAt: m.CreatedAt}
	if m.IMAPHost != "" {
		out.IMAP = &IMAPJSON{Host: m.IMAPHost, Port: m.IMAPPort, TLS: m.IMAPTLS, User: m.IMAPUser, PasswordSet: m.IMAPPassword != "",
			Folder: m.IMAPFolder, After: m.IMAPAfter, MoveTo: m.IMAPMoveTo, PollSeconds: m.PollSeconds}
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

type mailboxIn struct {
	Address string    `json:"address"`
	Name    string    `json:"name"`
	TeamID  *int64    `json:"team_id"`
	AutoAck bool      `json:"auto_ack"`
	IMAP    *IMAPJSON `json:"imap"`
}

// createMailbox: POST /api/v1/mailboxes — an address the built-in SMTP
// listener accepts mail for, and the team its new tickets go to.
func (h *handler) createMailbox(w http.ResponseWriter, r *http.Request) error {
	var in mailboxIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	m := &email.Mailbox{Address: in.Address, Name: in.Name, TeamID: in.TeamID, AutoAck: in.AutoAck, CreatedAt: now, UpdatedAt: now}
	if i := in.IMAP; i != nil {
		m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUser = i.Host, i.Port, i.TLS, i.User
		m.IMAPFolder, m.IMAPAfter, m.IMAPMoveTo, m.PollSeconds = i.Folder, i.After, i.MoveTo, i.PollSeconds
		if m.IMAPHost == "" {
			return fault.Field("imap.host", "required", "name the IMAP server, or leave imap out")
		}
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if in.IMAP != nil {
		sealed, err := h.Seal(in.IMAP.Password)
		if err != nil {
			return err
		}
		m.IMAPPassword = sealed
	}
	if m.TeamID != nil {
		if _, err := h.Store.Team(r.Context(), *m.TeamID); err != nil {
			return fault.Field("team_id", "exists", "no team has this id")
		}
	}
	if err := h.Store.CreateMailbox(r.Context(), m); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusCreated, mailboxJSON(m))
}

// testMailbox: POST /api/v1/mailboxes/{id}/test — tries the mailbox's IMAP
// settings and answers which step failed (dns, tcp, tls, auth, folder).
func (h *handler) testMailbox(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	mb, err := h.Store.Mailbox(r.Context(), id)
	if err != nil {
		return err
	}
	if mb.IMAPHost == "" {
		return fault.Field("imap", "required", "this mailbox does not receive by IMAP")
	}
	return httpx.JSON(w, http.StatusOK, h.CheckIMAP(r.Context(), mb))
}
