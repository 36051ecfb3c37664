package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/ticket"
)

// ContactStore is what the contact pages need beyond Store.
type ContactStore interface {
	Contacts(ctx context.Context, f contact.Filter) ([]contact.Contact, error)
	UpdateContact(ctx context.Context, c *contact.Contact, since time.Time) error
	MergeContacts(ctx context.Context, into, from int64, actor ticket.Actor, now time.Time) (int, error)
	Organisations(ctx context.Context, limit, offset int) ([]contact.Organisation, error)
}

type contactRow struct {
	ID     int64
	Name   string
	Emails string
}

// contactList: GET /contacts?q= — search by the start of a name or email.
func (h *handler) contactList(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	cs, err := h.Contacts.Contacts(r.Context(), contact.Filter{Query: q, Limit: 50})
	if err != nil {
		return err
	}
	rows := make([]contactRow, len(cs))
	for i, c := range cs {
		rows[i] = contactRow{ID: c.ID, Name: c.DisplayName(), Emails: strings.Join(c.Emails, ", ")}
	}
	return h.render(w, r, http.StatusOK, "contacts", page{P: pr, Agent: a, Title: pr.T("contacts.title"), Now: h.Now(),
		Data: map[string]any{"Q": q, "Rows": rows}})
}

type contactForm struct {
	Name, Emails, Phones, Language, Notes string
	OrgID                                 int64
	MergeFrom                             string
	Errors                                map[string]string
}

type contactData struct {
	C       *contact.Contact
	Form    contactForm
	Orgs    []contact.Organisation
	Tickets []ticket.Ticket
	Ratings []ratingView
	Labels  map[string]string
	CanMerg bool
	Merged  int
}

func contactID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, contact.ErrNotFound
	}
	return id, nil
}

func formOf(c *contact.Contact) contactForm {
	f := contactForm{Name: c.Name, Emails: strings.Join(c.Emails, "\n"), Phones: strings.Join(c.Phones, "\n"), Language: c.Language, Notes: c.Notes}
	if c.OrganisationID != nil {
		f.OrgID = *c.OrganisationID
	}
	return f
}

// contactShow: GET /contacts/{id}
func (h *handler) contactShow(w http.ResponseWriter, r *http.Request) error {
	id, err := contactID(r)
	if err != nil {
		return err
	}
	c, err := h.Store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	merged, _ := strconv.Atoi(r.URL.Query().Get("merged"))
	return h.contactPage(w, r, http.StatusOK, c, formOf(c), merged)
}

func (h *handler) contactPage(w http.ResponseWriter, r *http.Request, status int, c *contact.Contact, f contactForm, merged int) error {
	a := current(r)
	pr := h.printer(r, a)
	d := contactData{C: c, Form: f, CanMerg: httpx.ContactMerge.Perm().Allows(a.Role.Rank()), Merged: merged, Labels: map[string]string{}}
	var err error
	if d.Orgs, err = h.Contacts.Organisations(r.Context(), 500, 0); err != nil {
		return err
	}
	cid := c.ID
	if d.Tickets, err = h.Tickets.List(r.Context(), ticket.AgentActor(a), ticket.Filter{RequesterID: &cid, Limit: 50, Sort: "-created"}); err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, t := range d.Tickets {
		d.Labels[string(t.Status)] = pr.T("status." + string(t.Status))
		seen[t.ID] = true
	}
	if h.CSAT != nil {
		// The customer's ratings, of the tickets this agent may see.
		rs, err := h.CSAT.Ratings(r.Context(), csat.Filter{ContactID: &cid, Limit: 50})
		if err != nil {
			return err
		}
		rs = slices.DeleteFunc(rs, func(x csat.Rating) bool { return !seen[x.TicketID] })
		d.Ratings = ratingViews(pr, rs)
	}
	return h.render(w, r, status, "contact", page{P: pr, Agent: a, Title: c.DisplayName(), Now: h.Now(), Data: d})
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// contactUpdate: POST /contacts/{id}
func (h *handler) contactUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := contactID(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	c, err := h.Store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	v := r.PostForm
	f := contactForm{Name: v.Get("name"), Emails: v.Get("emails"), Phones: v.Get("phones"), Language: v.Get("language"), Notes: v.Get("notes"), Errors: map[string]string{}}
	f.OrgID, _ = strconv.ParseInt(v.Get("organisation_id"), 10, 64)
	c.Name, c.Emails, c.Phones, c.Language, c.Notes, c.OrganisationID = f.Name, lines(f.Emails), lines(f.Phones), f.Language, f.Notes, idOrNil(f.OrgID)
	c.UpdatedAt = h.Now().UTC()
	err = c.Validate()
	if err == nil {
		err = h.Contacts.UpdateContact(r.Context(), c, wasUpdated(r))
	}
	if ps := problemsOf(err); ps != nil {
		pr := h.printer(r, current(r))
		for _, p := range ps {
			f.Errors[strings.TrimSuffix(p.Field, "_id")] = pr.T("form." + p.Rule)
		}
		orig, gerr := h.Store.Contact(r.Context(), id)
		if gerr != nil {
			return gerr
		}
		return h.contactPage(w, r, http.StatusUnprocessableEntity, orig, f, 0)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// contactMerge: POST /contacts/{id}/merge — leads and admins fold a
// duplicate (given by id or email) into this contact.
func (h *handler) contactMerge(w http.ResponseWriter, r *http.Request) error {
	id, err := contactID(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	c, err := h.Store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	f := formOf(c)
	f.Errors = map[string]string{}
	f.MergeFrom = strings.TrimSpace(r.PostFormValue("from"))
	from, perr := strconv.ParseInt(f.MergeFrom, 10, 64)
	if id, err := strconv.ParseInt(r.PostFormValue("from_id"), 10, 64); err == nil && id > 0 {
		from, perr = id, nil // picked from the type-ahead list
	}
	if perr != nil && f.MergeFrom != "" {
		// An email: find its contact.
		cs, err := h.Contacts.Contacts(r.Context(), contact.Filter{Query: agent.NormaliseEmail(f.MergeFrom), Limit: 2})
		if err != nil {
			return err
		}
		for _, x := range cs {
			for _, e := range x.Emails {
				if e == agent.NormaliseEmail(f.MergeFrom) {
					from = x.ID
				}
			}
		}
		if from <= 0 {
			// A name, a phone: one contact matching is the one meant.
			if cs, err = h.Contacts.Contacts(r.Context(), contact.Filter{Query: f.MergeFrom, Limit: 2}); err != nil {
				return err
			}
			if len(cs) == 1 {
				from = cs[0].ID
			}
		}
	}
	dup, err := h.Store.Contact(r.Context(), from)
	if from <= 0 || errors.Is(err, fault.NotFound) {
		f.Errors["from"] = pr.T("form.exists")
		return h.contactPage(w, r, http.StatusUnprocessableEntity, c, f, 0)
	}
	if err != nil {
		return err
	}
	if from == id {
		f.Errors["from"] = pr.T("form.different")
		return h.contactPage(w, r, http.StatusUnprocessableEntity, c, f, 0)
	}
	if !confirmed(r) {
		// Both contacts side by side: which one goes, and what moves.
		line := func(x *contact.Contact) string {
			return pr.T("confirm.contact_merge.line", "Number", x.ID, "Name", x.DisplayName(), "Addresses", strings.Join(append(append([]string{}, x.Emails...), x.Phones...), ", "))
		}
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm.contact_merge.title", "From", dup.DisplayName(), "Into", c.DisplayName()),
			Message: pr.T("confirm.contact_merge.message", "From", dup.DisplayName(), "Into", c.DisplayName()), Lines: []string{line(c), line(dup)},
			Button: pr.T("confirm.contact_merge.yes"), Back: "/contacts/" + strconv.FormatInt(id, 10)})
	}
	n, err := h.Contacts.MergeContacts(r.Context(), id, from, ticket.AgentActor(a), h.Now())
	if ps := problemsOf(err); ps != nil {
		f.Errors["from"] = pr.T("form." + ps[0].Rule)
		return h.contactPage(w, r, http.StatusUnprocessableEntity, c, f, 0)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10)+"?merged="+strconv.Itoa(n+1), http.StatusSeeOther)
	return nil
}
