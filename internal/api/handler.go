// Package api is Sportello's REST API v1: JSON over /api/v1, bearer API
// tokens or the workspace session cookie, RFC 9457 problem documents with a
// field list for validation errors, and page/per_page pagination with a
// maximum. Every route and the permission it needs is listed in routes.go;
// openapi.json documents them all (a test keeps the two in step).
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// Store is what the API reads and writes directly: the settings-like
// resources whose rules are their Validate methods. Tickets go through the
// ticket service.
type Store interface {
	Agent(ctx context.Context, id int64) (*agent.Agent, error)
	Agents(ctx context.Context, limit, offset int) ([]agent.Agent, error)
	CreateAgent(ctx context.Context, a *agent.Agent) error
	UpdateAgent(ctx context.Context, a *agent.Agent, p agent.Patch) error
	SetPassword(ctx context.Context, agentID int64, hash string, now time.Time, keepSession string) error
	CountAdmins(ctx context.Context) (int, error)

	Team(ctx context.Context, id int64) (*team.Team, error)
	Teams(ctx context.Context) ([]team.Team, error)
	CreateTeam(ctx context.Context, t *team.Team) error
	UpdateTeam(ctx context.Context, t *team.Team, since time.Time) error
	DeleteTeam(ctx context.Context, id int64) error
	Mailboxes(ctx context.Context) ([]email.Mailbox, error)
	Mailbox(ctx context.Context, id int64) (*email.Mailbox, error)
	CreateMailbox(ctx context.Context, m *email.Mailbox) error
	UpdateMailbox(ctx context.Context, m *email.Mailbox, since time.Time) error
	DeleteMailbox(ctx context.Context, id int64) error
	OutboundOfTicket(ctx context.Context, ticketID int64) ([]email.Outbound, error)
	MailTemplates(ctx context.Context) (map[string]map[string][2]string, error)
	SetMailTemplate(ctx context.Context, name, lang, subject, body string, now time.Time) error

	Contact(ctx context.Context, id int64) (*contact.Contact, error)
	Contacts(ctx context.Context, f contact.Filter) ([]contact.Contact, error)
	CreateContact(ctx context.Context, c *contact.Contact) error
	UpdateContact(ctx context.Context, c *contact.Contact, since time.Time) error
	MergeContacts(ctx context.Context, into, from int64, actor ticket.Actor, now time.Time) (int, error)

	Organisation(ctx context.Context, id int64) (*contact.Organisation, error)
	Organisations(ctx context.Context, limit, offset int) ([]contact.Organisation, error)
	CreateOrganisation(ctx context.Context, o *contact.Organisation) error
	UpdateOrganisation(ctx context.Context, o *contact.Organisation, since time.Time) error
	DeleteOrganisation(ctx context.Context, id int64) error

	Tags(ctx context.Context, limit, offset int) ([]ticket.Tag, error)
	CreateTag(ctx context.Context, name string) (*ticket.Tag, error)
	DeleteTag(ctx context.Context, id int64) error

	FieldDef(ctx context.Context, id int64) (*ticket.FieldDef, error)
	CreateFieldDef(ctx context.Context, d *ticket.FieldDef) error
	UpdateFieldDef(ctx context.Context, d *ticket.FieldDef) error

	Tokens(ctx context.Context, agentID int64) ([]auth.Token, error)
	DeleteToken(ctx context.Context, agentID, id int64) error

	MetricRecord(ctx context.Context, ticketID int64) (*sla.Record, error)

	Ping(ctx context.Context) error
}

// Files opens stored attachment content.
type Files interface {
	Open(ctx context.Context, sum string) (io.ReadSeekCloser, error)
}

// Deps are what the API is built from.
type Deps struct {
	Store   Store
	Tickets *ticket.Service
	SLA     *sla.Service
	Auth    *auth.Service
	Files   Files
	Log     *slog.Logger
	Now     func() time.Time
	// SecureCookies marks the session cookie Secure (behind https).
	SecureCookies bool
	// Seal encrypts a secret (a mailbox password) before it is stored.
	Seal func(plain string) (string, error)
	// CheckIMAP tests a mailbox's IMAP connection step by step.
	CheckIMAP func(ctx context.Context, mb *email.Mailbox) email.Check
	// CheckSMTP tests a mailbox's sending settings step by step.
	CheckSMTP func(ctx context.Context, mb *email.Mailbox) email.Check
	// OAuthStart returns the provider's authorisation URL to connect a
	// mailbox; OAuthFinish trades the code the provider sent back.
	OAuthStart  func(ctx context.Context, mailboxID, agentID int64) (string, error)
	OAuthFinish func(ctx context.Context, agentID int64, state, code string) (int64, error)
	// InlineOK checks the signature of an inline image link.
	InlineOK func(id int64, exp, sig string) bool
	// Resend puts a ticket's failed or sent mail back in the outbox.
	Resend func(ctx context.Context, ticketID, outboxID int64) error
	// Template renders a customer template in a language (the admin's
	// version, else the shipped one) for previews.
	Template func(name, lang string) (subject, body string)
	// Proxies are the reverse proxies whose X-Forwarded-For is believed.
	Proxies *httpx.Proxies
	// MaxBody bounds JSON bodies; MaxUpload bounds bodies that carry
	// attachments (ticket creation and messages).
	MaxBody, MaxUpload int64
	// OnTicketCreated is called after each ticket is created (metrics).
	OnTicketCreated func(channel string)
	// Auto handles rules, macros, webhooks and escalations.
	Auto Automation
}

type handler struct {
	Deps
}

// SessionCookie is the name of the workspace session cookie.
const SessionCookie = httpx.SessionCookie

type ctxKey int

const agentKey ctxKey = 0

func current(r *http.Request) *agent.Agent {
	a, _ := r.Context().Value(agentKey).(*agent.Agent)
	return a
}

func actorOf(r *http.Request) ticket.Actor { return ticket.AgentActor(current(r)) }

// authenticate resolves the bearer token or session cookie to an agent.
// It returns (nil, nil) when the request carries no credentials.
func (h *handler) authenticate(r *http.Request) (*agent.Agent, error) {
	if v := r.Header.Get("Authorization"); v != "" {
		scheme, tok, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, auth.ErrNoSession
		}
		return h.Auth.Bearer(r.Context(), strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return h.Auth.Session(r.Context(), c.Value)
	}
	return nil, nil
}

// guard wraps a handler with the permission its route declares.
func (h *handler) guard(p Perm, fn httpx.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			if err := httpx.CheckQuery(r); err != nil {
				return err
			}
			if p == Public {
				return fn(w, r)
			}
			a, err := h.authenticate(r)
			if err != nil {
				if errors.Is(err, fault.Unauthorized) {
					return errUnauthenticated
				}
				return err
			}
			if a == nil {
				return errUnauthenticated
			}
			if !p.Allows(a.Role.Rank()) {
				return errForbidden(p)
			}
			return fn(w, r.WithContext(context.WithValue(r.Context(), agentKey, a)))
		}()
		if err != nil {
			httpx.WriteProblem(w, r, h.Log, err)
		}
	})
}

var errUnauthenticated = fmt.Errorf("sign in or send an API token (Authorization: Bearer spt_…): %w", fault.Unauthorized)

func errForbidden(p Perm) error {
	return fmt.Errorf("this action needs the %s role: %w", p, fault.Forbidden)
}

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q: %w", name, v, fault.NotFound)
	}
	return id, nil
}

// Page sizes.
const (
	DefaultPerPage = 25
	MaxPerPage     = 100
)

type page struct{ Page, PerPage int }

func (p page) limit() int  { return p.PerPage + 1 } // one extra row tells has_more
func (p page) offset() int { return (p.Page - 1) * p.PerPage }

func pagination(r *http.Request) (page, error) {
	p := page{Page: 1, PerPage: DefaultPerPage}
	var c fault.Checker
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		c.Check(err == nil && n >= 1 && n <= 1_000_000, "page", "range", "must be a whole number from 1")
		p.Page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		c.Check(err == nil && n >= 1 && n <= MaxPerPage, "per_page", "range", fmt.Sprintf("must be between 1 and %d", MaxPerPage))
		p.PerPage = n
	}
	return p, c.Err()
}

// List is the envelope of every paginated answer.
type List[T any] struct {
	Items   []T  `json:"items"`
	Page    int  `json:"page"`
	PerPage int  `json:"per_page"`
	HasMore bool `json:"has_more"`
}

func listOf[T any](items []T, p page) List[T] {
	more := len(items) > p.PerPage
	if more {
		items = items[:p.PerPage]
	}
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Page: p.Page, PerPage: p.PerPage, HasMore: more}
}

func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return httpx.Decode(w, r, h.MaxBody, v)
}

func (h *handler) now() time.Time { return h.Now().UTC() }
