package web

import (
	"net/http"

	"github.com/sportello/sportello/internal/httpx"
)

// Route is one workspace route and who may use it.
type Route struct {
	Method, Path string
	Perm         httpx.Perm
	handle       func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// Routes lists every workspace route and its permission.
func Routes() []Route {
	return []Route{
		{"GET", "/{$}", httpx.Agent, (*handler).inbox},
		{"GET", "/tickets/new", httpx.Agent, (*handler).ticketNew},
		{"POST", "/tickets/new", httpx.Agent, (*handler).ticketCreate},
		{"POST", "/tickets/bulk", httpx.Agent, (*handler).ticketBulk},
		{"GET", "/tickets/{number}", httpx.Agent, (*handler).ticketShow},
		{"POST", "/tickets/{number}/merge", httpx.Agent, (*handler).ticketMerge},
		{"POST", "/tickets/{number}", httpx.Agent, (*handler).ticketUpdate},
		{"POST", "/tickets/{number}/messages", httpx.Agent, (*handler).ticketReply},
		{"POST", "/tickets/{number}/take", httpx.Agent, (*handler).ticketTake},
		{"POST", "/tickets/{number}/draft", httpx.Agent, (*handler).ticketDraft},
		{"POST", "/tickets/{number}/presence", httpx.Agent, (*handler).ticketPresence},
		{"GET", "/events", httpx.Agent, (*handler).events},
		{"GET", "/search", httpx.Agent, (*handler).searchShow},
		{"POST", "/views", httpx.Agent, (*handler).viewCreate},
		{"POST", "/views/{id}/delete", httpx.Agent, (*handler).viewDelete},
		{"GET", "/profile", httpx.Agent, (*handler).profileShow},
		{"POST", "/profile", httpx.Agent, (*handler).profileUpdate},
		{"POST", "/profile/password", httpx.Agent, (*handler).profilePassword},
		{"GET", "/profile/tokens", httpx.Agent, (*handler).tokensShow},
		{"POST", "/profile/tokens", httpx.Agent, (*handler).tokenCreate},
		{"POST", "/profile/tokens/{id}/revoke", httpx.Agent, (*handler).tokenRevoke},
		{"GET", "/admin/teams", httpx.Lead, (*handler).teamsShow},
		{"POST", "/admin/teams", httpx.Admin, (*handler).teamCreate},
		{"POST", "/admin/teams/{id}", httpx.Lead, (*handler).teamUpdate},
		{"GET", "/admin/fields", httpx.Admin, (*handler).fieldsShow},
		{"POST", "/admin/fields", httpx.Admin, (*handler).fieldCreate},
		{"POST", "/admin/fields/{id}/toggle", httpx.Admin, (*handler).fieldToggle},
		{"POST", "/admin/tags", httpx.Admin, (*handler).tagCreate},
		{"POST", "/admin/tags/{id}/delete", httpx.Admin, (*handler).tagDelete},
		{"GET", "/admin/sla", httpx.Admin, (*handler).adminSLA},
		{"POST", "/admin/calendars", httpx.Admin, (*handler).calendarSave},
		{"POST", "/admin/calendars/{id}/delete", httpx.Admin, (*handler).calendarDelete},
		{"POST", "/admin/calendars/{id}/holidays", httpx.Admin, (*handler).calendarImport},
		{"POST", "/admin/policies", httpx.Admin, (*handler).policySave},
		{"POST", "/admin/policies/{id}/delete", httpx.Admin, (*handler).policyDelete},
		{"GET", "/notices", httpx.Agent, (*handler).noticesShow},
		{"GET", "/admin/agents", httpx.Admin, (*handler).agentsShow},
		{"POST", "/admin/agents", httpx.Admin, (*handler).agentCreate},
		{"POST", "/admin/agents/{id}", httpx.Admin, (*handler).agentUpdate},
		{"GET", "/contacts", httpx.Agent, (*handler).contactList},
		{"GET", "/contacts/{id}", httpx.Agent, (*handler).contactShow},
		{"POST", "/contacts/{id}", httpx.Agent, (*handler).contactUpdate},
		{"POST", "/contacts/{id}/merge", httpx.Lead, (*handler).contactMerge},
		{"GET", "/organisations", httpx.Agent, (*handler).orgList},
		{"POST", "/organisations", httpx.Lead, (*handler).orgCreate},
		{"GET", "/organisations/{id}", httpx.Agent, (*handler).orgShow},
		{"POST", "/organisations/{id}", httpx.Lead, (*handler).orgUpdate},
		{"GET", "/login", httpx.Public, (*handler).loginShow},
		{"POST", "/login", httpx.Public, (*handler).loginSubmit},
		{"POST", "/logout", httpx.Agent, (*handler).logout},
		{"POST", "/language", httpx.Public, (*handler).setLanguage},
		{"GET", "/static/{file}", httpx.Public, (*handler).serveAsset},
	}
}

// Register adds the workspace routes to mux, plus the HTML 404 page for
// every path no surface claims.
func Register(mux *http.ServeMux, d Deps) error {
	h, err := newHandler(d)
	if err != nil {
		return err
	}
	for _, rt := range Routes() {
		fn := rt.handle
		mux.Handle(rt.Method+" "+rt.Path, h.guard(rt.Perm, func(w http.ResponseWriter, r *http.Request) error { return fn(h, w, r) }))
	}
	mux.Handle("/", h.guard(httpx.Public, func(w http.ResponseWriter, r *http.Request) error {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no page " + r.URL.Path}
	}))
	return nil
}
