package ticket

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/search"
)

// Store is what the ticket service needs from persistence. Reads run
// outside transactions; every change runs inside TicketTx.
type Store interface {
	TicketTx(ctx context.Context, fn func(Tx) error) error
	Ticket(ctx context.Context, id int64) (*Ticket, error)
	Tickets(ctx context.Context, f Filter) ([]Ticket, error)
	CountMatching(ctx context.Context, f Filter) (int64, error)
	Messages(ctx context.Context, ticketID int64) ([]Message, error)
	Events(ctx context.Context, ticketID int64) ([]Event, error)
	Attachment(ctx context.Context, id int64) (*Attachment, int64, error)
	FieldDefs(ctx context.Context) ([]FieldDef, error)
}

// Tx is the set of writes the service composes inside one transaction.
type Tx interface {
	TicketForUpdate(ctx context.Context, id int64) (*Ticket, error)
	InsertTicket(ctx context.Context, t *Ticket) error
	UpdateTicket(ctx context.Context, t *Ticket) error
	SetTags(ctx context.Context, ticketID int64, tags []string) error
	SetCCs(ctx context.Context, ticketID int64, contactIDs []int64) error
	InsertMessage(ctx context.Context, m *Message) error
	InsertAttachment(ctx context.Context, a *Attachment) error
	MoveMessages(ctx context.Context, fromTicket, toTicket int64) error
	InsertEvents(ctx context.Context, evs []Event) error
	// FindOrCreateContact returns the contact owning email, creating it
	// (and joining it to the organisation of its domain) when unknown.
	FindOrCreateContact(ctx context.Context, email, name, language string, now time.Time) (int64, bool, error)
	// FindOrCreateContactByPhone returns the contact whose phone number
	// ends with phone's digits (the country code may differ), creating it
	// with name when there is none.
	FindOrCreateContactByPhone(ctx context.Context, phone, name, language string, now time.Time) (int64, bool, error)
	ContactExists(ctx context.Context, id int64) (bool, error)
	TeamExists(ctx context.Context, id int64) (bool, error)
	AgentActive(ctx context.Context, id int64) (bool, error)
	TxFieldDefs(ctx context.Context) ([]FieldDef, error)
	// Remembered returns what an agent's idempotency key made, ok false
	// when the key is new; Remember stores it (ErrKeyTaken when another
	// transaction stored the same key first).
	Remembered(ctx context.Context, agentID int64, key string) (rec Remembered, ok bool, err error)
	Remember(ctx context.Context, agentID int64, key string, rec Remembered, now time.Time) error
	// Reindex rebuilds the search documents of tickets whose subject
	// changed (new and moved messages are indexed by the store itself).
	Reindex(ctx context.Context, ticketIDs ...int64) error
	// AfterCommit runs fn once the transaction has committed.
	AfterCommit(fn func())
}

// Idempotency names a create or a reply so that a retry (the API's
// Idempotency-Key, a form's one-time token sent again by Back) finds what
// the first one made instead of making it twice. Fingerprint identifies
// the request's content: the same key with another content is refused.
type Idempotency struct {
	Key, Fingerprint string
}

// Remembered is what an idempotency key made.
type Remembered struct {
	Fingerprint string `db:"fingerprint"`
	TicketID    int64  `db:"ticket_id"`
	MessageID   *int64 `db:"message_id"`
}

// ErrKeyTaken is returned by Tx.Remember when a concurrent request stored
// the same key first; the service then answers as a replay.
var ErrKeyTaken = errors.New("idempotency key taken")

// checkKey validates an idempotency key.
func checkKey(field string, k *Idempotency) error {
	if k == nil {
		return nil
	}
	if k.Key == "" || len(k.Key) > 200 {
		return fault.Field(field, "length", "must be 1 to 200 characters")
	}
	return nil
}

// errKeyReused refuses a known key sent with another request.
func errKeyReused(field string) error {
	return fault.Field(field, "reused", "this key was already used for a different request")
}

// Files stores attachment content, addressed by its SHA-256.
type Files interface {
	// Put stores data and returns its hex SHA-256 and sniffed content type.
	Put(ctx context.Context, data []byte) (sum, contentType string, err error)
}

// Filter selects and orders tickets for a list. Zero values mean "any".
type Filter struct {
	Statuses     []Status
	Priorities   []Priority
	TeamID       *int64
	TeamIDs      []int64 // any of these teams
	NoTeam       bool
	AssigneeID   *int64
	NoAssignee   bool
	Tag          string
	RequesterID  *int64
	OrgID        *int64 // the requester's organisation
	Channel      Channel
	UpdatedAfter *time.Time
	// UpdatedBefore, CreatedAfter and CreatedBefore bound the ranges a
	// saved view may ask for (After inclusive, Before exclusive).
	UpdatedBefore *time.Time
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
	// Text is a full-text query over subjects and messages; with it the
	// default order is "relevance".
	Text search.Query
	// SLA keeps tickets whose clocks are at risk (the warning is due, the
	// deadline not yet) or breached (a running clock is past its
	// deadline) at SLANow.
	SLA          string
	SLANow       time.Time
	Sort         string // one of Sorts
	Limit        int
	Offset       int
	VisibleTo    *Actor // restrict to what this actor may see
	IncludeMerge bool
}

// normalise validates a filter's multi-valued parts and removes repeats:
// a URL repeating status=open thousands of times (or "open,open") asks for
// one status, once, so the query stays small and no ticket comes twice.
// After it, Statuses holds at most 6 values, Priorities 4, TeamIDs 500.
func (f *Filter) normalise() error {
	for _, st := range f.Statuses {
		if !st.Valid() {
			return fault.Field("status", "enum", "must be one of new, open, pending, on_hold, solved, closed")
		}
	}
	for _, p := range f.Priorities {
		if p < PriorityLow || p > PriorityUrgent {
			return fault.Field("priority", "enum", "must be one of low, normal, high, urgent")
		}
	}
	if f.Channel != "" && !f.Channel.Valid() {
		return fault.Field("channel", "enum", "must be one of email, web, chat, telegram, phone, api")
	}
	f.Statuses = dedupe(f.Statuses)
	f.Priorities = dedupe(f.Priorities)
	f.TeamIDs = dedupe(f.TeamIDs)
	if len(f.TeamIDs) > 500 {
		return fault.Field("team", "max_items", "at most 500 teams")
	}
	return nil
}

// dedupe keeps the first of each value, in order.
func dedupe[T comparable](in []T) []T {
	if len(in) < 2 {
		return in
	}
	seen := make(map[T]bool, len(in))
	out := in[:0:0]
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Sorts are the accepted list orders; "-" means descending. "relevance"
// needs a Text query.
var Sorts = []string{"-updated", "updated", "-created", "created", "-priority", "priority", "-number", "number", "requester", "-requester", "relevance", "deadline"}

// SLA states a Filter can ask for.
const (
	SLAAtRisk   = "at_risk"
	SLABreached = "breached"
)

// Options tune the service.
type Options struct {
	// MaxAttachmentBytes and MaxAttachments bound what one message carries.
	MaxAttachmentBytes int64
	MaxAttachments     int
	// InTx, when set, is called inside the transaction of every change
	// with each ticket it touched, after the change is written: the SLA
	// clocks are re-derived there, so that they never disagree with the
	// ticket.
	// Mail, notices and (later) rules hear the same Reaction there, so
	// that what a change causes commits with it.
	InTx func(ctx context.Context, tx Tx, r Reaction) error
	// OnChange is called after each committed change with the ticket and
	// what happened ("created", "updated", "customer", "reply", "note",
	// "merged"); live updates hang off it. It must not block.
	OnChange func(c Change)
	// DetectLanguage, when set, names the language of a new ticket's
	// subject and first message ("" when unsure); a ticket created
	// without a language gets it.
	DetectLanguage func(text string) string
}

// Service runs the ticket lifecycle.
type Service struct {
	store    Store
	files    Files
	now      func() time.Time
	sanitize *Sanitizer
	limits   Options
}

// NewService builds a ticket service; now is the clock (tests freeze it).
func NewService(store Store, files Files, now func() time.Time, limits Options) *Service {
	if limits.MaxAttachmentBytes <= 0 {
		limits.MaxAttachmentBytes = 10 << 20
	}
	if limits.MaxAttachments <= 0 {
		limits.MaxAttachments = 20
	}
	return &Service{store: store, files: files, now: now, sanitize: NewSanitizer(), limits: limits}
}

// Change is what OnChange hears: the ticket as written, what happened,
// and the acting agent (0 for a customer or the system).
type Change struct {
	Ticket *Ticket
	What   string
	By     int64
}

func (s *Service) changed(t *Ticket, what string, actor Actor) {
	if s.limits.OnChange != nil {
		c := Change{Ticket: t, What: what}
		if actor.Type == ActorAgent {
			c.By = actor.ID
		}
		s.limits.OnChange(c)
	}
}

// Reaction is what in-transaction reactors hear about a change to one
// ticket: the ticket as written, the message the change added (nil for
// property changes), whether the change opened the ticket, who acted and
// the events recorded.
type Reaction struct {
	Ticket  *Ticket
	Message *Message
	Created bool
	Actor   Actor
	Events  []Event
	Now     time.Time
}

// react runs the InTx hook for the tickets a change touched, as written.
func (s *Service) react(ctx context.Context, tx Tx, rs ...Reaction) error {
	if s.limits.InTx == nil {
		return nil
	}
	for _, r := range rs {
		if err := s.limits.InTx(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Requester names the customer a ticket is for: an existing contact by ID,
// or an email (and optional name) that finds or creates the contact.
type Requester struct {
	ID    int64
	Email string
	Name  string
	// Phone finds or creates a caller who has no email address.
	Phone string
}

// NewAttachment is an uploaded file to attach to a message.
type NewAttachment struct {
	Filename string
	Data     []byte
}

// NewTicket is the input to Create. The first message is the customer's
// words (also when an agent logs a phone call on their behalf).
type NewTicket struct {
	Subject      string
	BodyText     string
	BodyHTML     string
	Requester    Requester
	CCEmails     []string
	Channel      Channel
	Priority     *Priority
	Status       *Status
	TeamID       *int64
	AssigneeID   *int64
	Tags         []string
	Language     string
	CustomFields map[string]any
	Attachments  []NewAttachment
	Meta         map[string]any
	// Idem, when set (agents only), makes the create idempotent.
	Idem *Idempotency
	// FollowUpOf links the new ticket to an earlier one the actor can see
	// (a closed ticket the customer came back about).
	FollowUpOf *int64
}

// Created reports what Create did. Replayed means an earlier create with
// the same idempotency key made Ticket, and nothing was written now.
type Created struct {
	Ticket           *Ticket
	RequesterCreated bool
	Replayed         bool
}

// Create opens a ticket with its first message, finding or creating the
// requester, and records the creation events in the same transaction.
func (s *Service) Create(ctx context.Context, actor Actor, in NewTicket) (*Created, error) {
	now := s.clock()
	var ch fault.Checker
	subject, err := checkSubject(in.Subject)
	if err != nil {
		p := err.(*fault.ValidationError).Problems[0]
		ch.Add(p.Field, p.Rule, p.Detail)
	}
	text, html, berr := s.sanitize.Body("body", in.BodyText, in.BodyHTML)
	if berr != nil {
		p := berr.(*fault.ValidationError).Problems[0]
		ch.Add(p.Field, p.Rule, p.Detail)
	}
	if in.Channel == "" {
		in.Channel = ChannelAPI
	}
	ch.Check(in.Channel.Valid(), "channel", "enum", "must be one of email, web, chat, telegram, phone, api")
	if in.Requester.ID == 0 {
		in.Requester.Email = agent.NormaliseEmail(in.Requester.Email)
		in.Requester.Phone = strings.TrimSpace(in.Requester.Phone)
		if in.Requester.Email == "" && in.Requester.Phone != "" {
			ch.Check(PhoneDigits(in.Requester.Phone) >= 6 && PhoneDigits(in.Requester.Phone) <= 15 && len(in.Requester.Phone) <= 40,
				"requester.phone", "phone", "must be a phone number of 6 to 15 digits")
		} else {
			ch.Check(agent.ValidEmail(in.Requester.Email), "requester.email", "email", "give the requester's id, a valid email address or a phone number")
		}
		ch.Check(len(in.Requester.Name) <= 200, "requester.name", "max_length", "must be at most 200 characters")
	}
	for i, e := range in.CCEmails {
		in.CCEmails[i] = agent.NormaliseEmail(e)
		ch.Check(agent.ValidEmail(in.CCEmails[i]), "cc_emails", "email", fmt.Sprintf("%q is not a valid email address", e))
	}
	if err := checkLanguage(in.Language); err != nil {
		ch.Add("language", "language_code", "must be a language code such as it or en")
	}
	if err := checkKey("Idempotency-Key", in.Idem); err != nil {
		ch.Add("Idempotency-Key", "length", "must be 1 to 200 characters")
	}
	if !ch.OK() {
		return nil, ch.Err()
	}
	status := StatusNew
	if in.Status != nil {
		status = *in.Status
		if !status.Valid() || status == StatusClosed {
			return nil, fault.Field("status", "enum", "a new ticket may start as new, open, pending, on_hold or solved")
		}
	}
	prio := PriorityNormal
	if in.Priority != nil {
		prio = *in.Priority
	}
	if err := s.checkAttachments(in.Attachments); err != nil {
		return nil, err
	}
	stored, err := s.storeFiles(ctx, in.Attachments)
	if err != nil {
		return nil, err
	}
	var detected string // the first message's language, as detected
	if s.limits.DetectLanguage != nil {
		detected = s.limits.DetectLanguage(subject + "\n" + text)
	}
	if in.Language == "" {
		in.Language = detected
	}
	if detected != "" {
		in.Meta = maps.Clone(in.Meta) // the caller's map stays theirs
		if in.Meta == nil {
			in.Meta = map[string]any{}
		}
		in.Meta["language"] = detected
	}
	idem := in.Idem
	if actor.Type == ActorContact {
		idem = nil // keys are scoped by agent (the system is agent 0)
	}
	out := &Created{}
	for attempt := 0; ; attempt++ {
		err = s.create(ctx, actor, in, idem, subject, text, html, status, prio, stored, now, out)
		if errors.Is(err, ErrKeyTaken) && attempt == 0 {
			continue // a concurrent twin stored the key: answer as its replay
		}
		break
	}
	if err != nil {
		return nil, err
	}
	if !out.Replayed {
		s.changed(out.Ticket, "created", actor)
	}
	return out, nil
}

func (s *Service) create(ctx context.Context, actor Actor, in NewTicket, idem *Idempotency, subject, text, html string, status Status, prio Priority, stored []storedFile, now time.Time, out *Created) error {
	return s.store.TicketTx(ctx, func(tx Tx) error {
		*out = Created{}
		if idem != nil {
			rec, ok, err := tx.Remembered(ctx, actor.ID, idem.Key)
			if err != nil {
				return err
			}
			if ok {
				if rec.Fingerprint != idem.Fingerprint || rec.MessageID != nil {
					return errKeyReused("Idempotency-Key")
				}
				t, err := tx.TicketForUpdate(ctx, rec.TicketID)
				if err != nil {
					return err
				}
				out.Ticket, out.Replayed = t, true
				return nil
			}
		}
		reqID := in.Requester.ID
		if reqID != 0 {
			ok, err := tx.ContactExists(ctx, reqID)
			if err != nil {
				return err
			}
			if !ok {
				return fault.Field("requester.id", "exists", "no contact has this id")
			}
		} else {
			find := tx.FindOrCreateContact
			key := in.Requester.Email
			if key == "" {
				find, key = tx.FindOrCreateContactByPhone, in.Requester.Phone
			}
			id, created, err := find(ctx, key, in.Requester.Name, in.Language, now)
			if err != nil {
				return err
			}
			reqID, out.RequesterCreated = id, created
		}
		var ccIDs []int64
		for _, e := range in.CCEmails {
			id, _, err := tx.FindOrCreateContact(ctx, e, "", "", now)
			if err != nil {
				return err
			}
			if id != reqID {
				ccIDs = append(ccIDs, id)
			}
		}
		defs, err := tx.TxFieldDefs(ctx)
		if err != nil {
			return err
		}
		t := &Ticket{
			Subject: subject, Status: StatusNew, Priority: PriorityNormal, Channel: in.Channel,
			RequesterID: reqID, Language: in.Language, CustomFields: Fields{},
			CreatedAt: now, UpdatedAt: now,
		}
		// The initial values are applied as a patch so that they are
		// validated and recorded exactly like later changes; the row is
		// inserted once, with its final values.
		p := Patch{Tags: &in.Tags, CustomFields: in.CustomFields}
		if prio != PriorityNormal {
			p.Priority = &prio
		}
		if len(ccIDs) > 0 {
			p.CCIDs = &ccIDs
		}
		if in.TeamID != nil {
			p.TeamID = Ref{Set: true, ID: in.TeamID}
		}
		if in.AssigneeID != nil {
			p.AssigneeID = Ref{Set: true, ID: in.AssigneeID}
		}
		if status != StatusNew {
			p.Status = &status
		}
		if err := s.checkRefs(ctx, tx, p); err != nil {
			return err
		}
		evs, err := Apply(t, p, actor, now, defs)
		if err != nil {
			return err
		}
		if err := checkRequiredFields(t, defs); err != nil {
			return err
		}
		if in.FollowUpOf != nil {
			old, err := tx.TicketForUpdate(ctx, *in.FollowUpOf)
			if err != nil || !actor.CanSee(old) {
				return fault.Field("follow_up_of", "exists", "no ticket you can see has this number")
			}
			t.FollowUpOfID = &old.ID
		}
		if !actor.CanSee(t) {
			// Refused before anything is written: the caller could not
			// open the ticket it asked for.
			return fault.Field("team_id", "member", "you can create tickets only in your teams (or assigned to you)")
		}
		if err := tx.InsertTicket(ctx, t); err != nil {
			return err
		}
		for i := range evs {
			evs[i].TicketID = t.ID
		}
		created := Event{TicketID: t.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "created", After: string(in.Channel), CreatedAt: now}
		if len(t.Tags) > 0 {
			if err := tx.SetTags(ctx, t.ID, t.Tags); err != nil {
				return err
			}
		}
		if len(t.CCIDs) > 0 {
			if err := tx.SetCCs(ctx, t.ID, t.CCIDs); err != nil {
				return err
			}
		}
		m := &Message{
			TicketID: t.ID, Kind: KindCustomer, AuthorContactID: &reqID, BodyText: text, BodyHTML: html,
			Channel: in.Channel, Meta: Fields(in.Meta), CreatedAt: now,
		}
		if m.Meta == nil {
			m.Meta = Fields{}
		}
		if actor.Type == ActorAgent {
			m.Meta["logged_by_agent_id"] = actor.ID
		}
		if err := s.insertMessage(ctx, tx, m, in.Attachments, stored); err != nil {
			return err
		}
		msgEv := Event{TicketID: t.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "message", After: "customer:" + strconv.FormatInt(m.ID, 10), CreatedAt: now}
		evs = append([]Event{created, msgEv}, evs...)
		if t.FollowUpOfID != nil {
			evs = append(evs,
				Event{TicketID: t.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "follow_up_of", After: strconv.FormatInt(*t.FollowUpOfID, 10), CreatedAt: now},
				Event{TicketID: *t.FollowUpOfID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "follow_up", After: strconv.FormatInt(t.ID, 10), CreatedAt: now})
		}
		if err := tx.InsertEvents(ctx, evs); err != nil {
			return err
		}
		out.Ticket = t
		if idem != nil {
			if err := tx.Remember(ctx, actor.ID, idem.Key, Remembered{Fingerprint: idem.Fingerprint, TicketID: t.ID}, now); err != nil {
				return err
			}
		}
		return s.react(ctx, tx, Reaction{Ticket: t, Message: m, Created: true, Actor: actor, Events: evs, Now: now})
	})
}

// checkRefs verifies that the team, assignee, requester and CC contacts a
// patch points to exist (and that the assignee is active).
func (s *Service) checkRefs(ctx context.Context, tx Tx, p Patch) error {
	if p.TeamID.Set && p.TeamID.ID != nil {
		ok, err := tx.TeamExists(ctx, *p.TeamID.ID)
		if err != nil {
			return err
		}
		if !ok {
			return fault.Field("team_id", "exists", "no team has this id")
		}
	}
	if p.AssigneeID.Set && p.AssigneeID.ID != nil {
		ok, err := tx.AgentActive(ctx, *p.AssigneeID.ID)
		if err != nil {
			return err
		}
		if !ok {
			return fault.Field("assignee_id", "exists", "no active agent has this id")
		}
	}
	if p.RequesterID != nil {
		ok, err := tx.ContactExists(ctx, *p.RequesterID)
		if err != nil {
			return err
		}
		if !ok {
			return fault.Field("requester_id", "exists", "no contact has this id")
		}
	}
	if p.CCIDs != nil {
		for _, id := range *p.CCIDs {
			ok, err := tx.ContactExists(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				return fault.Field("cc_ids", "exists", fmt.Sprintf("no contact has id %d", id))
			}
		}
	}
	return nil
}

func (s *Service) saveSets(ctx context.Context, tx Tx, t *Ticket, p Patch) error {
	if p.Tags != nil || len(p.AddTags) > 0 || len(p.RemoveTags) > 0 {
		if err := tx.SetTags(ctx, t.ID, t.Tags); err != nil {
			return err
		}
	}
	if p.CCIDs != nil {
		if err := tx.SetCCs(ctx, t.ID, t.CCIDs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) checkAttachments(atts []NewAttachment) error {
	if len(atts) > s.limits.MaxAttachments {
		return fault.Field("attachments", "max_items", fmt.Sprintf("at most %d attachments per message", s.limits.MaxAttachments))
	}
	for i, a := range atts {
		f := fmt.Sprintf("attachments[%d]", i)
		name := strings.TrimSpace(a.Filename)
		if name == "" || len(name) > 255 || strings.ContainsAny(name, "/\\\x00") {
			return fault.Field(f+".filename", "filename", "must be 1 to 255 characters without slashes")
		}
		if len(a.Data) == 0 {
			return fault.Field(f+".content", "required", "the file is empty")
		}
		if int64(len(a.Data)) > s.limits.MaxAttachmentBytes {
			return fault.Field(f+".content", "max_size", fmt.Sprintf("a file may be at most %d bytes", s.limits.MaxAttachmentBytes))
		}
	}
	return nil
}

type storedFile struct{ sum, contentType string }

// storeFiles writes attachment content before the transaction. Files are
// content-addressed, so a rolled-back transaction leaves at worst an
// unreferenced file, never a row pointing at nothing.
func (s *Service) storeFiles(ctx context.Context, atts []NewAttachment) ([]storedFile, error) {
	out := make([]storedFile, len(atts))
	for i, a := range atts {
		sum, ct, err := s.files.Put(ctx, a.Data)
		if err != nil {
			return nil, fmt.Errorf("storing attachment: %w", err)
		}
		out[i] = storedFile{sum, ct}
	}
	return out, nil
}

func (s *Service) insertMessage(ctx context.Context, tx Tx, m *Message, atts []NewAttachment, stored []storedFile) error {
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	for i, a := range atts {
		att := &Attachment{MessageID: m.ID, Filename: strings.TrimSpace(a.Filename), ContentType: stored[i].contentType,
			Size: int64(len(a.Data)), SHA256: stored[i].sum, CreatedAt: m.CreatedAt}
		if err := tx.InsertAttachment(ctx, att); err != nil {
			return err
		}
		m.Attachments = append(m.Attachments, *att)
	}
	return nil
}

// Get returns a ticket the actor may see.
func (s *Service) Get(ctx context.Context, actor Actor, id int64) (*Ticket, error) {
	t, err := s.store.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.CanSee(t) {
		// Hide existence from those who may not see it.
		return nil, ErrNotFound
	}
	return t, nil
}

// Thread returns a ticket's messages, oldest first. Contacts never see
// internal notes.
func (s *Service) Thread(ctx context.Context, actor Actor, id int64) ([]Message, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	msgs, err := s.store.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.Type == ActorContact {
		msgs = slices.DeleteFunc(msgs, func(m Message) bool { return m.Kind == KindNote || m.Kind == KindEvent })
	}
	return msgs, nil
}

// History returns every event of a ticket, oldest first.
func (s *Service) History(ctx context.Context, actor Actor, id int64) ([]Event, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.store.Events(ctx, id)
}

// List returns the tickets matching f that the actor may see.
func (s *Service) List(ctx context.Context, actor Actor, f Filter) ([]Ticket, error) {
	if f.Sort == "" {
		f.Sort = "-updated"
		if !f.Text.Empty() {
			f.Sort = "relevance"
		}
	}
	if !slices.Contains(Sorts, f.Sort) {
		return nil, fault.Field("sort", "enum", "must be one of "+strings.Join(Sorts, ", "))
	}
	if f.Sort == "relevance" && f.Text.Empty() {
		return nil, fault.Field("sort", "needs_query", "relevance needs a search query (q)")
	}
	if err := f.normalise(); err != nil {
		return nil, err
	}
	if actor.Type != ActorSystem && actor.Role != agent.RoleAdmin {
		a := actor
		f.VisibleTo = &a
	}
	return s.store.Tickets(ctx, f)
}

// Count counts the tickets matching f that the actor may see, up to
// f.Limit when it is positive.
func (s *Service) Count(ctx context.Context, actor Actor, f Filter) (int64, error) {
	if err := f.normalise(); err != nil {
		return 0, err
	}
	if actor.Type != ActorSystem && actor.Role != agent.RoleAdmin {
		a := actor
		f.VisibleTo = &a
	}
	return s.store.CountMatching(ctx, f)
}

// Attachment returns an attachment's record if the actor may see its ticket.
func (s *Service) Attachment(ctx context.Context, actor Actor, id int64) (*Attachment, error) {
	a, ticketID, err := s.store.Attachment(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, actor, ticketID); err != nil {
		return nil, ErrAttachmentNotFound
	}
	return a, nil
}

// FieldDefs lists the custom field definitions.
func (s *Service) FieldDefs(ctx context.Context) ([]FieldDef, error) { return s.store.FieldDefs(ctx) }

// Update applies a patch to a ticket the actor may see.
func (s *Service) Update(ctx context.Context, actor Actor, id int64, p Patch) (*Ticket, error) {
	now := s.clock()
	var out *Ticket
	changed := false
	err := s.store.TicketTx(ctx, func(tx Tx) error {
		var err error
		out, changed, err = s.update(ctx, tx, actor, id, p, now)
		return err
	})
	if err == nil && changed {
		s.changed(out, "updated", actor)
	}
	return out, err
}

// UpdateIn applies a patch inside the caller's transaction (rules,
// escalation, the assignment of a new ticket): validated, recorded and
// reacted to exactly as Update's, told to live views after commit.
func (s *Service) UpdateIn(ctx context.Context, tx Tx, actor Actor, id int64, p Patch, now time.Time) (*Ticket, bool, error) {
	t, changed, err := s.update(ctx, tx, actor, id, p, now)
	if err == nil && changed {
		tx.AfterCommit(func() { s.changed(t, "updated", actor) })
	}
	return t, changed, err
}

func (s *Service) update(ctx context.Context, tx Tx, actor Actor, id int64, p Patch, now time.Time) (*Ticket, bool, error) {
	t, err := tx.TicketForUpdate(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if !actor.CanSee(t) {
		return nil, false, ErrNotFound
	}
	if p.IfVersion != nil && *p.IfVersion != t.Version {
		return nil, false, ErrStale
	}
	if err := checkBase(t, p); err != nil {
		return nil, false, err
	}
	if err := s.checkRefs(ctx, tx, p); err != nil {
		return nil, false, err
	}
	defs, err := tx.TxFieldDefs(ctx)
	if err != nil {
		return nil, false, err
	}
	evs, err := Apply(t, p, actor, now, defs)
	if err != nil {
		return nil, false, err
	}
	if len(evs) == 0 {
		return t, false, nil
	}
	if err := tx.UpdateTicket(ctx, t); err != nil {
		return nil, false, err
	}
	if err := s.saveSets(ctx, tx, t, p); err != nil {
		return nil, false, err
	}
	if err := tx.InsertEvents(ctx, evs); err != nil {
		return nil, false, err
	}
	if slices.ContainsFunc(evs, func(e Event) bool { return e.Field == "subject" }) {
		if err := tx.Reindex(ctx, id); err != nil {
			return nil, false, err
		}
	}
	if err := s.react(ctx, tx, Reaction{Ticket: t, Actor: actor, Events: evs, Now: now}); err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// Record writes events about a ticket that no patch describes (a rule
// that acted, an escalation) inside the caller's transaction.
func (s *Service) Record(ctx context.Context, tx Tx, evs ...Event) error {
	return tx.InsertEvents(ctx, evs)
}

// NewMessage is the input to AddMessage.
type NewMessage struct {
	Kind        MessageKind
	BodyText    string
	BodyHTML    string
	Attachments []NewAttachment
	// Status optionally moves the ticket with the message ("send and set
	// status"); only for replies and notes.
	Status *Status
	// Automatic marks replies sent by rules or bots: they never count as
	// the human reply SLA and metrics wait for.
	Automatic bool
	// AuthorContactID is the customer writing, for customer messages added
	// by an agent or an integration on their behalf (default: requester).
	AuthorContactID *int64
	Channel         Channel
	Meta            map[string]any
	// Idem, when set (agents only), makes the message idempotent.
	Idem *Idempotency
}

// Added reports what AddMessage did. When a customer writes on a closed
// ticket, a new follow-up ticket is opened and returned as Ticket.
// Replayed means an earlier request with the same idempotency key added
// Message, and nothing was written now.
type Added struct {
	Ticket   *Ticket
	Message  *Message
	FollowUp bool
	Replayed bool
}

// AddMessage appends a message to a ticket and applies its lifecycle
// effects: the first human public reply stamps FirstReplyAt and opens a
// new ticket; a customer message reopens pending, on-hold and solved
// tickets, and on a closed ticket opens a linked follow-up.
func (s *Service) AddMessage(ctx context.Context, actor Actor, id int64, in NewMessage) (*Added, error) {
	now := s.clock()
	if !in.Kind.Valid() {
		return nil, fault.Field("kind", "enum", "must be one of reply, note, customer")
	}
	if in.Kind == KindEvent && actor.Type != ActorSystem {
		return nil, fault.Field("kind", "enum", "system events are written by Sportello itself")
	}
	if in.Kind == KindCustomer && in.Status != nil {
		return nil, fault.Field("status", "not_allowed", "a customer message cannot set the status")
	}
	if in.Channel == "" {
		in.Channel = ChannelAPI
	}
	if !in.Channel.Valid() {
		return nil, fault.Field("channel", "enum", "must be one of email, web, chat, telegram, phone, api")
	}
	text, html, err := s.sanitize.Body("body", in.BodyText, in.BodyHTML)
	if err != nil {
		return nil, err
	}
	if err := s.checkAttachments(in.Attachments); err != nil {
		return nil, err
	}
	if err := checkKey("Idempotency-Key", in.Idem); err != nil {
		return nil, err
	}
	stored, err := s.storeFiles(ctx, in.Attachments)
	if err != nil {
		return nil, err
	}
	out := &Added{}
	for attempt := 0; ; attempt++ {
		err = s.addMessage(ctx, actor, id, in, text, html, stored, now, out)
		if errors.Is(err, ErrKeyTaken) && attempt == 0 {
			continue // a concurrent twin stored the key: answer as its replay
		}
		break
	}
	if err != nil {
		return nil, err
	}
	if out.Replayed {
		msgs, err := s.store.Messages(ctx, out.Ticket.ID)
		if err != nil {
			return nil, err
		}
		for i := range msgs {
			if msgs[i].ID == out.Message.ID {
				out.Message = &msgs[i]
			}
		}
		return out, nil
	}
	if out.FollowUp {
		s.changed(out.Ticket, "created", actor)
	}
	s.changed(out.Ticket, string(out.Message.Kind), actor)
	return out, nil
}

// AddMessageIn adds a note or reply (no attachments) inside the caller's
// transaction: what rules and escalations write. Its effects are those of
// AddMessage; live views hear of it after commit.
func (s *Service) AddMessageIn(ctx context.Context, tx Tx, actor Actor, id int64, in NewMessage, now time.Time) (*Added, error) {
	if in.Kind != KindNote && in.Kind != KindReply {
		return nil, fault.Field("kind", "enum", "must be reply or note")
	}
	if in.Channel == "" {
		in.Channel = ChannelAPI
	}
	text, html, err := s.sanitize.Body("body", in.BodyText, in.BodyHTML)
	if err != nil {
		return nil, err
	}
	in.Idem, in.Attachments = nil, nil
	out := &Added{}
	if err := s.addIn(ctx, tx, actor, id, in, text, html, nil, now, out); err != nil {
		return nil, err
	}
	t, kind := out.Ticket, string(out.Message.Kind)
	tx.AfterCommit(func() { s.changed(t, kind, actor) })
	return out, nil
}

func (s *Service) addMessage(ctx context.Context, actor Actor, id int64, in NewMessage, text, html string, stored []storedFile, now time.Time, out *Added) error {
	return s.store.TicketTx(ctx, func(tx Tx) error {
		return s.addIn(ctx, tx, actor, id, in, text, html, stored, now, out)
	})
}

func (s *Service) addIn(ctx context.Context, tx Tx, actor Actor, id int64, in NewMessage, text, html string, stored []storedFile, now time.Time, out *Added) error {
	{
		*out = Added{}
		if in.Idem != nil {
			scope, key := keyScope(actor, in.Idem)
			rec, ok, err := tx.Remembered(ctx, scope, key)
			if err != nil {
				return err
			}
			if ok {
				if rec.Fingerprint != in.Idem.Fingerprint || rec.MessageID == nil {
					return errKeyReused("Idempotency-Key")
				}
				t, err := tx.TicketForUpdate(ctx, rec.TicketID)
				if err != nil {
					return err
				}
				out.Ticket, out.Message, out.Replayed = t, &Message{ID: *rec.MessageID, TicketID: rec.TicketID}, true
				return nil
			}
		}
		t, err := tx.TicketForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if !actor.CanSee(t) {
			return ErrNotFound
		}
		m := &Message{Kind: in.Kind, BodyText: text, BodyHTML: html, Channel: in.Channel, Meta: Fields(in.Meta), CreatedAt: now}
		if m.Meta == nil {
			m.Meta = Fields{}
		}
		if in.Automatic {
			m.Meta["automatic"] = true
		}
		switch {
		case in.Kind == KindCustomer:
			author := t.RequesterID
			if in.AuthorContactID != nil {
				ok, err := tx.ContactExists(ctx, *in.AuthorContactID)
				if err != nil {
					return err
				}
				if !ok {
					return fault.Field("author_contact_id", "exists", "no contact has this id")
				}
				author = *in.AuthorContactID
			} else if actor.Type == ActorContact {
				author = actor.ID
			}
			m.AuthorContactID = &author
			if actor.Type == ActorAgent {
				m.Meta["logged_by_agent_id"] = actor.ID
			}
			// Each customer message keeps the language it was written
			// in; a ticket without a language takes it (one set, by
			// detection or by an agent, stays: a customer who writes
			// one line in English does not move an Italian case).
			if s.limits.DetectLanguage != nil {
				if lang := s.limits.DetectLanguage(text); lang != "" {
					m.Meta["language"] = lang
				}
			}
		case actor.Type == ActorAgent:
			m.AuthorAgentID = actor.idPtr()
		}
		if t.Status == StatusClosed {
			if in.Kind != KindCustomer {
				return ErrClosed
			}
			return s.followUp(ctx, tx, actor, t, m, in, stored, now, out)
		}
		c := &change{t: t, actor: actor, now: now}
		switch in.Kind {
		case KindReply:
			human := actor.Type == ActorAgent && !in.Automatic
			if human && t.FirstReplyAt == nil {
				t.FirstReplyAt = timeOf(now)
				c.record("first_reply", "", now.Format(time.RFC3339))
			}
			if in.Status == nil && t.Status == StatusNew && human {
				if err := c.setStatus(StatusOpen); err != nil {
					return err
				}
			}
		case KindCustomer:
			switch t.Status {
			case StatusPending, StatusOnHold, StatusSolved:
				if err := c.setStatus(StatusOpen); err != nil {
					return err
				}
			}
			if lang, _ := m.Meta["language"].(string); t.Language == "" && lang != "" {
				c.record("language", "", lang)
				t.Language = lang
			}
		}
		if in.Status != nil {
			if err := c.setStatus(*in.Status); err != nil {
				return err
			}
		}
		m.TicketID = t.ID
		if err := s.insertMessage(ctx, tx, m, in.Attachments, stored); err != nil {
			return err
		}
		evs := append([]Event{{TicketID: t.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "message",
			After: string(m.Kind) + ":" + strconv.FormatInt(m.ID, 10), CreatedAt: now}}, c.events...)
		t.UpdatedAt = now
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return err
		}
		if err := tx.InsertEvents(ctx, evs); err != nil {
			return err
		}
		out.Ticket, out.Message = t, m
		if err := s.remember(ctx, tx, actor, in.Idem, t.ID, m.ID, now); err != nil {
			return err
		}
		return s.react(ctx, tx, Reaction{Ticket: t, Message: m, Actor: actor, Events: evs, Now: now})
	}
}

// remember stores what an idempotent message made.
func (s *Service) remember(ctx context.Context, tx Tx, actor Actor, k *Idempotency, ticketID, messageID int64, now time.Time) error {
	if k == nil {
		return nil
	}
	scope, key := keyScope(actor, k)
	return tx.Remember(ctx, scope, key, Remembered{Fingerprint: k.Fingerprint, TicketID: ticketID, MessageID: &messageID}, now)
}

// keyScope is where an idempotency key is kept: an agent's keys are
// theirs, the system's are agent 0's, and a customer's (a portal reply
// sent again by Back) are kept among the system's under their own
// prefix, so that contact and agent numbers never meet.
func keyScope(actor Actor, k *Idempotency) (int64, string) {
	if actor.Type == ActorContact {
		return 0, "contact:" + strconv.FormatInt(actor.ID, 10) + ":" + k.Key
	}
	return actor.ID, k.Key
}

// followUp opens a new ticket linked to the closed one t, carrying the
// customer's message (DOMAIN.md §2).
func (s *Service) followUp(ctx context.Context, tx Tx, actor Actor, old *Ticket, m *Message, in NewMessage, stored []storedFile, now time.Time, out *Added) error {
	oldID := old.ID
	nt := &Ticket{
		Subject: old.Subject, Status: StatusNew, Priority: old.Priority, Channel: in.Channel,
		RequesterID: old.RequesterID, TeamID: old.TeamID, Language: old.Language,
		CustomFields: Fields{}, FollowUpOfID: &oldID, CreatedAt: now, UpdatedAt: now,
		Tags: slices.Clone(old.Tags), CCIDs: slices.Clone(old.CCIDs),
	}
	if err := tx.InsertTicket(ctx, nt); err != nil {
		return err
	}
	if err := tx.SetTags(ctx, nt.ID, nt.Tags); err != nil {
		return err
	}
	if err := tx.SetCCs(ctx, nt.ID, nt.CCIDs); err != nil {
		return err
	}
	m.TicketID = nt.ID
	if err := s.insertMessage(ctx, tx, m, in.Attachments, stored); err != nil {
		return err
	}
	newID := strconv.FormatInt(nt.ID, 10)
	evs := []Event{
		{TicketID: nt.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "created", After: string(in.Channel), CreatedAt: now},
		{TicketID: nt.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "follow_up_of", After: strconv.FormatInt(oldID, 10), CreatedAt: now},
		{TicketID: nt.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "message", After: "customer:" + strconv.FormatInt(m.ID, 10), CreatedAt: now},
		{TicketID: oldID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "follow_up", After: newID, CreatedAt: now},
	}
	if err := tx.InsertEvents(ctx, evs); err != nil {
		return err
	}
	out.Ticket, out.Message, out.FollowUp = nt, m, true
	if err := s.remember(ctx, tx, actor, in.Idem, nt.ID, m.ID, now); err != nil {
		return err
	}
	return s.react(ctx, tx, Reaction{Ticket: nt, Message: m, Created: true, Actor: actor, Events: evs, Now: now})
}

// Merge folds source into target: the source's messages move to the target,
// the source is closed with a link, and both histories record it. The
// target's clocks are untouched (DOMAIN.md §2).
func (s *Service) Merge(ctx context.Context, actor Actor, sourceID, targetID int64) (*Ticket, error) {
	if sourceID == targetID {
		return nil, fault.Field("target", "different", "a ticket cannot be merged into itself")
	}
	now := s.clock()
	var out, merged *Ticket
	err := s.store.TicketTx(ctx, func(tx Tx) error {
		// Lock in id order so that two opposite merges cannot deadlock.
		first, second := min(sourceID, targetID), max(sourceID, targetID)
		a, err := tx.TicketForUpdate(ctx, first)
		if err != nil {
			if first == targetID {
				return fault.Field("target", "exists", "no ticket has this number")
			}
			return err
		}
		b, err := tx.TicketForUpdate(ctx, second)
		if err != nil {
			if second == targetID {
				return fault.Field("target", "exists", "no ticket has this number")
			}
			return err
		}
		src, dst := a, b
		if first == targetID {
			src, dst = b, a
		}
		if !actor.CanSee(src) {
			return ErrNotFound
		}
		if !actor.CanSee(dst) {
			return fault.Field("target", "exists", "no ticket has this number")
		}
		if src.Status == StatusClosed {
			return ErrClosed
		}
		if dst.Status == StatusClosed {
			return fault.Field("target", "open", "cannot merge into a closed ticket")
		}
		if err := tx.MoveMessages(ctx, src.ID, dst.ID); err != nil {
			return err
		}
		// The source's requester keeps hearing about the request.
		evs := []Event{}
		if src.RequesterID != dst.RequesterID && !slices.Contains(dst.CCIDs, src.RequesterID) {
			before := joinIDs(dst.CCIDs)
			dst.CCIDs = append(dst.CCIDs, src.RequesterID)
			slices.Sort(dst.CCIDs)
			if err := tx.SetCCs(ctx, dst.ID, dst.CCIDs); err != nil {
				return err
			}
			evs = append(evs, Event{TicketID: dst.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "cc", Before: before, After: joinIDs(dst.CCIDs), CreatedAt: now})
		}
		dstID := dst.ID
		src.MergedIntoID = &dstID
		prev := src.Status
		src.Status = StatusClosed
		src.ClosedAt = timeOf(now)
		src.UpdatedAt = now
		dst.UpdatedAt = now
		if err := tx.UpdateTicket(ctx, src); err != nil {
			return err
		}
		if err := tx.UpdateTicket(ctx, dst); err != nil {
			return err
		}
		evs = append(evs,
			Event{TicketID: src.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "merged_into", After: strconv.FormatInt(dst.ID, 10), CreatedAt: now},
			Event{TicketID: src.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "status", Before: string(prev), After: string(StatusClosed), CreatedAt: now},
			Event{TicketID: dst.ID, ActorType: actor.Type, ActorID: actor.idPtr(), Field: "merged_from", After: strconv.FormatInt(src.ID, 10), CreatedAt: now},
		)
		if err := tx.InsertEvents(ctx, evs); err != nil {
			return err
		}
		out, merged = dst, src
		return s.react(ctx, tx, Reaction{Ticket: src, Actor: actor, Now: now}, Reaction{Ticket: dst, Actor: actor, Now: now})
	})
	if err == nil {
		s.changed(merged, "merged", actor)
		s.changed(out, "merged", actor)
	}
	return out, err
}

// PhoneDigits counts the digits of a phone number as typed.
func PhoneDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
