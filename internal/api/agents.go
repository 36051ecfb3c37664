package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
)

// listAgents: GET /api/v1/agents
func (h *handler) listAgents(w http.ResponseWriter, r *http.Request) error {
	p, err := pagination(r)
	if err != nil {
		return err
	}
	as, err := h.Store.Agents(r.Context(), p.limit(), p.offset())
	if err != nil {
		return err
	}
	out := make([]AgentJSON, len(as))
	for i := range as {
		out[i] = agentJSON(&as[i])
	}
	return httpx.JSON(w, http.StatusOK, listOf(out, p))
}

type createAgentIn struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language"`
	Timezone string `json:"timezone"`
	Password string `json:"password"`
}

type agentWithPassword struct {
	AgentJSON
	// Password is set only when Sportello generated it; shown once.
	Password string `json:"password,omitempty"`
}

// createAgent: POST /api/v1/agents — without a password, one is generated
// and returned once.
func (h *handler) createAgent(w http.ResponseWriter, r *http.Request) error {
	var in createAgentIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	a := &agent.Agent{Email: in.Email, Name: in.Name, Role: agent.Role(in.Role), Language: in.Language, Timezone: in.Timezone,
		Availability: agent.Offline, Active: true, CreatedAt: now, UpdatedAt: now}
	if a.Language == "" {
		a.Language = "it"
	}
	if a.Timezone == "" {
		a.Timezone = "Europe/Rome"
	}
	if err := a.Validate(); err != nil {
		return err
	}
	generated := ""
	pw := in.Password
	if pw == "" {
		generated = auth.RandomSecret(12)
		pw = generated
	} else if err := auth.CheckNewPassword("password", pw, a.Email, a.Name); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	a.PasswordHash = hash
	if err := h.Store.CreateAgent(r.Context(), a); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agents/"+itoa(a.ID))
	return httpx.JSON(w, http.StatusCreated, agentWithPassword{AgentJSON: agentJSON(a), Password: generated})
}

// getAgent: GET /api/v1/agents/{id}
func (h *handler) getAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.Store.Agent(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, agentJSON(a))
}

type updateAgentIn struct {
	Email        *string `json:"email"`
	Name         *string `json:"name"`
	Role         *string `json:"role"`
	Language     *string `json:"language"`
	Timezone     *string `json:"timezone"`
	Availability *string `json:"availability"`
	Active       *bool   `json:"active"`
	// SkillLanguages and SkillTopics route tickets to the agent: the
	// languages they serve customers in and the topics (tags) they know.
	SkillLanguages *[]string `json:"skill_languages"`
	SkillTopics    *[]string `json:"skill_topics"`
}

// updateAgent: PATCH /api/v1/agents/{id} — deactivating ends the agent's
// sessions and revokes their tokens at once.
func (h *handler) updateAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in updateAgentIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	a, err := h.Store.Agent(r.Context(), id)
	if err != nil {
		return err
	}
	wasAdmin := a.Role == agent.RoleAdmin && a.Active
	p := agent.Patch{Email: in.Email, Name: in.Name, Language: in.Language, Timezone: in.Timezone, Active: in.Active}
	if in.SkillLanguages != nil {
		v := strings.Join(*in.SkillLanguages, ",")
		p.SkillLanguages = &v
	}
	if in.SkillTopics != nil {
		v := strings.Join(*in.SkillTopics, ",")
		p.SkillTopics = &v
	}
	if in.Role != nil {
		role := agent.Role(*in.Role)
		p.Role = &role
	}
	if in.Availability != nil {
		av := agent.Availability(*in.Availability)
		p.Availability = &av
	}
	if err := a.Apply(p); err != nil {
		return err
	}
	if wasAdmin && (a.Role != agent.RoleAdmin || !a.Active) {
		if err := h.keepOneAdmin(r.Context()); err != nil {
			return err
		}
	}
	a.UpdatedAt = h.now()
	if err := h.Store.UpdateAgent(r.Context(), a, p); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, agentJSON(a))
}

// keepOneAdmin refuses a change that would leave the desk without an admin.
func (h *handler) keepOneAdmin(ctx context.Context) error {
	n, err := h.Store.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return fmt.Errorf("%w: %w", fault.Conflict, fault.Field("role", "last_admin", "the desk needs at least one active admin"))
	}
	return nil
}

// resetPassword: POST /api/v1/agents/{id}/password — an admin resets a
// forgotten password; the new one is generated and shown once, and every
// session of that agent ends.
func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.Agent(r.Context(), id); err != nil {
		return err
	}
	pw := auth.RandomSecret(12)
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := h.Store.SetPassword(r.Context(), id, hash, h.now(), ""); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, map[string]string{"password": pw})
}
