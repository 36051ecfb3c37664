package ticket

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
)

// Actor is whoever causes a change: an agent (with role and teams, which
// decide what they may see), a contact, or the system itself.
type Actor struct {
	Type    ActorType
	ID      int64
	Role    agent.Role
	TeamIDs []int64
}

// System is the actor for changes made by Sportello itself.
var System = Actor{Type: ActorSystem}

// RuleActor is the actor for changes made by rule id.
func RuleActor(id int64) Actor { return Actor{Type: ActorRule, ID: id} }

// AgentActor builds the actor for an agent.
func AgentActor(a *agent.Agent) Actor {
	return Actor{Type: ActorAgent, ID: a.ID, Role: a.Role, TeamIDs: a.TeamIDs}
}

func (a Actor) idPtr() *int64 {
	if a.Type == ActorSystem {
		return nil
	}
	id := a.ID
	return &id
}

// CanSee reports whether the actor may read and work the ticket. Admins see
// everything; leads and agents see their teams' tickets, tickets without a
// team, and tickets assigned to them.
func (a Actor) CanSee(t *Ticket) bool {
	switch a.Type {
	case ActorSystem, ActorRule:
		return true
	case ActorContact:
		return t.RequesterID == a.ID || slices.Contains(t.CCIDs, a.ID)
	}
	if a.Role == agent.RoleAdmin {
		return true
	}
	if t.AssigneeID != nil && *t.AssigneeID == a.ID {
		return true
	}
	return t.TeamID == nil || slices.Contains(a.TeamIDs, *t.TeamID)
}

// Ref is an optional change to a nullable reference: Set says whether the
// patch touches it, ID nil means "clear".
type Ref struct {
	Set bool
	ID  *int64
}

// Patch is a partial change to a ticket; unset fields stay as they are.
type Patch struct {
	Subject      *string
	Status       *Status
	Priority     *Priority
	Language     *string
	RequesterID  *int64
	TeamID       Ref
	AssigneeID   Ref
	Tags         *[]string // replaces the set
	AddTags      []string
	RemoveTags   []string
	CCIDs        *[]int64
	CustomFields map[string]any // merged; a nil value clears the field
	// IfVersion, when set, must equal the stored version (the API's
	// If-Match); otherwise nothing is written and ErrStale is returned.
	IfVersion *int64
	// Base holds, for fields this patch changes, the value the caller saw
	// when it decided ("status", "priority", "team", "assignee",
	// "custom_fields.<key>", as FieldValue gives them). When the stored
	// value has moved from Base to something other than the patch's, a
	// colleague changed the same field meanwhile: nothing is written and a
	// *ConflictError names the fields.
	Base map[string]string
}

// ErrStale reports an If-Match that no longer matches.
var ErrStale = fmt.Errorf("the ticket changed since this version was read: %w", fault.Stale)

// ConflictError lists the fields someone else changed since the caller
// read them. It matches fault.Conflict.
type ConflictError struct{ Fields []string }

func (e *ConflictError) Error() string {
	return "changed by someone else meanwhile: " + strings.Join(e.Fields, ", ")
}

// Is makes errors.Is(err, fault.Conflict) true.
func (e *ConflictError) Is(target error) bool { return target == fault.Conflict }

// FieldValue returns one field of t as a string, in the form Patch.Base
// compares (ids in decimal, "" for none; custom values as typed).
func (t *Ticket) FieldValue(field string) string {
	switch field {
	case "status":
		return string(t.Status)
	case "priority":
		return t.Priority.String()
	case "team":
		return refString(t.TeamID)
	case "assignee":
		return refString(t.AssigneeID)
	case "language":
		return t.Language
	}
	if k, ok := strings.CutPrefix(field, "custom_fields."); ok {
		return FieldString(t.CustomFields[k])
	}
	return ""
}

// FieldString is a custom field's value as a form shows it.
func FieldString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// checkBase returns a *ConflictError for the fields of p whose stored
// value moved away from p.Base to a value other than p's.
func checkBase(t *Ticket, p Patch) error {
	var fields []string
	for f, base := range p.Base {
		cur := t.FieldValue(f)
		if cur == base {
			continue
		}
		var want string
		switch f {
		case "status":
			if p.Status == nil {
				continue
			}
			want = string(*p.Status)
		case "priority":
			if p.Priority == nil {
				continue
			}
			want = p.Priority.String()
		case "team":
			if !p.TeamID.Set {
				continue
			}
			want = refString(p.TeamID.ID)
		case "assignee":
			if !p.AssigneeID.Set {
				continue
			}
			want = refString(p.AssigneeID.ID)
		case "language":
			if p.Language == nil {
				continue
			}
			want = *p.Language
		default:
			k, ok := strings.CutPrefix(f, "custom_fields.")
			v, set := p.CustomFields[k]
			if !ok || !set {
				continue
			}
			want = FieldString(v)
		}
		if cur != want {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	slices.Sort(fields)
	return &ConflictError{Fields: fields}
}

var tagRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_\-.:/]{0,49}$`)

// NormaliseTags lower-cases, trims, de-duplicates and sorts tags, replacing
// inner spaces with hyphens, and checks each against the tag rule.
func NormaliseTags(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, t := range in {
		t = strings.ToLower(strings.Join(strings.Fields(t), "-"))
		if t == "" {
			continue
		}
		if !tagRe.MatchString(t) {
			return nil, fault.Field(field, "tag", fmt.Sprintf("%q: tags are 1-50 letters, digits and _-.:/", t))
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkSubject validates and trims a subject.
func checkSubject(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fault.Field("subject", "required", "must be 1 to 250 characters")
	}
	if utf8.RuneCountInString(s) > 250 {
		return "", fault.Field("subject", "max_length", "must be at most 250 characters")
	}
	return s, nil
}

// languageCode is a language tag as tickets keep it: "it", "en",
// "pt-br" (2 or 3 letters, optional subtags).
var languageCode = regexp.MustCompile(`(?i)^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

func checkLanguage(l string) error {
	if l != "" && (len(l) > 16 || !languageCode.MatchString(l)) {
		return fault.Field("language", "language_code", "must be a language code such as it or en")
	}
	return nil
}

func refString(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

func timeOf(now time.Time) *time.Time { return &now }

// change builds the event list while a patch is applied.
type change struct {
	t      *Ticket
	actor  Actor
	now    time.Time
	events []Event
}

func (c *change) record(field, before, after string) {
	if before == after {
		return
	}
	c.events = append(c.events, Event{
		TicketID: c.t.ID, ActorType: c.actor.Type, ActorID: c.actor.idPtr(),
		Field: field, Before: before, After: after, CreatedAt: c.now,
	})
}

// setStatus moves the ticket to s, enforcing the lifecycle and keeping the
// timestamps and reopen count that metrics are derived from.
func (c *change) setStatus(s Status) error {
	t := c.t
	if !s.Valid() {
		return fault.Field("status", "enum", "must be one of new, open, pending, on_hold, solved, closed")
	}
	if !CanTransition(t.Status, s) {
		return fault.Field("status", "transition", fmt.Sprintf("cannot move a %s ticket to %s", t.Status, s))
	}
	if s == t.Status {
		return nil
	}
	before := t.Status
	t.Status = s
	c.record("status", string(before), string(s))
	switch {
	case s == StatusSolved:
		t.SolvedAt = timeOf(c.now)
	case s == StatusClosed:
		t.ClosedAt = timeOf(c.now)
	case before == StatusSolved:
		t.ReopenCount++
		c.record("reopened", strconv.Itoa(t.ReopenCount-1), strconv.Itoa(t.ReopenCount))
	}
	return nil
}

// Apply applies p to t as actor at now and returns the events describing
// what changed. defs are the active custom field definitions. On error t
// may be partly changed and must be discarded.
func Apply(t *Ticket, p Patch, actor Actor, now time.Time, defs []FieldDef) ([]Event, error) {
	if t.Status == StatusClosed {
		return nil, ErrClosed
	}
	c := &change{t: t, actor: actor, now: now}
	if p.Subject != nil {
		s, err := checkSubject(*p.Subject)
		if err != nil {
			return nil, err
		}
		c.record("subject", t.Subject, s)
		t.Subject = s
	}
	if p.Priority != nil {
		if *p.Priority < PriorityLow || *p.Priority > PriorityUrgent {
			return nil, fault.Field("priority", "enum", "must be one of low, normal, high, urgent")
		}
		c.record("priority", t.Priority.String(), p.Priority.String())
		t.Priority = *p.Priority
	}
	if p.Language != nil {
		if err := checkLanguage(*p.Language); err != nil {
			return nil, err
		}
		c.record("language", t.Language, *p.Language)
		t.Language = *p.Language
	}
	if p.RequesterID != nil {
		c.record("requester", refString(&t.RequesterID), refString(p.RequesterID))
		t.RequesterID = *p.RequesterID
	}
	if p.TeamID.Set {
		c.record("team", refString(t.TeamID), refString(p.TeamID.ID))
		t.TeamID = p.TeamID.ID
	}
	if p.AssigneeID.Set {
		if actor.Type == ActorAgent && actor.Role == agent.RoleAgent && p.AssigneeID.ID != nil && *p.AssigneeID.ID != actor.ID {
			return nil, fault.Field("assignee_id", "permission", "agents may assign tickets only to themselves; ask a team lead")
		}
		c.record("assignee", refString(t.AssigneeID), refString(p.AssigneeID.ID))
		t.AssigneeID = p.AssigneeID.ID
	}
	if err := c.applyTags(p); err != nil {
		return nil, err
	}
	if p.CCIDs != nil {
		ids := slices.Clone(*p.CCIDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		c.record("cc", joinIDs(t.CCIDs), joinIDs(ids))
		t.CCIDs = ids
	}
	if err := c.applyFields(p.CustomFields, defs); err != nil {
		return nil, err
	}
	if p.Status != nil {
		if err := c.setStatus(*p.Status); err != nil {
			return nil, err
		}
	} else if t.Status == StatusNew && p.AssigneeID.Set && p.AssigneeID.ID != nil {
		// Taking a new ticket means someone is working it.
		if err := c.setStatus(StatusOpen); err != nil {
			return nil, err
		}
	}
	if len(c.events) > 0 {
		t.UpdatedAt = now
	}
	return c.events, nil
}

func (c *change) applyTags(p Patch) error {
	t := c.t
	if p.Tags == nil && len(p.AddTags) == 0 && len(p.RemoveTags) == 0 {
		return nil
	}
	next := slices.Clone(t.Tags)
	if p.Tags != nil {
		next = *p.Tags
	}
	next = append(next, p.AddTags...)
	next, err := NormaliseTags("tags", next)
	if err != nil {
		return err
	}
	rm, err := NormaliseTags("remove_tags", p.RemoveTags)
	if err != nil {
		return err
	}
	next = slices.DeleteFunc(next, func(s string) bool { return slices.Contains(rm, s) })
	if len(next) > 50 {
		return fault.Field("tags", "max_items", "a ticket holds at most 50 tags")
	}
	c.record("tags", strings.Join(t.Tags, ","), strings.Join(next, ","))
	t.Tags = next
	return nil
}

func (c *change) applyFields(in map[string]any, defs []FieldDef) error {
	if len(in) == 0 {
		return nil
	}
	t := c.t
	if t.CustomFields == nil {
		t.CustomFields = Fields{}
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		i := slices.IndexFunc(defs, func(d FieldDef) bool { return d.Key == k && d.Active })
		if i < 0 {
			return fault.Field("custom_fields."+k, "unknown_field", "no active custom field has this key")
		}
		v, err := checkFieldValue(defs[i], in[k])
		if err != nil {
			return err
		}
		before := jsonString(t.CustomFields[k])
		if v == nil {
			delete(t.CustomFields, k)
		} else {
			t.CustomFields[k] = v
		}
		c.record("custom_fields."+k, before, jsonString(v))
	}
	return nil
}

// checkRequiredFields fails when a required active field has no value.
func checkRequiredFields(t *Ticket, defs []FieldDef) error {
	var ch fault.Checker
	for _, d := range defs {
		if d.Active && d.Required {
			if _, ok := t.CustomFields[d.Key]; !ok {
				ch.Add("custom_fields."+d.Key, "required", "this field is required")
			}
		}
	}
	return ch.Err()
}

func jsonString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}
