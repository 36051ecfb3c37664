package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/ticket"
)

// The macros pages: every agent sees the shared reply scripts and their
// own, writes personal ones, and leads and admins write the shared ones.
// A macro has one text per language; the composer picks the ticket's.

type macrosData struct {
	Macros   []automation.Macro
	Editable map[int64]bool
	Langs    map[int64]string
}

type macroForm struct {
	M         *automation.Macro
	New       bool
	Editable  bool
	CanShare  bool
	Shared    bool
	Variants  []variantRow
	Tags      string
	Kinds     []string
	Statuses  []ticket.Status
	Prios     []string
	Articles  []articleChoice
	Errors    map[string]string
	Holders   []string
	ErrorList []string
}

type variantRow struct{ Lang, Text, Error string }

type articleChoice struct {
	ID    int64
	Title string
}

// mayEditMacro mirrors the rule app.Automation applies: a personal macro
// by its owner, a shared one by leads and admins.
func mayEditMacro(a *agent.Agent, m *automation.Macro) bool {
	if m.OwnerID != nil {
		return *m.OwnerID == a.ID
	}
	return a.Role.Rank() >= agent.RoleLead.Rank()
}

// macrosShow: GET /macros
func (h *handler) macrosShow(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	ms, err := h.Auto.Macros(r.Context(), a)
	if err != nil {
		return err
	}
	d := macrosData{Macros: ms, Editable: map[int64]bool{}, Langs: map[int64]string{}}
	for i := range ms {
		d.Editable[ms[i].ID] = mayEditMacro(a, &ms[i])
		d.Langs[ms[i].ID] = strings.Join(ms[i].Languages(), ", ")
	}
	return h.render(w, r, http.StatusOK, "macros", page{P: pr, Agent: a, Title: pr.T("macros.title"), Now: h.Now(), Data: d})
}

// macroNew: GET /macros/new
func (h *handler) macroNew(w http.ResponseWriter, r *http.Request) error {
	m := &automation.Macro{Kind: "other", Variants: map[string]string{}}
	return h.macroEditor(w, r, http.StatusOK, h.formOfMacro(current(r), m, true))
}

// macroShow: GET /macros/{id}
func (h *handler) macroShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, automation.ErrMacroNotFound)
	if err != nil {
		return err
	}
	m, err := h.Auto.Macro(r.Context(), current(r), id)
	if err != nil {
		return err
	}
	return h.macroEditor(w, r, http.StatusOK, h.formOfMacro(current(r), m, false))
}

func (h *handler) formOfMacro(a *agent.Agent, m *automation.Macro, isNew bool) *macroForm {
	f := &macroForm{M: m, New: isNew, Editable: isNew || mayEditMacro(a, m), CanShare: a.Role.Rank() >= agent.RoleLead.Rank(),
		Shared: m.OwnerID == nil && !isNew, Tags: strings.Join(m.Actions.AddTags, ", "), Errors: map[string]string{}}
	// The desk's languages first, then any other the macro has.
	langs := slices.Clone(i18n.Languages)
	for _, l := range m.Languages() {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	for _, l := range langs {
		f.Variants = append(f.Variants, variantRow{Lang: l, Text: m.Variants[l]})
	}
	return f
}

func (h *handler) macroEditor(w http.ResponseWriter, r *http.Request, status int, f *macroForm) error {
	a := current(r)
	pr := h.printer(r, a)
	f.Kinds, f.Statuses, f.Prios = automation.MacroKinds, ticket.Statuses, []string{"low", "normal", "high", "urgent"}
	f.Holders = automation.Placeholders
	arts, err := h.KB.Articles(r.Context(), kb.Filter{})
	if err != nil {
		return err
	}
	for _, x := range arts {
		if x.Internal {
			continue // a customer could not open it
		}
		c := articleChoice{ID: x.ID}
		for _, t := range x.Texts {
			if c.Title == "" || t.Lang == a.Language {
				c.Title = t.Title
			}
		}
		f.Articles = append(f.Articles, c)
	}
	title := pr.T("macros.new")
	if !f.New {
		title = f.M.Name
	}
	return h.render(w, r, status, "macro_edit", page{P: pr, Agent: a, Title: title, Now: h.Now(), Data: f})
}

// macroSave: POST /macros (new) and POST /macros/{id}
func (h *handler) macroSave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 256<<10); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	v := r.PostForm
	m := &automation.Macro{}
	isNew := r.PathValue("id") == ""
	if !isNew {
		id, err := pathID(r, automation.ErrMacroNotFound)
		if err != nil {
			return err
		}
		if m, err = h.Auto.Macro(r.Context(), a, id); err != nil {
			return err
		}
	}
	m.Name, m.Kind = v.Get("name"), v.Get("kind")
	m.Variants = map[string]string{}
	for i, lang := range v["variant_lang"] {
		m.Variants[lang] = strings.TrimSpace(at(v["variant_text"], i))
	}
	m.Actions = automation.MacroActions{Status: v.Get("set_status"), Priority: v.Get("set_priority"), AddTags: splitList(v.Get("add_tags"))}
	m.KBArticleID = nil
	if id, err := strconv.ParseInt(v.Get("kb_article_id"), 10, 64); err == nil && id > 0 {
		m.KBArticleID = &id
	}
	shared := v.Get("shared") == "1"
	if !isNew && !v.Has("shared") {
		shared = m.OwnerID == nil // an agent's form has no switch: keep it
	}
	f := h.formOfMacro(a, m, isNew)
	f.Shared = shared
	err := h.Auto.SaveMacro(r.Context(), a, m, shared, wasUpdated(r))
	if ps := problemsOf(err); ps != nil {
		for _, p := range ps {
			msg := pr.T("form." + p.Rule)
			lang, isVariant := strings.CutPrefix(p.Field, "variants.")
			if name := automation.UnknownPlaceholder(m.Variants[lang]); isVariant && p.Rule == "placeholder" && name != "" {
				msg = pr.T("macros.bad_placeholder", "Name", "{{"+name+"}}")
			}
			if isVariant {
				for i := range f.Variants {
					if f.Variants[i].Lang == lang {
						f.Variants[i].Error = msg
					}
				}
				continue
			}
			if _, seen := f.Errors[p.Field]; !seen {
				f.Errors[p.Field] = msg
			}
			f.ErrorList = append(f.ErrorList, msg)
		}
		return h.macroEditor(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/macros", http.StatusSeeOther)
	return nil
}

// macroDelete: POST /macros/{id}/delete — asks first; a shared macro's
// confirmation says how often it was used.
func (h *handler) macroDelete(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	return h.deleteAsked(w, r, deletion{Kind: "macro", List: "/macros", NotFound: automation.ErrMacroNotFound,
		Read: func(ctx context.Context, id int64) (string, string, error) {
			m, err := h.Auto.Macro(ctx, a, id)
			if err != nil {
				return "", "", err
			}
			if !mayEditMacro(a, m) {
				return "", "", errForbidden(httpx.Lead)
			}
			if m.OwnerID == nil {
				return m.Name, pr.T("confirm.macro.shared", "Count", m.UsageCount), nil
			}
			return m.Name, pr.T("confirm.macro.personal"), nil
		},
		Delete: func(ctx context.Context, id int64) error { return h.Auto.DeleteMacro(ctx, a, id) }})
}
