package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
	"github.com/sportello/sportello/internal/kb"
)

// The help centre (/help) is the customers' side of the desk: the
// knowledge base in each language the desk writes, search, and the
// contact form. It has its own look (the brand an admin sets), works
// without JavaScript, and its pages are the same for every visitor, so
// browsers and proxies may keep them for a minute.

// DeskSettings keeps the settings an admin changes on a page.
type DeskSettings interface {
	Setting(ctx context.Context, key string, dest any) (bool, error)
	SetSetting(ctx context.Context, key string, value any, now time.Time) error
}

// BrandKey is the desk setting holding the help centre's kb.Brand, and
// LogoKey its logo.
const (
	BrandKey = "help.brand"
	LogoKey  = "help.logo"
)

func (h *handler) brand(ctx context.Context) (kb.Brand, error) {
	b := kb.DefaultBrand()
	if h.Desk == nil {
		return b, nil
	}
	_, err := h.Desk.Setting(ctx, BrandKey, &b)
	return b, err
}

// helpPage is what every help-centre template receives.
type helpPage struct {
	P          *i18n.Printer
	Brand      kb.Brand
	Lang       string
	Title      string
	Canonical  string
	Alternates []helpAlt // the same page in the other languages
	Q          string    // the search box
	Data       any
	NoIndex    bool // pages search engines should not list (search, forms)
	// Embed is the contact form inside another site's page (an iframe):
	// no header or footer, and framing allowed.
	Embed bool
}

type helpAlt struct{ Lang, URL, Name string }

var langNames = map[string]string{"it": "Italiano", "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "sl": "Slovenščina"}

// langName is a language's own name, or its code.
func langName(l string) string {
	if n, ok := langNames[l]; ok {
		return n
	}
	return strings.ToUpper(l)
}

// helpLang is the language in the page's address, when the help centre is
// written in it.
func (h *handler) helpLang(r *http.Request, b kb.Brand) (string, error) {
	l := r.PathValue("lang")
	if !slices.Contains(b.Languages, l) {
		return "", &httpx.Error{Status: http.StatusNotFound, Detail: "the help centre is not written in " + l}
	}
	return l, nil
}

// helpStart reads what every help-centre page starts from: the brand and
// the language in the page's address.
func (h *handler) helpStart(r *http.Request) (kb.Brand, string, error) {
	b, err := h.brand(r.Context())
	if err != nil {
		return b, "", err
	}
	lang, err := h.helpLang(r, b)
	return b, lang, err
}

// helpPrinter speaks the page's language where Sportello has a catalogue
// for it, English otherwise (the articles stay in their language).
func (h *handler) helpPrinter(lang string) *i18n.Printer {
	if !i18n.Supported(lang) {
		lang = "en"
	}
	return h.I18n.Printer(lang, "Europe/Rome")
}

func (h *handler) abs(path string) string { return strings.TrimSuffix(h.BaseURL, "/") + path }

// renderHelp renders a help-centre page; cacheable pages may be kept for
// a minute by the browser and shared caches.
func (h *handler) renderHelp(w http.ResponseWriter, r *http.Request, status int, name string, pg helpPage, cacheable bool) error {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "help_layout.html", pg); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if pg.Embed {
		// The embeddable form may sit in any site's page; it still runs
		// only our own script and posts only to us.
		w.Header().Set("Content-Security-Policy", strings.Replace(CSP, "frame-ancestors 'none'", "frame-ancestors *", 1))
	} else {
		w.Header().Set("Content-Security-Policy", CSP)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	if cacheable && status == http.StatusOK {
		w.Header().Set("Cache-Control", "public, max-age=60")
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// helpRoot: GET /help — to the visitor's language (the browser's, when
// the help centre is written in it).
func (h *handler) helpRoot(w http.ResponseWriter, r *http.Request) error {
	b, err := h.brand(r.Context())
	if err != nil {
		return err
	}
	lang := i18n.MatchAmong(r.Header.Get("Accept-Language"), b.Languages)
	w.Header().Set("Vary", "Accept-Language")
	http.Redirect(w, r, "/help/"+lang, http.StatusFound)
	return nil
}

type helpCategory struct {
	ID                int64
	Name, Slug, About string
	Articles          []helpLink
}

type helpLink struct {
	Title, Slug, Summary string
}

func linkOf(a kb.Article, lang string) (helpLink, bool) {
	t := a.Text(lang)
	if t == nil || t.State != kb.Published || a.Internal {
		return helpLink{}, false
	}
	return helpLink{Title: t.Title, Slug: t.Slug, Summary: t.Summary}, true
}

// helpHome: GET /help/{lang} — the categories with their articles, the
// most helpful articles, search and the way to write to the team.
func (h *handler) helpHome(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	cats, err := h.KB.Categories(ctx)
	if err != nil {
		return err
	}
	arts, err := h.KB.Articles(ctx, kb.Filter{Lang: lang, Public: true})
	if err != nil {
		return err
	}
	var out []helpCategory
	byCat := map[int64]int{}
	for _, c := range cats {
		n, ok := c.Names[lang]
		if !ok {
			continue
		}
		byCat[c.ID] = len(out)
		out = append(out, helpCategory{ID: c.ID, Name: n.Name, Slug: n.Slug, About: n.Description})
	}
	var loose []helpLink
	for _, a := range arts {
		l, ok := linkOf(a, lang)
		if !ok {
			continue
		}
		if a.CategoryID != nil {
			if i, ok := byCat[*a.CategoryID]; ok {
				out[i].Articles = append(out[i].Articles, l)
				continue
			}
		}
		loose = append(loose, l)
	}
	// The ten most useful cases: most votes of help, then most deflections.
	top := slices.Clone(arts)
	slices.SortStableFunc(top, func(x, y kb.Article) int {
		return int((y.Helpful - y.Unhelpful + y.Deflected) - (x.Helpful - x.Unhelpful + x.Deflected))
	})
	var popular []helpLink
	for _, a := range top {
		if l, ok := linkOf(a, lang); ok && len(popular) < 10 {
			popular = append(popular, l)
		}
	}
	pr := h.helpPrinter(lang)
	pg := helpPage{P: pr, Brand: b, Lang: lang, Title: b.Name, Canonical: h.abs("/help/" + lang),
		Data: map[string]any{"Categories": out, "Loose": loose, "Popular": popular}}
	for _, l := range b.Languages {
		pg.Alternates = append(pg.Alternates, helpAlt{Lang: l, URL: h.abs("/help/" + l), Name: langName(l)})
	}
	return h.renderHelp(w, r, http.StatusOK, "help_home", pg, true)
}

// helpCategoryShow: GET /help/{lang}/c/{slug}.
func (h *handler) helpCategoryShow(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	cats, err := h.KB.Categories(ctx)
	if err != nil {
		return err
	}
	for _, c := range cats {
		n, ok := c.Names[lang]
		if !ok || n.Slug != r.PathValue("slug") {
			continue
		}
		id := c.ID
		arts, err := h.KB.Articles(ctx, kb.Filter{CategoryID: &id, Lang: lang, Public: true})
		if err != nil {
			return err
		}
		hc := helpCategory{ID: c.ID, Name: n.Name, Slug: n.Slug, About: n.Description}
		for _, a := range arts {
			if l, ok := linkOf(a, lang); ok {
				hc.Articles = append(hc.Articles, l)
			}
		}
		pg := helpPage{P: h.helpPrinter(lang), Brand: b, Lang: lang, Title: n.Name + " · " + b.Name,
			Canonical: h.abs("/help/" + lang + "/c/" + n.Slug), Data: hc}
		for _, l := range b.Languages {
			if o, ok := c.Names[l]; ok {
				pg.Alternates = append(pg.Alternates, helpAlt{Lang: l, URL: h.abs("/help/" + l + "/c/" + o.Slug), Name: langName(l)})
			}
		}
		return h.renderHelp(w, r, http.StatusOK, "help_category", pg, true)
	}
	return &httpx.Error{Status: http.StatusNotFound, Detail: "no such category"}
}

type helpArticle struct {
	Title    string
	HTML     template.HTML
	Updated  string
	Category *helpCategory
	Related  []helpLink
	Slug     string
	Voted    bool
}

// publicArticle is the published, public article with slug in lang.
func (h *handler) publicArticle(ctx context.Context, lang, slug string) (*kb.Article, *kb.Text, error) {
	a, err := h.KB.ArticleBySlug(ctx, lang, slug)
	if err != nil {
		return nil, nil, err
	}
	t := a.Text(lang)
	if t == nil || t.State != kb.Published || a.Internal {
		// A draft or an internal article does not exist for visitors.
		return nil, nil, kb.ErrNotFound
	}
	return a, t, nil
}

// helpArticleShow: GET /help/{lang}/a/{slug} — one article, its versions
// in the other languages, related articles and the helpful vote.
func (h *handler) helpArticleShow(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	a, t, err := h.publicArticle(ctx, lang, r.PathValue("slug"))
	if err != nil {
		return err
	}
	pr := h.helpPrinter(lang)
	d := helpArticle{Title: t.Title, HTML: template.HTML(t.HTML), Updated: pr.Date(t.UpdatedAt), Slug: t.Slug, Voted: r.URL.Query().Get("voted") == "1"}
	if a.CategoryID != nil {
		cats, err := h.KB.Categories(ctx)
		if err != nil {
			return err
		}
		for _, c := range cats {
			if n, ok := c.Names[lang]; ok && c.ID == *a.CategoryID {
				d.Category = &helpCategory{ID: c.ID, Name: n.Name, Slug: n.Slug}
			}
		}
		rel, err := h.KB.Articles(ctx, kb.Filter{CategoryID: a.CategoryID, Lang: lang, Public: true, Limit: 6})
		if err != nil {
			return err
		}
		for _, o := range rel {
			if l, ok := linkOf(o, lang); ok && o.ID != a.ID && len(d.Related) < 5 {
				d.Related = append(d.Related, l)
			}
		}
	}
	pg := helpPage{P: pr, Brand: b, Lang: lang, Title: t.Title + " · " + b.Name, Canonical: h.abs("/help/" + lang + "/a/" + t.Slug), Data: d}
	for _, l := range b.Languages {
		if o := a.Text(l); o != nil && o.State == kb.Published {
			pg.Alternates = append(pg.Alternates, helpAlt{Lang: l, URL: h.abs("/help/" + l + "/a/" + o.Slug), Name: langName(l)})
		}
	}
	return h.renderHelp(w, r, http.StatusOK, "help_article", pg, !d.Voted)
}

// helpVote: POST /help/{lang}/a/{slug}/vote — "was this helpful?", yes or
// no, counted (not per person: visitors are not known).
func (h *handler) helpVote(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := h.parseForm(w, r, 1<<10); err != nil {
		return err
	}
	_, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	a, t, err := h.publicArticle(ctx, lang, r.PathValue("slug"))
	if err != nil {
		return err
	}
	what := map[string]string{"yes": "helpful", "no": "unhelpful"}[r.PostFormValue("helpful")]
	if what == "" {
		return fault.Field("helpful", "enum", "yes or no")
	}
	if err := h.KB.CountArticle(ctx, a.ID, what); err != nil {
		return err
	}
	http.Redirect(w, r, "/help/"+lang+"/a/"+t.Slug+"?voted=1", http.StatusSeeOther)
	return nil
}

// helpSearch: GET /help/{lang}/search?q= — published articles in the
// language, every word matching with the stemming of ticket search.
func (h *handler) helpSearch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	hits, err := h.KB.SearchArticles(ctx, lang, q, true, 20)
	if err != nil {
		return err
	}
	pr := h.helpPrinter(lang)
	pg := helpPage{P: pr, Brand: b, Lang: lang, Title: pr.T("help.search") + " · " + b.Name, Q: q, NoIndex: true,
		Data: map[string]any{"Hits": hits, "Searched": q != ""}}
	return h.renderHelp(w, r, http.StatusOK, "help_search", pg, true)
}

// helpSuggest: GET /help/{lang}/suggest?q= — the articles the contact
// form offers while the customer types (JSON).
func (h *handler) helpSuggest(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	_, lang, err := h.helpStart(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 300 {
		q = q[:300]
	}
	hits, err := h.KB.SuggestArticles(ctx, lang, q, 5)
	if err != nil {
		return err
	}
	rows := []lookupRow{}
	for _, x := range hits {
		rows = append(rows, lookupRow{ID: x.ArticleID, Label: x.Title, Detail: x.Summary, Name: "/help/" + lang + "/a/" + x.Slug})
	}
	return h.lookupJSON(w, rows)
}

// helpDeflect: POST /help/{lang}/deflect — a suggested article was opened
// from the contact form (sent by the page's script; counted).
func (h *handler) helpDeflect(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 1<<10); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PostFormValue("article"), 10, 64)
	if err != nil {
		return fault.Field("article", "id", "an article number")
	}
	a, err := h.KB.Article(r.Context(), id)
	if err != nil {
		return err
	}
	if a.Internal {
		return kb.ErrNotFound
	}
	if err := h.KB.CountArticle(r.Context(), id, "deflected"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// helpSitemap: GET /help/sitemap.xml — every published public page, with
// its versions in the other languages.
func (h *handler) helpSitemap(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, err := h.brand(ctx)
	if err != nil {
		return err
	}
	type link struct {
		Rel      string `xml:"rel,attr"`
		HrefLang string `xml:"hreflang,attr"`
		Href     string `xml:"href,attr"`
	}
	type u struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod,omitempty"`
		Links   []link `xml:"xhtml:link"`
	}
	set := struct {
		XMLName xml.Name `xml:"urlset"`
		NS      string   `xml:"xmlns,attr"`
		XHTML   string   `xml:"xmlns:xhtml,attr"`
		URLs    []u      `xml:"url"`
	}{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", XHTML: "http://www.w3.org/1999/xhtml"}
	for _, l := range b.Languages {
		set.URLs = append(set.URLs, u{Loc: h.abs("/help/" + l)})
	}
	arts, err := h.KB.Articles(ctx, kb.Filter{Public: true})
	if err != nil {
		return err
	}
	for _, a := range arts {
		var versions []link
		for _, t := range a.Texts {
			if t.State == kb.Published && slices.Contains(b.Languages, t.Lang) {
				versions = append(versions, link{Rel: "alternate", HrefLang: t.Lang, Href: h.abs("/help/" + t.Lang + "/a/" + t.Slug)})
			}
		}
		for _, t := range a.Texts {
			if t.State == kb.Published && slices.Contains(b.Languages, t.Lang) {
				set.URLs = append(set.URLs, u{Loc: h.abs("/help/" + t.Lang + "/a/" + t.Slug), LastMod: t.UpdatedAt.UTC().Format("2006-01-02"), Links: versions})
			}
		}
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if _, err := w.Write([]byte(xml.Header)); err != nil {
		return err
	}
	return xml.NewEncoder(w).Encode(set)
}

// helpBrandCSS: GET /help/brand.css — the brand's colour for the help
// centre's own stylesheet (a file, so the page needs no inline style);
// text on the accent is black or white, whichever reads better.
func (h *handler) helpBrandCSS(w http.ResponseWriter, r *http.Request) error {
	b, err := h.brand(r.Context())
	if err != nil {
		return err
	}
	ink := "#ffffff"
	if luminance(b.Accent) > 0.4 {
		ink = "#1b1f24"
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, err = fmt.Fprintf(w, ":root { --brand: %s; --brand-ink: %s; }\n", b.Accent, ink)
	return err
}

// luminance is the relative luminance (WCAG) of a #rrggbb colour.
func luminance(hex string) float64 {
	if len(hex) != 7 {
		return 0
	}
	var rgb [3]float64
	for i := range rgb {
		n, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(n) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		rgb[i] = c
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

// helpLogo: GET /help/logo — the brand's logo, as uploaded.
func (h *handler) helpLogo(w http.ResponseWriter, r *http.Request) error {
	var logo kb.StoredLogo
	if _, err := h.Desk.Setting(r.Context(), LogoKey, &logo); err != nil {
		return err
	}
	if len(logo.Data) == 0 {
		return &httpx.Error{Status: http.StatusNotFound, Detail: "no logo"}
	}
	w.Header().Set("Content-Type", logo.Type)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(logo.Data)
	return err
}
