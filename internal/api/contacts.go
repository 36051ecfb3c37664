package api

import (
	"net/http"
	"strconv"

	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
)

// listContacts: GET /api/v1/contacts?q=&organisation=
func (h *handler) listContacts(w http.ResponseWriter, r *http.Request) error {
	p, err := pagination(r)
	if err != nil {
		return err
	}
	f := contact.Filter{Query: r.URL.Query().Get("q"), Limit: p.limit(), Offset: p.offset()}
	if v := r.URL.Query().Get("organisation"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fault.Field("organisation", "id", "must be an organisation id")
		}
		f.OrganisationID = &id
	}
	cs, err := h.Store.Contacts(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]ContactJSON, len(cs))
	for i := range cs {
		out[i] = contactJSON(&cs[i])
	}
	return httpx.JSON(w, http.StatusOK, listOf(out, p))
}

type contactIn struct {
	Name           *string   `json:"name"`
	Emails         *[]string `json:"emails"`
	Phones         *[]string `json:"phones"`
	Language       *string   `json:"language"`
	OrganisationID optID     `json:"organisation_id"`
	Notes          *string   `json:"notes"`
}

func (in contactIn) apply(c *contact.Contact) error {
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.Emails != nil {
		c.Emails = *in.Emails
	}
	if in.Phones != nil {
		c.Phones = *in.Phones
	}
	if in.Language != nil {
		c.Language = *in.Language
	}
	if in.OrganisationID.Set {
		c.OrganisationID = in.OrganisationID.Value
	}
	if in.Notes != nil {
		c.Notes = *in.Notes
	}
	return c.Validate()
}

// createContact: POST /api/v1/contacts
func (h *handler) createContact(w http.ResponseWriter, r *http.Request) error {
	var in contactIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	c := &contact.Contact{CreatedAt: now, UpdatedAt: now}
	if err := in.apply(c); err != nil {
		return err
	}
	if err := h.Store.CreateContact(r.Context(), c); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/contacts/"+itoa(c.ID))
	return httpx.JSON(w, http.StatusCreated, contactJSON(c))
}

// getContact: GET /api/v1/contacts/{id}
func (h *handler) getContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, contactJSON(c))
}

// updateContact: PATCH /api/v1/contacts/{id}
func (h *handler) updateContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in contactIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	c, err := h.Store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	since := c.UpdatedAt // the copy this change is based on
	if err := in.apply(c); err != nil {
		return err
	}
	c.UpdatedAt = h.now()
	if err := h.Store.UpdateContact(r.Context(), c, since); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, contactJSON(c))
}

// listOrganisations: GET /api/v1/organisations
func (h *handler) listOrganisations(w http.ResponseWriter, r *http.Request) error {
	p, err := pagination(r)
	if err != nil {
		return err
	}
	os, err := h.Store.Organisations(r.Context(), p.limit(), p.offset())
	if err != nil {
		return err
	}
	out := make([]OrganisationJSON, len(os))
	for i := range os {
		out[i] = organisationJSON(&os[i])
	}
	return httpx.JSON(w, http.StatusOK, listOf(out, p))
}

type organisationIn struct {
	Name    *string   `json:"name"`
	Domains *[]string `json:"domains"`
	Notes   *string   `json:"notes"`
}

func (in organisationIn) apply(o *contact.Organisation) error {
	if in.Name != nil {
		o.Name = *in.Name
	}
	if in.Domains != nil {
		o.Domains = *in.Domains
	}
	if in.Notes != nil {
		o.Notes = *in.Notes
	}
	return o.Validate()
}

// createOrganisation: POST /api/v1/organisations
func (h *handler) createOrganisation(w http.ResponseWriter, r *http.Request) error {
	var in organisationIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	o := &contact.Organisation{CreatedAt: now, UpdatedAt: now}
	if err := in.apply(o); err != nil {
		return err
	}
	if err := h.Store.CreateOrganisation(r.Context(), o); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/organisations/"+itoa(o.ID))
	return httpx.JSON(w, http.StatusCreated, organisationJSON(o))
}

// getOrganisation: GET /api/v1/organisations/{id}
func (h *handler) getOrganisation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := h.Store.Organisation(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, organisationJSON(o))
}

// updateOrganisation: PATCH /api/v1/organisations/{id}
func (h *handler) updateOrganisation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in organisationIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	o, err := h.Store.Organisation(r.Context(), id)
	if err != nil {
		return err
	}
	since := o.UpdatedAt // the copy this change is based on
	if err := in.apply(o); err != nil {
		return err
	}
	o.UpdatedAt = h.now()
	if err := h.Store.UpdateOrganisation(r.Context(), o, since); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, organisationJSON(o))
}

// deleteOrganisation: DELETE /api/v1/organisations/{id}
func (h *handler) deleteOrganisation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteOrganisation(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type mergeContactIn struct {
	From int64 `json:"from"`
}

// mergeContact: POST /api/v1/contacts/{id}/merge {"from": D} — the duplicate
// D is folded into contact {id}.
func (h *handler) mergeContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in mergeContactIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	if in.From <= 0 {
		return fault.Field("from", "required", "give the id of the duplicate contact")
	}
	if _, err := h.Store.MergeContacts(r.Context(), id, in.From, actorOf(r), h.now()); err != nil {
		return err
	}
	c, err := h.Store.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, contactJSON(c))
}
