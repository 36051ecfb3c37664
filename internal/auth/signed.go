package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Links is the desk's signer of the links and tokens it gives customers:
// a survey's or a closure confirmation's link in a mail (bound to ticket,
// requester and resolution), the contact form's time token. A token says
// what it is for and until when; it cannot be altered or reused for
// another purpose, and it needs no row in the database.
type Links struct{ key []byte }

// NewLinks returns a signer with key (the desk's, shared by every node).
func NewLinks(key []byte) *Links { return &Links{key: key} }

// ErrBadLink is a token that was altered, made for another purpose, or
// made by another desk.
var ErrBadLink = errors.New("this link is not valid")

// ErrExpired is a genuine token past its time.
var ErrExpired = errors.New("this link has expired")

var b64 = base64.RawURLEncoding

// Make signs purpose, an expiry and the fields (none may hold "|").
func (l *Links) Make(purpose string, expires time.Time, fields ...string) string {
	payload := strings.Join(append([]string{purpose, strconv.FormatInt(expires.Unix(), 10)}, fields...), "|")
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(l.mac(payload))
}

// Check verifies a token made for purpose and returns its fields.
func (l *Links) Check(token, purpose string, now time.Time) ([]string, error) {
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrBadLink
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, ErrBadLink
	}
	mac, err := b64.DecodeString(m)
	if err != nil || !hmac.Equal(mac, l.mac(string(payload))) {
		return nil, ErrBadLink
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) < 2 || parts[0] != purpose {
		return nil, ErrBadLink
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, ErrBadLink
	}
	if now.Unix() > exp {
		return parts[2:], ErrExpired
	}
	return parts[2:], nil
}

func (l *Links) mac(payload string) []byte {
	h := hmac.New(sha256.New, l.key)
	h.Write([]byte(payload))
	return h.Sum(nil)[:20]
}
