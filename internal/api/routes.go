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

// Route is one entry of the route table: the action it performs decides
// who may call it (httpx.Action, shared with the workspace).
type Route struct {
	Method string
	Path   string
	Action httpx.Action
	handle func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// Perm is who may call the route.
func (r Route) Perm() Perm { return r.Action.Perm() }

// Routes is the API's route table: every route and who may call it.
func Routes() []Route {
	return []Route{
		{"GET", "/api/v1/openapi.json", httpx.PublicPage, (*handler).openAPI},
		{"POST", "/api/v1/auth/login", httpx.PublicPage, (*handler).login},
		{"POST", "/api/v1/auth/logout", httpx.SelfUse, (*handler).logout},

		{"GET", "/api/v1/me", httpx.SelfUse, (*handler).me},
		{"PATCH", "/api/v1/me", httpx.SelfUse, (*handler).updateMe},
		{"PUT", "/api/v1/me/password", httpx.SelfUse, (*handler).changePassword},

		{"GET", "/api/v1/tickets", httpx.TicketWork, (*handler).listTickets},
		{"POST", "/api/v1/tickets", httpx.TicketWork, (*handler).createTicket},
		{"GET", "/api/v1/tickets/{number}", httpx.TicketWork, (*handler).getTicket},
		{"PATCH", "/api/v1/tickets/{number}", httpx.TicketWork, (*handler).updateTicket},
		{"POST", "/api/v1/tickets/{number}/messages", httpx.TicketWork, (*handler).addMessage},
		{"POST", "/api/v1/tickets/{number}/merge", httpx.TicketWork, (*handler).mergeTicket},
		{"GET", "/api/v1/tickets/{number}/history", httpx.TicketWork, (*handler).ticketHistory},
		{"GET", "/api/v1/tickets/{number}/sla", httpx.TicketWork, (*handler).ticketSLA},
		{"GET", "/api/v1/attachments/{id}", httpx.TicketWork, (*handler).getAttachment},
		{"GET", "/api/v1/inline/{id}", httpx.InlineImage, (*handler).getInlineImage},
		{"GET", "/api/v1/tickets/{number}/messages/{id}/raw", httpx.TicketWork, (*handler).getRawMail},
		{"GET", "/api/v1/tickets/{number}/mails", httpx.TicketWork, (*handler).listTicketMails},
		{"POST", "/api/v1/tickets/{number}/mails/{id}/resend", httpx.TicketWork, (*handler).resendMail},

		{"POST", "/api/v1/tickets/{number}/escalate", httpx.TicketWork, (*handler).escalateTicket},
		{"GET", "/api/v1/tickets/{number}/macros/{id}", httpx.MacroWrite, (*handler).renderMacro},
		{"POST", "/api/v1/tickets/{number}/macros/{id}/apply", httpx.MacroWrite, (*handler).applyMacro},

		{"GET", "/api/v1/rules", httpx.RuleAdmin, (*handler).listRules},
		{"POST", "/api/v1/rules", httpx.RuleAdmin, (*handler).saveRule},
		{"POST", "/api/v1/rules/dry-run", httpx.RuleAdmin, (*handler).dryRun},
		{"GET", "/api/v1/rules/{id}", httpx.RuleAdmin, (*handler).getRule},
		{"PUT", "/api/v1/rules/{id}", httpx.RuleAdmin, (*handler).saveRule},
		{"DELETE", "/api/v1/rules/{id}", httpx.RuleAdmin, (*handler).deleteRule},

		{"GET", "/api/v1/macros", httpx.MacroWrite, (*handler).listMacros},
		{"POST", "/api/v1/macros", httpx.MacroWrite, (*handler).saveMacro},
		{"GET", "/api/v1/macros/{id}", httpx.MacroWrite, (*handler).getMacro},
		{"PUT", "/api/v1/macros/{id}", httpx.MacroWrite, (*handler).saveMacro},
		{"DELETE", "/api/v1/macros/{id}", httpx.MacroWrite, (*handler).deleteMacro},

		{"GET", "/api/v1/webhooks", httpx.WebhookAdmin, (*handler).listWebhooks},
		{"POST", "/api/v1/webhooks", httpx.WebhookAdmin, (*handler).saveWebhook},
		{"GET", "/api/v1/webhooks/{id}", httpx.WebhookAdmin, (*handler).getWebhook},
		{"PUT", "/api/v1/webhooks/{id}", httpx.WebhookAdmin, (*handler).saveWebhook},
		{"DELETE", "/api/v1/webhooks/{id}", httpx.WebhookAdmin, (*handler).deleteWebhook},
		{"GET", "/api/v1/webhooks/{id}/deliveries", httpx.WebhookAdmin, (*handler).listDeliveries},
		{"POST", "/api/v1/webhooks/{id}/test", httpx.WebhookAdmin, (*handler).testWebhook},

		{"GET", "/api/v1/calendars", httpx.DirectoryRead, (*handler).listCalendars},
		{"POST", "/api/v1/calendars", httpx.SLAAdmin, (*handler).createCalendar},
		{"GET", "/api/v1/calendars/{id}", httpx.DirectoryRead, (*handler).getCalendar},
		{"PUT", "/api/v1/calendars/{id}", httpx.SLAAdmin, (*handler).updateCalendar},
		{"DELETE", "/api/v1/calendars/{id}", httpx.SLAAdmin, (*handler).deleteCalendar},
		{"POST", "/api/v1/calendars/{id}/holidays", httpx.SLAAdmin, (*handler).importHolidays},

		{"GET", "/api/v1/sla-policies", httpx.DirectoryRead, (*handler).listPolicies},
		{"POST", "/api/v1/sla-policies", httpx.SLAAdmin, (*handler).createPolicy},
		{"GET", "/api/v1/sla-policies/{id}", httpx.DirectoryRead, (*handler).getPolicy},
		{"PUT", "/api/v1/sla-policies/{id}", httpx.SLAAdmin, (*handler).updatePolicy},
		{"DELETE", "/api/v1/sla-policies/{id}", httpx.SLAAdmin, (*handler).deletePolicy},

		{"GET", "/api/v1/contacts", httpx.ContactWork, (*handler).listContacts},
		{"POST", "/api/v1/contacts", httpx.ContactWork, (*handler).createContact},
		{"GET", "/api/v1/contacts/{id}", httpx.ContactWork, (*handler).getContact},
		{"PATCH", "/api/v1/contacts/{id}", httpx.ContactWork, (*handler).updateContact},
		{"POST", "/api/v1/contacts/{id}/merge", httpx.ContactMerge, (*handler).mergeContact},

		{"GET", "/api/v1/organisations", httpx.OrgRead, (*handler).listOrganisations},
		{"POST", "/api/v1/organisations", httpx.OrgEdit, (*handler).createOrganisation},
		{"GET", "/api/v1/organisations/{id}", httpx.OrgRead, (*handler).getOrganisation},
		{"PATCH", "/api/v1/organisations/{id}", httpx.OrgEdit, (*handler).updateOrganisation},
		{"DELETE", "/api/v1/organisations/{id}", httpx.OrgDelete, (*handler).deleteOrganisation},

		{"GET", "/api/v1/agents", httpx.DirectoryRead, (*handler).listAgents},
		{"POST", "/api/v1/agents", httpx.AgentAdmin, (*handler).createAgent},
		{"GET", "/api/v1/agents/{id}", httpx.DirectoryRead, (*handler).getAgent},
		{"PATCH", "/api/v1/agents/{id}", httpx.AgentAdmin, (*handler).updateAgent},
		{"POST", "/api/v1/agents/{id}/password", httpx.AgentAdmin, (*handler).resetPassword},

		{"GET", "/api/v1/teams", httpx.DirectoryRead, (*handler).listTeams},
		{"POST", "/api/v1/teams", httpx.TeamCreate, (*handler).createTeam},
		{"GET", "/api/v1/teams/{id}", httpx.DirectoryRead, (*handler).getTeam},
		{"PATCH", "/api/v1/teams/{id}", httpx.TeamEdit, (*handler).updateTeam},
		{"DELETE", "/api/v1/teams/{id}", httpx.TeamDelete, (*handler).deleteTeam},

		{"GET", "/api/v1/mailboxes", httpx.MailboxAdmin, (*handler).listMailboxes},
		{"POST", "/api/v1/mailboxes", httpx.MailboxAdmin, (*handler).createMailbox},
		{"PATCH", "/api/v1/mailboxes/{id}", httpx.MailboxAdmin, (*handler).updateMailbox},
		{"DELETE", "/api/v1/mailboxes/{id}", httpx.MailboxAdmin, (*handler).deleteMailbox},
		{"POST", "/api/v1/mailboxes/{id}/test", httpx.MailboxAdmin, (*handler).testMailbox},
		{"GET", "/api/v1/mailboxes/{id}/oauth/start", httpx.MailboxAdmin, (*handler).oauthStart},
		{"GET", "/api/v1/mailbox-oauth/callback", httpx.MailboxAdmin, (*handler).oauthCallback},
		{"GET", "/api/v1/mail-templates", httpx.MailboxAdmin, (*handler).listMailTemplates},
		{"PUT", "/api/v1/mail-templates/{name}/{lang}", httpx.MailboxAdmin, (*handler).putMailTemplate},

		{"GET", "/api/v1/tags", httpx.DirectoryRead, (*handler).listTags},
		{"POST", "/api/v1/tags", httpx.TagCreate, (*handler).createTag},
		{"DELETE", "/api/v1/tags/{id}", httpx.TagDelete, (*handler).deleteTag},

		{"GET", "/api/v1/fields", httpx.DirectoryRead, (*handler).listFields},
		{"POST", "/api/v1/fields", httpx.FieldAdmin, (*handler).createField},
		{"GET", "/api/v1/fields/{id}", httpx.DirectoryRead, (*handler).getField},
		{"PATCH", "/api/v1/fields/{id}", httpx.FieldAdmin, (*handler).updateField},

		{"GET", "/api/v1/tokens", httpx.SelfUse, (*handler).listTokens},
		{"POST", "/api/v1/tokens", httpx.SelfUse, (*handler).createToken},
		{"DELETE", "/api/v1/tokens/{id}", httpx.SelfUse, (*handler).deleteToken},
	}
}

// Register adds every API route to mux, each behind its permission check.
func Register(mux *http.ServeMux, d Deps) {
	h := &handler{Deps: d}
	for _, rt := range Routes() {
		fn := rt.handle
		mux.Handle(rt.Method+" "+rt.Path, h.guard(rt.Perm(), func(w http.ResponseWriter, r *http.Request) error { return fn(h, w, r) }))
	}
	// Unknown API paths answer in problem+json, not the HTML 404.
	mux.Handle("/api/", h.guard(Public, func(w http.ResponseWriter, r *http.Request) error {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no API route " + r.Method + " " + r.URL.Path}
	}))
}
