package api

import (
	"fmt"
	"net/http"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/team"
)

// listTeams: GET /api/v1/teams
func (h *handler) listTeams(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.Store.Teams(r.Context())
	if err != nil {
		return err
	}
	out := make([]TeamJSON, len(ts))
	for i := range ts {
		out[i] = teamJSON(&ts[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

type teamIn struct {
	Name      *string   `json:"name"`
	Tier      *int      `json:"tier"`
	Languages *[]string `json:"languages"`
	Topics    *[]string `json:"topics"`
	MemberIDs *[]int64  `json:"member_ids"`
	// Assignment and escalation (see TeamJSON); escalate_to_id 0 clears.
	AssignMode   *string `json:"assign_mode"`
	AssignCap    *int    `json:"assign_cap"`
	ReassignAway *bool   `json:"reassign_away"`
	EscalateToID *int64  `json:"escalate_to_id"`
}

func (in teamIn) apply(t *team.Team) error {
	if in.Name != nil {
		t.Name = *in.Name
	}
	if in.Tier != nil {
		t.Tier = *in.Tier
	}
	if in.Languages != nil {
		t.Languages = *in.Languages
	}
	if in.Topics != nil {
		t.Topics = *in.Topics
	}
	if in.MemberIDs != nil {
		t.MemberIDs = *in.MemberIDs
	}
	if in.AssignMode != nil {
		t.AssignMode = *in.AssignMode
	}
	if in.AssignCap != nil {
		t.AssignCap = *in.AssignCap
	}
	if in.ReassignAway != nil {
		t.ReassignAway = *in.ReassignAway
	}
	if in.EscalateToID != nil {
		t.EscalateToID = in.EscalateToID
		if *in.EscalateToID == 0 {
			t.EscalateToID = nil
		}
	}
	return t.Validate()
}

// createTeam: POST /api/v1/teams
func (h *handler) createTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	t := &team.Team{Tier: 1, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(t); err != nil {
		return err
	}
	if err := h.Store.CreateTeam(r.Context(), t); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/teams/"+itoa(t.ID))
	return httpx.JSON(w, http.StatusCreated, teamJSON(t))
}

// getTeam: GET /api/v1/teams/{id}
func (h *handler) getTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.Store.Team(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, teamJSON(t))
}

// updateTeam: PATCH /api/v1/teams/{id} — admins any team; leads only the
// teams they belong to.
func (h *handler) updateTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	me := current(r)
	if me.Role != agent.RoleAdmin && !me.InTeam(id) {
		return fmt.Errorf("leads manage only their own teams: %w", fault.Forbidden)
	}
	var in teamIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	t, err := h.Store.Team(r.Context(), id)
	if err != nil {
		return err
	}
	since := t.UpdatedAt // the copy this change is based on
	if err := in.apply(t); err != nil {
		return err
	}
	t.UpdatedAt = h.now()
	if err := h.Store.UpdateTeam(r.Context(), t, since); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, teamJSON(t))
}

// deleteTeam: DELETE /api/v1/teams/{id}
func (h *handler) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteTeam(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
