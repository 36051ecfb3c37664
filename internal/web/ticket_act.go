package web

import (
	"errors"
	"fmt"
	"github.com/sportello/sportello/internal/agent"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

func (h *handler) parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return fault.Field("form", "size", "the form is too large")
	}
	return nil
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
		if ps := problemsOf(err); ps != nil {
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
	nm := ticket.NewMessage{Kind: ticket.MessageKind(c.Kind), BodyText: c.Body, Channel: ticket.ChannelWeb, Attachments: atts}
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
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10)+"#latest", http.StatusSeeOther)
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
	pp := props{Status: f.Get("status"), Priority: f.Get("priority"), Tags: f.Get("tags"), Errors: map[string]string{}}
	pp.TeamID, _ = strconv.ParseInt(f.Get("team_id"), 10, 64)
	pp.AssigneeID, _ = strconv.ParseInt(f.Get("assignee_id"), 10, 64)
	var p ticket.Patch
	if pp.Status != "" && pp.Status != string(t.Status) {
		st := ticket.Status(pp.Status)
		p.Status = &st
	}
	if pp.Priority != "" && pp.Priority != t.Priority.String() {
		prio, ok := ticket.ParsePriority(pp.Priority)
		if !ok {
			pp.Errors["priority"] = "enum"
		}
		p.Priority = &prio
	}
	if cur := deref(t.TeamID); pp.TeamID != cur {
		p.TeamID = ticket.Ref{Set: true, ID: idOrNil(pp.TeamID)}
	}
	if cur := deref(t.AssigneeID); pp.AssigneeID != cur {
		p.AssigneeID = ticket.Ref{Set: true, ID: idOrNil(pp.AssigneeID)}
	}
	if f.Has("tags") {
		var tags []string
		for _, s := range strings.Split(pp.Tags, ",") {
			if s = strings.TrimSpace(s); s != "" {
				tags = append(tags, s)
			}
		}
		if strings.Join(tags, ",") != strings.Join(t.Tags, ",") {
			p.Tags = &tags
		}
	}
	if err := h.customFieldPatch(r, t, &p, &pp); err != nil {
		return err
	}
	if len(pp.Errors) == 0 {
		_, err = h.Tickets.Update(r.Context(), actor, n, p)
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
// see, returning the ticket number and the agent.
func (h *handler) visibleTicketForm(w http.ResponseWriter, r *http.Request, limit int64) (int64, *agent.Agent, error) {
	n, err := ticketNumber(r)
	if err != nil {
		return 0, nil, err
	}
	if err := h.parseForm(w, r, limit); err != nil {
		return 0, nil, err
	}
	a := current(r)
	if _, err := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n); err != nil {
		return 0, nil, err
	}
	return n, a, nil
}

// ticketDraft: POST /tickets/{number}/draft — the composer's autosave.
func (h *handler) ticketDraft(w http.ResponseWriter, r *http.Request) error {
	n, a, err := h.visibleTicketForm(w, r, 2<<20)
	if err != nil {
		return err
	}
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
	n, a, err := h.visibleTicketForm(w, r, 4<<10)
	if err != nil {
		return err
	}
	state := r.PostFormValue("state")
	switch state {
	case "viewing", "typing", "left":
	default:
		return fault.Field("state", "enum", "must be viewing, typing or left")
	}
	h.Hub.SetPresence(n, a.ID, a.Name, state)
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
		if raw == fieldString(t.CustomFields[d.Key]) {
			continue
		}
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
