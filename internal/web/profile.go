package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/httpx"
)

// AccountStore is what the profile and agent administration pages need.
type AccountStore interface {
	Agent(ctx context.Context, id int64) (*agent.Agent, error)
	CreateAgent(ctx context.Context, a *agent.Agent) error
	SetPassword(ctx context.Context, agentID int64, hash string, now time.Time, keepSession string) error
	CountAdmins(ctx context.Context) (int, error)
}

type profileForm struct {
	Name, Language, Timezone, Availability string
	Errors                                 map[string]string
	Saved                                  string
}

func (h *handler) profilePage(w http.ResponseWriter, r *http.Request, status int, f profileForm) error {
	a := current(r)
	pr := h.printer(r, a)
	return h.render(w, r, status, "profile", page{P: pr, Agent: a, Title: pr.T("profile.title"), Now: h.Now(), Data: f})
}

// profileShow: GET /profile — an agent's own name, language, time zone,
// availability and password.
func (h *handler) profileShow(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	f := profileForm{Name: a.Name, Language: a.Language, Timezone: a.Timezone, Availability: string(a.Availability)}
	if r.URL.Query().Get("saved") != "" {
		f.Saved = h.printer(r, a).T("profile.saved")
	}
	return h.profilePage(w, r, http.StatusOK, f)
}

// profileUpdate: POST /profile
func (h *handler) profileUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	a := *current(r)
	pr := h.printer(r, &a)
	v := r.PostForm
	f := profileForm{Name: v.Get("name"), Language: v.Get("language"), Timezone: v.Get("timezone"), Availability: v.Get("availability"), Errors: map[string]string{}}
	av := agent.Availability(f.Availability)
	patch := agent.Patch{Name: &f.Name, Language: &f.Language, Timezone: &f.Timezone, Availability: &av}
	if v.Has("app_notices_shown") {
		notices := strings.Join(v["app_notices"], ",")
		patch.AppNotices = &notices
	}
	if v.Has("mail_notices_shown") {
		notices := strings.Join(v["mail_notices"], ",")
		patch.MailNotices = &notices
	}
	err := a.Apply(patch)
	if err == nil {
		a.UpdatedAt = h.Now().UTC()
		err = h.Store.UpdateAgent(r.Context(), &a, patch)
	}
	if ps := problemsOf(err); ps != nil {
		for _, p := range ps {
			f.Errors[p.Field] = pr.T("form." + p.Rule)
		}
		return h.profilePage(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/profile?saved=1", http.StatusSeeOther)
	return nil
}

// profilePassword: POST /profile/password — other sessions end.
func (h *handler) profilePassword(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	f := profileForm{Name: a.Name, Language: a.Language, Timezone: a.Timezone, Availability: string(a.Availability), Errors: map[string]string{}}
	cur, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	if err := h.Auth.VerifyPassword(r.Context(), a, cur); errors.Is(err, auth.ErrLocked) {
		f.Errors["current_password"] = pr.T("login.locked")
	} else if err != nil {
		f.Errors["current_password"] = pr.T("form.match")
	} else if ps := problemsOf(auth.CheckNewPassword("new_password", next, a.Email, a.Name)); ps != nil {
		f.Errors["new_password"] = pr.T("form." + ps[0].Rule)
	}
	if len(f.Errors) > 0 {
		return h.profilePage(w, r, http.StatusUnprocessableEntity, f)
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	keep := ""
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		keep = auth.HashToken(c.Value)
	}
	if err := h.Accounts.SetPassword(r.Context(), a.ID, hash, h.Now(), keep); err != nil {
		return err
	}
	http.Redirect(w, r, "/profile?saved=1", http.StatusSeeOther)
	return nil
}
