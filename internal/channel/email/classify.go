package email

import (
	"regexp"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/dsn"
)

// Class is what a mail is, decided before anything acts on it (DOMAIN.md
// §7): only a Customer mail reopens tickets, touches SLA clocks or gets an
// acknowledgement; the others are kept as notes on the right ticket.
type Class string

// The classes, in the order they are tested.
const (
	Bounce    Class = "bounce"
	AutoReply Class = "auto-reply"
	Bulk      Class = "bulk" // lists, newsletters, Precedence: bulk/junk
	Own       Class = "own"  // our own mail coming back
	Customer  Class = "customer"
)

// Report is what a delivery report says.
type Report struct {
	Recipients []Recipient
	// Original names the Message-ID of the mail that bounced, when the
	// report carries it: the bounce belongs to that mail's ticket.
	Original string
}

// Recipient is one recipient's fate in a delivery report.
type Recipient struct {
	Address string
	Status  string // "5.1.1"
	Action  string // failed, delayed, delivered, relayed, expanded
}

// Permanent reports whether the status is a permanent failure (5.x.x):
// the address is undeliverable.
func (r Recipient) Permanent() bool { return strings.HasPrefix(r.Status, "5") }

// Transient reports a temporary failure (4.x.x).
func (r Recipient) Transient() bool { return strings.HasPrefix(r.Status, "4") }

// Classify tells what m is. own reports whether an address is one of
// ours (the desk's mailboxes).
func Classify(m *Message, own func(addr string) bool) Class {
	h := func(k string) string { return strings.TrimSpace(m.Header(k)) }
	from := ""
	if m.From != nil {
		from = strings.ToLower(m.From.Address)
	}
	local, _, _ := strings.Cut(from, "@")
	// 1. Bounces: a delivery report, or the signs of one.
	if m.Report != nil || h("X-Failed-Recipients") != "" ||
		((local == "mailer-daemon" || local == "postmaster") && (m.ReturnPath == "" || bounceSubject.MatchString(m.Subject))) {
		return Bounce
	}
	// 2. Automatic replies. "Auto-Submitted: no" says a person wrote it,
	// and then no other sign (a subject that reads like an absence notice)
	// overrules that.
	as := strings.ToLower(h("Auto-Submitted"))
	if as != "" && as != "no" {
		return AutoReply
	}
	if as != "no" && (h("X-Autoreply") != "" || h("X-Autorespond") != "" || h("X-Autoresponder") != "" ||
		strings.EqualFold(h("Precedence"), "auto_reply") || h("X-MS-Exchange-Inbox-Rules-Loop") != "" ||
		oooSubject.MatchString(m.Subject)) {
		return AutoReply
	}
	// 3. Lists and bulk mail.
	switch strings.ToLower(h("Precedence")) {
	case "bulk", "list", "junk":
		return Bulk
	}
	if h("List-Id") != "" || h("List-Unsubscribe") != "" {
		return Bulk
	}
	// 4. Our own mail coming back.
	if from != "" && own != nil && own(from) {
		return Own
	}
	return Customer
}

// oooSubject matches out-of-office subjects in Italian, English, German,
// French and Spanish.
var oooSubject = regexp.MustCompile(`(?i)^\s*(` +
	`auto(matic)?[ -]?(reply|response)|out of (the )?office|away from (the )?office|` +
	`risposta automatica|fuori ufficio|assente dall'ufficio|in ferie\b|` +
	`abwesenheit|automatische antwort|nicht im büro|` +
	`réponse automatique|reponse automatique|message d'absence|absent(e)? du bureau|` +
	`respuesta automática|respuesta automatica|fuera de la oficina|ausente de la oficina)`)

// bounceSubject matches the subjects mailer daemons use.
var bounceSubject = regexp.MustCompile(`(?i)(undeliver|delivery (status notification|failure|has failed)|returned mail|failure notice|mail delivery failed|non recapitabile|impossibile recapitare|unzustellbar|non remis|no se puede entregar)`)

// bounceReport reads a multipart/report delivery-status part, wherever
// the report sits in the mail.
func bounceReport(env *enmime.Envelope) *Report {
	var report *dsn.Report
	var walk func(p *enmime.Part, depth int)
	walk = func(p *enmime.Part, depth int) {
		if p == nil || report != nil || depth > 20 {
			return
		}
		if strings.EqualFold(p.ContentType, "multipart/report") {
			if r, err := dsn.ParseReport(p); err == nil && r != nil && (len(r.DeliveryStatus.RecipientDSNs) > 0 || len(r.DeliveryStatus.MessageDSNs) > 0) {
				report = r
				return
			}
		}
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	walk(env.Root, 0)
	if report == nil {
		return nil
	}
	b := &Report{}
	for _, r := range report.DeliveryStatus.RecipientDSNs {
		addr := r.Get("Final-Recipient")
		if addr == "" {
			addr = r.Get("Original-Recipient")
		}
		if _, a, ok := strings.Cut(addr, ";"); ok {
			addr = a
		}
		status := strings.TrimSpace(r.Get("Status"))
		if i := strings.IndexAny(status, " ("); i > 0 {
			status = status[:i]
		}
		b.Recipients = append(b.Recipients, Recipient{Address: strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>")), Status: status,
			Action: strings.ToLower(strings.TrimSpace(r.Get("Action")))})
	}
	if len(report.OriginalMessage) > 0 {
		if orig, err := enmime.NewParser(enmime.SkipMalformedParts(true)).ReadEnvelope(strings.NewReader(string(report.OriginalMessage))); err == nil {
			b.Original = firstID(orig.GetHeader("Message-ID"))
		}
	}
	return b
}
