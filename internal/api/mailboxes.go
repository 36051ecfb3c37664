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
	CreatedAt time.Time `json:"created_at"`
}

func mailboxJSON(m *email.Mailbox) MailboxJSON {
	return MailboxJSON{ID: m.ID, Address: m.Address, Name: m.Name, TeamID: m.TeamID, AutoAck: m.AutoAck, CreatedAt: m.CreatedAt}
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
	Address string `json:"address"`
	Name    string `json:"name"`
	TeamID  *int64 `json:"team_id"`
	AutoAck bool   `json:"auto_ack"`
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
	if err := m.Validate(); err != nil {
		return err
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
