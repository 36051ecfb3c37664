package web

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/ticket"
)

// The knowledge base in the workspace (/kb): every article in every
// language with its state, drafts and internal ones included. Agents
// write drafts (also from a reply: "the ten most common cases"); leads
// publish, delete and arrange categories.

type kbRow struct {
	ID         int64
	Title      string
	Langs      []kbLangState
	Internal   bool
	Category   string
	Helpful    int64
	Unhelpful  int64
	Deflected  int64
	UpdatedAgo string
}

type kbLangState struct {
	Lang, State, Slug string
}

type kbListData struct {
	Rows       []kbRow
	Categories []kbCatRow
	CanPublish bool
	Q          string
	Hits       []kb.Hit
	Lang       string
	CatErrors  map[string]string
	CatForm    map[string]string
	Languages  []string
}

type kbCatRow struct {
	ID    int64
	Names string
}

// categoryRows names each category in the help centre's languages
// ("Stampa / Printing").
func categoryRows(b kb.Brand, cats []kb.Category) []kbCatRow {
	var out []kbCatRow
	for _, c := range cats {
		var names []string
		for _, l := range b.Languages {
			if n, ok := c.Names[l]; ok {
				names = append(names, n.Name)
			}
		}
		out = append(out, kbCatRow{ID: c.ID, Names: strings.Join(names, " / ")})
	}
	return out
}

// kbList: GET /kb — the articles, searchable in one language.
func (h *handler) kbList(w http.ResponseWriter, r *http.Request) error {
	return h.kbListPage(w, r, http.StatusOK, nil, nil)
}

func (h *handler) kbListPage(w http.ResponseWriter, r *http.Request, status int, catErrs, catForm map[string]string) error {
	ctx := r.Context()
	a := current(r)
	pr := h.printer(r, a)
	b, err := h.brand(ctx)
	if err != nil {
		return err
	}
	d := kbListData{CanPublish: httpx.KBPublish.Perm().Allows(a.Role.Rank()), Q: strings.TrimSpace(r.URL.Query().Get("q")),
		Lang: r.URL.Query().Get("lang"), CatErrors: catErrs, CatForm: catForm, Languages: b.Languages}
	if d.Lang == "" {
		d.Lang = a.Language
	}
	cats, err := h.KB.Categories(ctx)
	if err != nil {
		return err
	}
	catName := map[int64]string{}
	d.Categories = categoryRows(b, cats)
	for _, c := range d.Categories {
		catName[c.ID] = c.Names
	}
	if d.Q != "" {
		if d.Hits, err = h.KB.SearchArticles(ctx, d.Lang, d.Q, false, 50); err != nil {
			return err
		}
	}
	arts, err := h.KB.Articles(ctx, kb.Filter{})
	if err != nil {
		return err
	}
	now := h.Now()
	for _, x := range arts {
		row := kbRow{ID: x.ID, Internal: x.Internal, Helpful: x.Helpful, Unhelpful: x.Unhelpful, Deflected: x.Deflected, UpdatedAgo: pr.Ago(x.UpdatedAt, now)}
		if x.CategoryID != nil {
			row.Category = catName[*x.CategoryID]
		}
		for _, t := range x.Texts {
			row.Langs = append(row.Langs, kbLangState{Lang: t.Lang, State: string(t.State), Slug: t.Slug})
			if row.Title == "" || t.Lang == a.Language {
				row.Title = t.Title
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return h.render(w, r, status, "kb", page{P: pr, Agent: a, Title: pr.T("kb.title"), Now: now, Data: d})
}

type kbEditData struct {
	A          *kb.Article
	T          kb.Text
	Lang       string
	Languages  []string
	Categories []kbCatRow
	CategoryID int64
	Internal   bool
	Errors     map[string]string
	CanPublish bool
	Preview    string
	Saved      bool
	PublicURL  string
	// Version is the version the form was read at (kb.Text.Base), and
	// WasCategory / WasInternal the article's fields then: a save applies
	// what the editor changed and refuses to overwrite a colleague's save.
	Version     string
	WasCategory int64
	WasInternal bool
	Conflict    string
}

// versionOf is a text's version as the edit form carries it ("" for a
// language not written yet).
func versionOf(t *kb.Text) string {
	if t == nil || t.ID == 0 {
		return ""
	}
	return t.UpdatedAt.UTC().Format(time.RFC3339Nano)
}

// baseFields fills the form's starting point from the stored article.
func (d *kbEditData) baseFields() {
	d.Version, d.WasInternal = versionOf(d.A.Text(d.Lang)), d.A.Internal
	if d.A.CategoryID != nil {
		d.WasCategory = *d.A.CategoryID
	}
}

// kbNew: GET /kb/new — a new article (from a reply: ?from_message=N).
func (h *handler) kbNew(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	d := kbEditData{A: &kb.Article{}, Lang: a.Language, T: kb.Text{Lang: a.Language, State: kb.Draft}}
	if l := r.URL.Query().Get("lang"); l != "" {
		d.Lang, d.T.Lang = l, l
	}
	if n, err := strconv.ParseInt(r.URL.Query().Get("from_ticket"), 10, 64); err == nil {
		// A reply that answered a common case becomes the draft's text.
		t, err := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n)
		if err != nil {
			return err
		}
		msgs, err := h.Tickets.Thread(r.Context(), ticket.AgentActor(a), n)
		if err != nil {
			return err
		}
		mid, _ := strconv.ParseInt(r.URL.Query().Get("message"), 10, 64)
		for _, m := range msgs {
			if m.ID == mid && m.Kind == ticket.KindReply {
				d.T.Title, d.T.Body = t.Subject, m.BodyText
			}
		}
	}
	return h.kbEditPage(w, r, http.StatusOK, d)
}

func (h *handler) kbEditPage(w http.ResponseWriter, r *http.Request, status int, d kbEditData) error {
	ctx := r.Context()
	a := current(r)
	pr := h.printer(r, a)
	b, err := h.brand(ctx)
	if err != nil {
		return err
	}
	d.Languages, d.CanPublish = b.Languages, httpx.KBPublish.Perm().Allows(a.Role.Rank())
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	cats, err := h.KB.Categories(ctx)
	if err != nil {
		return err
	}
	d.Categories = categoryRows(b, cats)
	if d.A.CategoryID != nil && d.CategoryID == 0 {
		d.CategoryID = *d.A.CategoryID
	}
	if html, err := kb.Render(d.T.Body); err == nil {
		d.Preview = html
	}
	if d.T.State == kb.Published && !d.A.Internal && d.T.Slug != "" {
		d.PublicURL = "/help/" + d.T.Lang + "/a/" + d.T.Slug
	}
	title := pr.T("kb.new")
	if d.A.ID != 0 {
		title = d.T.Title
	}
	return h.render(w, r, status, "kb_edit", page{P: pr, Agent: a, Title: title, Now: h.Now(), Data: d})
}

// kbShow: GET /kb/{id}?lang= — one article's version in a language (a
// new version when it has none yet).
func (h *handler) kbShow(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return kb.ErrNotFound
	}
	art, err := h.KB.Article(r.Context(), id)
	if err != nil {
		return err
	}
	a := current(r)
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = a.Language
		if art.Text(lang) == nil && len(art.Texts) > 0 {
			lang = art.Texts[0].Lang
		}
	}
	d := kbEditData{A: art, Lang: lang, Internal: art.Internal, T: kb.Text{Lang: lang, State: kb.Draft}, Saved: r.URL.Query().Get("saved") == "1"}
	if t := art.Text(lang); t != nil {
		d.T = *t
	}
	d.baseFields()
	return h.kbEditPage(w, r, http.StatusOK, d)
}

// kbSave: POST /kb (new) and POST /kb/{id} — one language version with
// the article's category and internal flag. Publishing (or keeping a
// published version published) is a lead's; an agent's save of a
// published version is refused, not silently unpublished.
func (h *handler) kbSave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 256<<10); err != nil {
		return err
	}
	ctx := r.Context()
	a := current(r)
	pr := h.printer(r, a)
	v := r.PostForm
	art := &kb.Article{}
	var err error
	if s := r.PathValue("id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return kb.ErrNotFound
		}
		if art, err = h.KB.Article(ctx, id); err != nil {
			return err
		}
	}
	t := kb.Text{Lang: v.Get("lang"), Title: v.Get("title"), Slug: v.Get("slug"), Body: strings.ReplaceAll(v.Get("body"), "\r\n", "\n"), State: kb.State(v.Get("state"))}
	catID, _ := strconv.ParseInt(v.Get("category_id"), 10, 64)
	d := kbEditData{A: art, T: t, Lang: t.Lang, CategoryID: catID, Internal: v.Get("internal") == "1", Errors: map[string]string{},
		Version: v.Get("version"), WasInternal: v.Get("was_internal") == "1"}
	d.WasCategory, _ = strconv.ParseInt(v.Get("was_category"), 10, 64)
	if art.ID != 0 && v.Has("version") {
		// The save is over the version the form was read at.
		base := time.Time{}
		if d.Version != "" {
			if base, err = time.Parse(time.RFC3339Nano, d.Version); err != nil {
				return fault.Field("version", "syntax", "the form's version is not a time")
			}
		}
		t.Base = &base
	}
	// Only what the editor changed of the article's own fields is applied:
	// a colleague's new category stays when this form kept the old one.
	if art.ID != 0 && v.Has("was_category") {
		var cur int64
		if art.CategoryID != nil {
			cur = *art.CategoryID
		}
		if catID == d.WasCategory {
			catID, d.CategoryID = cur, cur
		}
		if d.Internal == d.WasInternal {
			d.Internal = art.Internal
		}
	}
	was := art.Text(t.Lang)
	canPublish := httpx.KBPublish.Perm().Allows(a.Role.Rank())
	if !canPublish && (t.State == kb.Published || (was != nil && was.State == kb.Published)) {
		d.Errors["state"] = pr.T("kb.error.publish")
		return h.kbEditPage(w, r, http.StatusForbidden, d)
	}
	if !canPublish && art.ID != 0 && slices.ContainsFunc(art.Texts, func(x kb.Text) bool { return x.State == kb.Published }) {
		// A published article's category and visibility are a lead's to
		// change (making it internal would take it off the help centre).
		var cur int64
		if art.CategoryID != nil {
			cur = *art.CategoryID
		}
		if d.Internal != art.Internal || catID != cur {
			d.Errors["state"] = pr.T("kb.error.publish")
			return h.kbEditPage(w, r, http.StatusForbidden, d)
		}
	}
	if err := t.Validate(); err != nil {
		for _, p := range problemsOf(err) {
			d.Errors[p.Field] = pr.T("form." + p.Rule)
		}
		return h.kbEditPage(w, r, http.StatusUnprocessableEntity, d)
	}
	art.Internal = d.Internal
	art.CategoryID = nil
	if catID > 0 {
		art.CategoryID = &catID
	}
	err = h.KB.SaveArticle(ctx, art, &t, h.Now())
	if errors.Is(err, kb.ErrEdited) {
		d.Conflict = pr.T("kb.error.edited")
		return h.kbEditPage(w, r, http.StatusConflict, d)
	}
	if ps := problemsOf(err); ps != nil {
		for _, p := range ps {
			d.Errors[p.Field] = pr.T("form." + p.Rule)
		}
		d.T = t
		return h.kbEditPage(w, r, http.StatusConflict, d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/kb/"+strconv.FormatInt(art.ID, 10)+"?lang="+t.Lang+"&saved=1", http.StatusSeeOther)
	return nil
}

// kbDelete: POST /kb/{id}/delete — asks first.
func (h *handler) kbDelete(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 1<<10); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return kb.ErrNotFound
	}
	art, err := h.KB.Article(r.Context(), id)
	if err != nil {
		return err
	}
	if !confirmed(r) {
		pr := h.printer(r, current(r))
		title := ""
		if len(art.Texts) > 0 {
			title = art.Texts[0].Title
		}
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm.kb.title", "Title", title), Message: pr.T("confirm.kb.message", "Count", len(art.Texts)),
			Button: pr.T("confirm.kb.yes"), Back: "/kb/" + strconv.FormatInt(id, 10)})
	}
	if err := h.KB.DeleteArticle(r.Context(), id); err != nil && !errors.Is(err, fault.NotFound) {
		return err
	}
	http.Redirect(w, r, "/kb", http.StatusSeeOther)
	return nil
}

// kbCategorySave: POST /kb/categories — a new category, named in each
// language of the help centre.
func (h *handler) kbCategorySave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 8<<10); err != nil {
		return err
	}
	ctx := r.Context()
	pr := h.printer(r, current(r))
	b, err := h.brand(ctx)
	if err != nil {
		return err
	}
	c := &kb.Category{Names: map[string]kb.CategoryName{}, UpdatedAt: h.Now()}
	form := map[string]string{}
	for _, l := range b.Languages {
		name := strings.TrimSpace(r.PostFormValue("name_" + l))
		form["name_"+l] = name
		if name != "" {
			c.Names[l] = kb.CategoryName{Name: name, Description: r.PostFormValue("about_" + l)}
		}
	}
	err = h.KB.SaveCategory(ctx, c)
	if ps := problemsOf(err); ps != nil {
		errs := map[string]string{}
		for _, p := range ps {
			errs["category"] = pr.T("form." + p.Rule)
		}
		return h.kbListPage(w, r, http.StatusUnprocessableEntity, errs, form)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/kb", http.StatusSeeOther)
	return nil
}

// kbCategoryDelete: POST /kb/categories/{id}/delete — asks first; the
// articles stay, without a category.
func (h *handler) kbCategoryDelete(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 1<<10); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return kb.ErrNotFound
	}
	if !confirmed(r) {
		pr := h.printer(r, current(r))
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm.kbcat.title"), Message: pr.T("confirm.kbcat.message"), Button: pr.T("confirm.kbcat.yes"), Back: "/kb"})
	}
	if err := h.KB.DeleteCategory(r.Context(), id); err != nil && !errors.Is(err, fault.NotFound) {
		return err
	}
	http.Redirect(w, r, "/kb", http.StatusSeeOther)
	return nil
}

// lookupArticles: GET /lookup/articles?q= — articles to link in a reply,
// in the agent's language first; published public ones only (a customer
// could not open the others).
func (h *handler) lookupArticles(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	a := current(r)
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = a.Language
	}
	hits, err := h.KB.SearchArticles(r.Context(), lang, q, true, lookupLimit)
	if err != nil {
		return err
	}
	var rows []lookupRow
	for _, x := range hits {
		rows = append(rows, lookupRow{ID: x.ArticleID, Label: x.Title, Detail: x.Summary, Name: h.abs("/help/" + x.Lang + "/a/" + x.Slug)})
	}
	return h.lookupJSON(w, rows)
}

// helpSettingsShow: GET /admin/help — the help centre's name, colour,
// logo and languages.
func (h *handler) helpSettingsShow(w http.ResponseWriter, r *http.Request) error {
	b, err := h.brand(r.Context())
	if err != nil {
		return err
	}
	return h.helpSettingsPage(w, r, http.StatusOK, b, nil, r.URL.Query().Get("saved") == "1")
}

func (h *handler) helpSettingsPage(w http.ResponseWriter, r *http.Request, status int, b kb.Brand, errs map[string]string, saved bool) error {
	a := current(r)
	pr := h.printer(r, a)
	cs := csat.DefaultSettings()
	if _, err := h.Desk.Setting(r.Context(), csat.SettingsKey, &cs); err != nil {
		return err
	}
	delay := strconv.Itoa(cs.DelayHours)
	// The form's starting point, sent back with it: a save applies only
	// the fields the admin changed from it.
	was := map[string]string{"name": b.Name, "accent": b.Accent, "languages": strings.Join(b.Languages, ", "), "delay_hours": delay, "portal_orgs": ""}
	if b.PortalOrgs {
		was["portal_orgs"] = "1"
	}
	if r.Method == http.MethodPost {
		delay = r.PostFormValue("delay_hours")
		for k := range was {
			was[k] = r.PostFormValue("was_" + k)
		}
	}
	return h.render(w, r, status, "help_settings", page{P: pr, Agent: a, Title: pr.T("helpadmin.title"), Now: h.Now(),
		Data: map[string]any{"Brand": b, "Langs": strings.Join(b.Languages, ", "), "Errors": errs, "Saved": saved, "Delay": delay, "Was": was}})
}

// helpSettingsSave: POST /admin/help.
func (h *handler) helpSettingsSave(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, kb.MaxLogo+64<<10)
	if err := r.ParseMultipartForm(kb.MaxLogo + 64<<10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return fault.Field("logo", "max_size", "at most 200 KB")
	}
	ctx := r.Context()
	pr := h.printer(r, current(r))
	b, err := h.brand(ctx)
	if err != nil {
		return err
	}
	// Only what the admin changed from the form's starting point: a
	// colleague's change of another field since stays.
	changed := func(k string) bool {
		return !r.PostForm.Has("was_"+k) || strings.TrimSpace(r.PostFormValue(k)) != strings.TrimSpace(r.PostFormValue("was_"+k))
	}
	if changed("name") {
		b.Name = r.PostFormValue("name")
	}
	if changed("accent") {
		b.Accent = strings.TrimSpace(r.PostFormValue("accent"))
	}
	if changed("languages") {
		b.Languages = strings.FieldsFunc(r.PostFormValue("languages"), func(r rune) bool { return r == ',' || r == ' ' })
	}
	if changed("portal_orgs") {
		b.PortalOrgs = r.PostFormValue("portal_orgs") == "1"
	}
	removeLogo := r.PostFormValue("logo_remove") == "1"
	if f, hdr, err := r.FormFile("logo"); err == nil {
		data, err := io.ReadAll(io.LimitReader(f, kb.MaxLogo+1))
		f.Close()
		if err != nil {
			return err
		}
		b.Logo, b.LogoType = data, http.DetectContentType(data)
		if hdr.Size > kb.MaxLogo {
			b.Logo = data // Validate names the size
		}
	}
	errs := map[string]string{}
	if err := b.Validate(); err != nil {
		for _, p := range problemsOf(err) {
			errs[p.Field] = pr.T("form." + p.Rule)
		}
	}
	cs := csat.DefaultSettings()
	if _, err := h.Desk.Setting(ctx, csat.SettingsKey, &cs); err != nil {
		return err
	}
	if changed("delay_hours") {
		n, perr := strconv.Atoi(strings.TrimSpace(r.PostFormValue("delay_hours")))
		cs.DelayHours = n
		if perr != nil || cs.Validate() != nil {
			errs["delay_hours"] = pr.T("helpadmin.delay_error")
		}
	}
	if len(errs) > 0 {
		return h.helpSettingsPage(w, r, http.StatusUnprocessableEntity, b, errs, false)
	}
	switch {
	case len(b.Logo) > 0:
		if err := h.Desk.SetSetting(ctx, LogoKey, kb.StoredLogo{Data: b.Logo, Type: b.LogoType}, h.Now()); err != nil {
			return err
		}
		b.HasLogo = true
	case removeLogo:
		if err := h.Desk.SetSetting(ctx, LogoKey, kb.StoredLogo{}, h.Now()); err != nil {
			return err
		}
		b.HasLogo = false
	}
	if err := h.Desk.SetSetting(ctx, BrandKey, b, h.Now()); err != nil {
		return err
	}
	if err := h.Desk.SetSetting(ctx, csat.SettingsKey, cs, h.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/help?saved=1", http.StatusSeeOther)
	return nil
}
