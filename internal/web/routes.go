package web

import (
	"net/http"

	"github.com/sportello/sportello/internal/httpx"
)

// Route is one workspace route; the action it performs decides who may
// use it (httpx.Action, shared with the API).
type Route struct {
	Method, Path string
	Action       httpx.Action
	handle       func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// Perm is who may use the route.
func (r Route) Perm() httpx.Perm { return r.Action.Perm() }

// Routes lists every workspace route and its permission.
func Routes() []Route {
	return []Route{
		{"GET", "/{$}", httpx.TicketWork, (*handler).inbox},
		{"GET", "/tickets/new", httpx.TicketWork, (*handler).ticketNew},
		{"POST", "/tickets/new", httpx.TicketWork, (*handler).ticketCreate},
		{"POST", "/tickets/bulk", httpx.TicketWork, (*handler).ticketBulk},
		{"GET", "/tickets/{number}", httpx.TicketWork, (*handler).ticketShow},
		{"POST", "/tickets/{number}/merge", httpx.TicketWork, (*handler).ticketMerge},
		{"POST", "/tickets/{number}", httpx.TicketWork, (*handler).ticketUpdate},
		{"POST", "/tickets/{number}/messages", httpx.TicketWork, (*handler).ticketReply},
		{"POST", "/tickets/{number}/take", httpx.TicketWork, (*handler).ticketTake},
		{"POST", "/tickets/{number}/escalate", httpx.TicketWork, (*handler).ticketEscalate},
		{"GET", "/tickets/{number}/macros", httpx.MacroWrite, (*handler).lookupMacros},
		{"POST", "/tickets/{number}/draft", httpx.TicketWork, (*handler).ticketDraft},
		{"POST", "/tickets/{number}/presence", httpx.TicketWork, (*handler).ticketPresence},
		{"GET", "/events", httpx.TicketWork, (*handler).events},
		{"GET", "/search", httpx.TicketWork, (*handler).searchShow},
		{"POST", "/views", httpx.SelfUse, (*handler).viewCreate},
		{"POST", "/views/{id}/delete", httpx.SelfUse, (*handler).viewDelete},
		{"GET", "/profile", httpx.SelfUse, (*handler).profileShow},
		{"POST", "/profile", httpx.SelfUse, (*handler).profileUpdate},
		{"POST", "/profile/password", httpx.SelfUse, (*handler).profilePassword},
		{"GET", "/profile/tokens", httpx.SelfUse, (*handler).tokensShow},
		{"POST", "/profile/tokens", httpx.SelfUse, (*handler).tokenCreate},
		{"POST", "/profile/tokens/{id}/revoke", httpx.SelfUse, (*handler).tokenRevoke},
		{"GET", "/admin/teams", httpx.TeamsPage, (*handler).teamsShow},
		{"POST", "/admin/teams", httpx.TeamCreate, (*handler).teamCreate},
		{"POST", "/admin/teams/{id}", httpx.TeamEdit, (*handler).teamUpdate},
		{"GET", "/admin/rules", httpx.RuleAdmin, (*handler).rulesShow},
		{"GET", "/admin/rules/new", httpx.RuleAdmin, (*handler).ruleNew},
		{"POST", "/admin/rules", httpx.RuleAdmin, (*handler).ruleSave},
		{"GET", "/admin/rules/{id}", httpx.RuleAdmin, (*handler).ruleShow},
		{"POST", "/admin/rules/{id}", httpx.RuleAdmin, (*handler).ruleSave},
		{"POST", "/admin/rules/{id}/toggle", httpx.RuleAdmin, (*handler).ruleToggle},
		{"POST", "/admin/rules/{id}/move", httpx.RuleAdmin, (*handler).ruleMove},
		{"POST", "/admin/rules/{id}/delete", httpx.RuleAdmin, (*handler).ruleDelete},
		{"GET", "/macros", httpx.MacroWrite, (*handler).macrosShow},
		{"GET", "/macros/new", httpx.MacroWrite, (*handler).macroNew},
		{"POST", "/macros", httpx.MacroWrite, (*handler).macroSave},
		{"GET", "/macros/{id}", httpx.MacroWrite, (*handler).macroShow},
		{"POST", "/macros/{id}", httpx.MacroWrite, (*handler).macroSave},
		{"POST", "/macros/{id}/delete", httpx.MacroWrite, (*handler).macroDelete},
		{"GET", "/admin/webhooks", httpx.WebhookAdmin, (*handler).webhooksShow},
		{"GET", "/admin/webhooks/new", httpx.WebhookAdmin, (*handler).webhookNew},
		{"POST", "/admin/webhooks", httpx.WebhookAdmin, (*handler).webhookSave},
		{"GET", "/admin/webhooks/{id}", httpx.WebhookAdmin, (*handler).webhookShow},
		{"POST", "/admin/webhooks/{id}", httpx.WebhookAdmin, (*handler).webhookSave},
		{"POST", "/admin/webhooks/{id}/delete", httpx.WebhookAdmin, (*handler).webhookDelete},
		{"POST", "/admin/webhooks/{id}/test", httpx.WebhookAdmin, (*handler).webhookTest},
		{"GET", "/admin/fields", httpx.FieldAdmin, (*handler).fieldsShow},
		{"POST", "/admin/fields", httpx.FieldAdmin, (*handler).fieldCreate},
		{"POST", "/admin/fields/{id}/toggle", httpx.FieldAdmin, (*handler).fieldToggle},
		{"POST", "/admin/tags", httpx.TagCreate, (*handler).tagCreate},
		{"POST", "/admin/tags/{id}/delete", httpx.TagDelete, (*handler).tagDelete},
		{"GET", "/admin/sla", httpx.SLAAdmin, (*handler).adminSLA},
		{"POST", "/admin/calendars", httpx.SLAAdmin, (*handler).calendarSave},
		{"POST", "/admin/calendars/{id}/delete", httpx.SLAAdmin, (*handler).calendarDelete},
		{"POST", "/admin/calendars/{id}/holidays", httpx.SLAAdmin, (*handler).calendarImport},
		{"POST", "/admin/policies", httpx.SLAAdmin, (*handler).policySave},
		{"POST", "/admin/policies/{id}/delete", httpx.SLAAdmin, (*handler).policyDelete},
		{"GET", "/notices", httpx.SelfUse, (*handler).noticesShow},
		{"POST", "/notices/read", httpx.SelfUse, (*handler).noticesRead},
		{"POST", "/notices/{id}/read", httpx.SelfUse, (*handler).noticeRead},
		{"GET", "/admin/mailboxes", httpx.MailboxAdmin, (*handler).mailboxesShow},
		{"POST", "/admin/mailboxes", httpx.MailboxAdmin, (*handler).mailboxCreate},
		{"GET", "/admin/mailboxes/{id}", httpx.MailboxAdmin, (*handler).mailboxShow},
		{"POST", "/admin/mailboxes/{id}", httpx.MailboxAdmin, (*handler).mailboxUpdate},
		{"POST", "/admin/mailboxes/{id}/test", httpx.MailboxAdmin, (*handler).mailboxTest},
		{"POST", "/admin/mailboxes/{id}/delete", httpx.MailboxAdmin, (*handler).mailboxDelete},
		{"POST", "/admin/mail-templates/{name}/{lang}", httpx.MailboxAdmin, (*handler).mailTemplateSave},
		{"POST", "/tickets/{number}/mails/{id}/resend", httpx.TicketWork, (*handler).mailResend},
		{"GET", "/admin/agents", httpx.AgentAdmin, (*handler).agentsShow},
		{"POST", "/admin/agents", httpx.AgentAdmin, (*handler).agentCreate},
		{"POST", "/admin/agents/{id}", httpx.AgentAdmin, (*handler).agentUpdate},
		{"GET", "/lookup/contacts", httpx.ContactWork, (*handler).lookupContacts},
		{"GET", "/lookup/organisations", httpx.OrgRead, (*handler).lookupOrganisations},
		{"GET", "/lookup/agents", httpx.TicketWork, (*handler).lookupAgents},
		{"GET", "/contacts", httpx.ContactWork, (*handler).contactList},
		{"GET", "/contacts/{id}", httpx.ContactWork, (*handler).contactShow},
		{"POST", "/contacts/{id}", httpx.ContactWork, (*handler).contactUpdate},
		{"POST", "/contacts/{id}/merge", httpx.ContactMerge, (*handler).contactMerge},
		{"GET", "/organisations", httpx.OrgRead, (*handler).orgList},
		{"POST", "/organisations", httpx.OrgEdit, (*handler).orgCreate},
		{"GET", "/organisations/{id}", httpx.OrgRead, (*handler).orgShow},
		{"POST", "/organisations/{id}", httpx.OrgEdit, (*handler).orgUpdate},
		{"GET", "/login", httpx.PublicPage, (*handler).loginShow},
		{"POST", "/login", httpx.PublicPage, (*handler).loginSubmit},
		{"POST", "/logout", httpx.SelfUse, (*handler).logout},
		{"POST", "/language", httpx.PublicPage, (*handler).setLanguage},
		{"POST", "/density", httpx.SelfUse, (*handler).setDensity},
		{"GET", "/static/{file}", httpx.PublicPage, (*handler).serveAsset},
		{"GET", "/kb", httpx.KBWrite, (*handler).kbList},
		{"GET", "/kb/new", httpx.KBWrite, (*handler).kbNew},
		{"POST", "/kb", httpx.KBWrite, (*handler).kbSave},
		{"GET", "/kb/{id}", httpx.KBWrite, (*handler).kbShow},
		{"POST", "/kb/{id}", httpx.KBWrite, (*handler).kbSave},
		{"POST", "/kb/{id}/delete", httpx.KBPublish, (*handler).kbDelete},
		{"POST", "/kb/categories", httpx.KBPublish, (*handler).kbCategorySave},
		{"POST", "/kb/categories/{id}/delete", httpx.KBPublish, (*handler).kbCategoryDelete},
		{"GET", "/lookup/articles", httpx.KBWrite, (*handler).lookupArticles},
		{"GET", "/reports/csat", httpx.CSATReport, (*handler).csatReport},
		{"GET", "/admin/help", httpx.HelpAdmin, (*handler).helpSettingsShow},
		{"POST", "/admin/help", httpx.HelpAdmin, (*handler).helpSettingsSave},
		// The help centre: public, for customers.
		{"GET", "/help", httpx.PublicPage, (*handler).helpRoot},
		{"GET", "/help/sitemap.xml", httpx.PublicPage, (*handler).helpSitemap},
		{"GET", "/help/brand.css", httpx.PublicPage, (*handler).helpBrandCSS},
		{"GET", "/help/logo", httpx.PublicPage, (*handler).helpLogo},
		{"GET", "/help/{lang}", httpx.PublicPage, (*handler).helpHome},
		{"GET", "/help/{lang}/c/{slug}", httpx.PublicPage, (*handler).helpCategoryShow},
		{"GET", "/help/{lang}/a/{slug}", httpx.PublicPage, (*handler).helpArticleShow},
		{"POST", "/help/{lang}/a/{slug}/vote", httpx.PublicPage, (*handler).helpVote},
		{"GET", "/help/{lang}/search", httpx.PublicPage, (*handler).helpSearch},
		{"GET", "/help/{lang}/suggest", httpx.PublicPage, (*handler).helpSuggest},
		{"POST", "/help/{lang}/deflect", httpx.PublicPage, (*handler).helpDeflect},
		{"GET", "/help/{lang}/contact", httpx.PublicPage, (*handler).helpContactShow},
		{"POST", "/help/{lang}/contact", httpx.PublicPage, (*handler).helpContactSubmit},
		{"GET", "/help/{lang}/contact/sent", httpx.PublicPage, (*handler).helpContactSent},
		{"GET", "/portal", httpx.PublicPage, (*handler).portalHome},
		{"POST", "/portal/link", httpx.PublicPage, (*handler).portalLink},
		{"GET", "/portal/enter/{secret}", httpx.PublicPage, (*handler).portalEnter},
		{"POST", "/portal/enter/{secret}", httpx.PublicPage, (*handler).portalEnterPost},
		{"POST", "/portal/logout", httpx.PublicPage, (*handler).portalLogout},
		{"GET", "/portal/tickets/{number}", httpx.PublicPage, (*handler).portalShow},
		{"POST", "/portal/tickets/{number}/messages", httpx.PublicPage, (*handler).portalReply},
		{"GET", "/closure/{token}", httpx.PublicPage, (*handler).closureShow},
		{"POST", "/closure/{token}", httpx.PublicPage, (*handler).closureAnswer},
		{"GET", "/rate/{token}", httpx.PublicPage, (*handler).rateShow},
		{"POST", "/rate/{token}", httpx.PublicPage, (*handler).rateSubmit},
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
		mux.Handle(rt.Method+" "+rt.Path, h.guard(rt.Perm(), func(w http.ResponseWriter, r *http.Request) error { return fn(h, w, r) }))
	}
	mux.Handle("/", h.guard(httpx.Public, func(w http.ResponseWriter, r *http.Request) error {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no page " + r.URL.Path}
	}))
	return nil
}
