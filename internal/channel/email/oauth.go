package email

import (
	"database/sql/driver"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	gmsmtp "github.com/wneessen/go-mail/smtp"
)

// OAuth is a mailbox's OAuth2 sign-in: the provider's endpoints, the
// client the admin registered there, and the tokens it gave. The client
// secret and the tokens are sealed with the desk's key.
type OAuth struct {
	Provider     string    `json:"provider,omitempty"` // google, microsoft or custom
	AuthURL      string    `json:"auth_url,omitempty"`
	TokenURL     string    `json:"token_url,omitempty"`
	ClientID     string    `json:"client_id,omitempty"`
	ClientSecret string    `json:"client_secret,omitempty"` // sealed
	Scopes       []string  `json:"scopes,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"` // sealed
	AccessToken  string    `json:"access_token,omitempty"`  // sealed
	Expiry       time.Time `json:"expiry,omitzero"`
	// Mechanism is the SASL mechanism: XOAUTH2 (Google, Microsoft) or
	// OAUTHBEARER (RFC 7628).
	Mechanism string `json:"mechanism,omitempty"`
}

// Scan reads the JSON column.
func (o *OAuth) Scan(v any) error {
	*o = OAuth{}
	return scanJSON(v, o)
}

// Value writes the JSON column.
func (o OAuth) Value() (driver.Value, error) {
	b, err := json.Marshal(o)
	return string(b), err
}

// Connected reports whether the provider gave the mailbox a refresh token.
func (o OAuth) Connected() bool { return o.RefreshToken != "" }

// SASLClient is the OAuth2 sign-in of a mailbox for go-mail's SMTP
// client: XOAUTH2 (Google, Microsoft) or OAUTHBEARER (RFC 7628).
func SASLClient(mechanism, user, token, host string, port int) smtpAuth {
	return smtpAuth{sasl: saslOAuth{mech: mechanismOf(mechanism), user: user, token: token, host: host, port: port}}
}

func mechanismOf(m string) string {
	if strings.EqualFold(m, "OAUTHBEARER") {
		return "OAUTHBEARER"
	}
	return "XOAUTH2"
}

// saslOAuth answers both mechanisms; it is also the IMAP client's
// sasl.Client (Start, Next).
type saslOAuth struct {
	mech, user, token, host string
	port                    int
}

// Start returns the mechanism and the initial response.
func (c saslOAuth) Start() (string, []byte, error) {
	if c.mech == "OAUTHBEARER" {
		return c.mech, []byte("n,a=" + c.user + ",\x01host=" + c.host + "\x01port=" + strconv.Itoa(c.port) + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
	}
	return c.mech, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a JSON status) so that it
// sends its final refusal, which the caller reports.
func (c saslOAuth) Next(challenge []byte) ([]byte, error) {
	if c.mech == "OAUTHBEARER" {
		return []byte{0x01}, nil
	}
	return []byte{}, nil
}

// smtpAuth adapts saslOAuth to go-mail's smtp.Auth.
type smtpAuth struct{ sasl saslOAuth }

func (a smtpAuth) Start(_ *gmsmtp.ServerInfo) (string, []byte, error) { return a.sasl.Start() }

func (a smtpAuth) Next(from []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	return a.sasl.Next(from)
}

// IMAPSASL is the same sign-in for the IMAP client.
func IMAPSASL(mechanism, user, token, host string, port int) saslOAuth {
	return saslOAuth{mech: mechanismOf(mechanism), user: user, token: token, host: host, port: port}
}

// OAuthPreset is a provider's endpoints and the scopes mail needs.
type OAuthPreset struct {
	AuthURL, TokenURL string
	Scopes            []string
}

// OAuthPresets are the providers that no longer accept passwords for
// mail; "custom" takes the URLs as given.
var OAuthPresets = map[string]OAuthPreset{
	"google": {AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
		Scopes: []string{"https://mail.google.com/"}},
	"microsoft": {AuthURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize", TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"}},
}

// FillPreset completes the endpoints and scopes an admin left empty from
// the provider's preset (Google, Microsoft).
func (o *OAuth) FillPreset() {
	p, ok := OAuthPresets[o.Provider]
	if !ok {
		return
	}
	if o.AuthURL == "" {
		o.AuthURL = p.AuthURL
	}
	if o.TokenURL == "" {
		o.TokenURL = p.TokenURL
	}
	if len(o.Scopes) == 0 {
		o.Scopes = p.Scopes
	}
}
