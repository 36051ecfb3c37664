package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
)

type loginIn struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login: POST /api/v1/auth/login — starts a session (HttpOnly cookie).
func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	var in loginIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	var c fault.Checker
	c.Check(strings.TrimSpace(in.Email) != "", "email", "required", "enter your email")
	c.Check(in.Password != "", "password", "required", "enter your password")
	if err := c.Err(); err != nil {
		return err
	}
	tok, a, err := h.Auth.Login(r.Context(), in.Email, in.Password, httpx.ClientIP(r, h.Proxies))
	if err != nil {
		return err
	}
	h.setSessionCookie(w, r, tok, h.Auth.SessionTTL())
	return httpx.JSON(w, http.StatusOK, agentJSON(a))
}

func (h *handler) setSessionCookie(w http.ResponseWriter, r *http.Request, tok string, ttl time.Duration) {
	httpx.SetSessionCookie(w, r, h.SecureCookies, tok, ttl)
}

// logout: POST /api/v1/auth/logout — ends the cookie session.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := h.Auth.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.setSessionCookie(w, r, "", -time.Second)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me: GET /api/v1/me
func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	return httpx.JSON(w, http.StatusOK, agentJSON(current(r)))
}

type updateMeIn struct {
	Name         *string `json:"name"`
	Language     *string `json:"language"`
	Timezone     *string `json:"timezone"`
	Availability *string `json:"availability"`
}

// updateMe: PATCH /api/v1/me — an agent's own profile and availability.
func (h *handler) updateMe(w http.ResponseWriter, r *http.Request) error {
	var in updateMeIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	a := *current(r)
	p := agent.Patch{Name: in.Name, Language: in.Language, Timezone: in.Timezone}
	if in.Availability != nil {
		av := agent.Availability(*in.Availability)
		p.Availability = &av
	}
	if err := a.Apply(p); err != nil {
		return err
	}
	a.UpdatedAt = h.now()
	if err := h.Store.UpdateAgent(r.Context(), &a, p); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, agentJSON(&a))
}

type passwordIn struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changePassword: PUT /api/v1/me/password — other sessions end.
func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	a := current(r)
	if err := h.Auth.VerifyPassword(r.Context(), a, in.Current); errors.Is(err, auth.ErrLocked) {
		return err
	} else if err != nil {
		return fault.Field("current_password", "match", "the current password is wrong")
	}
	if err := auth.CheckNewPassword("new_password", in.New, a.Email, a.Name); err != nil {
		return err
	}
	hash, err := auth.HashPassword(in.New)
	if err != nil {
		return err
	}
	keep := ""
	if c, err := r.Cookie(SessionCookie); err == nil {
		keep = auth.HashToken(c.Value)
	}
	if err := h.Store.SetPassword(r.Context(), a.ID, hash, h.now(), keep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
