package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/ticket"
)

// OrgStore is what the organisation pages need.
type OrgStore interface {
	FindOrganisations(ctx context.Context, query string, limit, offset int) ([]contact.Organisation, error)
	Organisation(ctx context.Context, id int64) (*contact.Organisation, error)
	CreateOrganisation(ctx context.Context, o *contact.Organisation) error
	UpdateOrganisation(ctx context.Context, o *contact.Organisation, since time.Time) error
}

// orgForm is the organisation form as typed, with errors by field.
type orgForm struct {
	Name, Domains, Notes string
	Errors               map[string]string
}

type orgListData struct {
	Q        string
	Rows     []contact.Organisation
	Page     int
	PrevPage int
	NextPage int
	CanEdit  bool
	Form     orgForm
}

type orgData struct {
	O        *contact.Organisation
	Form     orgForm
	CanEdit  bool
	Contacts []contactRow
	Tickets  []inboxRow
}

const orgPageSize = 50

// orgList: GET /organisations?q= — organisations by name, with a form to
// add one for leads and admins.
func (h *handler) orgList(w http.ResponseWriter, r *http.Request) error {
	return h.orgListPage(w, r, http.StatusOK, orgForm{})
}

func (h *handler) orgListPage(w http.ResponseWriter, r *http.Request, status int, f orgForm) error {
	a := current(r)
	pr := h.printer(r, a)
	d := orgListData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Page: 1, CanEdit: httpx.OrgEdit.Perm().Allows(a.Role.Rank()), Form: f}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 1 && n < 100000 {
		d.Page = n
	}
	rows, err := h.Orgs.FindOrganisations(r.Context(), d.Q, orgPageSize+1, (d.Page-1)*orgPageSize)
	if err != nil {
		return err
	}
	if len(rows) > orgPageSize {
		rows, d.NextPage = rows[:orgPageSize], d.Page+1
	}
	if d.Page > 1 {
		d.PrevPage = d.Page - 1
	}
	d.Rows = rows
	return h.render(w, r, status, "organisations", page{P: pr, Agent: a, Title: pr.T("orgs.title"), Now: h.Now(), Data: d})
}

// orgFromForm reads the posted form into o and the form state.
func orgFromForm(r *http.Request, o *contact.Organisation) orgForm {
	v := r.PostForm
	f := orgForm{Name: v.Get("name"), Domains: v.Get("domains"), Notes: v.Get("notes"), Errors: map[string]string{}}
	o.Name, o.Domains, o.Notes = f.Name, lines(f.Domains), f.Notes
	return f
}

// orgErrors puts validation problems next to their fields; false when
// err is not a validation error.
func (h *handler) orgErrors(r *http.Request, err error, f *orgForm) bool {
	ps := problemsOf(err)
	if ps == nil {
		return false
	}
	pr := h.printer(r, current(r))
	for _, p := range ps {
		key := "form." + p.Rule
		if p.Rule == "domain" {
			key = "orgs.error.domain"
		}
		f.Errors[p.Field] = pr.T(key)
	}
	return true
}

// orgCreate: POST /organisations (leads and admins).
func (h *handler) orgCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	now := h.Now().UTC()
	o := &contact.Organisation{CreatedAt: now, UpdatedAt: now}
	f := orgFromForm(r, o)
	err := o.Validate()
	if err == nil {
		err = h.Orgs.CreateOrganisation(r.Context(), o)
	}
	if h.orgErrors(r, err, &f) {
		return h.orgListPage(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/organisations/"+strconv.FormatInt(o.ID, 10), http.StatusSeeOther)
	return nil
}

func orgID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, contact.ErrOrganisationNotFound
	}
	return id, nil
}

// orgShow: GET /organisations/{id} — details, contacts and tickets.
func (h *handler) orgShow(w http.ResponseWriter, r *http.Request) error {
	id, err := orgID(r)
	if err != nil {
		return err
	}
	o, err := h.Orgs.Organisation(r.Context(), id)
	if err != nil {
		return err
	}
	return h.orgPage(w, r, http.StatusOK, o, orgForm{Name: o.Name, Domains: strings.Join(o.Domains, "\n"), Notes: o.Notes})
}

func (h *handler) orgPage(w http.ResponseWriter, r *http.Request, status int, o *contact.Organisation, f orgForm) error {
	a := current(r)
	pr := h.printer(r, a)
	ctx := r.Context()
	d := orgData{O: o, Form: f, CanEdit: httpx.OrgEdit.Perm().Allows(a.Role.Rank())}
	oid := o.ID
	cs, err := h.Contacts.Contacts(ctx, contact.Filter{OrganisationID: &oid, Limit: 100})
	if err != nil {
		return err
	}
	for _, c := range cs {
		d.Contacts = append(d.Contacts, contactRow{ID: c.ID, Name: c.DisplayName(), Emails: strings.Join(c.Emails, ", ")})
	}
	ts, err := h.Tickets.List(ctx, ticket.AgentActor(a), ticket.Filter{OrgID: &oid, Limit: 50, Sort: "-created"})
	if err != nil {
		return err
	}
	names, err := h.names(r, ts)
	if err != nil {
		return err
	}
	now := h.Now()
	for _, t := range ts {
		d.Tickets = append(d.Tickets, h.inboxRow(pr, t, names, now))
	}
	return h.render(w, r, status, "organisation", page{P: pr, Agent: a, Title: o.Name, Now: now, Data: d})
}

// orgUpdate: POST /organisations/{id} (leads and admins).
func (h *handler) orgUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := orgID(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	o, err := h.Orgs.Organisation(r.Context(), id)
	if err != nil {
		return err
	}
	orig := *o
	f := orgFromForm(r, o)
	o.UpdatedAt = h.Now().UTC()
	err = o.Validate()
	if err == nil {
		err = h.Orgs.UpdateOrganisation(r.Context(), o, wasUpdated(r))
	}
	if h.orgErrors(r, err, &f) {
		return h.orgPage(w, r, http.StatusUnprocessableEntity, &orig, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/organisations/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}
