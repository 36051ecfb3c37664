package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/ticket"
)

// The links in the customer's mail: "solved — can you confirm?" and the
// satisfaction survey. Each is signed for one ticket, its requester and
// one resolution, and expires after 14 days. Opening a link (GET) only
// shows the page, since mail scanners open links too; the customer's
// answer is a POST. Agents, signed in on the same browser, cannot answer
// for the customer.

// CSATStore records and reads ratings.
type CSATStore interface {
	RateTicket(ctx context.Context, r *csat.Rating) (bool, error)
	Ratings(ctx context.Context, f csat.Filter) ([]csat.Rating, error)
	CSATSummary(ctx context.Context, f csat.Filter) (csat.Summary, error)
}

// Link purposes (as the desk signs them).
const (
	linkClosure = "closure"
	linkSurvey  = "csat"
)

type customerLink struct {
	Ticket     *ticket.Ticket
	ContactID  int64
	Resolution int64
	Token      string
}

// readLink checks a signed link and finds its ticket; the reason it
// cannot be used is a catalog key ("link.bad", "link.expired").
func (h *handler) readLink(r *http.Request, purpose string) (*customerLink, string, error) {
	tok := r.PathValue("token")
	fs, err := h.Links.Check(tok, purpose, h.Now())
	switch {
	case errors.Is(err, auth.ErrExpired):
		return nil, "link.expired", nil
	case err != nil || len(fs) != 3:
		return nil, "link.bad", nil
	}
	n, e1 := strconv.ParseInt(fs[0], 10, 64)
	c, e2 := strconv.ParseInt(fs[1], 10, 64)
	res, e3 := strconv.ParseInt(fs[2], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil {
		return nil, "link.bad", nil
	}
	t, err := h.Tickets.Get(r.Context(), ticket.System, n)
	if err != nil {
		if isMissing(err) {
			return nil, "link.bad", nil
		}
		return nil, "", err
	}
	if t.RequesterID != c {
		return nil, "link.bad", nil // the ticket changed hands: the link was for someone else
	}
	return &customerLink{Ticket: t, ContactID: c, Resolution: res, Token: tok}, "", nil
}

func isMissing(err error) bool { return errors.Is(err, ticket.ErrNotFound) }

// linkPage renders one of the link pages in the ticket's (or visitor's)
// language, never cached.
func (h *handler) linkPage(w http.ResponseWriter, r *http.Request, status int, name, lang string, data map[string]any) error {
	b, err := h.brand(r.Context())
	if err != nil {
		return err
	}
	lang = linkLang(r, b, lang)
	pr := h.helpPrinter(lang)
	title := pr.T(name + ".title")
	if k, ok := data["Key"].(string); ok {
		title = pr.T(k + ".title")
	}
	return h.renderHelp(w, r, status, name, helpPage{P: pr, Brand: b, Lang: lang, Title: title + " · " + b.Name, NoIndex: true, Data: data}, false)
}

// linkLang is the language of a link's page: the ticket's, when the help
// centre is written in it, else the visitor's, else the first.
func linkLang(r *http.Request, b kb.Brand, lang string) string {
	if lang != "" && slices.Contains(b.Languages, lang) {
		return lang
	}
	return i18n.MatchAmong(r.Header.Get("Accept-Language"), b.Languages)
}

// wordsFor is the printer of a link's page.
func (h *handler) wordsFor(r *http.Request, lang string) *i18n.Printer {
	b, err := h.brand(r.Context())
	if err != nil {
		b = kb.DefaultBrand()
	}
	return h.helpPrinter(linkLang(r, b, lang))
}

// closureShow: GET /closure/{token} — "is it solved?", two buttons.
func (h *handler) closureShow(w http.ResponseWriter, r *http.Request) error {
	l, why, err := h.readLink(r, linkClosure)
	if err != nil {
		return err
	}
	if why != "" {
		return h.linkPage(w, r, http.StatusNotFound, "help_message", "", map[string]any{"Key": why})
	}
	d := map[string]any{"Number": l.Ticket.ID, "Subject": l.Ticket.Subject, "Token": l.Token, "Answer": r.URL.Query().Get("answer")}
	if l.Ticket.Status != ticket.StatusSolved || l.Ticket.Resolution() != l.Resolution {
		d["Key"] = "closure.moved"
		return h.linkPage(w, r, http.StatusOK, "help_message", l.Ticket.Language, d)
	}
	return h.linkPage(w, r, http.StatusOK, "help_closure", l.Ticket.Language, d)
}

// closureAnswer: POST /closure/{token} — confirmed (the ticket
// closes) or not solved (the comment goes on the ticket as the
// customer's message, which reopens it).
func (h *handler) closureAnswer(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	if current(r) != nil {
		return h.linkPage(w, r, http.StatusForbidden, "help_message", "", map[string]any{"Key": "link.agent"})
	}
	l, why, err := h.readLink(r, linkClosure)
	if err != nil {
		return err
	}
	if why != "" {
		return h.linkPage(w, r, http.StatusNotFound, "help_message", "", map[string]any{"Key": why})
	}
	lang := l.Ticket.Language
	if l.Ticket.Status != ticket.StatusSolved || l.Ticket.Resolution() != l.Resolution {
		return h.linkPage(w, r, http.StatusOK, "help_message", lang, map[string]any{"Key": "closure.moved", "Number": l.Ticket.ID})
	}
	who := ticket.Actor{Type: ticket.ActorContact, ID: l.ContactID}
	switch r.PostFormValue("answer") {
	case "yes":
		closed := ticket.StatusClosed
		if _, err := h.Tickets.Update(r.Context(), who, l.Ticket.ID, ticket.Patch{Status: &closed}); err != nil {
			return err
		}
		return h.linkPage(w, r, http.StatusOK, "help_message", lang, map[string]any{"Key": "closure.confirmed", "Number": l.Ticket.ID})
	case "no":
		pr := h.wordsFor(r, lang)
		text := strings.TrimSpace(r.PostFormValue("comment"))
		if text == "" {
			text = pr.T("closure.not_solved_default")
		}
		if _, err := h.Tickets.AddMessage(r.Context(), who, l.Ticket.ID, ticket.NewMessage{Kind: ticket.KindCustomer, BodyText: text, Channel: ticket.ChannelWeb}); err != nil {
			if ps := problemsOf(err); ps != nil {
				return h.linkPage(w, r, http.StatusUnprocessableEntity, "help_closure", lang, map[string]any{"Number": l.Ticket.ID, "Subject": l.Ticket.Subject,
					"Token": l.Token, "Answer": "no", "Comment": text, "Error": pr.T("form." + ps[0].Rule)})
			}
			return err
		}
		return h.linkPage(w, r, http.StatusOK, "help_message", lang, map[string]any{"Key": "closure.reopened", "Number": l.Ticket.ID})
	}
	return h.closureShow(w, r)
}

// rateShow: GET /rate/{token} — the survey's form; records nothing.
func (h *handler) rateShow(w http.ResponseWriter, r *http.Request) error {
	l, why, err := h.readLink(r, linkSurvey)
	if err != nil {
		return err
	}
	if why != "" {
		return h.linkPage(w, r, http.StatusNotFound, "help_message", "", map[string]any{"Key": why})
	}
	rated, err := h.CSAT.Ratings(r.Context(), csat.Filter{TicketID: &l.Ticket.ID})
	if err != nil {
		return err
	}
	for _, x := range rated {
		if x.Resolution == l.Resolution {
			return h.linkPage(w, r, http.StatusOK, "help_message", l.Ticket.Language, map[string]any{"Key": "rate.already", "Number": l.Ticket.ID})
		}
	}
	return h.linkPage(w, r, http.StatusOK, "help_rate", l.Ticket.Language, map[string]any{"Number": l.Ticket.ID, "Subject": l.Ticket.Subject, "Token": l.Token,
		"Scores": []int{5, 4, 3, 2, 1}})
}

// rateSubmit: POST /rate/{token} — records the rating once; a second
// post (a double click, the link opened twice) changes nothing.
func (h *handler) rateSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	if current(r) != nil {
		return h.linkPage(w, r, http.StatusForbidden, "help_message", "", map[string]any{"Key": "link.agent"})
	}
	l, why, err := h.readLink(r, linkSurvey)
	if err != nil {
		return err
	}
	if why != "" {
		return h.linkPage(w, r, http.StatusNotFound, "help_message", "", map[string]any{"Key": why})
	}
	lang := l.Ticket.Language
	score, _ := strconv.Atoi(r.PostFormValue("rating"))
	rt := &csat.Rating{TicketID: l.Ticket.ID, Resolution: l.Resolution, ContactID: l.ContactID, Rating: score, Comment: r.PostFormValue("comment"), CreatedAt: h.Now()}
	if err := rt.Validate(); err != nil {
		pr := h.wordsFor(r, lang)
		return h.linkPage(w, r, http.StatusUnprocessableEntity, "help_rate", lang, map[string]any{"Number": l.Ticket.ID, "Subject": l.Ticket.Subject, "Token": l.Token,
			"Scores": []int{5, 4, 3, 2, 1}, "Comment": rt.Comment, "Error": pr.T("rate.error." + problemsOf(err)[0].Field)})
	}
	first, err := h.CSAT.RateTicket(r.Context(), rt)
	if err != nil {
		return err
	}
	key := "rate.thanks"
	if !first {
		key = "rate.already"
	}
	return h.linkPage(w, r, http.StatusOK, "help_message", lang, map[string]any{"Key": key, "Number": l.Ticket.ID})
}
