package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/routing"
	"github.com/sportello/sportello/internal/team"
)

// TeamStore creates and changes teams.
type TeamStore interface {
	Team(ctx context.Context, id int64) (*team.Team, error)
	CreateTeam(ctx context.Context, t *team.Team) error
	UpdateTeam(ctx context.Context, t *team.Team, since time.Time) error
}

type teamsData struct {
	Teams    []team.Team
	Agents   []agent.Agent
	CanAdd   bool
	Editable map[int64]bool
	Errors   map[int64]map[string]string // by team id; 0 is the new-team form
	NewName  string
	Modes    []string // assignment modes
}

func (h *handler) teamsPage(w http.ResponseWriter, r *http.Request, status int, d teamsData) error {
	a := current(r)
	pr := h.printer(r, a)
	var err error
	if d.Teams, err = h.Store.Teams(r.Context()); err != nil {
		return err
	}
	if d.Agents, err = h.Store.Agents(r.Context(), 1000, 0); err != nil {
		return err
	}
	d.Modes = routing.Modes
	d.CanAdd = httpx.TeamCreate.Perm().Allows(a.Role.Rank())
	d.Editable = map[int64]bool{}
	for _, t := range d.Teams {
		d.Editable[t.ID] = a.Role == agent.RoleAdmin || a.InTeam(t.ID)
	}
	return h.render(w, r, status, "teams", page{P: pr, Agent: a, Title: pr.T("teams.title"), Now: h.Now(), Data: d})
}

// teamsShow: GET /admin/teams — leads see every team and edit their own.
func (h *handler) teamsShow(w http.ResponseWriter, r *http.Request) error {
	return h.teamsPage(w, r, http.StatusOK, teamsData{})
}

func splitSkills(s string) []string { return strings.Split(s, ",") }

// teamCreate: POST /admin/teams (admins)
func (h *handler) teamCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	now := h.Now().UTC()
	t := &team.Team{Name: r.PostFormValue("name"), Tier: 1, CreatedAt: now, UpdatedAt: now}
	err := t.Validate()
	if err == nil {
		err = h.Teams.CreateTeam(r.Context(), t)
	}
	if ps := problemsOf(err); ps != nil {
		pr := h.printer(r, current(r))
		return h.teamsPage(w, r, http.StatusUnprocessableEntity, teamsData{NewName: t.Name, Errors: map[int64]map[string]string{0: {"name": pr.T("form." + ps[0].Rule)}}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/teams", http.StatusSeeOther)
	return nil
}

// teamUpdate: POST /admin/teams/{id} — tier, skills and members; leads only
// for the teams they belong to.
func (h *handler) teamUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return team.ErrNotFound
	}
	a := current(r)
	if a.Role != agent.RoleAdmin && !a.InTeam(id) {
		return errForbidden(httpx.Admin)
	}
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	t, err := h.Teams.Team(r.Context(), id)
	if err != nil {
		return err
	}
	v := r.PostForm
	t.Name = v.Get("name")
	t.Tier, _ = strconv.Atoi(v.Get("tier"))
	t.Languages, t.Topics = splitSkills(v.Get("languages")), splitSkills(v.Get("topics"))
	// Assignment and escalation: a form of an earlier version without
	// these fields leaves them as they are.
	if m, ok := v["assign_mode"]; ok {
		t.AssignMode = m[0]
	}
	if c, ok := v["assign_cap"]; ok {
		if t.AssignCap, err = strconv.Atoi(strings.TrimSpace(c[0])); err != nil {
			t.AssignCap = -1 // refused by Validate, naming the field
		}
	}
	if e, ok := v["escalate_to_id"]; ok {
		t.EscalateToID = nil
		if id, err := strconv.ParseInt(e[0], 10, 64); err == nil && id > 0 {
			t.EscalateToID = &id
		}
	}
	if v.Has("reassign_away_shown") { // an unticked box sends nothing
		t.ReassignAway = v.Get("reassign_away") == "1"
	}
	t.MemberIDs = nil
	for _, s := range v["members"] {
		if m, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.MemberIDs = append(t.MemberIDs, m)
		}
	}
	t.UpdatedAt = h.Now().UTC()
	err = t.Validate()
	if err == nil {
		err = h.Teams.UpdateTeam(r.Context(), t, wasUpdated(r))
	}
	if ps := problemsOf(err); ps != nil {
		pr := h.printer(r, a)
		errs := map[string]string{}
		for _, p := range ps {
			errs[p.Field] = pr.T("form." + p.Rule)
		}
		return h.teamsPage(w, r, http.StatusUnprocessableEntity, teamsData{Errors: map[int64]map[string]string{id: errs}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/teams", http.StatusSeeOther)
	return nil
}
