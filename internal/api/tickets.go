package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/search"
	"github.com/sportello/sportello/internal/ticket"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// listTickets: GET /api/v1/tickets?q=&status=&priority=&team=&assignee=&tag=&requester=&organisation=&channel=&sort=&page=&per_page=
// q searches subjects and messages (Italian and English stems; every word
// must match) and orders by relevance unless sort says otherwise.
func (h *handler) listTickets(w http.ResponseWriter, r *http.Request) error {
	p, err := pagination(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := ticket.Filter{Sort: q.Get("sort"), Limit: p.limit(), Offset: p.offset(), Tag: q.Get("tag"), Channel: ticket.Channel(q.Get("channel"))}
	var c fault.Checker
	for _, s := range splitList(q.Get("status")) {
		f.Statuses = append(f.Statuses, ticket.Status(s))
	}
	for _, s := range splitList(q.Get("priority")) {
		pr, ok := ticket.ParsePriority(s)
		c.Check(ok, "priority", "enum", "must be among low, normal, high, urgent")
		f.Priorities = append(f.Priorities, pr)
	}
	switch v := q.Get("team"); v {
	case "":
	case "none":
		f.NoTeam = true
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		c.Check(err == nil && id > 0, "team", "id", "must be a team id or none")
		f.TeamID = &id
	}
	switch v := q.Get("assignee"); v {
	case "":
	case "none":
		f.NoAssignee = true
	case "me":
		id := current(r).ID
		f.AssigneeID = &id
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		c.Check(err == nil && id > 0, "assignee", "id", "must be an agent id, me or none")
		f.AssigneeID = &id
	}
	if v := q.Get("requester"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		c.Check(err == nil && id > 0, "requester", "id", "must be a contact id")
		f.RequesterID = &id
	}
	switch v := q.Get("sla"); v {
	case "":
	case ticket.SLAAtRisk, ticket.SLABreached:
		f.SLA, f.SLANow = v, h.now()
	default:
		c.Add("sla", "enum", "must be at_risk or breached")
	}
	if v := q.Get("organisation"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		c.Check(err == nil && id > 0, "organisation", "id", "must be an organisation id")
		f.OrgID = &id
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		f.Text = search.Parse(v)
		c.Check(!f.Text.Empty(), "q", "too_common", "holds only words too common to search for")
	}
	if err := c.Err(); err != nil {
		return err
	}
	ts, err := h.Tickets.List(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	out := make([]TicketJSON, len(ts))
	for i := range ts {
		out[i] = ticketJSON(&ts[i])
	}
	return httpx.JSON(w, http.StatusOK, listOf(out, p))
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

type attachmentIn struct {
	Filename      string `json:"filename"`
	ContentBase64 string `json:"content_base64"`
}

func decodeAttachments(in []attachmentIn) ([]ticket.NewAttachment, error) {
	out := make([]ticket.NewAttachment, len(in))
	for i, a := range in {
		data, err := base64.StdEncoding.DecodeString(a.ContentBase64)
		if err != nil {
			return nil, fault.Field(fmt.Sprintf("attachments[%d].content_base64", i), "base64", "must be standard base64")
		}
		out[i] = ticket.NewAttachment{Filename: a.Filename, Data: data}
	}
	return out, nil
}

type createTicketIn struct {
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	BodyHTML  string `json:"body_html"`
	Requester struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"requester"`
	CCEmails     []string       `json:"cc_emails"`
	Channel      string         `json:"channel"`
	Priority     string         `json:"priority"`
	Status       string         `json:"status"`
	TeamID       *int64         `json:"team_id"`
	AssigneeID   *int64         `json:"assignee_id"`
	Tags         []string       `json:"tags"`
	Language     string         `json:"language"`
	CustomFields map[string]any `json:"custom_fields"`
	Attachments  []attachmentIn `json:"attachments"`
}

type createdTicketJSON struct {
	TicketJSON
	RequesterCreated bool          `json:"requester_created"`
	Messages         []MessageJSON `json:"messages"`
}

// createTicket: POST /api/v1/tickets — also on behalf of a customer by
// requester email and name, finding or creating the contact.
func (h *handler) createTicket(w http.ResponseWriter, r *http.Request) error {
	var in createTicketIn
	if err := httpx.Decode(w, r, h.MaxUpload, &in); err != nil {
		return err
	}
	nt := ticket.NewTicket{
		Subject: in.Subject, BodyText: in.Body, BodyHTML: in.BodyHTML,
		Requester: ticket.Requester{ID: in.Requester.ID, Email: in.Requester.Email, Name: in.Requester.Name, Phone: in.Requester.Phone},
		CCEmails:  in.CCEmails, Channel: ticket.Channel(in.Channel), TeamID: in.TeamID, AssigneeID: in.AssigneeID,
		Tags: in.Tags, Language: in.Language, CustomFields: in.CustomFields,
	}
	if in.Priority != "" {
		p, ok := ticket.ParsePriority(in.Priority)
		if !ok {
			return fault.Field("priority", "enum", "must be one of low, normal, high, urgent")
		}
		nt.Priority = &p
	}
	if in.Status != "" {
		s := ticket.Status(in.Status)
		nt.Status = &s
	}
	atts, err := decodeAttachments(in.Attachments)
	if err != nil {
		return err
	}
	nt.Attachments = atts
	nt.Idem = idempotency(r, in)
	res, err := h.Tickets.Create(r.Context(), actorOf(r), nt)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if h.OnTicketCreated != nil && !res.Replayed {
		h.OnTicketCreated(string(res.Ticket.Channel))
	}
	msgs, err := h.Tickets.Thread(r.Context(), actorOf(r), res.Ticket.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tickets/"+itoa(res.Ticket.ID))
	setETag(w, res.Ticket)
	return httpx.JSON(w, http.StatusCreated, createdTicketJSON{TicketJSON: ticketJSON(res.Ticket), RequesterCreated: res.RequesterCreated, Messages: messagesJSON(msgs)})
}

func messagesJSON(ms []ticket.Message) []MessageJSON {
	out := make([]MessageJSON, len(ms))
	for i := range ms {
		out[i] = messageJSON(&ms[i])
	}
	return out
}

type ticketWithThread struct {
	TicketJSON
	Messages []MessageJSON `json:"messages"`
}

// getTicket: GET /api/v1/tickets/{number}
func (h *handler) getTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	t, err := h.Tickets.Get(r.Context(), actorOf(r), id)
	if err != nil {
		return err
	}
	msgs, err := h.Tickets.Thread(r.Context(), actorOf(r), id)
	if err != nil {
		return err
	}
	setETag(w, t)
	return httpx.JSON(w, http.StatusOK, ticketWithThread{TicketJSON: ticketJSON(t), Messages: messagesJSON(msgs)})
}

// idempotency reads the Idempotency-Key header of a create or reply: the
// same key with the same request answers with what the first one made;
// with another request it is refused (422). The fingerprint covers the
// path and the decoded body, so formatting differences do not matter.
func idempotency(r *http.Request, in any) *ticket.Idempotency {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil
	}
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), b...))
	return &ticket.Idempotency{Key: key, Fingerprint: hex.EncodeToString(sum[:])}
}

// setETag names the ticket's version; PATCH honours it in If-Match.
func setETag(w http.ResponseWriter, t *ticket.Ticket) {
	w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, t.Version))
}

// ifMatch reads an If-Match header naming one ticket version (or "*",
// which matches any); nil when absent.
func ifMatch(r *http.Request) (*int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h, "W/"), `"v`), `"`), 10, 64)
	if err != nil || !strings.HasPrefix(strings.TrimPrefix(h, "W/"), `"v`) {
		return nil, &httpx.Error{Status: http.StatusBadRequest, Detail: `If-Match must be an ETag of this ticket, such as "v3"`,
			Errors: []fault.Problem{{Field: "If-Match", Rule: "etag", Detail: `must be an ETag such as "v3"`}}}
	}
	return &v, nil
}

type updateTicketIn struct {
	Subject      *string        `json:"subject"`
	Status       *string        `json:"status"`
	Priority     *string        `json:"priority"`
	Language     *string        `json:"language"`
	RequesterID  *int64         `json:"requester_id"`
	TeamID       optID          `json:"team_id"`
	AssigneeID   optID          `json:"assignee_id"`
	Tags         *[]string      `json:"tags"`
	AddTags      []string       `json:"add_tags"`
	RemoveTags   []string       `json:"remove_tags"`
	CCIDs        *[]int64       `json:"cc_ids"`
	CustomFields map[string]any `json:"custom_fields"`
}

// updateTicket: PATCH /api/v1/tickets/{number}
func (h *handler) updateTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	var in updateTicketIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	ver, err := ifMatch(r)
	if err != nil {
		return err
	}
	p := ticket.Patch{IfVersion: ver, Subject: in.Subject, Language: in.Language, RequesterID: in.RequesterID, TeamID: in.TeamID.ref(),
		AssigneeID: in.AssigneeID.ref(), Tags: in.Tags, AddTags: in.AddTags, RemoveTags: in.RemoveTags, CCIDs: in.CCIDs,
		CustomFields: in.CustomFields}
	if in.Status != nil {
		s := ticket.Status(*in.Status)
		p.Status = &s
	}
	if in.Priority != nil {
		pr, ok := ticket.ParsePriority(*in.Priority)
		if !ok {
			return fault.Field("priority", "enum", "must be one of low, normal, high, urgent")
		}
		p.Priority = &pr
	}
	t, err := h.Tickets.Update(r.Context(), actorOf(r), id, p)
	if err != nil {
		return err
	}
	setETag(w, t)
	return httpx.JSON(w, http.StatusOK, ticketJSON(t))
}

type messageIn struct {
	Kind            string         `json:"kind"`
	Body            string         `json:"body"`
	BodyHTML        string         `json:"body_html"`
	Status          string         `json:"status"`
	Automatic       bool           `json:"automatic"`
	AuthorContactID *int64         `json:"author_contact_id"`
	Channel         string         `json:"channel"`
	Attachments     []attachmentIn `json:"attachments"`
}

type messageAdded struct {
	Ticket   TicketJSON  `json:"ticket"`
	Message  MessageJSON `json:"message"`
	FollowUp bool        `json:"follow_up"`
}

// addMessage: POST /api/v1/tickets/{number}/messages — a public reply, an
// internal note, or a customer message logged on the customer's behalf.
func (h *handler) addMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	var in messageIn
	if err := httpx.Decode(w, r, h.MaxUpload, &in); err != nil {
		return err
	}
	if in.Kind == "" {
		return fault.Field("kind", "required", "must be one of reply, note, customer")
	}
	if in.Kind == string(ticket.KindEvent) {
		return fault.Field("kind", "enum", "must be one of reply, note, customer")
	}
	nm := ticket.NewMessage{Kind: ticket.MessageKind(in.Kind), BodyText: in.Body, BodyHTML: in.BodyHTML, Automatic: in.Automatic,
		AuthorContactID: in.AuthorContactID, Channel: ticket.Channel(in.Channel)}
	if in.Status != "" {
		s := ticket.Status(in.Status)
		nm.Status = &s
	}
	if nm.Attachments, err = decodeAttachments(in.Attachments); err != nil {
		return err
	}
	nm.Idem = idempotency(r, in)
	res, err := h.Tickets.AddMessage(r.Context(), actorOf(r), id, nm)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if res.FollowUp && h.OnTicketCreated != nil {
		h.OnTicketCreated(string(res.Ticket.Channel))
	}
	return httpx.JSON(w, http.StatusCreated, messageAdded{Ticket: ticketJSON(res.Ticket), Message: messageJSON(res.Message), FollowUp: res.FollowUp})
}

type mergeIn struct {
	Into int64 `json:"into"`
}

// mergeTicket: POST /api/v1/tickets/{number}/merge {"into": N}
func (h *handler) mergeTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	var in mergeIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	if in.Into <= 0 {
		return fault.Field("into", "required", "give the number of the ticket to merge into")
	}
	t, err := h.Tickets.Merge(r.Context(), actorOf(r), id, in.Into)
	if err != nil {
		var ve *fault.ValidationError
		if errors.As(err, &ve) && len(ve.Problems) > 0 && ve.Problems[0].Field == "target" {
			ve.Problems[0].Field = "into"
		}
		return err
	}
	return httpx.JSON(w, http.StatusOK, ticketJSON(t))
}

// ticketHistory: GET /api/v1/tickets/{number}/history
func (h *handler) ticketHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "number")
	if err != nil {
		return err
	}
	evs, err := h.Tickets.History(r.Context(), actorOf(r), id)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	out := make([]EventJSON, len(evs))
	for i, e := range evs {
		out[i] = EventJSON{ID: e.ID, Field: e.Field, Before: e.Before, After: e.After, ActorType: string(e.ActorType), ActorID: e.ActorID, At: e.CreatedAt}
		if e.ActorType == ticket.ActorAgent && e.ActorID != nil {
			name, ok := names[*e.ActorID]
			if !ok {
				if a, err := h.Store.Agent(r.Context(), *e.ActorID); err == nil {
					name = a.Name
				}
				names[*e.ActorID] = name
			}
			out[i].ActorName = name
		}
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// getRawMail: GET /api/v1/tickets/{number}/messages/{id}/raw — the mail a
// message came in, exactly as received (.eml), for a ticket the caller
// may see.
func (h *handler) getRawMail(w http.ResponseWriter, r *http.Request) error {
	num, err := pathID(r, "number")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	msgs, err := h.Tickets.Thread(r.Context(), actorOf(r), num)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.ID != id {
			continue
		}
		sum, _ := m.Meta["raw_sha256"].(string)
		if sum == "" {
			break
		}
		f, err := h.Files.Open(r.Context(), sum)
		if err != nil {
			return fmt.Errorf("opening the raw mail of message %d: %w", id, err)
		}
		defer f.Close()
		w.Header().Set("Content-Type", "message/rfc822")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("ticket-%d-message-%d.eml", num, id)}))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
		http.ServeContent(w, r, "", m.CreatedAt, f)
		return nil
	}
	return fmt.Errorf("raw mail of message %d: %w", id, fault.NotFound)
}

// getInlineImage: GET /api/v1/inline/{id}?exp=&sig= — a mail's inline
// (cid:) raster image for the sandboxed frame that shows the mail; the
// signed, expiring link is the permission (the frame sends no cookie).
func (h *handler) getInlineImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if h.InlineOK == nil || !h.InlineOK(id, q.Get("exp"), q.Get("sig")) {
		return fmt.Errorf("inline image %d: %w", id, fault.NotFound)
	}
	a, err := h.Tickets.Attachment(r.Context(), ticket.System, id)
	if err != nil {
		return err
	}
	switch a.ContentType {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
	default:
		return fmt.Errorf("inline image %d: %w", id, fault.NotFound)
	}
	f, err := h.Files.Open(r.Context(), a.SHA256)
	if err != nil {
		return fmt.Errorf("opening attachment %d: %w", a.ID, err)
	}
	defer f.Close()
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", a.CreatedAt, f)
	return nil
}

// getAttachment: GET /api/v1/attachments/{id} — always as a download, with
// the sniffed type and no chance for the browser to run it.
func (h *handler) getAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.Tickets.Attachment(r.Context(), actorOf(r), id)
	if err != nil {
		return err
	}
	f, err := h.Files.Open(r.Context(), a.SHA256)
	if err != nil {
		return fmt.Errorf("opening attachment %d: %w", a.ID, err)
	}
	defer f.Close()
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", a.CreatedAt, f)
	return nil
}
