package api

import (
	"encoding/json"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// optID is a nullable id in a PATCH body: absent leaves the field alone,
// null clears it, a number sets it.
type optID struct {
	Set   bool
	Value *int64
}

func (o *optID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v int64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

func (o optID) ref() ticket.Ref { return ticket.Ref{Set: o.Set, ID: o.Value} }

// TicketJSON is a ticket as the API shows it.
type TicketJSON struct {
	Number       int64          `json:"number"`
	Subject      string         `json:"subject"`
	Status       string         `json:"status"`
	Priority     string         `json:"priority"`
	Channel      string         `json:"channel"`
	RequesterID  int64          `json:"requester_id"`
	CCIDs        []int64        `json:"cc_ids"`
	TeamID       *int64         `json:"team_id"`
	AssigneeID   *int64         `json:"assignee_id"`
	Language     string         `json:"language"`
	Tags         []string       `json:"tags"`
	CustomFields map[string]any `json:"custom_fields"`
	MergedInto   *int64         `json:"merged_into"`
	FollowUpOf   *int64         `json:"follow_up_of"`
	ReopenCount  int            `json:"reopen_count"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	FirstReplyAt *time.Time     `json:"first_reply_at"`
	SolvedAt     *time.Time     `json:"solved_at"`
	ClosedAt     *time.Time     `json:"closed_at"`
	// SLADeadline is the next deadline of a running SLA clock.
	SLADeadline *time.Time `json:"sla_deadline"`
	// Version rises with every change; the ETag carries it.
	Version int64 `json:"version"`
}

func ticketJSON(t *ticket.Ticket) TicketJSON {
	cf := map[string]any(t.CustomFields)
	if cf == nil {
		cf = map[string]any{}
	}
	tags, ccs := t.Tags, t.CCIDs
	if tags == nil {
		tags = []string{}
	}
	if ccs == nil {
		ccs = []int64{}
	}
	return TicketJSON{
		Number: t.ID, Subject: t.Subject, Status: string(t.Status), Priority: t.Priority.String(), Channel: string(t.Channel),
		RequesterID: t.RequesterID, CCIDs: ccs, TeamID: t.TeamID, AssigneeID: t.AssigneeID, Language: t.Language,
		Tags: tags, CustomFields: cf, MergedInto: t.MergedIntoID, FollowUpOf: t.FollowUpOfID, ReopenCount: t.ReopenCount,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, FirstReplyAt: t.FirstReplyAt, SolvedAt: t.SolvedAt, ClosedAt: t.ClosedAt,
		SLADeadline: deadlineOf(t), Version: t.Version,
	}
}

func deadlineOf(t *ticket.Ticket) *time.Time {
	if d, ok := t.Deadline(); ok {
		return &d
	}
	return nil
}

// AttachmentJSON describes a stored file.
type AttachmentJSON struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// MessageJSON is one thread entry.
type MessageJSON struct {
	ID              int64  `json:"id"`
	Kind            string `json:"kind"`
	AuthorAgentID   *int64 `json:"author_agent_id"`
	AuthorContactID *int64 `json:"author_contact_id"`
	BodyText        string `json:"body"`
	BodyHTML        string `json:"body_html"`
	Channel         string `json:"channel"`
	Automatic       bool   `json:"automatic"`
	// Language is the detected language of a customer's message.
	Language    string           `json:"language,omitempty"`
	CreatedAt   time.Time        `json:"created_at"`
	Attachments []AttachmentJSON `json:"attachments"`
}

func messageJSON(m *ticket.Message) MessageJSON {
	atts := make([]AttachmentJSON, len(m.Attachments))
	for i, a := range m.Attachments {
		atts[i] = AttachmentJSON{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size,
			URL: "/api/v1/attachments/" + itoa(a.ID)}
	}
	return MessageJSON{ID: m.ID, Kind: string(m.Kind), AuthorAgentID: m.AuthorAgentID, AuthorContactID: m.AuthorContactID,
		BodyText: m.BodyText, BodyHTML: m.BodyHTML, Channel: string(m.Channel), Automatic: m.Automatic(),
		Language: m.Language(), CreatedAt: m.CreatedAt, Attachments: atts}
}

// EventJSON is one entry of a ticket's history.
type EventJSON struct {
	ID        int64     `json:"id"`
	Field     string    `json:"field"`
	Before    string    `json:"before"`
	After     string    `json:"after"`
	ActorType string    `json:"actor_type"`
	ActorID   *int64    `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	At        time.Time `json:"at"`
}

// AgentJSON is an agent as the API shows it (never the password hash).
type AgentJSON struct {
	ID           int64   `json:"id"`
	Email        string  `json:"email"`
	Name         string  `json:"name"`
	Role         string  `json:"role"`
	Language     string  `json:"language"`
	Timezone     string  `json:"timezone"`
	Availability string  `json:"availability"`
	Active       bool    `json:"active"`
	TeamIDs      []int64 `json:"team_ids"`
	// SkillLanguages are the languages the agent serves customers in;
	// SkillTopics the topics (tags) they know.
	SkillLanguages []string  `json:"skill_languages"`
	SkillTopics    []string  `json:"skill_topics"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func agentJSON(a *agent.Agent) AgentJSON {
	ids := a.TeamIDs
	if ids == nil {
		ids = []int64{}
	}
	return AgentJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: string(a.Role), Language: a.Language, Timezone: a.Timezone,
		Availability: string(a.Availability), Active: a.Active, TeamIDs: ids, SkillLanguages: a.Speaks(),
		SkillTopics: a.Topics(), CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// TeamJSON is a team.
type TeamJSON struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Tier      int      `json:"tier"`
	Languages []string `json:"languages"`
	Topics    []string `json:"topics"`
	MemberIDs []int64  `json:"member_ids"`
	// AssignMode is manual, round_robin or least_loaded; AssignCap the
	// most new and open tickets an agent gets from it (0: no cap);
	// EscalateToID the next tier (none: the next higher tier).
	AssignMode   string    `json:"assign_mode"`
	AssignCap    int       `json:"assign_cap"`
	ReassignAway bool      `json:"reassign_away"`
	EscalateToID *int64    `json:"escalate_to_id"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func teamJSON(t *team.Team) TeamJSON {
	return TeamJSON{ID: t.ID, Name: t.Name, Tier: t.Tier, Languages: orEmpty(t.Languages), Topics: orEmpty(t.Topics),
		MemberIDs: t.MemberIDs, AssignMode: t.AssignMode, AssignCap: t.AssignCap, ReassignAway: t.ReassignAway,
		EscalateToID: t.EscalateToID, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// ContactJSON is a contact.
type ContactJSON struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Emails         []string  `json:"emails"`
	Phones         []string  `json:"phones"`
	Language       string    `json:"language"`
	OrganisationID *int64    `json:"organisation_id"`
	Notes          string    `json:"notes"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func contactJSON(c *contact.Contact) ContactJSON {
	return ContactJSON{ID: c.ID, Name: c.Name, Emails: orEmpty(c.Emails), Phones: orEmpty(c.Phones), Language: c.Language,
		OrganisationID: c.OrganisationID, Notes: c.Notes, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// OrganisationJSON is an organisation.
type OrganisationJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Domains   []string  `json:"domains"`
	Notes     string    `json:"notes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func organisationJSON(o *contact.Organisation) OrganisationJSON {
	return OrganisationJSON{ID: o.ID, Name: o.Name, Domains: orEmpty(o.Domains), Notes: o.Notes, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// FieldJSON is a custom field definition.
type FieldJSON struct {
	ID       int64    `json:"id"`
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Options  []string `json:"options"`
	Required bool     `json:"required"`
	Active   bool     `json:"active"`
	Position int      `json:"position"`
}

func fieldJSON(d *ticket.FieldDef) FieldJSON {
	return FieldJSON{ID: d.ID, Key: d.Key, Label: d.Label, Type: string(d.Type), Options: orEmpty(d.Options),
		Required: d.Required, Active: d.Active, Position: d.Position}
}

// TagJSON is a tag with its ticket count.
type TagJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Tickets int64  `json:"tickets"`
}

// TokenJSON describes an API token; Token (the secret) appears only in
// the answer to its creation.
type TokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"`
}

func tokenJSON(t *auth.Token) TokenJSON {
	return TokenJSON{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
}

func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}
