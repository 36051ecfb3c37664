package api

import (
	"net/http"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/ticket"
)

// listTags: GET /api/v1/tags
func (h *handler) listTags(w http.ResponseWriter, r *http.Request) error {
	p, err := pagination(r)
	if err != nil {
		return err
	}
	ts, err := h.Store.Tags(r.Context(), p.limit(), p.offset())
	if err != nil {
		return err
	}
	out := make([]TagJSON, len(ts))
	for i, t := range ts {
		out[i] = TagJSON{ID: t.ID, Name: t.Name, Tickets: t.Tickets}
	}
	return httpx.JSON(w, http.StatusOK, listOf(out, p))
}

// createTag: POST /api/v1/tags {"name": …}
func (h *handler) createTag(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	names, err := ticket.NormaliseTags("name", []string{in.Name})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fault.Field("name", "required", "a tag needs a name")
	}
	t, err := h.Store.CreateTag(r.Context(), names[0])
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusCreated, TagJSON{ID: t.ID, Name: t.Name})
}

// deleteTag: DELETE /api/v1/tags/{id} — also removes it from tickets.
func (h *handler) deleteTag(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteTag(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listFields: GET /api/v1/fields
func (h *handler) listFields(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.Tickets.FieldDefs(r.Context())
	if err != nil {
		return err
	}
	out := make([]FieldJSON, len(ds))
	for i := range ds {
		out[i] = fieldJSON(&ds[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

type fieldIn struct {
	Key      *string   `json:"key"`
	Label    *string   `json:"label"`
	Type     *string   `json:"type"`
	Options  *[]string `json:"options"`
	Required *bool     `json:"required"`
	Active   *bool     `json:"active"`
	Position *int      `json:"position"`
}

func (in fieldIn) apply(d *ticket.FieldDef) {
	if in.Label != nil {
		d.Label = *in.Label
	}
	if in.Options != nil {
		d.Options = *in.Options
	}
	if in.Required != nil {
		d.Required = *in.Required
	}
	if in.Active != nil {
		d.Active = *in.Active
	}
	if in.Position != nil {
		d.Position = *in.Position
	}
}

// createField: POST /api/v1/fields
func (h *handler) createField(w http.ResponseWriter, r *http.Request) error {
	var in fieldIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	now := h.now()
	d := &ticket.FieldDef{Active: true, CreatedAt: now, UpdatedAt: now}
	if in.Key != nil {
		d.Key = *in.Key
	}
	if in.Type != nil {
		d.Type = ticket.FieldType(*in.Type)
	}
	in.apply(d)
	if err := d.Validate(); err != nil {
		return err
	}
	if err := h.Store.CreateFieldDef(r.Context(), d); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusCreated, fieldJSON(d))
}

// getField: GET /api/v1/fields/{id}
func (h *handler) getField(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.Store.FieldDef(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, fieldJSON(d))
}

// updateField: PATCH /api/v1/fields/{id} — key and type are fixed once
// created, because ticket values refer to them.
func (h *handler) updateField(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in fieldIn
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	d, err := h.Store.FieldDef(r.Context(), id)
	if err != nil {
		return err
	}
	var c fault.Checker
	c.Check(in.Key == nil || *in.Key == d.Key, "key", "immutable", "a field's key cannot change")
	c.Check(in.Type == nil || *in.Type == string(d.Type), "type", "immutable", "a field's type cannot change")
	if err := c.Err(); err != nil {
		return err
	}
	in.apply(d)
	if err := d.Validate(); err != nil {
		return err
	}
	d.UpdatedAt = h.now()
	if err := h.Store.UpdateFieldDef(r.Context(), d); err != nil {
		return err
	}
	return httpx.JSON(w, http.StatusOK, fieldJSON(d))
}

// listTokens: GET /api/v1/tokens — the caller's own tokens.
func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.Store.Tokens(r.Context(), current(r).ID)
	if err != nil {
		return err
	}
	out := make([]TokenJSON, len(ts))
	for i := range ts {
		out[i] = tokenJSON(&ts[i])
	}
	return httpx.JSON(w, http.StatusOK, map[string]any{"items": out})
}

// createToken: POST /api/v1/tokens {"name": …} — the secret is in this
// answer only.
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return err
	}
	secret, t, err := h.Auth.NewToken(r.Context(), current(r).ID, in.Name)
	if err != nil {
		return err
	}
	out := tokenJSON(t)
	out.Token = secret
	return httpx.JSON(w, http.StatusCreated, out)
}

// deleteToken: DELETE /api/v1/tokens/{id} — revoke one of the caller's tokens.
func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteToken(r.Context(), current(r).ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
