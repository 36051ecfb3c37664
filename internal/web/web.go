// Package web is the agent workspace: server-rendered HTML from embedded
// templates, our own CSS (and later JS) under content-hashed URLs, a strict
// Content-Security-Policy, and every string from the i18n catalogs in the
// agent's language and time zone. Forms work without JavaScript.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/notice"
	"github.com/sportello/sportello/internal/sla"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the pages read and write directly.
type Store interface {
	UpdateAgent(ctx context.Context, a *agent.Agent, p agent.Patch) error
	Agents(ctx context.Context, limit, offset int) ([]agent.Agent, error)
	Teams(ctx context.Context) ([]team.Team, error)
	Contact(ctx context.Context, id int64) (*contact.Contact, error)
	Organisation(ctx context.Context, id int64) (*contact.Organisation, error)
	ContactNames(ctx context.Context, ids []int64) (map[int64]string, error)
	SaveDraft(ctx context.Context, agentID, ticketID int64, kind, body string, now time.Time) error
	LoadDraft(ctx context.Context, agentID, ticketID int64) (*store.Draft, error)
	DeleteDraft(ctx context.Context, agentID, ticketID int64) error
	MessageTexts(ctx context.Context, ticketIDs []int64) (map[int64][]string, error)
	Snippets(ctx context.Context, ticketIDs []int64, max int) (map[int64]string, error)
	CreateView(ctx context.Context, v *ticket.SavedView) error
	View(ctx context.Context, id int64) (*ticket.SavedView, error)
	ViewsFor(ctx context.Context, agentID int64, teamIDs []int64) ([]ticket.SavedView, error)
	DeleteView(ctx context.Context, id int64) error
}

// TokenStore lists and revokes an agent's API tokens.
type TokenStore interface {
	Tokens(ctx context.Context, agentID int64) ([]auth.Token, error)
	DeleteToken(ctx context.Context, agentID, id int64) error
}

// Deps are what the workspace is built from.
type Deps struct {
	// Auto handles macros, escalations and rules' names.
	Auto          Automation
	Auth          *auth.Service
	Tickets       *ticket.Service
	SLA           *sla.Service
	Notices       *notice.Service
	Store         Store
	Contacts      ContactStore
	Orgs          OrgStore
	Accounts      AccountStore
	Tokens        TokenStore
	Teams         TeamStore
	Settings      SettingsStore
	I18n          *i18n.Bundle
	Hub           *live.Hub
	Log           *slog.Logger
	Now           func() time.Time
	SecureCookies bool
	Proxies       *httpx.Proxies // trusted reverse proxies (nil: none)
	// MaxUpload bounds a composer post carrying attachments (bytes).
	MaxUpload int64
	// Mail is the email channel: mailboxes, outbox, templates.
	Mail MailDeps
	// InlineURL is the signed link of a mail's inline image.
	InlineURL func(attachmentID int64) string
	// KB is the help centre's knowledge base; Desk the settings admins
	// change on pages (the help centre's brand among them).
	KB   kb.Store
	Desk DeskSettings
	// BaseURL is the desk's public address, for links that leave the
	// page (canonical links, the sitemap, mail).
	BaseURL string
	// Links signs what customers are given: form tokens, survey and
	// confirmation links.
	Links *auth.Links
	// CSAT records and reads customers' ratings.
	CSAT CSATStore
	// Portal keeps customers' sign-in links and sessions; PortalMail
	// queues the mail that carries a sign-in link.
	Portal     PortalStore
	PortalMail func(ctx context.Context, contactID int64, link string) error
}

type handler struct {
	Deps
	flood  floodGate // the contact form's limits
	pages  map[string]*template.Template
	assets map[string]asset // logical name → hashed asset
	byPath map[string]asset // hashed file name → asset
}

type asset struct {
	name, hashed, contentType string
	body                      []byte
}

// LangCookie remembers the language chosen before signing in.
const LangCookie = "sportello_lang"

// CSP allows only our own files: no inline script or style, no frames.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func newHandler(d Deps) (*handler, error) {
	h := &handler{Deps: d, pages: map[string]*template.Template{}, assets: map[string]asset{}, byPath: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := path.Base(p)
		ext := path.Ext(name)
		a := asset{name: name, hashed: strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext, body: body}
		switch ext {
		case ".css":
			a.contentType = "text/css; charset=utf-8"
		case ".js":
			a.contentType = "text/javascript; charset=utf-8"
		default:
			a.contentType = http.DetectContentType(body)
		}
		h.assets[name], h.byPath[a.hashed] = a, a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading static files: %w", err)
	}
	funcs := template.FuncMap{
		"asset":  func(name string) string { return "/static/" + h.assets[name].hashed },
		"has":    func(ids []int64, id int64) bool { return slices.Contains(ids, id) },
		"hasStr": func(xs []string, x string) bool { return slices.Contains(xs, x) },
		// Raster images show in the thread; anything else (SVG included,
		// which can carry script) is only a download.
		"inlineImage": func(ct string) bool {
			return slices.Contains([]string{"image/png", "image/jpeg", "image/gif", "image/webp"}, ct)
		},
		"bytes": func(n int64) string {
			switch {
			case n >= 1<<20:
				return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
			case n >= 1<<10:
				return fmt.Sprintf("%d KB", n>>10)
			}
			return fmt.Sprintf("%d B", n)
		},
		"list": func(xs ...string) []string { return xs },
		// safeHTML marks HTML that Sportello sanitised itself (an
		// article rendered by kb.Render) as safe to show.
		"safeHTML": func(s string) template.HTML { return template.HTML(s) },
		"list2":    func(a, b any) []any { return []any{a, b} },
		"seconds":  func(n int64) time.Duration { return time.Duration(n) * time.Second },
		"trigger":  ruleTrigger,
		// langName is a language's name in the page's language.
		"langName": func(in, code string) string {
			if n := display.Tags(language.Make(in)).Name(language.Make(code)); n != "" {
				return n
			}
			return code
		},
		"fieldName": fieldName,
		"inc":       func(i int) int { return i + 1 },
		"hasEvent":  func(es []automation.Event, e automation.Event) bool { return slices.Contains(es, e) },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parsing layout: %w", err)
	}
	helpLayout, err := template.New("help_layout.html").Funcs(funcs).ParseFS(templateFS, "templates/help_layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the help centre's layout: %w", err)
	}
	for _, page := range []string{"help_home", "help_category", "help_article", "help_search", "help_contact", "help_sent", "help_closure", "help_rate", "help_message", "portal_login", "portal_enter", "portal_list", "portal_ticket"} {
		t, err := template.Must(helpLayout.Clone()).ParseFS(templateFS, "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", page, err)
		}
		h.pages[page] = t
	}
	for _, page := range []string{"login", "inbox", "ticket", "ticket_new", "contacts", "contact", "profile", "search", "organisations", "organisation", "agents", "tokens", "teams", "fields", "error", "admin_sla", "notices", "mailboxes", "mailbox", "confirm", "kb", "kb_edit", "help_settings", "csat", "rules", "rule_edit", "macros", "macro_edit", "webhooks", "webhook_edit"} {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", page, err)
		}
		h.pages[page] = t
	}
	return h, nil
}

// page is what every template receives.
type page struct {
	P     *i18n.Printer
	Agent *agent.Agent
	Title string
	Now   time.Time
	Data  any
	// Unread is the signed-in agent's unread notice count (whole pages).
	Unread int
	// Here is the page's own address (the language switch and the
	// density switch come back to it); Density is "compact" or "".
	Here, Density string
}

// DensityCookie remembers the agent's choice of queue density.
const DensityCookie = "sportello_density"

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) error {
	return h.renderPart(w, r, status, name, "layout.html", pg)
}

// renderPart renders one named template of a page: the whole page through
// "layout.html", or a fragment that the page's script swaps in live.
func (h *handler) renderPart(w http.ResponseWriter, r *http.Request, status int, name, part string, pg page) error {
	var buf bytes.Buffer
	if pg.Agent != nil && part == "layout.html" && h.Notices != nil {
		n, err := h.Notices.Unread(r.Context(), pg.Agent.ID)
		if err != nil {
			return err
		}
		pg.Unread = n
	}
	here := *r.URL
	q := here.Query()
	q.Del("partial") // a live refresh's address is not the page's
	here.RawQuery = q.Encode()
	pg.Here = safeNext(here.RequestURI())
	if r.Method != http.MethodGet {
		pg.Here = safeNext(r.URL.Path)
	}
	if c, err := r.Cookie(DensityCookie); err == nil && c.Value == "compact" {
		pg.Density = "compact"
	}
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("rendering %s: no such page template", name)
	}
	if err := t.ExecuteTemplate(&buf, part, pg); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", CSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// printer is the viewer's language and zone: the agent's, or for visitors
// the chosen or browser language.
func (h *handler) printer(r *http.Request, a *agent.Agent) *i18n.Printer {
	if a != nil {
		return h.I18n.Printer(a.Language, a.Timezone)
	}
	lang := ""
	if q := r.URL.Query().Get("lang"); i18n.Supported(q) {
		lang = q
	} else if c, err := r.Cookie(LangCookie); err == nil && i18n.Supported(c.Value) {
		lang = c.Value
	} else {
		lang = i18n.Match(r.Header.Get("Accept-Language"))
	}
	return h.I18n.Printer(lang, "Europe/Rome")
}

func (h *handler) session(r *http.Request) *agent.Agent {
	c, err := r.Cookie(httpx.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	a, err := h.Auth.Session(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return a
}

type ctxKey int

const agentKey ctxKey = 0

func withAgent(ctx context.Context, a *agent.Agent) context.Context {
	return context.WithValue(ctx, agentKey, a)
}

func errForbidden(p httpx.Perm) error {
	return fmt.Errorf("page needs the %s role: %w", p, fault.Forbidden)
}

func current(r *http.Request) *agent.Agent {
	a, _ := r.Context().Value(agentKey).(*agent.Agent)
	return a
}

// guard enforces a route's permission: visitors go to the sign-in page,
// signed-in agents without the role get the 403 page.
func (h *handler) guard(p httpx.Perm, fn httpx.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := h.session(r)
		if a != nil {
			r = r.WithContext(withAgent(r.Context(), a))
		}
		err := httpx.CheckQuery(r)
		if err == nil && (!utf8.ValidString(r.URL.Path) || strings.ContainsRune(r.URL.Path, 0)) {
			// An address with bytes no name can hold (a slug, a token)
			// names nothing: not found, before any database sees it.
			err = &httpx.Error{Status: http.StatusNotFound, Detail: "no such page"}
		}
		switch {
		case err != nil:
		case p == httpx.Public:
			err = fn(w, r)
		case a == nil:
			next := ""
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				next = "?next=" + template.URLQueryEscaper(r.URL.RequestURI())
			}
			http.Redirect(w, r, "/login"+next, http.StatusSeeOther)
			return
		case !p.Allows(a.Role.Rank()):
			err = errForbidden(p)
		default:
			err = fn(w, r)
		}
		if err != nil {
			h.fail(w, r, err)
		}
	})
}

// fail renders the error page for err in the viewer's language; internal
// errors are logged once with the request id and never shown.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := httpx.Status(err)
	kind, title := "internal", "internal"
	switch {
	case st == http.StatusForbidden:
		kind, title = "forbidden", "forbidden"
	case st == http.StatusNotFound:
		kind, title = "notfound", "notfound"
	case st >= 500:
		h.Log.ErrorContext(r.Context(), "page failed", "request_id", httpx.RequestID(r.Context()), "path", r.URL.Path, "err", err)
	default:
		// A refused request says what happened, in words; it shows no
		// code (only logged errors do) but is logged for the admin.
		title = "request"
		kind = map[int]string{http.StatusConflict: "conflict", http.StatusUnprocessableEntity: "invalid", http.StatusRequestEntityTooLarge: "toolarge",
			http.StatusTooManyRequests: "toomany", http.StatusPreconditionFailed: "stale", http.StatusUnauthorized: "unauthorized"}[st]
		if kind == "" {
			kind = "invalid"
		}
		h.Log.InfoContext(r.Context(), "page refused", "request_id", httpx.RequestID(r.Context()), "path", r.URL.Path, "status", st, "err", err)
	}
	a := current(r)
	pr := h.printer(r, a)
	detail := ""
	if kind == "invalid" {
		// In the viewer's words: the field and the rule it broke.
		for _, p := range problemsOf(err) {
			if detail != "" {
				detail += "; "
			}
			detail += p.Field + ": " + pr.T("form."+p.Rule)
		}
		if detail == "" {
			detail = httpx.ProblemFor(r, err).Detail
		}
	}
	rerr := h.render(w, r, st, "error", page{P: pr, Agent: a, Title: pr.T("error." + title + ".title"),
		Data: map[string]string{"Kind": kind, "Title": title, "ID": httpx.RequestID(r.Context()), "Detail": detail}})
	if rerr != nil && !errors.Is(rerr, context.Canceled) {
		h.Log.Error("rendering the error page", "err", rerr)
	}
}

// serveAsset serves a content-hashed static file, cached for a year.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request) error {
	a, ok := h.byPath[r.PathValue("file")]
	if !ok {
		return fmt.Errorf("asset %w", fault.NotFound)
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(a.body)
	return err
}
