// Package ticket is the heart of Sportello: tickets, their thread of
// messages, and the immutable events that record every change.
//
// The lifecycle follows DOMAIN.md §2. Rules are pure functions over values
// (Apply turns a Patch into a changed ticket plus the events describing it);
// the Service runs them inside one store transaction, so a change and its
// history are written together or not at all.
package ticket

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

// Errors returned by the ticket service and its store.
var (
	ErrNotFound           = fmt.Errorf("ticket %w", fault.NotFound)
	ErrMessageNotFound    = fmt.Errorf("message %w", fault.NotFound)
	ErrAttachmentNotFound = fmt.Errorf("attachment %w", fault.NotFound)
	ErrClosed             = fmt.Errorf("ticket is closed and read-only: %w", fault.Conflict)
	ErrForbidden          = fmt.Errorf("ticket %w", fault.Forbidden)
)

// Status is where a ticket is in its lifecycle.
type Status string

// The statuses of DOMAIN.md §2.
const (
	StatusNew     Status = "new"
	StatusOpen    Status = "open"
	StatusPending Status = "pending"
	StatusOnHold  Status = "on_hold"
	StatusSolved  Status = "solved"
	StatusClosed  Status = "closed"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusNew, StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed}

// transitions lists where each status may go. Nothing returns to new;
// closed is final; a ticket must be solved before it is closed.
var transitions = map[Status][]Status{
	StatusNew:     {StatusOpen, StatusPending, StatusOnHold, StatusSolved},
	StatusOpen:    {StatusPending, StatusOnHold, StatusSolved},
	StatusPending: {StatusOpen, StatusOnHold, StatusSolved},
	StatusOnHold:  {StatusOpen, StatusPending, StatusSolved},
	StatusSolved:  {StatusOpen, StatusClosed},
	StatusClosed:  {},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := transitions[s]; return ok }

// CanTransition reports whether a ticket may move from one status to another.
// Staying in the same status is always allowed (it is not a change).
func CanTransition(from, to Status) bool {
	if from == to {
		return true
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Unsolved reports whether the status still needs work (the backlog).
func (s Status) Unsolved() bool { return s != StatusSolved && s != StatusClosed }

// Priority orders tickets by urgency; stored as its rank so queues sort on it.
type Priority int

// Priorities; urgent means the customer is blocked.
const (
	PriorityLow Priority = iota
	PriorityNormal
	PriorityHigh
	PriorityUrgent
)

var priorityNames = []string{"low", "normal", "high", "urgent"}

func (p Priority) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return fmt.Sprintf("priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority turns a name into a Priority.
func ParsePriority(s string) (Priority, bool) {
	for i, n := range priorityNames {
		if n == s {
			return Priority(i), true
		}
	}
	return 0, false
}

// Channel is where a ticket or message came from.
type Channel string

// Channels.
const (
	ChannelEmail    Channel = "email"
	ChannelWeb      Channel = "web"
	ChannelChat     Channel = "chat"
	ChannelTelegram Channel = "telegram"
	ChannelPhone    Channel = "phone"
	ChannelAPI      Channel = "api"
)

// Channels lists the known channels.
var Channels = []Channel{ChannelEmail, ChannelWeb, ChannelChat, ChannelTelegram, ChannelPhone, ChannelAPI}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}

// Fields holds a ticket's custom field values by field key. It is stored as
// JSON text on both databases.
type Fields map[string]any

// Value implements driver.Valuer.
func (f Fields) Value() (driver.Value, error) {
	if f == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(f))
	return string(b), err
}

// Scan implements sql.Scanner.
func (f *Fields) Scan(src any) error {
	m := map[string]any{}
	if err := scanJSON("ticket fields", src, &m); err != nil {
		return err
	}
	*f = m
	return nil
}

// scanJSON decodes a JSON text column (string or bytes; NULL leaves dst
// as it is) into dst.
func scanJSON(what string, src, dst any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("%s: unsupported column type %T", what, src)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Ticket is one request from a customer.
type Ticket struct {
	ID           int64      `db:"id"`
	Subject      string     `db:"subject"`
	Status       Status     `db:"status"`
	Priority     Priority   `db:"priority"`
	Channel      Channel    `db:"channel"`
	RequesterID  int64      `db:"requester_id"`
	TeamID       *int64     `db:"team_id"`
	AssigneeID   *int64     `db:"assignee_id"`
	Language     string     `db:"language"`
	CustomFields Fields     `db:"custom_fields"`
	MergedIntoID *int64     `db:"merged_into_id"`
	FollowUpOfID *int64     `db:"follow_up_of_id"`
	ReopenCount  int        `db:"reopen_count"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	FirstReplyAt *time.Time `db:"first_reply_at"`
	SolvedAt     *time.Time `db:"solved_at"`
	ClosedAt     *time.Time `db:"closed_at"`
	// SLADue and SLAWarn are the Unix seconds of the ticket's next SLA
	// deadline and warning (internal/sla keeps them); NoDeadline for none.
	SLADue  int64 `db:"sla_due"`
	SLAWarn int64 `db:"sla_warn"`
	// Version rises with every change to the row (the API's ETag).
	Version int64    `db:"version"`
	Tags    []string `db:"-"`
	CCIDs   []int64  `db:"-"`
}

// NoDeadline is the SLADue and SLAWarn of a ticket without a running
// SLA clock (9999-12-31T23:59:59Z).
const NoDeadline int64 = 253402300799

// Deadline returns the ticket's next SLA deadline, if a clock is running.
func (t *Ticket) Deadline() (time.Time, bool) {
	if t.SLADue == 0 || t.SLADue >= NoDeadline {
		return time.Time{}, false
	}
	return time.Unix(t.SLADue, 0).UTC(), true
}

// DeadlineUnix is what SLADue and SLAWarn store for an instant: its Unix
// second, or NoDeadline for none (the inverse of Deadline and Warning).
func DeadlineUnix(t *time.Time) int64 {
	if t == nil {
		return NoDeadline
	}
	return t.Unix()
}

// Warning returns when the next SLA warning is due, if any.
func (t *Ticket) Warning() (time.Time, bool) {
	if t.SLAWarn == 0 || t.SLAWarn >= NoDeadline {
		return time.Time{}, false
	}
	return time.Unix(t.SLAWarn, 0).UTC(), true
}

// MessageKind tells who wrote a message and who may read it.
type MessageKind string

// Message kinds.
const (
	KindCustomer MessageKind = "customer" // written by the customer
	KindReply    MessageKind = "reply"    // public reply: the customer sees it
	KindNote     MessageKind = "note"     // internal note: agents only
	KindEvent    MessageKind = "event"    // system event shown in the thread
)

// Valid reports whether k is a known kind.
func (k MessageKind) Valid() bool {
	switch k {
	case KindCustomer, KindReply, KindNote, KindEvent:
		return true
	}
	return false
}

// Message is one entry in a ticket's thread.
type Message struct {
	ID              int64        `db:"id"`
	TicketID        int64        `db:"ticket_id"`
	Kind            MessageKind  `db:"kind"`
	AuthorAgentID   *int64       `db:"author_agent_id"`
	AuthorContactID *int64       `db:"author_contact_id"`
	BodyText        string       `db:"body_text"`
	BodyHTML        string       `db:"body_html"`
	Channel         Channel      `db:"channel"`
	Meta            Fields       `db:"meta"`
	CreatedAt       time.Time    `db:"created_at"`
	Attachments     []Attachment `db:"-"`
}

// Automatic reports whether the message was sent by a rule or a bot; such
// Language is the language a customer's message was detected in ("" when
// unknown).
func (m *Message) Language() string {
	l, _ := m.Meta["language"].(string)
	return l
}

// replies never count as a human reply (DOMAIN.md §3).
func (m *Message) Automatic() bool {
	b, _ := m.Meta["automatic"].(bool)
	return b
}

// Attachment is a file stored under the data folder, addressed by content.
type Attachment struct {
	ID          int64     `db:"id"`
	MessageID   int64     `db:"message_id"`
	Filename    string    `db:"filename"`
	ContentType string    `db:"content_type"`
	Size        int64     `db:"size"`
	SHA256      string    `db:"sha256"`
	CreatedAt   time.Time `db:"created_at"`
}

// ActorType says who caused an event.
type ActorType string

// Actor types.
const (
	ActorAgent   ActorType = "agent"
	ActorContact ActorType = "contact"
	ActorSystem  ActorType = "system"
	// ActorRule is an automation rule (ID: the rule's): its changes are
	// recorded under the rule's name.
	ActorRule ActorType = "rule"
)

// Event is an immutable record of one change to a ticket.
type Event struct {
	ID        int64     `db:"id"`
	TicketID  int64     `db:"ticket_id"`
	ActorType ActorType `db:"actor_type"`
	ActorID   *int64    `db:"actor_id"`
	Field     string    `db:"field"`
	Before    string    `db:"before"`
	After     string    `db:"after"`
	CreatedAt time.Time `db:"created_at"`
}

// Resolution names the ticket's current resolution (the closure
// confirmation and the survey are per resolution): the instant it was
// last solved, in Unix seconds; 0 when it never was.
func (t *Ticket) Resolution() int64 {
	if t.SolvedAt == nil {
		return 0
	}
	return t.SolvedAt.Unix()
}
