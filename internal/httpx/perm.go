package httpx

// Perm is the least a caller must be to use a route. Every surface (API,
// web) lists its routes with one of these; the values match the rank of
// the agent roles (agent 1, lead 2, admin 3). Row-level rules (which
// tickets an agent sees, which team a lead manages) come on top.
type Perm int

// Permissions, from open to most restricted.
const (
	Public Perm = iota // anyone, no credentials
	Agent              // any signed-in agent, lead or admin
	Lead               // leads and admins
	Admin              // admins only
)

func (p Perm) String() string {
	switch p {
	case Public:
		return "public"
	case Agent:
		return "agent"
	case Lead:
		return "lead"
	case Admin:
		return "admin"
	}
	return "unknown"
}

// Allows reports whether a caller of the given role rank may use the route.
func (p Perm) Allows(roleRank int) bool { return roleRank >= int(p) }

// Action is one thing a caller does, whichever surface they do it on. Both
// route tables (api.Routes, web.Routes) name the action of each route, and
// the one table below says who may do it: the API and the workspace cannot
// disagree (issue 9 found organisations editable by agents in the API but
// not on the web, and tags creatable by leads in the API only).
type Action string

// The actions, by object.
const (
	PublicPage Action = "public" // sign-in, assets, probes, the API document

	SelfUse       Action = "self.use"      // own profile, password, tokens, session, views, notices
	TicketWork    Action = "ticket.work"   // read, create, reply, note, change, merge visible tickets
	ContactWork   Action = "contact.work"  // read, create and edit contacts
	ContactMerge  Action = "contact.merge" // merge two contacts
	OrgRead       Action = "organisation.read"
	OrgEdit       Action = "organisation.edit" // create and edit organisations and their email domains
	OrgDelete     Action = "organisation.delete"
	DirectoryRead Action = "directory.read" // agents, teams, tags, fields, calendars and policies, read
	TeamCreate    Action = "team.create"
	TeamEdit      Action = "team.edit" // members, name, tier of a team (leads their own)
	TeamDelete    Action = "team.delete"
	TagCreate     Action = "tag.create"
	TagDelete     Action = "tag.delete"
	FieldAdmin    Action = "field.admin"   // custom fields
	AgentAdmin    Action = "agent.admin"   // add agents, roles, deactivation, password resets
	SLAAdmin      Action = "sla.admin"     // calendars, holidays, policies
	TeamsPage     Action = "teams.page"    // the teams page (leads manage their teams there)
	MailboxAdmin  Action = "mailbox.admin" // mailboxes: the addresses the desk receives at
	KBWrite       Action = "kb.write"      // read every article, write drafts (publishing is a lead's)
	KBPublish     Action = "kb.publish"    // publish and delete articles, edit categories
	HelpAdmin     Action = "help.admin"    // the help centre's brand and languages
	CSATReport    Action = "csat.report"   // customers' ratings and CSAT
	RuleAdmin     Action = "rule.admin"    // automation rules and their dry run
	MacroWrite    Action = "macro.write"   // use macros, write one's own (shared ones: leads, checked by row)
	WebhookAdmin  Action = "webhook.admin" // outbound webhooks and their delivery log
	// InlineImage serves a mail's cid: image to the sandboxed frame that
	// shows the mail (which sends no cookie): the link itself, signed for
	// an agent who could see the ticket and expiring, is the permission.
	InlineImage Action = "inline.image"
)

// actions is the one declaration of who may do what.
var actions = map[Action]Perm{
	PublicPage:    Public,
	SelfUse:       Agent,
	TicketWork:    Agent,
	ContactWork:   Agent,
	ContactMerge:  Lead,
	OrgRead:       Agent,
	OrgEdit:       Lead,
	OrgDelete:     Admin,
	DirectoryRead: Agent,
	TeamCreate:    Admin,
	TeamEdit:      Lead,
	TeamDelete:    Admin,
	TagCreate:     Admin,
	TagDelete:     Admin,
	FieldAdmin:    Admin,
	AgentAdmin:    Admin,
	SLAAdmin:      Admin,
	TeamsPage:     Lead,
	MailboxAdmin:  Admin,
	KBWrite:       Agent,
	KBPublish:     Lead,
	HelpAdmin:     Admin,
	CSATReport:    Lead,
	RuleAdmin:     Admin,
	MacroWrite:    Agent,
	WebhookAdmin:  Admin,
	InlineImage:   Public,
}

// Perm is who may do a; an undeclared action is admin-only (and a test
// fails on it).
func (a Action) Perm() Perm {
	if p, ok := actions[a]; ok {
		return p
	}
	return Admin
}

// Declared reports whether a is in the table.
func (a Action) Declared() bool { _, ok := actions[a]; return ok }
