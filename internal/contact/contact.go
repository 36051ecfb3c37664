// Package contact holds the customer side of the desk: contacts (requesters
// and people in copy) with their emails, phones and language, and the
// organisations they belong to. An organisation lists email domains; a new
// contact whose address is in one of them joins it automatically.
package contact

import (
	"fmt"
	"github.com/sportello/sportello/internal/search"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
)

// Errors returned by the contact stores.
var (
	ErrNotFound             = fmt.Errorf("contact %w", fault.NotFound)
	ErrOrganisationNotFound = fmt.Errorf("organisation %w", fault.NotFound)
)

// Contact is a customer or anyone on the customer side.
type Contact struct {
	ID             int64     `db:"id"`
	Name           string    `db:"name"`
	Language       string    `db:"language"`
	OrganisationID *int64    `db:"organisation_id"`
	Notes          string    `db:"notes"`
	CreatedAt      time.Time `db:"created_at"`
	UpdatedAt      time.Time `db:"updated_at"`
	Emails         []string  `db:"-"`
	Phones         []string  `db:"-"`
	// Undeliverable maps an address to the permanent bounce status it
	// returned ("5.1.1"); mail to it does not arrive.
	Undeliverable map[string]string `db:"-"`
}

// Organisation groups contacts; Domains auto-associate new contacts.
type Organisation struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	Notes     string    `db:"notes"`
	Domains   []string  `db:"-"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

var (
	phoneRe  = regexp.MustCompile(`^\+?[0-9 ()./-]{4,32}$`)
	domainRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
)

// Validate checks a contact, normalising emails and phones.
func (c *Contact) Validate() error {
	var ch fault.Checker
	c.Name = strings.TrimSpace(c.Name)
	ch.Check(len(c.Name) <= 200, "name", "max_length", "must be at most 200 characters")
	ch.Check(c.Language == "" || (len(c.Language) >= 2 && len(c.Language) <= 8), "language", "language_code", "must be a language code such as it or en")
	ch.Check(len(c.Notes) <= 10000, "notes", "max_length", "must be at most 10000 characters")
	seen := map[string]bool{}
	emails := c.Emails[:0:0]
	for _, e := range c.Emails {
		e = agent.NormaliseEmail(e)
		if !agent.ValidEmail(e) {
			ch.Add("emails", "email", fmt.Sprintf("%q is not a valid email address", e))
			continue
		}
		if !seen[e] {
			seen[e] = true
			emails = append(emails, e)
		}
	}
	c.Emails = emails
	phones := c.Phones[:0:0]
	for _, p := range c.Phones {
		p = strings.TrimSpace(p)
		if !phoneRe.MatchString(p) {
			ch.Add("phones", "phone", fmt.Sprintf("%q is not a phone number", p))
			continue
		}
		phones = append(phones, p)
	}
	c.Phones = phones
	ch.Check(c.Name != "" || len(c.Emails) > 0 || len(c.Phones) > 0, "name", "required", "a contact needs a name, an email or a phone")
	return ch.Err()
}

// DisplayName is the name, or the first email when the name is empty.
func (c *Contact) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	if len(c.Emails) > 0 {
		return c.Emails[0]
	}
	return fmt.Sprintf("#%d", c.ID)
}

// Validate checks an organisation, normalising its domains.
func (o *Organisation) Validate() error {
	var ch fault.Checker
	o.Name = strings.TrimSpace(o.Name)
	ch.Check(o.Name != "" && len(o.Name) <= 200, "name", "required", "must be 1 to 200 characters")
	ch.Check(len(o.Notes) <= 10000, "notes", "max_length", "must be at most 10000 characters")
	seen := map[string]bool{}
	domains := o.Domains[:0:0]
	for _, d := range o.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if !domainRe.MatchString(d) {
			ch.Add("domains", "domain", fmt.Sprintf("%q is not a domain name", d))
			continue
		}
		if !seen[d] {
			seen[d] = true
			domains = append(domains, d)
		}
	}
	o.Domains = domains
	return ch.Err()
}

// EmailDomain returns the part after @ of an address.
func EmailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return strings.ToLower(email[i+1:])
	}
	return ""
}

// Filter selects contacts for a list.
type Filter struct {
	Query          string // any word of the name, any part of an email, a phone number in any format
	OrganisationID *int64
	Limit, Offset  int
}

// SearchTerms are the words a contact is found by: each word of the name,
// each address whole and in parts (local part pieces, the domain and its
// labels), and each phone number's digits reversed (so that a number
// typed without the country code, or with spaces and dashes, matches by
// its end). Lower-case, without diacritics.
func SearchTerms(name string, emails, phones []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != "" && !seen[t] && len(t) <= 200 {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, w := range nameWords(name) {
		add(w)
	}
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		add(e)
		local, domain, _ := strings.Cut(e, "@")
		for _, p := range strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '+' }) {
			add(p)
		}
		add(domain)
		for _, p := range strings.FieldsFunc(domain, func(r rune) bool { return r == '.' || r == '-' }) {
			add(p)
		}
	}
	for _, p := range phones {
		if d := digits(p); len(d) >= 4 {
			add("p:" + reverse(d))
		}
	}
	return out
}

// QueryTerms splits a search into the prefixes every match must have
// (each as its own word or address part) and, when it looks like a phone
// number, the reversed digits a phone term starts with.
func QueryTerms(q string) (words []string, phone string) {
	q = strings.TrimSpace(q)
	if d := digits(q); len(d) >= 4 && strings.Trim(q, "0123456789 +-()./") == "" {
		// 0039 347… is +39 347…: the international prefix is no digit
		// of the number.
		if i := strings.TrimPrefix(d, "00"); len(i) >= 4 && len(d) > 10 {
			d = i
		}
		return []string{d}, "p:" + reverse(d)
	}
	if strings.Contains(q, "@") {
		return []string{strings.ToLower(q)}, ""
	}
	return nameWords(q), ""
}

// AddressTerm is the one term a query that looks like an address or a
// domain ("ferramenta.it", "luca.greco") starts with: a contact's whole
// addresses and domains are terms of their own. Matching it alone spares
// the words of the domain that every contact shares ("example", "it").
// It is "" for any other query.
func AddressTerm(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	if !strings.Contains(q, ".") || strings.ContainsAny(q, " \t@") || strings.Trim(q, "0123456789 +-()./") == "" {
		return ""
	}
	return q
}

func nameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(search.Fold(s)), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
