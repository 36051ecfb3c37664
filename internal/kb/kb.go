// Package kb is the knowledge base of the help centre: categories and
// articles, each article with one version per language (Italian, English
// and any other the desk serves), written in Markdown and shown sanitised.
// Customers read the published, public versions; agents also read drafts
// and internal articles, and link articles into their replies. The guides
// our users follow start it from "the ten most common cases".
package kb

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/text/unicode/norm"

	"github.com/sportello/sportello/internal/fault"
)

// State of one language version of an article.
type State string

const (
	Draft     State = "draft"
	Published State = "published"
)

// Category groups articles on the help centre's home page.
type Category struct {
	ID        int64     `db:"id" json:"id"`
	Position  int       `db:"position" json:"position"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
	// Names by language, with a slug each for its address.
	Names map[string]CategoryName `db:"-" json:"names"`
}

// CategoryName is a category in one language.
type CategoryName struct {
	Name        string `db:"name" json:"name"`
	Slug        string `db:"slug" json:"slug"`
	Description string `db:"description" json:"description"`
}

// Article is one article and its language versions.
type Article struct {
	ID         int64  `db:"id" json:"id"`
	CategoryID *int64 `db:"category_id" json:"category_id"`
	// Internal articles are for agents only: never on the public site.
	Internal  bool      `db:"internal" json:"internal"`
	Position  int       `db:"position" json:"position"`
	Helpful   int64     `db:"helpful" json:"helpful"`
	Unhelpful int64     `db:"unhelpful" json:"unhelpful"`
	Views     int64     `db:"views" json:"views"`
	Deflected int64     `db:"deflected" json:"deflected"` // suggested on the contact form and opened
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
	Texts     []Text    `db:"-" json:"texts"`
}

// Text is an article in one language.
type Text struct {
	ID          int64      `db:"id" json:"id"`
	ArticleID   int64      `db:"article_id" json:"article_id"`
	Lang        string     `db:"lang" json:"lang"`
	Title       string     `db:"title" json:"title"`
	Slug        string     `db:"slug" json:"slug"`
	Body        string     `db:"body" json:"body"`       // Markdown, as written
	HTML        string     `db:"html" json:"-"`          // rendered and sanitised
	Summary     string     `db:"summary" json:"summary"` // the first words, for lists
	State       State      `db:"state" json:"state"`
	PublishedAt *time.Time `db:"published_at" json:"published_at"`
	UpdatedAt   time.Time  `db:"updated_at" json:"updated_at"`
	// Base, when set, is the version the editor started from (its
	// UpdatedAt, or the zero time for a language not written yet): a
	// save over a version someone saved meanwhile is refused, not applied.
	Base *time.Time `db:"-" json:"-"`
}

// ErrEdited is a save over a version someone else saved since.
var ErrEdited = fmt.Errorf("the article was saved by someone else meanwhile: %w", fault.Conflict)

// Text returns the article's version in lang, or nil.
func (a *Article) Text(lang string) *Text {
	for i := range a.Texts {
		if a.Texts[i].Lang == lang {
			return &a.Texts[i]
		}
	}
	return nil
}

// Limits of what an article holds.
const (
	MaxTitle = 200
	MaxBody  = 100_000
)

var langCode = regexp.MustCompile(`^[a-z]{2}$`)

// Validate checks one language version and fills its slug (from the
// title when empty), rendered HTML and summary. Errors name the field.
func (t *Text) Validate() error {
	var c fault.Checker
	t.Title = strings.TrimSpace(t.Title)
	t.Lang = strings.ToLower(strings.TrimSpace(t.Lang))
	c.Check(langCode.MatchString(t.Lang), "lang", "language_code", "a two-letter language code such as it or en")
	c.Check(t.Title != "", "title", "required", "an article needs a title")
	c.Check(utf8.RuneCountInString(t.Title) <= MaxTitle, "title", "max_length", "at most 200 characters")
	c.Check(len(t.Body) <= MaxBody, "body", "max_length", "at most 100,000 characters")
	c.Check(utf8.ValidString(t.Body) && utf8.ValidString(t.Title), "body", "utf8", "the text must be UTF-8")
	if t.State == "" {
		t.State = Draft
	}
	c.Check(t.State == Draft || t.State == Published, "state", "enum", "draft or published")
	t.Slug = Slug(t.Slug)
	if t.Slug == "" {
		t.Slug = Slug(t.Title)
	}
	c.Check(t.Slug != "" || t.Title == "", "slug", "pattern", "letters or digits are needed for the address")
	if err := c.Err(); err != nil {
		return err
	}
	html, err := Render(t.Body)
	if err != nil {
		return fault.Field("body", "markdown", err.Error())
	}
	t.HTML, t.Summary = html, Summary(t.Body, 200)
	return nil
}

// Validate checks a category's names (one per language at least).
func (c *Category) Validate() error {
	var ch fault.Checker
	ch.Check(len(c.Names) > 0, "names", "required", "a category needs a name in at least one language")
	for lang, n := range c.Names {
		n.Name = strings.TrimSpace(n.Name)
		ch.Check(langCode.MatchString(lang), "names."+lang, "language_code", "a two-letter language code such as it or en")
		ch.Check(n.Name != "", "names."+lang+".name", "required", "the category's name")
		ch.Check(utf8.RuneCountInString(n.Name) <= 100, "names."+lang+".name", "max_length", "at most 100 characters")
		ch.Check(utf8.RuneCountInString(n.Description) <= 500, "names."+lang+".description", "max_length", "at most 500 characters")
		if n.Slug = Slug(n.Slug); n.Slug == "" {
			n.Slug = Slug(n.Name)
		}
		ch.Check(n.Slug != "" || n.Name == "", "names."+lang+".slug", "pattern", "letters or digits are needed for the address")
		c.Names[lang] = n
	}
	return ch.Err()
}

// Slug is s as an address part: lower-case letters and digits without
// accents, words joined by "-", at most 80 characters.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // the accent of a decomposed letter
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 80 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// policy is what an article may keep of its HTML: bluemonday's
// user-generated-content rules (no script, no event handlers, no style,
// safe links), with links opened without a referrer leak.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// Render turns an article's Markdown into sanitised HTML. Raw HTML in the
// Markdown is kept only as far as the policy allows.
func Render(markdown string) (string, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		return "", err
	}
	return policy.Sanitize(buf.String()), nil
}

// Summary is the first words of the Markdown as plain text, at most max
// characters, for lists and search results.
func Summary(markdown string, max int) string {
	plain := strings.Map(func(r rune) rune {
		if strings.ContainsRune("#*_`>[]|", r) {
			return -1
		}
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, markdown)
	plain = strings.Join(strings.Fields(plain), " ")
	if utf8.RuneCountInString(plain) <= max {
		return plain
	}
	cut := []rune(plain)[:max]
	if i := strings.LastIndexByte(string(cut), ' '); i > max/2 {
		return string(cut)[:i] + "…"
	}
	return string(cut) + "…"
}

// ErrNotFound is an article, version or category that does not exist (or
// that the reader may not see).
var ErrNotFound = fmt.Errorf("article or category %w", fault.NotFound)

// Store is what the knowledge base needs.
type Store interface {
	Categories(ctx context.Context) ([]Category, error)
	SaveCategory(ctx context.Context, c *Category) error
	DeleteCategory(ctx context.Context, id int64) error
	Articles(ctx context.Context, f Filter) ([]Article, error)
	Article(ctx context.Context, id int64) (*Article, error)
	ArticleBySlug(ctx context.Context, lang, slug string) (*Article, error)
	SaveArticle(ctx context.Context, a *Article, t *Text, now time.Time) error
	DeleteArticle(ctx context.Context, id int64) error
	SearchArticles(ctx context.Context, lang, query string, public bool, limit int) ([]Hit, error)
	SuggestArticles(ctx context.Context, lang, text string, limit int) ([]Hit, error)
	CountArticle(ctx context.Context, id int64, what string) error
}

// Filter selects articles.
type Filter struct {
	CategoryID *int64
	Lang       string // with a version in this language
	Public     bool   // published, non-internal versions only
	Limit      int
}

// Hit is one article version a search found.
type Hit struct {
	ArticleID int64  `db:"article_id"`
	Lang      string `db:"lang"`
	Title     string `db:"title"`
	Slug      string `db:"slug"`
	Summary   string `db:"summary"`
	Internal  bool   `db:"internal"`
	State     State  `db:"state"`
}

// Brand is how the help centre looks: its name, logo and accent colour,
// and the languages it is written in (Italian and English first).
type Brand struct {
	Name   string `json:"name"`
	Accent string `json:"accent"` // #rrggbb
	// Logo is an uploaded PNG, JPEG or WebP of at most 200 KB, kept apart
	// (LogoKey) so that every page does not read it; HasLogo says there
	// is one.
	Logo      []byte   `json:"-"`
	LogoType  string   `json:"-"`
	HasLogo   bool     `json:"has_logo"`
	Languages []string `json:"languages"`
	// PortalOrgs lets the contacts of one organisation see each other's
	// requests in the portal.
	PortalOrgs bool `json:"portal_orgs"`
}

// DefaultBrand is the help centre before an admin changes it.
func DefaultBrand() Brand {
	return Brand{Name: "Sportello", Accent: "#0b5cad", Languages: []string{"it", "en"}}
}

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// StoredLogo is the logo as kept (its own desk setting).
type StoredLogo struct {
	Data []byte `json:"data"`
	Type string `json:"type"`
}

// MaxLogo is the largest logo the help centre keeps.
const MaxLogo = 200 << 10

// Validate checks the brand; errors name the field.
func (b *Brand) Validate() error {
	var c fault.Checker
	b.Name = strings.TrimSpace(b.Name)
	c.Check(b.Name != "", "name", "required", "the help centre's name")
	c.Check(utf8.RuneCountInString(b.Name) <= 80, "name", "max_length", "at most 80 characters")
	c.Check(hexColour.MatchString(b.Accent), "accent", "pattern", "a colour as #rrggbb")
	c.Check(len(b.Logo) <= MaxLogo, "logo", "max_size", "at most 200 KB")
	if len(b.Logo) > 0 {
		ok := false
		for _, t := range []string{"image/png", "image/jpeg", "image/webp"} {
			ok = ok || b.LogoType == t
		}
		c.Check(ok, "logo", "type", "a PNG, JPEG or WebP image")
	}
	seen := map[string]bool{}
	var langs []string
	for _, l := range b.Languages {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || seen[l] {
			continue
		}
		c.Check(langCode.MatchString(l), "languages", "language_code", "two-letter language codes such as it, en, de")
		seen[l] = true
		langs = append(langs, l)
	}
	b.Languages = langs
	c.Check(len(langs) > 0, "languages", "required", "at least one language")
	return c.Err()
}
