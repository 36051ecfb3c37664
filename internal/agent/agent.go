// Package agent holds the staff who answer customers: their roles, language,
// time zone and availability, and the rules for creating and changing them.
package agent

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

// Role decides what an agent may do. Admins may do everything; leads manage
// their teams' tickets, settings and assignments; agents work the tickets of
// their teams and the unassigned ones.
type Role string

// The three roles, from least to most powerful.
const (
	RoleAgent Role = "agent"
	RoleLead  Role = "lead"
	RoleAdmin Role = "admin"
)

// Rank orders roles so that a permission "at least lead" is a comparison.
func (r Role) Rank() int {
	switch r {
	case RoleAgent:
		return 1
	case RoleLead:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r.Rank() > 0 }

// Availability is what the agent tells the desk about their presence.
type Availability string

// Availability values.
const (
	Online  Availability = "online"
	Away    Availability = "away"
	Offline Availability = "offline"
)

// Languages the workspace speaks.
var Languages = []string{"it", "en"}

// ErrNotFound is returned when no agent matches.
var ErrNotFound = fmt.Errorf("agent %w", fault.NotFound)

// Agent is one member of staff.
type Agent struct {
	ID           int64        `db:"id"`
	Email        string       `db:"email"`
	Name         string       `db:"name"`
	Role         Role         `db:"role"`
	Language     string       `db:"language"`
	Timezone     string       `db:"timezone"`
	Availability Availability `db:"availability"`
	Active       bool         `db:"active"`
	// MailNotices lists the notices the agent also gets by mail
	// (assigned, customer, sla), comma-separated.
	MailNotices string `db:"mail_notices"`
	// AppNotices lists the in-app notices the agent wants (assigned,
	// customer, mention), comma-separated.
	AppNotices string `db:"app_notices"`
	// SkillLanguages lists the languages the agent serves customers in
	// and SkillTopics what they know (comma-separated, lower-case); no
	// languages means the workspace language. Routing reads them.
	SkillLanguages string     `db:"skill_languages"`
	SkillTopics    string     `db:"skill_topics"`
	PasswordHash   string     `db:"password_hash"`
	FailedLogins   int        `db:"failed_logins"`
	LockedUntil    *time.Time `db:"locked_until"`
	CreatedAt      time.Time  `db:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at"`
	TeamIDs        []int64    `db:"-"`
}

// Patch is a partial change; nil fields stay as they are.
type Patch struct {
	Name         *string
	Email        *string
	Role         *Role
	Language     *string
	Timezone     *string
	Availability *Availability
	Active       *bool
	MailNotices  *string
	AppNotices   *string
	// SkillLanguages and SkillTopics are comma-separated lists.
	SkillLanguages *string
	SkillTopics    *string
}

// NormaliseEmail lower-cases and trims an address.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a bare address (no display name).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254
}

// Validate checks a whole agent before it is stored.
func (a *Agent) Validate() error {
	var c fault.Checker
	a.Email = NormaliseEmail(a.Email)
	a.Name = strings.TrimSpace(a.Name)
	c.Check(ValidEmail(a.Email), "email", "email", "must be a valid email address")
	c.Check(a.Name != "" && len(a.Name) <= 200, "name", "required", "must be 1 to 200 characters")
	c.Check(a.Role.Valid(), "role", "enum", "must be one of admin, lead, agent")
	c.Check(validLanguage(a.Language), "language", "enum", "must be it or en")
	_, tzErr := time.LoadLocation(a.Timezone)
	c.Check(a.Timezone != "" && tzErr == nil, "timezone", "iana_zone", "must be an IANA time zone such as Europe/Rome")
	for _, l := range strings.Split(a.SkillLanguages, ",") {
		if l != "" && (len(l) < 2 || len(l) > 8) {
			c.Add("skill_languages", "language_code", fmt.Sprintf("%q is not a language code such as it or en", l))
			break
		}
	}
	c.Check(len(a.SkillLanguages) <= 200, "skill_languages", "max_length", "must be at most 200 characters")
	c.Check(len(a.SkillTopics) <= 1000, "skill_topics", "max_length", "must be at most 1,000 characters")
	switch a.Availability {
	case Online, Away, Offline:
	default:
		c.Add("availability", "enum", "must be one of online, away, offline")
	}
	return c.Err()
}

// Apply copies the set fields of p onto a and validates the result.
func (a *Agent) Apply(p Patch) error {
	if p.Name != nil {
		a.Name = *p.Name
	}
	if p.Email != nil {
		a.Email = *p.Email
	}
	if p.Role != nil {
		a.Role = *p.Role
	}
	if p.Language != nil {
		a.Language = *p.Language
	}
	if p.Timezone != nil {
		a.Timezone = *p.Timezone
	}
	if p.Availability != nil {
		a.Availability = *p.Availability
	}
	if p.Active != nil {
		a.Active = *p.Active
	}
	if p.MailNotices != nil {
		v, err := noticeList("mail_notices", *p.MailNotices, "assigned", "customer", "sla", "rule")
		if err != nil {
			return err
		}
		a.MailNotices = v
	}
	if p.AppNotices != nil {
		v, err := noticeList("app_notices", *p.AppNotices, "assigned", "customer", "mention")
		if err != nil {
			return err
		}
		a.AppNotices = v
	}
	if p.SkillLanguages != nil {
		a.SkillLanguages = skillList(*p.SkillLanguages)
	}
	if p.SkillTopics != nil {
		a.SkillTopics = skillList(*p.SkillTopics)
	}
	return a.Validate()
}

// skillList normalises a comma-separated list: trimmed, lower-case, no
// repeats.
func skillList(s string) string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

// Speaks lists the languages the agent serves customers in: their skills,
// or their workspace language when they listed none.
func (a *Agent) Speaks() []string {
	if a.SkillLanguages == "" {
		return []string{a.Language}
	}
	return strings.Split(a.SkillLanguages, ",")
}

// Topics lists the topics the agent knows (none: every topic).
func (a *Agent) Topics() []string {
	if a.SkillTopics == "" {
		return []string{}
	}
	return strings.Split(a.SkillTopics, ",")
}

// WantsMail reports whether the agent asked for a kind of notice by mail.
func (a *Agent) WantsMail(kind string) bool {
	for _, k := range strings.Split(a.MailNotices, ",") {
		if k == kind {
			return true
		}
	}
	return false
}

func validLanguage(l string) bool {
	for _, x := range Languages {
		if l == x {
			return true
		}
	}
	return false
}

// InTeam reports whether the agent belongs to team id.
func (a *Agent) InTeam(id int64) bool {
	for _, t := range a.TeamIDs {
		if t == id {
			return true
		}
	}
	return false
}

// noticeList checks a comma-separated choice of notice kinds.
func noticeList(field, list string, allowed ...string) (string, error) {
	var kept []string
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		ok := false
		for _, x := range allowed {
			ok = ok || k == x
		}
		if !ok {
			return "", fault.Field(field, "enum", "each must be one of "+strings.Join(allowed, ", "))
		}
		kept = append(kept, k)
	}
	return strings.Join(kept, ","), nil
}

// WantsNotice reports whether the agent asked for a kind of in-app notice.
func (a *Agent) WantsNotice(kind string) bool {
	for _, k := range strings.Split(a.AppNotices, ",") {
		if k == kind {
			return true
		}
	}
	return false
}
