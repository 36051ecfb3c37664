package ticket

import (
	"html"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/sportello/sportello/internal/fault"
)

// MaxBodyBytes bounds one message body (text or HTML).
const MaxBodyBytes = 1 << 20

// BlockedImage is the cid: placeholder that replaces remote image sources.
const BlockedImage = "remote-image-blocked"

// Sanitizer turns untrusted message bodies into the text and HTML Sportello
// stores. Inbound HTML is hostile (DOMAIN.md §7): only an allow-list of
// formatting survives, and remote images are dropped (they track readers).
type Sanitizer struct {
	ugc   *bluemonday.Policy
	plain *bluemonday.Policy
}

// NewSanitizer builds the policies once; they are safe for concurrent use.
func NewSanitizer() *Sanitizer {
	p := bluemonday.UGCPolicy()
	p.AllowElements("center", "font")
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	// Remote images leak that the mail was read: only inline cid: images
	// (served from stored attachments) keep their source; any other source
	// becomes an inert placeholder that loads nothing.
	p.RewriteSrc(func(u *url.URL) {
		if u.Scheme != "cid" {
			*u = url.URL{Scheme: "cid", Opaque: BlockedImage}
		}
	})
	return &Sanitizer{ugc: p, plain: bluemonday.StrictPolicy()}
}

// Body validates and normalises a message body: given HTML, it is sanitised
// and the text derived from it; given only text, the HTML is the escaped text
// in paragraphs. field names the input field in errors.
func (s *Sanitizer) Body(field, text, htmlIn string) (string, string, error) {
	if len(text) > MaxBodyBytes || len(htmlIn) > MaxBodyBytes {
		return "", "", fault.Field(field, "max_length", "a message body may hold at most 1 MiB")
	}
	if !utf8.ValidString(text) || !utf8.ValidString(htmlIn) {
		return "", "", fault.Field(field, "utf8", "must be valid UTF-8 text")
	}
	if strings.TrimSpace(htmlIn) != "" {
		clean := s.ugc.Sanitize(htmlIn)
		if strings.TrimSpace(text) == "" {
			text = s.Text(clean)
		}
		if strings.TrimSpace(text) == "" && !strings.Contains(clean, "<img") {
			return "", "", fault.Field(field, "required", "the message is empty")
		}
		return strings.TrimSpace(text), clean, nil
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return "", "", fault.Field(field, "required", "the message is empty")
	}
	return text, TextToHTML(text), nil
}

// Text renders sanitised HTML as plain text, keeping paragraph breaks.
func (s *Sanitizer) Text(h string) string {
	r := strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n\n", "</div>", "\n", "</li>", "\n", "</tr>", "\n")
	t := html.UnescapeString(s.plain.Sanitize(r.Replace(h)))
	lines := strings.Split(t, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// TextToHTML escapes plain text and keeps its paragraphs and line breaks.
func TextToHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}
