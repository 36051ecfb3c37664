package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/ticket"
)

// newTicketForm is the form's state, kept across a failed submit.
type newTicketForm struct {
	Email, Name, Phone, Channel, Subject, Body, Priority string
	Tags                                                 string
	Token                                                string // one-time: a second send opens the first ticket
	FollowUp                                             int64  // the closed ticket this one follows up
	TeamID, AssigneeID                                   int64
	Custom                                               map[string]string // custom field inputs as typed
	Errors                                               map[string]string
	Teams                                                []team.Team
	Agents                                               []agent.Agent
	Fields                                               []fieldView
	Channels                                             []ticket.Channel
	Priorities                                           []string
}

func (h *handler) newTicketPage(w http.ResponseWriter, r *http.Request, status int, f newTicketForm) error {
	a := current(r)
	pr := h.printer(r, a)
	teams, err := h.Store.Teams(r.Context())
	if err != nil {
		return err
	}
	f.Teams, f.Channels, f.Priorities = teams, ticket.Channels, []string{"low", "normal", "high", "urgent"}
	if f.Agents, err = h.Store.Agents(r.Context(), 1000, 0); err != nil {
		return err
	}
	defs, err := h.Tickets.FieldDefs(r.Context())
	if err != nil {
		return err
	}
	for _, d := range defs {
		if d.Active {
			f.Fields = append(f.Fields, fieldView{Key: d.Key, Label: d.Label, Type: string(d.Type), Options: d.Options,
				Value: f.Custom[d.Key], Error: f.Errors["custom_fields."+d.Key]})
		}
	}
	return h.render(w, r, status, "ticket_new", page{P: pr, Agent: a, Title: pr.T("new.title"), Now: h.Now(), Data: f})
}

// ticketNew: GET /tickets/new — log a call, a walk-in or a chat on behalf
// of a customer.
func (h *handler) ticketNew(w http.ResponseWriter, r *http.Request) error {
	f := newTicketForm{Channel: string(ticket.ChannelPhone), Priority: "normal", Token: auth.RandomSecret(16)}
	a := current(r)
	if len(a.TeamIDs) > 0 {
		f.TeamID = a.TeamIDs[0]
	}
	if n, err := strconv.ParseInt(r.URL.Query().Get("follow_up"), 10, 64); err == nil && n > 0 {
		// "Open a follow-up ticket" on a closed one: same customer, team
		// and subject, linked to it.
		old, err := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n)
		if err != nil {
			return err
		}
		f.FollowUp, f.Subject, f.TeamID = old.ID, old.Subject, deref(old.TeamID)
		if c, err := h.Store.Contact(r.Context(), old.RequesterID); err == nil {
			f.Name = c.Name
			if len(c.Emails) > 0 {
				f.Email = c.Emails[0]
			}
		}
	}
	return h.newTicketPage(w, r, http.StatusOK, f)
}

// ticketCreate: POST /tickets/new — finds or creates the contact by email.
func (h *handler) ticketCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 2<<20); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	v := r.PostForm
	f := newTicketForm{Email: strings.TrimSpace(v.Get("email")), Name: strings.TrimSpace(v.Get("name")), Phone: strings.TrimSpace(v.Get("phone")), Channel: v.Get("channel"),
		Subject: v.Get("subject"), Body: v.Get("body"), Priority: v.Get("priority"), Tags: v.Get("tags"), Token: v.Get("form_token"),
		Custom: map[string]string{}, Errors: map[string]string{}}
	if f.Token == "" {
		f.Token = auth.RandomSecret(16)
	}
	if n, err := strconv.ParseInt(v.Get("follow_up"), 10, 64); err == nil && n > 0 {
		f.FollowUp = n
	}
	f.TeamID, _ = strconv.ParseInt(v.Get("team_id"), 10, 64)
	f.AssigneeID, _ = strconv.ParseInt(v.Get("assignee_id"), 10, 64)
	nt := ticket.NewTicket{Subject: f.Subject, BodyText: f.Body, Requester: ticket.Requester{Email: f.Email, Name: f.Name, Phone: f.Phone},
		Channel: ticket.Channel(f.Channel), TeamID: idOrNil(f.TeamID), AssigneeID: idOrNil(f.AssigneeID), Idem: formIdem(v), FollowUpOf: idOrNil(f.FollowUp)}
	if strings.TrimSpace(f.Tags) != "" {
		nt.Tags = strings.FieldsFunc(f.Tags, func(r rune) bool { return r == ',' || r == ';' })
	}
	defs, err := h.Tickets.FieldDefs(r.Context())
	if err != nil {
		return err
	}
	for _, d := range defs {
		raw := strings.TrimSpace(v.Get("cf_" + d.Key))
		if !d.Active || raw == "" {
			continue
		}
		f.Custom[d.Key] = raw
		var val any = raw
		if d.Type == ticket.FieldNumber {
			n, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
			if err != nil {
				f.Errors["custom_fields."+d.Key] = pr.T("form.number")
				continue
			}
			val = n
		}
		if nt.CustomFields == nil {
			nt.CustomFields = map[string]any{}
		}
		nt.CustomFields[d.Key] = val
	}
	if p, ok := ticket.ParsePriority(f.Priority); ok {
		nt.Priority = &p
	} else {
		f.Errors["priority"] = pr.T("form.enum")
	}
	if len(f.Errors) == 0 {
		res, err := h.Tickets.Create(r.Context(), ticket.AgentActor(a), nt)
		if err == nil {
			http.Redirect(w, r, "/tickets/"+strconv.FormatInt(res.Ticket.ID, 10), http.StatusSeeOther)
			return nil
		}
		ps := problemsOf(err)
		if ps == nil {
			return err
		}
		for _, p := range ps {
			field := strings.TrimPrefix(strings.TrimSuffix(p.Field, "_id"), "requester.")
			if strings.HasPrefix(field, "tags") {
				field = "tags"
			}
			if _, seen := f.Errors[field]; !seen {
				f.Errors[field] = pr.T("form." + p.Rule)
				if field == "subject" && p.Rule == "max_length" {
					f.Errors[field] = pr.T("form.max_length_250") // say the limit
				}
			}
		}
	}
	return h.newTicketPage(w, r, http.StatusUnprocessableEntity, f)
}
