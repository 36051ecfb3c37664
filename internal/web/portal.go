package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/ticket"
)

// The customer portal (/portal): a customer signs in with a one-time link
// sent to their address (no password to forget), sees their requests with
// the status in plain words and the public conversation (never notes,
// never internal events), and replies into the same ticket a mail would
// reach. Contacts of one organisation see each other's requests when an
// admin allows it. Sessions are the customer's own cookie, apart from
// agents'; every page checks the ticket is the customer's.

// PortalStore keeps the portal's links and sessions.
type PortalStore interface {
	KnownContactByEmail(ctx context.Context, email string) (int64, error)
	CreatePortalLink(ctx context.Context, hash string, contactID int64, email string, expires time.Time) error
	UsePortalLink(ctx context.Context, hash string, now time.Time) (int64, error)
	PortalLinkState(ctx context.Context, hash string, now time.Time) (bool, error)
	CreatePortalSession(ctx context.Context, hash string, contactID int64, now, expires time.Time) error
	PortalSession(ctx context.Context, hash string, now time.Time) (int64, error)
	DeletePortalSession(ctx context.Context, hash string) error
}

// PortalCookie is the customer's session; agents' is apart.
const PortalCookie = "sportello_portal"

const (
	portalLinkLife    = 30 * time.Minute
	portalSessionLife = 30 * 24 * time.Hour
)

// portalContact is the signed-in customer (0: nobody).
func (h *handler) portalContact(r *http.Request) (int64, error) {
	c, err := r.Cookie(PortalCookie)
	if err != nil || c.Value == "" {
		return 0, nil
	}
	return h.Portal.PortalSession(r.Context(), auth.HashToken(c.Value), h.Now())
}

func (h *handler) portalPage(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) error {
	b, err := h.brand(r.Context())
	if err != nil {
		return err
	}
	lang := linkLang(r, b, r.URL.Query().Get("lang"))
	if l, ok := data["Lang"].(string); ok && l != "" {
		lang = linkLang(r, b, l)
	}
	pr := h.helpPrinter(lang)
	return h.renderHelp(w, r, status, name, helpPage{P: pr, Brand: b, Lang: lang, Title: pr.T(name+".title") + " · " + b.Name, NoIndex: true, Data: data}, false)
}

// portalHome: GET /portal — the sign-in form, or the customer's requests.
func (h *handler) portalHome(w http.ResponseWriter, r *http.Request) error {
	cid, err := h.portalContact(r)
	if err != nil {
		return err
	}
	if cid == 0 {
		return h.portalPage(w, r, http.StatusOK, "portal_login", map[string]any{"Sent": r.URL.Query().Get("sent") == "1"})
	}
	ts, err := h.portalTickets(r.Context(), cid)
	if err != nil {
		return err
	}
	b, _ := h.brand(r.Context())
	pr := h.helpPrinter(linkLang(r, b, r.URL.Query().Get("lang")))
	type row struct {
		Number        int64
		Subject, Word string
		Updated       string
		Waiting       bool
	}
	var rows []row
	for _, t := range ts {
		rows = append(rows, row{Number: t.ID, Subject: t.Subject, Word: pr.T("portal.status." + string(t.Status)), Updated: pr.Date(t.UpdatedAt),
			Waiting: t.Status == ticket.StatusPending})
	}
	c, err := h.Store.Contact(r.Context(), cid)
	if err != nil {
		return err
	}
	return h.portalPage(w, r, http.StatusOK, "portal_list", map[string]any{"Rows": rows, "Name": c.DisplayName()})
}

// portalTickets are the tickets the customer asked or is copied on, and,
// when the admin allows it, their organisation's; newest first.
func (h *handler) portalTickets(ctx context.Context, cid int64) ([]ticket.Ticket, error) {
	who := ticket.Actor{Type: ticket.ActorContact, ID: cid}
	ts, err := h.Tickets.List(ctx, who, ticket.Filter{Sort: "-updated", Limit: 100})
	if err != nil {
		return nil, err
	}
	b, err := h.brand(ctx)
	if err != nil {
		return nil, err
	}
	if b.PortalOrgs {
		c, err := h.Store.Contact(ctx, cid)
		if err != nil {
			return nil, err
		}
		if c.OrganisationID != nil {
			more, err := h.Tickets.List(ctx, ticket.System, ticket.Filter{OrgID: c.OrganisationID, Sort: "-updated", Limit: 100})
			if err != nil {
				return nil, err
			}
			for _, t := range more {
				if !slices.ContainsFunc(ts, func(x ticket.Ticket) bool { return x.ID == t.ID }) {
					ts = append(ts, t)
				}
			}
			slices.SortFunc(ts, func(a, b ticket.Ticket) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
		}
	}
	return ts, nil
}

// portalTicket is ticket n when the customer may see it (else not found,
// the same answer as for a ticket that does not exist).
func (h *handler) portalTicket(r *http.Request, cid, n int64) (*ticket.Ticket, bool, error) {
	t, err := h.Tickets.Get(r.Context(), ticket.System, n)
	if err != nil {
		if errors.Is(err, ticket.ErrNotFound) {
			return nil, false, portalNotFound
		}
		return nil, false, err
	}
	own := t.RequesterID == cid || slices.Contains(t.CCIDs, cid)
	if own {
		return t, true, nil
	}
	b, err := h.brand(r.Context())
	if err != nil {
		return nil, false, err
	}
	if b.PortalOrgs {
		me, err := h.Store.Contact(r.Context(), cid)
		if err != nil {
			return nil, false, err
		}
		req, err := h.Store.Contact(r.Context(), t.RequesterID)
		if err != nil {
			return nil, false, err
		}
		if me.OrganisationID != nil && req.OrganisationID != nil && *me.OrganisationID == *req.OrganisationID {
			return t, false, nil
		}
	}
	return nil, false, portalNotFound
}

// formToken is the one-time token of a form shown again with its text
// (the posted one, kept), or a new one.
func formToken(r *http.Request) string {
	if t := r.PostFormValue("form_token"); t != "" {
		return t
	}
	return auth.RandomSecret(16)
}

var portalNotFound = &httpx.Error{Status: http.StatusNotFound, Detail: "no such request"}

// portalLink: POST /portal/link — mails a one-time sign-in link to a known
// address. The answer is the same whether the address is known or not
// (nobody learns who is a customer); floods are refused.
func (h *handler) portalLink(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 2<<10); err != nil {
		return err
	}
	ctx := r.Context()
	email := agent.NormaliseEmail(r.PostFormValue("email"))
	lang := r.PostFormValue("lang")
	b, err := h.brand(ctx)
	if err != nil {
		return err
	}
	pr := h.helpPrinter(linkLang(r, b, lang))
	if email == "" || !strings.Contains(email, "@") {
		return h.portalPage(w, r, http.StatusUnprocessableEntity, "portal_login", map[string]any{"Email": r.PostFormValue("email"), "Error": pr.T("form.email"), "Lang": lang})
	}
	now := h.Now()
	if !h.flood.allow("portal-ip:"+httpx.ClientIP(r, h.Proxies), 10, formWindow, now) || !h.flood.allow("portal:"+email, 3, formWindow, now) {
		return h.portalPage(w, r, http.StatusTooManyRequests, "portal_login", map[string]any{"Email": email, "Lang": lang,
			"Error": pr.T("help.contact.flood", "Minutes", int(formWindow/time.Minute))})
	}
	cid, err := h.Portal.KnownContactByEmail(ctx, email)
	if err != nil {
		return err
	}
	if cid != 0 && h.PortalMail != nil {
		secret := auth.RandomSecret(24)
		if err := h.Portal.CreatePortalLink(ctx, auth.HashToken(secret), cid, email, now.Add(portalLinkLife)); err != nil {
			return err
		}
		if err := h.PortalMail(ctx, cid, h.abs("/portal/enter/"+secret)); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/portal?sent=1&lang="+linkLang(r, b, lang), http.StatusSeeOther)
	return nil
}

// portalEnter: GET /portal/enter/{secret} — a button that signs in (the
// GET itself spends nothing: mail scanners open links).
func (h *handler) portalEnter(w http.ResponseWriter, r *http.Request) error {
	ok, err := h.Portal.PortalLinkState(r.Context(), auth.HashToken(r.PathValue("secret")), h.Now())
	if err != nil {
		return err
	}
	if !ok {
		return h.portalPage(w, r, http.StatusNotFound, "portal_login", map[string]any{"Error": h.wordsFor(r, "").T("portal.link_used")})
	}
	return h.portalPage(w, r, http.StatusOK, "portal_enter", map[string]any{"Secret": r.PathValue("secret")})
}

// portalEnterPost: POST /portal/enter/{secret} — spends the link and
// opens a session.
func (h *handler) portalEnterPost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := h.Now()
	cid, err := h.Portal.UsePortalLink(ctx, auth.HashToken(r.PathValue("secret")), now)
	if err != nil {
		return err
	}
	if cid == 0 {
		return h.portalPage(w, r, http.StatusNotFound, "portal_login", map[string]any{"Error": h.wordsFor(r, "").T("portal.link_used")})
	}
	secret := auth.RandomSecret(32)
	if err := h.Portal.CreatePortalSession(ctx, auth.HashToken(secret), cid, now, now.Add(portalSessionLife)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: PortalCookie, Value: secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.SecureCookies, MaxAge: int(portalSessionLife / time.Second)})
	http.Redirect(w, r, "/portal", http.StatusSeeOther)
	return nil
}

// portalLogout: POST /portal/logout.
func (h *handler) portalLogout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(PortalCookie); err == nil && c.Value != "" {
		if err := h.Portal.DeletePortalSession(r.Context(), auth.HashToken(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: PortalCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
	http.Redirect(w, r, "/portal", http.StatusSeeOther)
	return nil
}

// errSignIn: the customer must sign in first.
var errSignIn = errors.New("not signed in to the portal")

// portalStart reads the signed-in customer and the ticket number of a
// request's page (errSignIn when nobody is signed in).
func (h *handler) portalStart(r *http.Request) (cid, n int64, err error) {
	if cid, err = h.portalContact(r); err != nil {
		return 0, 0, err
	}
	if cid == 0 {
		return 0, 0, errSignIn
	}
	if n, err = strconv.ParseInt(r.PathValue("number"), 10, 64); err != nil {
		return 0, 0, portalNotFound
	}
	return cid, n, nil
}

// portalShow: GET /portal/tickets/{number} — the public conversation.
func (h *handler) portalShow(w http.ResponseWriter, r *http.Request) error {
	return h.portalShowWith(w, r, http.StatusOK, "", "")
}

func (h *handler) portalShowWith(w http.ResponseWriter, r *http.Request, status int, body, problem string) error {
	cid, n, err := h.portalStart(r)
	if err != nil || cid == 0 {
		if errors.Is(err, errSignIn) {
			http.Redirect(w, r, "/portal", http.StatusSeeOther)
			return nil
		}
		return err
	}
	t, _, err := h.portalTicket(r, cid, n)
	if err != nil {
		return err
	}
	msgs, err := h.Tickets.Thread(r.Context(), ticket.System, n)
	if err != nil {
		return err
	}
	b, _ := h.brand(r.Context())
	pr := h.helpPrinter(linkLang(r, b, t.Language))
	names := map[int64]string{}
	type item struct {
		Mine, Team bool
		Who, At    string
		Text       string
		Files      []string
	}
	var items []item
	for _, m := range msgs {
		// Public only: what the customer side wrote and the agents'
		// replies; never notes, never events.
		if m.Kind != ticket.KindCustomer && m.Kind != ticket.KindReply {
			continue
		}
		it := item{At: pr.Date(m.CreatedAt), Text: m.BodyText, Team: m.Kind == ticket.KindReply}
		for _, a := range m.Attachments {
			it.Files = append(it.Files, a.Filename)
		}
		switch {
		case m.Kind == ticket.KindReply:
			it.Who = b.Name
		case m.AuthorContactID != nil && *m.AuthorContactID == cid:
			it.Who, it.Mine = pr.T("portal.you"), true
		case m.AuthorContactID != nil:
			if _, ok := names[*m.AuthorContactID]; !ok {
				if c, err := h.Store.Contact(r.Context(), *m.AuthorContactID); err == nil {
					names[*m.AuthorContactID] = c.DisplayName()
				}
			}
			it.Who = names[*m.AuthorContactID]
		}
		items = append(items, it)
	}
	return h.portalPage(w, r, status, "portal_ticket", map[string]any{"Lang": t.Language, "Number": t.ID, "Subject": t.Subject,
		"Word": pr.T("portal.status." + string(t.Status)), "Items": items, "Closed": t.Status == ticket.StatusClosed, "Body": body, "Error": problem,
		"Token": formToken(r)})
}

// portalReply: POST /portal/tickets/{number}/messages — the customer's
// message (with files) on the ticket, as a mail from them would be.
func (h *handler) portalReply(w http.ResponseWriter, r *http.Request) error {
	cid, n, err := h.portalStart(r)
	if err != nil || cid == 0 {
		if errors.Is(err, errSignIn) {
			http.Redirect(w, r, "/portal", http.StatusSeeOther)
			return nil
		}
		return err
	}
	t, own, err := h.portalTicket(r, cid, n)
	if err != nil {
		return err
	}
	atts, err := h.parseComposer(w, r)
	b, _ := h.brand(r.Context())
	pr := h.helpPrinter(linkLang(r, b, t.Language))
	if err != nil {
		return h.portalShowWith(w, r, http.StatusRequestEntityTooLarge, r.PostFormValue("body"), pr.T("help.contact.too_large"))
	}
	text := r.PostFormValue("body")
	if strings.TrimSpace(text) == "" {
		return h.portalShowWith(w, r, http.StatusUnprocessableEntity, text, pr.T("form.required"))
	}
	who := ticket.Actor{Type: ticket.ActorContact, ID: cid}
	// The form's one-time token: the same reply sent again (Back, a
	// double click) is the first one, not a second message.
	nm := ticket.NewMessage{Kind: ticket.KindCustomer, BodyText: text, Channel: ticket.ChannelWeb, Attachments: atts, Idem: formIdem(r.PostForm)}
	if !own {
		// A colleague of the requester (the organisation's requests):
		// written by them, on a ticket that is not theirs.
		who, nm.AuthorContactID = ticket.System, &cid
	}
	if _, err := h.Tickets.AddMessage(r.Context(), who, n, nm); err != nil {
		if ps := problemsOf(err); ps != nil {
			return h.portalShowWith(w, r, http.StatusUnprocessableEntity, text, pr.T("form."+ps[0].Rule))
		}
		if errors.Is(err, ticket.ErrClosed) {
			return h.portalShowWith(w, r, http.StatusConflict, text, pr.T("portal.closed"))
		}
		return err
	}
	http.Redirect(w, r, "/portal/tickets/"+strconv.FormatInt(n, 10)+"#latest", http.StatusSeeOther)
	return nil
}
