package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/ticket"
)

func (h *handler) parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return fault.Field("form", "size", "the form is too large")
	}
	return httpx.CheckValues(r.PostForm)
}

// parseComposer reads the composer form: urlencoded, or multipart when it
// carries files, up to MaxUpload bytes. Files come back as attachments.
func (h *handler) parseComposer(w http.ResponseWriter, r *http.Request) ([]ticket.NewAttachment, error) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return nil, h.parseForm(w, r, 2<<20)
	}
	limit := h.MaxUpload
	if limit <= 0 {
		limit = 35 << 20
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return nil, fault.Field("attachments", "size", "the files are too large")
	}
	if err := httpx.CheckValues(r.MultipartForm.Value); err != nil {
		return nil, err
	}
	var out []ticket.NewAttachment
	for _, fh := range r.MultipartForm.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // an empty file input
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("reading upload %q: %w", fh.Filename, err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading upload %q: %w", fh.Filename, err)
		}
		out = append(out, ticket.NewAttachment{Filename: fh.Filename, Data: data})
	}
	return out, nil
}

// formIdem turns a form's one-time token into the idempotency of what it
// creates: Back and resubmit, or a double click, make one ticket or reply.
// The content is not compared (the agent may have edited after Back);
// the first send wins and the second lands on its result.
func formIdem(v url.Values) *ticket.Idempotency {
	tok := v.Get("form_token")
	if tok == "" {
		return nil
	}
	return &ticket.Idempotency{Key: "form:" + tok, Fingerprint: "form"}
}

// problemsOf returns the field problems of a validation error, or nil.
func problemsOf(err error) []fault.Problem {
	var ve *fault.ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	return nil
}

// ticketReply: POST /tickets/{number}/messages — a public reply or an
// internal note, optionally setting the status; on error the page comes
// back with the text kept and the error under the field.
func (h *handler) ticketReply(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	atts, err := h.parseComposer(w, r)
	if err != nil {
		if ps := problemsOf(err); ps != nil && (ps[0].Field == "attachments" || ps[0].Field == "form") {
			// Too large: the form could not be read; the text comes back
			// from the draft the page saved while the agent typed.
			c := composer{Kind: "reply", Error: pr.T("composer.too_large")}
			if dr, derr := h.Store.LoadDraft(r.Context(), a.ID, n); derr == nil && dr != nil {
				c.Kind, c.Body = dr.Kind, dr.Body
			}
			return h.ticketPage(w, r, n, http.StatusRequestEntityTooLarge, &c, nil)
		}
		return err
	}
	c := composer{Kind: r.PostFormValue("kind"), Body: r.PostFormValue("body"), Status: r.PostFormValue("status")}
	if c.Kind != "note" {
		c.Kind = "reply"
	}
	c.Token = r.PostFormValue("form_token")
	c.CC = r.PostFormValue("cc")
	if r.PostForm.Has("cc") && normaliseList(c.CC) != normaliseList(r.PostFormValue("was_cc")) {
		// The agent changed who is copied: the CCs change first, so that
		// the reply goes to the new list.
		if err := h.setCCs(r, a, n, c.CC); err != nil {
			ps := problemsOf(err)
			if ps == nil {
				return err
			}
			c.CCError = pr.T("composer.cc_invalid", "Address", ps[0].Detail)
			return h.ticketPage(w, r, n, http.StatusUnprocessableEntity, &c, nil)
		}
	}
	nm := ticket.NewMessage{Kind: ticket.MessageKind(c.Kind), BodyText: c.Body, Channel: ticket.ChannelWeb, Attachments: atts, Idem: formIdem(r.PostForm)}
	if c.Status != "" {
		st := ticket.Status(c.Status)
		nm.Status = &st
	}
	if _, err := h.Tickets.AddMessage(r.Context(), ticket.AgentActor(a), n, nm); err != nil {
		ps := problemsOf(err)
		if ps == nil {
			return err
		}
		c.Error = pr.T("form." + ps[0].Rule)
		if strings.HasPrefix(ps[0].Field, "attachments") {
			c.Error = pr.T("composer.attachment_" + ps[0].Rule)
		}
		return h.ticketPage(w, r, n, http.StatusUnprocessableEntity, &c, nil)
	}
	if err := h.Store.DeleteDraft(r.Context(), a.ID, n); err != nil {
		return err
	}
	if v := r.PostFormValue("macro_id"); v != "" && h.Auto != nil {
		// A macro was picked: counted, and its field changes applied.
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			if err := h.Auto.MacroUsed(r.Context(), a, id, n); err != nil && problemsOf(err) == nil {
				return err
			}
		}
	}
	to := "/tickets/" + strconv.FormatInt(n, 10) + "#latest"
	if r.PostFormValue("then") == "next" {
		if to, err = h.nextInQueue(r, a, n); err != nil {
			return err
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// ticketUpdate: POST /tickets/{number} — the properties form. Only the
// fields that differ from the ticket are sent to the service.
func (h *handler) ticketUpdate(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	a := current(r)
	actor := ticket.AgentActor(a)
	t, err := h.Tickets.Get(r.Context(), actor, n)
	if err != nil {
		return err
	}
	f := r.PostForm
	pp := props{Status: f.Get("status"), Priority: f.Get("priority"), Tags: f.Get("tags"), Language: strings.TrimSpace(f.Get("language")), Errors: map[string]string{}}
	pp.TeamID, _ = strconv.ParseInt(f.Get("team_id"), 10, 64)
	pp.AssigneeID, _ = strconv.ParseInt(f.Get("assignee_id"), 10, 64)
	// The form sends every field and, as was_<field>, the value it showed.
	// Only what this agent changed is applied, each with the value it was
	// based on, so a form left open never undoes a colleague's change and
	// a change of the same field meanwhile is reported (issue 9). A form
	// without was_* values (an older page) is compared with the ticket.
	p := ticket.Patch{Base: map[string]string{}}
	base := func(name, cur string) string {
		if f.Has("was_" + name) {
			return f.Get("was_" + name)
		}
		return cur
	}
	if was := base("status", string(t.Status)); pp.Status != "" && pp.Status != was {
		st := ticket.Status(pp.Status)
		p.Status, p.Base["status"] = &st, was
	}
	if was := base("priority", t.Priority.String()); pp.Priority != "" && pp.Priority != was {
		prio, ok := ticket.ParsePriority(pp.Priority)
		if !ok {
			pp.Errors["priority"] = "enum"
		}
		p.Priority, p.Base["priority"] = &prio, was
	}
	if was := base("language", t.Language); f.Has("language") && pp.Language != was {
		lang := strings.ToLower(pp.Language)
		p.Language, p.Base["language"] = &lang, was
	}
	if was := base("team_id", strconv.FormatInt(deref(t.TeamID), 10)); strconv.FormatInt(pp.TeamID, 10) != was {
		p.TeamID, p.Base["team"] = ticket.Ref{Set: true, ID: idOrNil(pp.TeamID)}, idBase(was)
	}
	if was := base("assignee_id", strconv.FormatInt(deref(t.AssigneeID), 10)); strconv.FormatInt(pp.AssigneeID, 10) != was {
		p.AssigneeID, p.Base["assignee"] = ticket.Ref{Set: true, ID: idOrNil(pp.AssigneeID)}, idBase(was)
	}
	if f.Has("tags") {
		// Tags merge: what the agent added and removed against what the
		// form showed, on top of the tags the ticket has now.
		now, was := splitTags(pp.Tags), splitTags(base("tags", strings.Join(t.Tags, ",")))
		for _, tg := range now {
			if !slices.Contains(was, tg) {
				p.AddTags = append(p.AddTags, tg)
			}
		}
		for _, tg := range was {
			if !slices.Contains(now, tg) {
				p.RemoveTags = append(p.RemoveTags, tg)
			}
		}
	}
	if err := h.customFieldPatch(r, t, &p, &pp); err != nil {
		return err
	}
	if len(pp.Errors) == 0 {
		_, err = h.Tickets.Update(r.Context(), actor, n, p)
		var ce *ticket.ConflictError
		if errors.As(err, &ce) {
			pp.Conflict, err = h.conflictNote(r, a, n, ce.Fields)
			if err != nil {
				return err
			}
			return h.ticketPage(w, r, n, http.StatusConflict, nil, &pp)
		}
		for _, pb := range problemsOf(err) {
			pp.Errors[strings.TrimSuffix(pb.Field, "_id")] = pb.Rule
		}
		if err != nil && len(pp.Errors) == 0 {
			return err
		}
	}
	if len(pp.Errors) > 0 {
		pr := h.printer(r, a)
		for k, rule := range pp.Errors {
			pp.Errors[k] = pr.T("form." + rule)
		}
		return h.ticketPage(w, r, n, http.StatusUnprocessableEntity, nil, &pp)
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10), http.StatusSeeOther)
	return nil
}

// conflictNote says, in the agent's language, who changed which of fields
// on ticket n since the agent's form was drawn.
func (h *handler) conflictNote(r *http.Request, a *agent.Agent, n int64, fields []string) (string, error) {
	pr := h.printer(r, a)
	evs, err := h.Tickets.History(r.Context(), ticket.AgentActor(a), n)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, f := range fields {
		who := pr.T("actor.system")
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Field == f {
				if evs[i].ActorType == ticket.ActorAgent && evs[i].ActorID != nil {
					if ag, err := h.Accounts.Agent(r.Context(), *evs[i].ActorID); err == nil {
						who = ag.Name
					}
				}
				break
			}
		}
		parts = append(parts, pr.T("props.conflict_field", "Who", who, "Field", historyField(pr.T, f)))
	}
	return pr.T("props.conflict", "Changes", strings.Join(parts, "; ")), nil
}

// wasUpdated reads the was_updated field of an edit form: the updated_at
// (Unix microseconds) of the record as the form showed it. The store
// refuses the save when the record changed since (zero: no check).
func wasUpdated(r *http.Request) time.Time {
	n, err := strconv.ParseInt(r.PostFormValue("was_updated"), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(n)
}

// idBase turns a posted id ("0" for none) into FieldValue's form.
func idBase(s string) string {
	if s == "0" {
		return ""
	}
	return s
}

// splitTags reads a comma-separated tag field the way the ticket service
// normalises tags; an invalid tag is passed on as typed, so that the
// service names it.
func splitTags(s string) []string {
	raw := strings.Split(s, ",")
	if tags, err := ticket.NormaliseTags("tags", raw); err == nil {
		return tags
	}
	return raw
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func idOrNil(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

// ticketTake: POST /tickets/{number}/take — assign to me (shortcut a).
func (h *handler) ticketTake(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	a := current(r)
	id := a.ID
	if _, err := h.Tickets.Update(r.Context(), ticket.AgentActor(a), n, ticket.Patch{AssigneeID: ticket.Ref{Set: true, ID: &id}}); err != nil {
		return err
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10), http.StatusSeeOther)
	return nil
}

// visibleTicketForm reads a small form posted about a ticket the agent may
// see, returning the ticket and the agent.
func (h *handler) visibleTicketForm(w http.ResponseWriter, r *http.Request, limit int64) (*ticket.Ticket, *agent.Agent, error) {
	n, err := ticketNumber(r)
	if err != nil {
		return nil, nil, err
	}
	if err := h.parseForm(w, r, limit); err != nil {
		return nil, nil, err
	}
	a := current(r)
	t, err := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n)
	if err != nil {
		return nil, nil, err
	}
	return t, a, nil
}

// ticketDraft: POST /tickets/{number}/draft — the composer's autosave.
func (h *handler) ticketDraft(w http.ResponseWriter, r *http.Request) error {
	t, a, err := h.visibleTicketForm(w, r, 2<<20)
	if err != nil {
		return err
	}
	n := t.ID
	kind := r.PostFormValue("kind")
	if kind != "note" {
		kind = "reply"
	}
	if err := h.Store.SaveDraft(r.Context(), a.ID, n, kind, r.PostFormValue("body"), h.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ticketPresence: POST /tickets/{number}/presence — viewing, typing or left.
func (h *handler) ticketPresence(w http.ResponseWriter, r *http.Request) error {
	t, a, err := h.visibleTicketForm(w, r, 4<<10)
	if err != nil {
		return err
	}
	state := r.PostFormValue("state")
	switch state {
	case "viewing", "typing", "left":
	default:
		return fault.Field("state", "enum", "must be viewing, typing or left")
	}
	h.Hub.SetPresence(t.ID, live.ScopeOf(t.TeamID, t.AssigneeID), a.ID, a.Name, state)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// customFieldPatch reads the custom field inputs (cf_<key>) into the patch,
// only for values that differ from the ticket's; numbers are parsed here so
// that a typo is named next to its field.
func (h *handler) customFieldPatch(r *http.Request, t *ticket.Ticket, p *ticket.Patch, pp *props) error {
	defs, err := h.Tickets.FieldDefs(r.Context())
	if err != nil {
		return err
	}
	pp.Custom = map[string]string{}
	for _, d := range defs {
		name := "cf_" + d.Key
		if !d.Active || !r.PostForm.Has(name) {
			continue
		}
		raw := strings.TrimSpace(r.PostForm.Get(name))
		pp.Custom[d.Key] = raw
		was := ticket.FieldString(t.CustomFields[d.Key])
		if r.PostForm.Has("was_" + name) {
			was = r.PostForm.Get("was_" + name)
		}
		if raw == was {
			continue
		}
		p.Base["custom_fields."+d.Key] = was
		var v any = raw
		switch {
		case raw == "":
			v = nil
		case d.Type == ticket.FieldNumber:
			f, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
			if err != nil {
				pp.Errors["custom_fields."+d.Key] = "number"
				continue
			}
			v = f
		}
		if p.CustomFields == nil {
			p.CustomFields = map[string]any{}
		}
		p.CustomFields[d.Key] = v
	}
	return nil
}

// problemField is a one-field validation error.
func problemField(field, rule string) error { return fault.Field(field, rule, rule) }

func normaliseList(s string) string {
	var out []string
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' }) {
		out = append(out, strings.ToLower(e))
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ",")
}

// setCCs makes the ticket's CCs the addresses in list (contacts found or
// created); a malformed address is refused before anything is written.
func (h *handler) setCCs(r *http.Request, a *agent.Agent, n int64, list string) error {
	addrs := strings.Split(normaliseList(list), ",")
	if addrs[0] == "" {
		addrs = nil
	}
	if len(addrs) > 20 {
		return fault.Field("cc", "max_items", "at most 20")
	}
	for _, e := range addrs {
		if !agent.ValidEmail(e) {
			return fault.Field("cc", "email", e)
		}
	}
	ids := []int64{}
	for _, e := range addrs {
		id, err := h.Mail.Store.ContactIDByEmail(r.Context(), e, "", h.Now())
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	_, err := h.Tickets.Update(r.Context(), ticket.AgentActor(a), n, ticket.Patch{CCIDs: &ids})
	return err
}
