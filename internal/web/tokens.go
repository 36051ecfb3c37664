package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sportello/sportello/internal/auth"
)

type tokensData struct {
	Tokens []auth.Token
	Dates  map[int64]string
	Used   map[int64]string
	Name   string
	Error  string
	Secret string // a new token, shown once
}

func (h *handler) tokensPage(w http.ResponseWriter, r *http.Request, status int, d tokensData) error {
	a := current(r)
	pr := h.printer(r, a)
	var err error
	if d.Tokens, err = h.Tokens.Tokens(r.Context(), a.ID); err != nil {
		return err
	}
	d.Dates, d.Used = map[int64]string{}, map[int64]string{}
	now := h.Now()
	for _, t := range d.Tokens {
		d.Dates[t.ID] = pr.Date(t.CreatedAt)
		d.Used[t.ID] = "—"
		if t.LastUsedAt != nil {
			d.Used[t.ID] = pr.Ago(*t.LastUsedAt, now)
		}
	}
	return h.render(w, r, status, "tokens", page{P: pr, Agent: a, Title: pr.T("tokens.title"), Now: now, Data: d})
}

// tokensShow: GET /profile/tokens — the agent's API tokens.
func (h *handler) tokensShow(w http.ResponseWriter, r *http.Request) error {
	return h.tokensPage(w, r, http.StatusOK, tokensData{})
}

// tokenCreate: POST /profile/tokens — the secret is shown on this page
// once and never again.
func (h *handler) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	a := current(r)
	name := r.PostFormValue("name")
	secret, _, err := h.Auth.NewToken(r.Context(), a.ID, name)
	if ps := problemsOf(err); ps != nil {
		return h.tokensPage(w, r, http.StatusUnprocessableEntity, tokensData{Name: name, Error: h.printer(r, a).T("form." + ps[0].Rule)})
	}
	if err != nil {
		return err
	}
	return h.tokensPage(w, r, http.StatusOK, tokensData{Secret: secret})
}

// tokenRevoke: POST /profile/tokens/{id}/revoke
func (h *handler) tokenRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return auth.ErrTokenNotFound
	}
	if err := h.Tokens.DeleteToken(r.Context(), current(r).ID, id); err != nil && !errors.Is(err, auth.ErrTokenNotFound) {
		return err
	}
	http.Redirect(w, r, "/profile/tokens", http.StatusSeeOther)
	return nil
}
