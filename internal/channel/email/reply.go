package email

import (
	"regexp"
	"strings"
)

// ReplyMarker is the line Sportello puts at the top of every mail it
// sends; whatever the customer writes above it is their reply.
const ReplyMarker = "##- Rispondi sopra questa riga · Please reply above this line -##"

// VisibleText returns the part of a reply the customer wrote: the text
// above our marker when it is there; otherwise the text before a quoted
// original that no client marked with ">" (Outlook's From:/Sent: block,
// "-----Original Message-----", a forwarded message), with the trailing
// ">" quotes, their "On … wrote:" header, mobile signatures and the "-- "
// signature removed. Quotes followed by new text are kept: a reply
// written between quotes keeps its context.
func VisibleText(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	// 1. Our marker: everything from its line (and an "On … wrote:"
	// header just above it) is our own mail.
	for i, l := range lines {
		if strings.Contains(l, ReplyMarker) || strings.Contains(l, "Please reply above this line") {
			lines = lines[:i]
			break
		}
	}
	// 2. An original that clients do not mark with ">".
	for i := 0; i < len(lines); i++ {
		if unmarkedOriginal(lines, i) {
			lines = lines[:i]
			break
		}
	}
	// 3. The "-- " signature, and what mobile clients append.
	for i := len(lines) - 1; i >= 0; i-- {
		if t := strings.TrimRight(lines[i], " \t"); t == "--" && len(lines)-i <= 20 {
			lines = lines[:i]
			break
		}
	}
	// 4. From the end: blank lines, ">" quotes, their header, separators.
	for len(lines) > 0 {
		last := strings.TrimSpace(lines[len(lines)-1])
		switch {
		case last == "" || strings.HasPrefix(last, ">") || separator.MatchString(last) || mobileSignature.MatchString(last):
			lines = lines[:len(lines)-1]
		case quoteHeaderEnd.MatchString(last):
			lines = lines[:len(lines)-1]
			// Clients wrap a long header: "Il giorno … Supporto <" /
			// "supporto@… > ha scritto:". Take its start too.
			if !quoteHeaderStart.MatchString(last) {
				for k := 1; k <= 2 && len(lines)-k >= 0; k++ {
					prev := strings.TrimSpace(lines[len(lines)-k])
					if prev == "" {
						break
					}
					if quoteHeaderStart.MatchString(prev) {
						lines = lines[:len(lines)-k]
						break
					}
				}
			}
		default:
			return strings.TrimRight(strings.Join(lines, "\n"), " \t\n")
		}
	}
	return ""
}

// unmarkedOriginal reports whether line i starts a quoted original that
// carries no ">" marks.
func unmarkedOriginal(lines []string, i int) bool {
	l := strings.TrimSpace(strings.ReplaceAll(lines[i], "*", ""))
	if originalSeparator.MatchString(l) {
		return true
	}
	// Outlook: "From: …" followed within a few lines by "Sent: …".
	if fromField.MatchString(l) {
		for j := i + 1; j < len(lines) && j <= i+4; j++ {
			if sentField.MatchString(strings.TrimSpace(strings.ReplaceAll(lines[j], "*", ""))) {
				return true
			}
		}
	}
	return false
}

var (
	originalSeparator = regexp.MustCompile(`(?i)^-{2,}\s*(original message|messaggio originale|ursprüngliche nachricht|message d'origine|mensaje original|forwarded message|messaggio inoltrato|weitergeleitete nachricht|message transféré|mensaje reenviado)\s*-{2,}$`)
	fromField         = regexp.MustCompile(`(?i)^(from|da|von|de|mittente):\s`)
	sentField         = regexp.MustCompile(`(?i)^(sent|inviato|gesendet|envoyé|enviado|date|data|datum|fecha):\s`)
	// A quote header ends with "wrote:" in one of the five languages.
	quoteHeaderEnd   = regexp.MustCompile(`(?i)(wrote|ha scritto|scrisse|schrieb|a écrit|escribió|skrev)\s*:\s*$`)
	quoteHeaderStart = regexp.MustCompile(`(?i)^(on|il|in data|am|le|el)\s`)
	separator        = regexp.MustCompile(`^[-_=]{5,}$`)
	mobileSignature  = regexp.MustCompile(`(?i)^(sent from my|inviato da(l mio)?|von meinem .* gesendet|envoyé de mon|enviado desde mi|get outlook for)\b`)
)

// subjectPrefix matches one reply or forward prefix in Italian, English,
// German, French, Spanish and the Nordic languages, with Outlook's
// counters ("Re[2]:", "RE: RE:"), and our own "[#123]" tag.
var subjectPrefix = regexp.MustCompile(`(?i)^\s*((re|r|rif|aw|sv|vs|antw|ref|rv|res)(\[\d+\]|\(\d+\))?|fwd?|i|wg|tr|enc|rv|inoltro)\s*:\s*`)

// NormaliseSubject strips the reply and forward prefixes any client adds,
// repeatedly ("R: RE: Fwd: Ordine" → "Ordine"). A subject never threads a
// mail on its own; this only lets the desk compare and show it.
func NormaliseSubject(s string) string {
	s = strings.TrimSpace(s)
	for {
		t := subjectPrefix.ReplaceAllString(s, "")
		t = strings.TrimSpace(ticketTag.ReplaceAllString(t, " "))
		if t == s {
			return strings.Join(strings.Fields(s), " ")
		}
		s = t
	}
}
