package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Mails of our own in testdata/, shaped as the clients send them: each
// with its class, the visible text the ticket shows, what it threads by,
// and its subject without prefixes.
func TestOwnMails(t *testing.T) {
	ours := func(a string) bool { return strings.HasSuffix(a, "@bottega.example") }
	for _, c := range []struct {
		file        string
		class       Class
		text        string // "" to skip the check
		subject     string
		inReply     string
		from        string
		recipStatus string
		atts        int    // attachments expected; -1 to skip
		html        string // a piece the HTML body holds
	}{
		{file: "gmail-it-reply.eml", class: Customer, text: "Buongiorno,\nil pacco è arrivato stamattina, grazie mille!\n\nMarta",
			subject: "Ordine non arrivato", inReply: "sportello.4411.2.x7@bottega.example", from: "marta.fontana@gmail.com"},
		{file: "outlook-it-reply.eml", class: Customer, text: "Buongiorno, confermo: la seconda fattura va stornata. Grazie.\n\nGiorgio Bianchi\nStudio Bianchi",
			subject: "Fattura doppia di marzo", inReply: "sportello.77.1.q@bottega.example"},
		{file: "apple-mail-en.eml", class: Customer, text: "Thanks, Thursday afternoon works for me.\n\nTom",
			subject: "Your printer repair", inReply: "sportello.912.3.z@bottega.example"},
		{file: "thunderbird-interleaved.eml", class: Customer,
			text:    "Il 05/06/25 17:10, Supporto Bottega ha scritto:\n> Il piano Pro include 10 utenti.\n\nNe servono 12: si può aggiungerne due?\n\n> La prova gratuita dura 30 giorni.\n\nPerfetto, la attivo lunedì.",
			subject: "Domande sul piano Pro"},
		{file: "ooo-it.eml", class: AutoReply, subject: "Risposta automatica: Abbiamo ricevuto la sua richiesta"},
		{file: "ooo-de.eml", class: AutoReply},
		{file: "ooo-fr.eml", class: AutoReply},
		{file: "ooo-es-exchange.eml", class: AutoReply},
		{file: "human-auto-submitted-no.eml", class: Customer, text: "Buongiorno, scrivo per la terza volta: dov'è il mio ordine?"},
		{file: "list-newsletter.eml", class: Bulk},
		{file: "bounce-511.eml", class: Bounce, recipStatus: "nessuno@cliente.example 5.1.1 failed"},
		{file: "pec-envelope.eml", class: Customer, text: "Chiediamo il rimborso dell'ordine 2025-118, arrivato danneggiato.",
			subject: "Richiesta rimborso ordine 2025-118", from: "ditta.rossi@pec.example"},
		{file: "android-gmail-en.eml", class: Customer, text: "Great, thank you!", subject: "Refund for order 2291"},
		{file: "ios-mail-it.eml", class: Customer, text: "Va bene giovedì mattina.", subject: "Sostituzione caldaia"},
		{file: "outlook-en-original-message.eml", class: Customer, text: "Paid this morning, reference TX-5521.\n\nEmma", subject: "Invoice 7781"},
		{file: "exchange-ooo-en.eml", class: AutoReply},
		{file: "yahoo-de-reply.eml", class: Customer, text: "Danke, das Ersatzteil passt.", subject: "Ersatzteil"},
		{file: "french-reply.eml", class: Customer, text: "Merci, j'ai bien reçu le colis.", subject: "Livraison"},
		{file: "spanish-reply.eml", class: Customer, text: "Perfecto, muchas gracias.", subject: "Pedido 881"},
		{file: "gmail-forwarded-it.eml", class: Customer, text: "Vi giro la fattura che mi è arrivata, è corretta?", subject: "Fattura del fornitore"},
		{file: "bounce-failed-recipients.eml", class: Bounce},
		{file: "bounce-transient-422.eml", class: Bounce, recipStatus: "piena@cliente.example 4.2.2 delayed"},
		{file: "list-google-groups.eml", class: Bulk},
		{file: "own-loop.eml", class: Own},
		{file: "outlook-html-only.eml", class: Customer, html: "L'app si chiude appena la apro."},
		{file: "attachment-pdf-it.eml", class: Customer, text: "Allego lo scontrino per la garanzia.", atts: 1},
		{file: "inline-cid-image.eml", class: Customer, atts: 1, html: "cid:photo1@icloud.com"},
		{file: "latin1-subject.eml", class: Customer, text: "Potete consegnare lunedì dopo le 15? Grazie, Nicolò", subject: "Cortesia per la consegna di lunedì"},
		{file: "windows-1252.eml", class: Customer, text: "La spedizione costa 9,90 €? “Gratis” era scritto sul sito."},
		{file: "ooo-it-subject-only.eml", class: AutoReply},
	} {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := Classify(m, ours); got != c.class {
				t.Errorf("class %s, want %s", got, c.class)
			}
			if c.text != "" {
				if got := VisibleText(m.Text); got != c.text {
					t.Errorf("visible text:\n%q\nwant\n%q", got, c.text)
				}
			}
			if c.subject != "" && NormaliseSubject(m.Subject) != c.subject {
				t.Errorf("subject %q → %q, want %q", m.Subject, NormaliseSubject(m.Subject), c.subject)
			}
			if c.inReply != "" && (len(m.InReplyTo) == 0 || m.InReplyTo[0] != c.inReply) {
				t.Errorf("In-Reply-To %v, want %s", m.InReplyTo, c.inReply)
			}
			if c.from != "" && (m.From == nil || m.From.Address != c.from) {
				t.Errorf("from %v, want %s", m.From, c.from)
			}
			if c.atts > 0 && len(m.Attachments) != c.atts {
				t.Errorf("%d attachments, want %d", len(m.Attachments), c.atts)
			}
			if c.html != "" && !strings.Contains(m.HTML, c.html) {
				t.Errorf("the HTML body lacks %q: %s", c.html, m.HTML)
			}
			if c.recipStatus != "" {
				if m.Report == nil || len(m.Report.Recipients) != 1 {
					t.Fatalf("report %+v", m.Report)
				}
				r := m.Report.Recipients[0]
				if got := r.Address + " " + r.Status + " " + r.Action; got != c.recipStatus || r.Permanent() != strings.HasPrefix(r.Status, "5") || r.Transient() != strings.HasPrefix(r.Status, "4") {
					t.Errorf("recipient %q (permanent %v), want %q", got, r.Permanent(), c.recipStatus)
				}
				if r.Permanent() && m.Report.Original != "sportello.501.1.ack@bottega.example" {
					t.Errorf("the bounce names %q as the returned mail", m.Report.Original)
				}
			}
		})
	}
}

func TestNormaliseSubject(t *testing.T) {
	for in, want := range map[string]string{
		"Re: Ordine":                    "Ordine",
		"R: RIF: I: Ordine":             "Ordine",
		"Re[2]: Fattura":                "Fattura",
		"AW: WG: Rechnung":              "Rechnung",
		"SV: Vs: Faktura":               "Faktura",
		"Fwd: TR: RV: Pedido":           "Pedido",
		"RE: [#123] Stampante   guasta": "Stampante guasta",
		"Ricambi per la caldaia":        "Ricambi per la caldaia",
		"Riunione: ordine del giorno":   "Riunione: ordine del giorno",
		"Iscrizione: conferma":          "Iscrizione: conferma",
	} {
		if got := NormaliseSubject(in); got != want {
			t.Errorf("NormaliseSubject(%q) = %q, want %q", in, got, want)
		}
	}
	if n, ok := TicketFromSubject("R: [#4411] Ordine"); !ok || n != 4411 {
		t.Errorf("TicketFromSubject: %d %v", n, ok)
	}
}

// Reply addresses carry a token only the desk can sign: a guessed or
// altered one names no ticket.
func TestReplyAddressToken(t *testing.T) {
	s := NewSigner([]byte("desk secret"))
	addr := s.ReplyAddress("supporto@bottega.example", 4411)
	if n, ok := s.TicketFromAddress(addr); !ok || n != 4411 {
		t.Fatalf("%s → %d %v", addr, n, ok)
	}
	if n, ok := s.TicketFromAddress(strings.ToUpper(addr)); !ok || n != 4411 {
		t.Errorf("upper-cased address: %d %v", n, ok)
	}
	for _, bad := range []string{
		strings.Replace(addr, "t4411", "t4412", 1),
		"supporto+t4411.aaaaaaaaaa@bottega.example",
		"supporto+t4411@bottega.example",
		"supporto@bottega.example",
		NewSigner([]byte("another desk")).ReplyAddress("supporto@bottega.example", 4411),
	} {
		if n, ok := s.TicketFromAddress(bad); ok {
			t.Errorf("%s accepted as ticket %d", bad, n)
		}
	}
}

// Bad input: broken MIME, no Message-ID, thousands of parts, hostile
// HTML: nothing crashes, and a mail is still read as far as it goes.
func TestHostileMails(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("From: a@example.com\r\nSubject: bomba\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n")
	for i := range 10000 {
		bomb.WriteString("--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"p" + string(rune('a'+i%26)) + ".txt\"\r\n\r\nx\r\n")
	}
	bomb.WriteString("--B--\r\n")
	m, err := Parse([]byte(bomb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) > MaxAttachments {
		t.Errorf("%d attachments taken from a mail bomb, at most %d", len(m.Attachments), MaxAttachments)
	}
	broken := "From: b@example.com\r\nSubject: rotto\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nciao\r\n--X\r\nContent-Type: text/html; charset=nonsense\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
	if m, err := Parse([]byte(broken)); err != nil || !strings.Contains(m.Text, "ciao") || !m.Synthetic {
		t.Errorf("broken MIME: %v, text %q, synthetic id %v", err, m.Text, m != nil && m.Synthetic)
	}
}

// FuzzParseClassify: no mail, however broken, panics parsing,
// classification or reply-text stripping.
func FuzzParseClassify(f *testing.F) {
	if files, _ := filepath.Glob("testdata/*.eml"); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("From: x@y\r\n\r\n> quoted\r\nOn Mon wrote:\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		_ = Classify(m, func(string) bool { return false })
		_ = VisibleText(m.Text)
		_ = NormaliseSubject(m.Subject)
		if m.MessageID == "" {
			t.Fatal("a parsed mail without an id")
		}
	})
}

// Bytes the databases refuse (NUL, invalid UTF-8) never reach them from a
// mail: an encoded-word NUL in the subject, a NUL and a stray byte in the
// body, a name over 200 characters cut on a character boundary.
func TestMailBadBytesAreCleaned(t *testing.T) {
	raw := "From: =?UTF-8?Q?" + strings.Repeat("=C3=A8", 210) + "?= <a@example.com>\r\nSubject: =?UTF-8?Q?ordine=00_rotto?=\r\nMessage-ID: <nul@example.com>\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n\r\nciao\x00 mondo \xff fine\r\n"
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"subject": m.Subject, "text": m.Text, "name": m.From.Name} {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			t.Errorf("%s keeps bad bytes: %q", what, s)
		}
	}
	if !strings.Contains(m.Subject, "rotto") || !strings.Contains(m.Text, "mondo") {
		t.Errorf("cleaning lost the words: %q %q", m.Subject, m.Text)
	}
	if n := name(m); utf8.RuneCountInString(n) != 200 || !utf8.ValidString(n) {
		t.Errorf("the name is cut to %d characters, valid %v", utf8.RuneCountInString(n), utf8.ValidString(n))
	}
}
