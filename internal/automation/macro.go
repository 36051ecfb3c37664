package automation

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// ErrMacroNotFound is returned when no macro matches (or the caller may
// not see it: another agent's personal macro).
var ErrMacroNotFound = fmt.Errorf("macro %w", fault.NotFound)

// Macro kinds: the four scripts of DOMAIN §10, and any other.
var MacroKinds = []string{"acknowledgement", "resolution", "escalation", "closure", "other"}

// Macro is a reply script: one text per language (the ticket's language
// picks it), optional field changes applied when it is sent, and an
// optional knowledge-base article linked below the text. A macro without
// an owner is shared; with one, only its owner sees it.
type Macro struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	OwnerID     *int64            `json:"owner_id,omitempty"`
	Kind        string            `json:"kind"`
	Variants    map[string]string `json:"variants"`
	Actions     MacroActions      `json:"actions"`
	KBArticleID *int64            `json:"kb_article_id,omitempty"`
	UsageCount  int64             `json:"usage_count"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// MacroActions are the ticket changes a macro makes when sent.
type MacroActions struct {
	Status   string   `json:"status,omitempty"`
	Priority string   `json:"priority,omitempty"`
	AddTags  []string `json:"add_tags,omitempty"`
}

// placeholder finds {{ name }} in a text.
var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Placeholders lists the names a macro may use; field.<key> names a
// custom field.
var Placeholders = []string{"customer.first_name", "customer.name", "ticket.number", "ticket.subject",
	"agent.name", "agent.first_name", "team.name", "sla.deadline", "organisation.name"}

var fieldKey = regexp.MustCompile(`^field\.[a-z0-9_]{1,64}$`)

// CheckPlaceholders says what is wrong with a text's placeholders ("" when
// every one is known).
func CheckPlaceholders(text string) string {
	if name := UnknownPlaceholder(text); name != "" {
		return fmt.Sprintf("unknown placeholder {{%s}}; use one of %s or field.<key>", name, strings.Join(Placeholders, ", "))
	}
	return ""
}

// UnknownPlaceholder is the first placeholder of text that is neither one
// of Placeholders nor field.<key> ("" when there is none).
func UnknownPlaceholder(text string) string {
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(Placeholders, m[1]) && !fieldKey.MatchString(m[1]) {
			return m[1]
		}
	}
	return ""
}

// Check validates a macro.
func (m *Macro) Check(fields map[string]bool) error {
	var ch fault.Checker
	m.Name = strings.TrimSpace(m.Name)
	ch.Check(m.Name != "" && len(m.Name) <= 100, "name", "required", "must be 1 to 100 characters")
	if m.Kind == "" {
		m.Kind = "other"
	}
	ch.Check(slices.Contains(MacroKinds, m.Kind), "kind", "enum", "must be one of "+strings.Join(MacroKinds, ", "))
	clean := map[string]string{}
	for lang, text := range m.Variants {
		l := strings.ToLower(strings.TrimSpace(lang))
		f := "variants." + lang
		if len(l) < 2 || len(l) > 8 {
			ch.Add(f, "language_code", "each variant is keyed by a language code such as it or en")
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue // an emptied variant is removed
		}
		if len(text) > 20000 {
			ch.Add(f, "max_length", "must be at most 20,000 characters")
		}
		if p := CheckPlaceholders(text); p != "" {
			ch.Add(f, "placeholder", p)
		}
		for _, ph := range placeholder.FindAllStringSubmatch(text, -1) {
			if k, ok := strings.CutPrefix(ph[1], "field."); ok && fields != nil && !fields[k] {
				ch.Add(f, "placeholder", fmt.Sprintf("no custom field has key %q", k))
			}
		}
		clean[l] = text
	}
	m.Variants = clean
	ch.Check(len(m.Variants) > 0, "variants", "required", "give the text in at least one language")
	if s := m.Actions.Status; s != "" {
		st := ticket.Status(s)
		ch.Check(st.Valid() && st != ticket.StatusNew && st != ticket.StatusClosed, "actions.status", "enum", "must be open, pending, on_hold or solved")
	}
	if p := m.Actions.Priority; p != "" {
		_, ok := ticket.ParsePriority(p)
		ch.Check(ok, "actions.priority", "enum", "must be low, normal, high or urgent")
	}
	return ch.Err()
}

// Languages lists the macro's languages in order.
func (m *Macro) Languages() []string { return slices.Sorted(maps.Keys(m.Variants)) }

// Variant picks the text for a ticket's language: that language, else
// English, else Italian, else the first there is. It returns the language
// chosen.
func (m *Macro) Variant(lang string) (string, string) {
	for _, l := range []string{lang, "en", "it"} {
		if t, ok := m.Variants[l]; ok && l != "" {
			return l, t
		}
	}
	for _, l := range m.Languages() {
		return l, m.Variants[l]
	}
	return "", ""
}

// Rendered is a macro filled for one ticket: the text in the ticket's
// language and what sending it changes.
type Rendered struct {
	MacroID  int64        `json:"macro_id"`
	Language string       `json:"language"`
	Text     string       `json:"text"`
	Actions  MacroActions `json:"actions"`
	Article  string       `json:"article_url,omitempty"`
}

// Values fill a macro's placeholders.
type Values struct {
	CustomerName, TicketNumber, Subject, AgentName, TeamName, Deadline, Organisation string
	Fields                                                                           map[string]string
}

// FirstName is the first word of a name (the customer's, the agent's),
// as scripts greet people.
func FirstName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

// Render fills text's placeholders; a placeholder without a value becomes
// empty (an unknown one is refused when the macro is saved).
func Render(text string, v Values) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		switch name {
		case "customer.first_name":
			return FirstName(v.CustomerName)
		case "customer.name":
			return v.CustomerName
		case "ticket.number":
			return v.TicketNumber
		case "ticket.subject":
			return v.Subject
		case "agent.name":
			return v.AgentName
		case "agent.first_name":
			return FirstName(v.AgentName)
		case "team.name":
			return v.TeamName
		case "sla.deadline":
			return v.Deadline
		case "organisation.name":
			return v.Organisation
		}
		if k, ok := strings.CutPrefix(name, "field."); ok {
			return v.Fields[k]
		}
		return ""
	})
}
