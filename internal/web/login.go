package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
)

type loginForm struct {
	Email      string
	Next       string
	EmailError string
	PassError  string
	FormError  string
}

// safeNext keeps only local paths, so a crafted link cannot send a newly
// signed-in agent to another site.
func safeNext(s string) string {
	// Browsers drop tabs and newlines from URLs and read "\\" as "/", so
	// "/\t/evil.example" is "//evil.example" to them: any control
	// character, space or backslash disqualifies the address outright.
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '\\' || unicode.IsSpace(r) }) {
		return "/"
	}
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return "/"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return s
}

// loginShow: GET /login
func (h *handler) loginShow(w http.ResponseWriter, r *http.Request) error {
	if current(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	pr := h.printer(r, nil)
	if q := r.URL.Query().Get("lang"); i18n.Supported(q) {
		// A sign-in link in a language (/login?lang=en) is remembered.
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	}
	return h.render(w, r, http.StatusOK, "login", page{P: pr, Title: pr.T("login.title"), Data: loginForm{Next: safeNext(r.URL.Query().Get("next"))}})
}

// loginSubmit: POST /login — errors are shown next to their field in the
// visitor's language, and the email stays in the form.
func (h *handler) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	pr := h.printer(r, nil)
	f := loginForm{Email: strings.TrimSpace(r.PostFormValue("email")), Next: safeNext(r.PostFormValue("next"))}
	pw := r.PostFormValue("password")
	if f.Email == "" {
		f.EmailError = pr.T("field.required")
	}
	if pw == "" {
		f.PassError = pr.T("field.required")
	}
	status := http.StatusUnprocessableEntity
	if f.EmailError == "" && f.PassError == "" {
		tok, _, err := h.Auth.Login(r.Context(), f.Email, pw, httpx.ClientIP(r, h.Proxies))
		switch {
		case err == nil:
			httpx.SetSessionCookie(w, r, h.SecureCookies, tok, h.Auth.SessionTTL())
			http.Redirect(w, r, f.Next, http.StatusSeeOther)
			return nil
		case errors.Is(err, auth.ErrBadCredentials):
			f.FormError, status = pr.T("login.bad_credentials"), http.StatusUnauthorized
		case errors.Is(err, auth.ErrLocked):
			f.FormError, status = pr.T("login.locked"), http.StatusTooManyRequests
		case errors.Is(err, auth.ErrThrottled):
			f.FormError, status = pr.T("login.throttled"), http.StatusTooManyRequests
		default:
			return err
		}
	}
	return h.render(w, r, status, "login", page{P: pr, Title: pr.T("login.title"), Data: f})
}

// logout: POST /logout
func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		if err := h.Auth.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	httpx.SetSessionCookie(w, r, h.SecureCookies, "", -time.Second)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// setLanguage: POST /language — remembered on the agent when signed in,
// in a cookie otherwise.
func (h *handler) setLanguage(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	lang := r.PostFormValue("lang")
	if !i18n.Supported(lang) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Detail: "lang must be it or en"}
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	if a := current(r); a != nil && a.Language != lang {
		a.Language = lang
		a.UpdatedAt = h.Now().UTC()
		if err := h.Store.UpdateAgent(r.Context(), a, agent.Patch{Language: &lang}); err != nil {
			return err
		}
	}
	back := "/login"
	if current(r) != nil {
		back = "/"
	}
	if next := safeNext(r.PostFormValue("next")); next != "/" && next != "" {
		back = next // the page the switch was pressed on
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// setDensity: POST /density — the queue's row density (comfortable or
// compact), remembered in this browser; back to the page.
func (h *handler) setDensity(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	v := r.PostFormValue("density")
	if v != "compact" && v != "comfortable" {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Detail: "density must be compact or comfortable"}
	}
	http.SetCookie(w, &http.Cookie{Name: DensityCookie, Value: v, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}
