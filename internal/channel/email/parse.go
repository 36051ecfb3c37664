// Package email is Sportello's mail channel. This first part is the pure
// logic every mail goes through, whatever brought it (IMAP or the SMTP
// listener): parsing raw MIME with enmime into what a ticket needs,
// classifying it before any action (bounce, auto-reply, bulk, our own
// mail coming back, or a person), cutting the reply text out of quotes,
// normalising subjects, and the signed tokens that thread replies to
// their ticket (DOMAIN.md §7). Receiving, sending and the outbox build on
// it; nothing here touches the network or the database.
package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jhillyerd/enmime/v2"
)

// Limits keep one hostile mail from costing more than a mail should.
const (
	// MaxParts bounds the MIME parts read (a "mail bomb" of 10,000 tiny
	// parts is cut there; the raw mail is kept whole anyway).
	MaxParts = 500
	// MaxAttachments bounds the attachments taken onto a ticket.
	MaxAttachments = 50
)

// Attachment is one file of a mail.
type Attachment struct {
	Filename    string
	ContentType string
	ContentID   string // for cid: images in the HTML body
	Inline      bool
	Data        []byte
}

// Message is an inbound mail as the desk uses it.
type Message struct {
	MessageID  string   // without angle brackets; synthetic when the mail has none
	Synthetic  bool     // MessageID was made from the content
	InReplyTo  []string // ids, without angle brackets
	References []string
	From       *mail.Address
	ReturnPath string // "" for an empty return path (<>), as bounces have
	To, Cc     []*mail.Address
	Subject    string
	Date       time.Time
	Text       string // the plain text (converted to UTF-8)
	HTML       string // the HTML as sent: sanitise before showing
	// TextFromHTML is true when the mail had no plain-text part (Text was
	// made from the HTML): the HTML is then the message as written.
	TextFromHTML bool
	Attachments  []Attachment
	// Header gives the top-level headers for classification.
	Header func(name string) string
	// Report is the delivery-status report of a bounce, when the mail is
	// one (multipart/report).
	Report *Report
	// PEC is true when the mail was a certified-mail (PEC) envelope and
	// Message is the customer's message inside it.
	PEC bool
	// Problems lists what was malformed and how it was read anyway.
	Problems []string
}

// Parse reads a raw mail. Broken MIME is read as far as it goes (enmime
// is lenient; what was wrong is in Problems); only a mail without any
// header block is refused.
func Parse(raw []byte) (*Message, error) {
	env, err := enmime.NewParser(enmime.SkipMalformedParts(true), enmime.MaxStoredPartErrors(20)).ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("reading the mail: %w", err)
	}
	m := fromEnvelope(env, raw)
	// An Italian PEC (posta elettronica certificata) wraps the sender's
	// message as postacert.eml in the provider's envelope: the customer's
	// words, sender and ids are inside.
	if inner := pecInner(env); inner != nil {
		if in, err := enmime.NewParser(enmime.SkipMalformedParts(true)).ReadEnvelope(bytes.NewReader(inner)); err == nil {
			im := fromEnvelope(in, inner)
			im.PEC = true
			if im.From == nil {
				im.From = m.From
			}
			return im, nil
		}
	}
	return m, nil
}

func fromEnvelope(env *enmime.Envelope, raw []byte) *Message {
	m := &Message{Header: env.GetHeader, Text: env.Text, HTML: env.HTML}
	if env.HTML != "" && env.Root != nil && env.Root.BreadthMatchFirst(func(p *enmime.Part) bool {
		return strings.HasPrefix(p.ContentType, "text/plain") && p.Disposition != "attachment"
	}) == nil {
		m.TextFromHTML = true // enmime wrote Text from the HTML
	}
	m.Subject = strings.TrimSpace(env.GetHeader("Subject"))
	if l, err := env.AddressList("From"); err == nil && len(l) > 0 {
		m.From = l[0]
	} else if f := strings.TrimSpace(env.GetHeader("From")); f != "" {
		// An unparsable From: keep what looks like an address.
		if a, err := mail.ParseAddress(lastAddr(f)); err == nil {
			m.From = a
		}
		m.Problems = append(m.Problems, "From header is malformed")
	}
	m.To, _ = env.AddressList("To")
	m.Cc, _ = env.AddressList("Cc")
	m.ReturnPath = strings.Trim(strings.TrimSpace(env.GetHeader("Return-Path")), "<>")
	if d, err := env.Date(); err == nil {
		m.Date = d
	}
	m.MessageID = firstID(env.GetHeader("Message-ID"))
	if m.MessageID == "" {
		// A stable id from the content: the same mail fetched twice gets
		// the same id, so it is still stored once.
		sum := sha256.Sum256(raw)
		m.MessageID, m.Synthetic = hex.EncodeToString(sum[:16])+"@synthetic.sportello", true
	}
	m.InReplyTo = ids(env.GetHeader("In-Reply-To"))
	m.References = ids(env.GetHeader("References"))
	parts := 0
	for _, group := range [][]*enmime.Part{env.Inlines, env.Attachments, env.OtherParts} {
		for _, p := range group {
			parts++
			if parts > MaxParts || len(m.Attachments) >= MaxAttachments {
				m.Problems = append(m.Problems, fmt.Sprintf("more than %d parts: the rest are only in the raw mail", MaxAttachments))
				goto done
			}
			if p.FileName == "" && p.ContentID == "" {
				continue // alternative bodies and report parts
			}
			m.Attachments = append(m.Attachments, Attachment{Filename: p.FileName, ContentType: p.ContentType,
				ContentID: strings.Trim(p.ContentID, "<>"), Inline: p.Disposition != "attachment" && p.ContentID != "", Data: p.Content})
		}
	}
done:
	if r := bounceReport(env); r != nil {
		m.Report = r
	}
	// Mail may carry NUL characters and bytes that are not UTF-8 (an
	// encoded-word "=00", a lying charset); the database takes neither.
	m.Subject, m.Text, m.HTML = cleanText(m.Subject), cleanText(m.Text), cleanText(m.HTML)
	m.MessageID = cleanText(m.MessageID)
	m.InReplyTo, m.References = cleanAll(m.InReplyTo), cleanAll(m.References)
	if m.From != nil {
		m.From.Name, m.From.Address = cleanText(m.From.Name), cleanText(m.From.Address)
	}
	for i := range m.Attachments {
		m.Attachments[i].Filename = cleanText(m.Attachments[i].Filename)
		m.Attachments[i].ContentID = cleanText(m.Attachments[i].ContentID)
	}
	for _, e := range env.Errors {
		m.Problems = append(m.Problems, e.Error())
	}
	return m
}

// cleanText drops NUL characters and replaces invalid UTF-8.
func cleanText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

func cleanAll(l []string) []string {
	for i := range l {
		l[i] = cleanText(l[i])
	}
	return l
}

// pecInner returns the raw postacert.eml of a PEC envelope, or nil: the
// file of that name (every provider uses it), or, under a provider's
// X-Trasporto header, the embedded message.
func pecInner(env *enmime.Envelope) []byte {
	pec := env.GetHeader("X-Trasporto") != "" || env.GetHeader("X-Ricevuta") != ""
	for _, group := range [][]*enmime.Part{env.Attachments, env.Inlines, env.OtherParts} {
		for _, p := range group {
			if strings.EqualFold(p.FileName, "postacert.eml") || (pec && p.ContentType == "message/rfc822") {
				return p.Content
			}
		}
	}
	return nil
}

// ids reads a list of message ids ("<a@b> <c@d>"), without brackets.
func ids(h string) []string {
	var out []string
	for {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(h[i+1 : i+j]); id != "" && len(id) <= 500 {
			out = append(out, id)
		}
		h = h[i+j+1:]
	}
	if len(out) == 0 {
		// Some clients send a bare id.
		for _, f := range strings.Fields(h) {
			if strings.Contains(f, "@") && len(f) <= 500 {
				out = append(out, strings.Trim(f, "<>,"))
			}
		}
	}
	return out
}

func firstID(h string) string {
	if l := ids(h); len(l) > 0 {
		return l[0]
	}
	return ""
}

func lastAddr(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		return s[i:]
	}
	return s
}

type mailAddress = mail.Address

// addrs drops nil entries of an address list.
func addrs(l []*mail.Address) []*mailAddress {
	out := make([]*mailAddress, 0, len(l))
	for _, a := range l {
		if a != nil {
			out = append(out, a)
		}
	}
	return out
}
