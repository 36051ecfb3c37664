package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/ticket"
)

// SettingsStore manages tags and custom field definitions.
type SettingsStore interface {
	Tags(ctx context.Context, limit, offset int) ([]ticket.Tag, error)
	CreateTag(ctx context.Context, name string) (*ticket.Tag, error)
	DeleteTag(ctx context.Context, id int64) error
	FieldDef(ctx context.Context, id int64) (*ticket.FieldDef, error)
	CreateFieldDef(ctx context.Context, d *ticket.FieldDef) error
	UpdateFieldDef(ctx context.Context, d *ticket.FieldDef) error
}

type fieldsData struct {
	Tags    []ticket.Tag
	Fields  []ticket.FieldDef
	TagName string
	New     ticket.FieldDef
	NewOpts string
	Errors  map[string]string
}

func (h *handler) fieldsPage(w http.ResponseWriter, r *http.Request, status int, d fieldsData) error {
	a := current(r)
	pr := h.printer(r, a)
	var err error
	if d.Tags, err = h.Settings.Tags(r.Context(), 500, 0); err != nil {
		return err
	}
	if d.Fields, err = h.Tickets.FieldDefs(r.Context()); err != nil {
		return err
	}
	if d.New.Type == "" {
		d.New.Type = ticket.FieldText
	}
	return h.render(w, r, status, "fields", page{P: pr, Agent: a, Title: pr.T("fields.title"), Now: h.Now(), Data: d})
}

// fieldsShow: GET /admin/fields — tags and custom fields.
func (h *handler) fieldsShow(w http.ResponseWriter, r *http.Request) error {
	return h.fieldsPage(w, r, http.StatusOK, fieldsData{})
}

func (h *handler) translated(r *http.Request, err error) map[string]string {
	pr := h.printer(r, current(r))
	out := map[string]string{}
	for _, p := range problemsOf(err) {
		if _, seen := out[p.Field]; !seen {
			out[p.Field] = pr.T("form." + p.Rule)
		}
	}
	return out
}

// tagCreate: POST /admin/tags
func (h *handler) tagCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	name := r.PostFormValue("name")
	tags, err := ticket.NormaliseTags("tag", []string{name})
	if err == nil && len(tags) == 0 {
		tags, err = nil, problemField("tag", "required")
	}
	if err == nil {
		_, err = h.Settings.CreateTag(r.Context(), tags[0])
	}
	if problemsOf(err) != nil {
		errs := h.translated(r, err)
		errs["tag"] = firstOf(errs)
		return h.fieldsPage(w, r, http.StatusUnprocessableEntity, fieldsData{TagName: name, Errors: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/fields", http.StatusSeeOther)
	return nil
}

// tagDelete: POST /admin/tags/{id}/delete — removes it from every ticket.
func (h *handler) tagDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return ticket.ErrTagNotFound
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	if !confirmed(r) {
		tags, err := h.Settings.Tags(r.Context(), 10000, 0)
		if err != nil {
			return err
		}
		for _, t := range tags {
			if t.ID == id {
				pr := h.printer(r, current(r))
				return h.askFirst(w, r, confirmData{Title: pr.T("confirm.tag.title", "Name", t.Name),
					Message: pr.T("confirm.tag.message", "Count", t.Tickets), Button: pr.T("confirm.tag.yes"), Back: "/admin/fields"})
			}
		}
		return ticket.ErrTagNotFound
	}
	if err := h.Settings.DeleteTag(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/fields", http.StatusSeeOther)
	return nil
}

// fieldCreate: POST /admin/fields
func (h *handler) fieldCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	v := r.PostForm
	now := h.Now().UTC()
	d := ticket.FieldDef{Key: strings.TrimSpace(v.Get("key")), Label: v.Get("label"), Type: ticket.FieldType(v.Get("type")),
		Required: v.Get("required") == "on", Active: true, CreatedAt: now, UpdatedAt: now}
	for _, o := range lines(v.Get("options")) {
		d.Options = append(d.Options, o)
	}
	err := d.Validate()
	if err == nil {
		err = h.Settings.CreateFieldDef(r.Context(), &d)
	}
	if problemsOf(err) != nil {
		return h.fieldsPage(w, r, http.StatusUnprocessableEntity, fieldsData{New: d, NewOpts: v.Get("options"), Errors: h.translated(r, err)})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/fields", http.StatusSeeOther)
	return nil
}

// fieldToggle: POST /admin/fields/{id}/toggle — retire or restore a field
// (its values on tickets stay).
func (h *handler) fieldToggle(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return ticket.ErrFieldNotFound
	}
	d, err := h.Settings.FieldDef(r.Context(), id)
	if err != nil {
		return err
	}
	d.Active = !d.Active
	d.UpdatedAt = h.Now().UTC()
	if err := h.Settings.UpdateFieldDef(r.Context(), d); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/fields", http.StatusSeeOther)
	return nil
}

func firstOf(m map[string]string) string {
	for _, v := range m {
		return v
	}
	return ""
}
