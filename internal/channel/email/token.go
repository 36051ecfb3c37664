package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"strconv"
	"strings"
)

// Signer makes and checks the ticket tokens of reply addresses: a reply
// to support+t123.k4m2q9x7pa@example.com belongs to ticket 123 only if the
// signature was made with the desk's key, so nobody can aim a mail at a
// ticket by guessing its number.
type Signer struct{ key []byte }

// NewSigner returns a signer with the desk's secret key.
func NewSigner(key []byte) Signer { return Signer{key: key} }

var sigEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func (s Signer) sign(ticket int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("sportello-ticket:" + strconv.FormatInt(ticket, 10)))
	return sigEncoding.EncodeToString(m.Sum(nil))[:10]
}

// ReplyAddress is the mailbox address with the ticket's signed token as
// its plus part: support@example.com → support+t123.<sig>@example.com.
func (s Signer) ReplyAddress(mailbox string, ticket int64) string {
	local, domain, ok := strings.Cut(mailbox, "@")
	if !ok {
		return mailbox
	}
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	return local + "+t" + strconv.FormatInt(ticket, 10) + "." + s.sign(ticket) + "@" + domain
}

// TicketFromAddress returns the ticket of a reply address whose token is
// signed with this desk's key; ok is false for any other address.
func (s Signer) TicketFromAddress(addr string) (int64, bool) {
	local, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	if !ok {
		return 0, false
	}
	_, tok, ok := strings.Cut(local, "+")
	if !ok || !strings.HasPrefix(tok, "t") {
		return 0, false
	}
	num, sig, ok := strings.Cut(tok[1:], ".")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || !hmac.Equal([]byte(sig), []byte(s.sign(n))) {
		return 0, false
	}
	return n, true
}

// ticketTag is our "[#123]" in a subject.
var ticketTag = regexp.MustCompile(`\[#(\d{1,18})\]`)

// SubjectTag is what Sportello adds to the subject of mail about ticket n.
func SubjectTag(n int64) string { return "[#" + strconv.FormatInt(n, 10) + "]" }

// TicketFromSubject returns the ticket named by a "[#123]" tag. Anyone
// can type one, so it counts only for a sender who takes part in the
// ticket (the threading step checks).
func TicketFromSubject(subject string) (int64, bool) {
	m := ticketTag.FindStringSubmatch(subject)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n, err == nil && n > 0
}

// refPattern finds our hidden reference in a quoted body.
var refPattern = regexp.MustCompile(`sportello-ref:t(\d{1,18})\.([a-z2-7]{10})`)

// Ref is the signed reference hidden in the HTML of every mail the desk
// sends: a client that rewrites Message-IDs and drops References still
// quotes the body, and the reference comes back in it.
func (s Signer) Ref(ticket int64) string {
	return "sportello-ref:t" + strconv.FormatInt(ticket, 10) + "." + s.sign(ticket)
}

// TicketFromBody returns the ticket of the first reference signed with
// this desk's key found in a body.
func (s Signer) TicketFromBody(body string) (int64, bool) {
	for _, m := range refPattern.FindAllStringSubmatch(body, 5) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && n > 0 && hmac.Equal([]byte(m[2]), []byte(s.sign(n))) {
			return n, true
		}
	}
	return 0, false
}
