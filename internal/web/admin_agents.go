package web

import (
	"net/http"
	"strconv"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
)

type agentsData struct {
	Agents   []agent.Agent
	Teams    map[int64]string
	New      agent.Agent
	Errors   map[string]string
	Password string // a generated password, shown once
	For      string // whose password it is
}

func (h *handler) agentsPage(w http.ResponseWriter, r *http.Request, status int, d agentsData) error {
	a := current(r)
	pr := h.printer(r, a)
	var err error
	if d.Agents, err = h.Store.Agents(r.Context(), 1000, 0); err != nil {
		return err
	}
	teams, err := h.Store.Teams(r.Context())
	if err != nil {
		return err
	}
	d.Teams = map[int64]string{}
	for _, t := range teams {
		d.Teams[t.ID] = t.Name
	}
	if d.New.Role == "" {
		d.New.Role, d.New.Language = agent.RoleAgent, a.Language
	}
	return h.render(w, r, status, "agents", page{P: pr, Agent: a, Title: pr.T("agents.title"), Now: h.Now(), Data: d})
}

// agentsShow: GET /admin/agents
func (h *handler) agentsShow(w http.ResponseWriter, r *http.Request) error {
	return h.agentsPage(w, r, http.StatusOK, agentsData{})
}

// agentCreate: POST /admin/agents — the password is generated and shown
// once, to hand over to the new agent.
func (h *handler) agentCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	pr := h.printer(r, current(r))
	v := r.PostForm
	now := h.Now().UTC()
	na := agent.Agent{Email: v.Get("email"), Name: v.Get("name"), Role: agent.Role(v.Get("role")), Language: v.Get("language"),
		Timezone: "Europe/Rome", Availability: agent.Offline, Active: true, CreatedAt: now, UpdatedAt: now}
	d := agentsData{New: na, Errors: map[string]string{}}
	err := na.Validate()
	pw := auth.RandomSecret(12)
	if err == nil {
		if na.PasswordHash, err = auth.HashPassword(pw); err == nil {
			err = h.Accounts.CreateAgent(r.Context(), &na)
		}
	}
	if ps := problemsOf(err); ps != nil {
		for _, p := range ps {
			d.Errors[p.Field] = pr.T("form." + p.Rule)
		}
		return h.agentsPage(w, r, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	return h.agentsPage(w, r, http.StatusOK, agentsData{Password: pw, For: na.Email})
}

// agentUpdate: POST /admin/agents/{id} — role, activity, or a password
// reset (action=reset) for an agent who forgot theirs.
func (h *handler) agentUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return agent.ErrNotFound
	}
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	target, err := h.Accounts.Agent(r.Context(), id)
	if err != nil {
		return err
	}
	pr := h.printer(r, current(r))
	if r.PostFormValue("action") == "reset" && !confirmed(r) {
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm.reset.title", "Name", target.Name),
			Message: pr.T("confirm.reset.message", "Name", target.Name), Button: pr.T("confirm.reset.yes"), Back: "/admin/agents"})
	}
	if r.PostFormValue("action") == "reset" {
		pw := auth.RandomSecret(12)
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := h.Accounts.SetPassword(r.Context(), id, hash, h.Now(), ""); err != nil {
			return err
		}
		return h.agentsPage(w, r, http.StatusOK, agentsData{Password: pw, For: target.Email})
	}
	wasAdmin := target.Role == agent.RoleAdmin && target.Active
	// Apply only what this admin changed on the row, against the values
	// the row showed: a form left open must not undo a colleague's change,
	// and a change of the same field meanwhile is reported.
	var patch agent.Patch
	stale := false
	if role, was := agent.Role(r.PostFormValue("role")), agent.Role(r.PostFormValue("role_was")); role != was || !r.PostForm.Has("role_was") {
		patch.Role = &role
		stale = stale || (r.PostForm.Has("role_was") && target.Role != was && target.Role != role)
	}
	if active, was := r.PostFormValue("active") == "on", r.PostFormValue("active_was") == "on"; active != was || !r.PostForm.Has("active_was") {
		patch.Active = &active
		stale = stale || (r.PostForm.Has("active_was") && target.Active != was && target.Active != active)
	}
	if stale {
		return h.agentsPage(w, r, http.StatusConflict, agentsData{Errors: map[string]string{"row": pr.T("form.agent_changed")}})
	}
	if patch == (agent.Patch{}) {
		http.Redirect(w, r, "/admin/agents", http.StatusSeeOther)
		return nil
	}
	if patch.Active != nil && !*patch.Active && target.Active && !confirmed(r) {
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm.deactivate.title", "Name", target.Name),
			Message: pr.T("confirm.deactivate.message"), Button: pr.T("confirm.deactivate.yes"), Back: "/admin/agents"})
	}
	if err := target.Apply(patch); err != nil {
		return err
	}
	if wasAdmin && (target.Role != agent.RoleAdmin || !target.Active) {
		if n, err := h.Accounts.CountAdmins(r.Context()); err != nil {
			return err
		} else if n <= 1 {
			return h.agentsPage(w, r, http.StatusConflict, agentsData{Errors: map[string]string{"row": pr.T("form.last_admin")}})
		}
	}
	target.UpdatedAt = h.Now().UTC()
	if err := h.Store.UpdateAgent(r.Context(), target, patch); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/agents", http.StatusSeeOther)
	return nil
}
