package api

import (
	"net/http"

	"github.com/sportello/sportello/internal/httpx"
)

// Perm is the least a caller must be to use a route (see httpx.Perm).
type Perm = httpx.Perm

// Permissions, re-exported for the route table.
const (
	Public = httpx.Public
	Agent  = httpx.Agent
	Lead   = httpx.Lead
	Admin  = httpx.Admin
)

// Route is one entry of the route table.
type Route struct {
	Method string
	Path   string
	Perm   Perm
	handle func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// Routes is the API's route table: every route and who may call it.
func Routes() []Route {
	return []Route{
		{"GET", "/api/v1/openapi.json", Public, (*handler).openAPI},
		{"POST", "/api/v1/auth/login", Public, (*handler).login},
		{"POST", "/api/v1/auth/logout", Agent, (*handler).logout},

		{"GET", "/api/v1/me", Agent, (*handler).me},
		{"PATCH", "/api/v1/me", Agent, (*handler).updateMe},
		{"PUT", "/api/v1/me/password", Agent, (*handler).changePassword},

		{"GET", "/api/v1/tickets", Agent, (*handler).listTickets},
		{"POST", "/api/v1/tickets", Agent, (*handler).createTicket},
		{"GET", "/api/v1/tickets/{number}", Agent, (*handler).getTicket},
		{"PATCH", "/api/v1/tickets/{number}", Agent, (*handler).updateTicket},
		{"POST", "/api/v1/tickets/{number}/messages", Agent, (*handler).addMessage},
		{"POST", "/api/v1/tickets/{number}/merge", Agent, (*handler).mergeTicket},
		{"GET", "/api/v1/tickets/{number}/history", Agent, (*handler).ticketHistory},
		{"GET", "/api/v1/tickets/{number}/sla", Agent, (*handler).ticketSLA},
		{"GET", "/api/v1/attachments/{id}", Agent, (*handler).getAttachment},

		{"GET", "/api/v1/calendars", Agent, (*handler).listCalendars},
		{"POST", "/api/v1/calendars", Admin, (*handler).createCalendar},
		{"GET", "/api/v1/calendars/{id}", Agent, (*handler).getCalendar},
		{"PUT", "/api/v1/calendars/{id}", Admin, (*handler).updateCalendar},
		{"DELETE", "/api/v1/calendars/{id}", Admin, (*handler).deleteCalendar},
		{"POST", "/api/v1/calendars/{id}/holidays", Admin, (*handler).importHolidays},

		{"GET", "/api/v1/sla-policies", Agent, (*handler).listPolicies},
		{"POST", "/api/v1/sla-policies", Admin, (*handler).createPolicy},
		{"GET", "/api/v1/sla-policies/{id}", Agent, (*handler).getPolicy},
		{"PUT", "/api/v1/sla-policies/{id}", Admin, (*handler).updatePolicy},
		{"DELETE", "/api/v1/sla-policies/{id}", Admin, (*handler).deletePolicy},

		{"GET", "/api/v1/contacts", Agent, (*handler).listContacts},
		{"POST", "/api/v1/contacts", Agent, (*handler).createContact},
		{"GET", "/api/v1/contacts/{id}", Agent, (*handler).getContact},
		{"PATCH", "/api/v1/contacts/{id}", Agent, (*handler).updateContact},
		{"POST", "/api/v1/contacts/{id}/merge", Lead, (*handler).mergeContact},

		{"GET", "/api/v1/organisations", Agent, (*handler).listOrganisations},
		{"POST", "/api/v1/organisations", Agent, (*handler).createOrganisation},
		{"GET", "/api/v1/organisations/{id}", Agent, (*handler).getOrganisation},
		{"PATCH", "/api/v1/organisations/{id}", Agent, (*handler).updateOrganisation},
		{"DELETE", "/api/v1/organisations/{id}", Admin, (*handler).deleteOrganisation},

		{"GET", "/api/v1/agents", Agent, (*handler).listAgents},
		{"POST", "/api/v1/agents", Admin, (*handler).createAgent},
		{"GET", "/api/v1/agents/{id}", Agent, (*handler).getAgent},
		{"PATCH", "/api/v1/agents/{id}", Admin, (*handler).updateAgent},
		{"POST", "/api/v1/agents/{id}/password", Admin, (*handler).resetPassword},

		{"GET", "/api/v1/teams", Agent, (*handler).listTeams},
		{"POST", "/api/v1/teams", Admin, (*handler).createTeam},
		{"GET", "/api/v1/teams/{id}", Agent, (*handler).getTeam},
		{"PATCH", "/api/v1/teams/{id}", Lead, (*handler).updateTeam},
		{"DELETE", "/api/v1/teams/{id}", Admin, (*handler).deleteTeam},

		{"GET", "/api/v1/tags", Agent, (*handler).listTags},
		{"POST", "/api/v1/tags", Lead, (*handler).createTag},
		{"DELETE", "/api/v1/tags/{id}", Admin, (*handler).deleteTag},

		{"GET", "/api/v1/fields", Agent, (*handler).listFields},
		{"POST", "/api/v1/fields", Admin, (*handler).createField},
		{"GET", "/api/v1/fields/{id}", Agent, (*handler).getField},
		{"PATCH", "/api/v1/fields/{id}", Admin, (*handler).updateField},

		{"GET", "/api/v1/tokens", Agent, (*handler).listTokens},
		{"POST", "/api/v1/tokens", Agent, (*handler).createToken},
		{"DELETE", "/api/v1/tokens/{id}", Agent, (*handler).deleteToken},
	}
}

// Register adds every API route to mux, each behind its permission check.
func Register(mux *http.ServeMux, d Deps) {
	h := &handler{Deps: d}
	for _, rt := range Routes() {
		fn := rt.handle
		mux.Handle(rt.Method+" "+rt.Path, h.guard(rt.Perm, func(w http.ResponseWriter, r *http.Request) error { return fn(h, w, r) }))
	}
	// Unknown API paths answer in problem+json, not the HTML 404.
	mux.Handle("/api/", h.guard(Public, func(w http.ResponseWriter, r *http.Request) error {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no API route " + r.Method + " " + r.URL.Path}
	}))
}
