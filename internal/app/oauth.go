package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/fault"
)

// OAuth2 for mailboxes whose provider no longer takes passwords (Gmail,
// Microsoft 365). An admin connects the mailbox through the provider's
// authorisation page: the desk sends them there with a signed state (the
// mailbox, the admin, a deadline) and a PKCE challenge derived from it,
// the provider sends them back to /api/v1/mailbox-oauth/callback with a
// code, and the desk trades the code for tokens, sealed at rest. Access
// tokens are renewed with the refresh token when they expire.

// oauthRedirect is where the provider sends the admin back.
func (d *Desk) oauthRedirect() string {
	return strings.TrimRight(d.Cfg.BaseURL, "/") + "/api/v1/mailbox-oauth/callback"
}

func (d *Desk) oauthConfig(mb *email.Mailbox) (*oauth2.Config, error) {
	o := mb.OAuth
	if o.ClientID == "" || o.AuthURL == "" || o.TokenURL == "" {
		return nil, fault.Field("oauth", "required", "set the provider, client id and secret of this mailbox first")
	}
	secret := ""
	if o.ClientSecret != "" {
		s, err := d.Secrets.Open(o.ClientSecret)
		if err != nil {
			return nil, fmt.Errorf("the OAuth2 client secret cannot be read with this desk's key: %w", err)
		}
		secret = s
	}
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: secret, Scopes: o.Scopes, RedirectURL: d.oauthRedirect(),
		Endpoint: oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL}}, nil
}

func (d *Desk) oauthKey(ctx context.Context) ([]byte, error) {
	k, err := d.Store.Secret(ctx, "oauth-state", func() string { return auth.RandomSecret(32) })
	return []byte(k), err
}

func sign(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(parts, "|")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// OAuthStart returns the provider's authorisation URL for an admin to
// connect a mailbox; the state is good for 15 minutes.
func (d *Desk) OAuthStart(ctx context.Context, mailboxID, agentID int64) (string, error) {
	mb, err := d.Store.Mailbox(ctx, mailboxID)
	if err != nil {
		return "", err
	}
	cfg, err := d.oauthConfig(mb)
	if err != nil {
		return "", err
	}
	key, err := d.oauthKey(ctx)
	if err != nil {
		return "", err
	}
	exp := strconv.FormatInt(d.Now().Add(15*time.Minute).Unix(), 10)
	id, by := strconv.FormatInt(mailboxID, 10), strconv.FormatInt(agentID, 10)
	state := id + "." + by + "." + exp + "." + sign(key, "state", id, by, exp)
	return cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent"),
		oauth2.S256ChallengeOption(sign(key, "pkce", state))), nil
}

// ErrOAuthState refuses a callback whose state is not ours, is someone
// else's, or is too old.
var ErrOAuthState = fault.Field("state", "invalid", "this sign-in link is not valid (expired, or started by another admin); connect the mailbox again")

// OAuthFinish trades the provider's code for tokens and keeps them on the
// mailbox; it returns the mailbox's id.
func (d *Desk) OAuthFinish(ctx context.Context, agentID int64, state, code string) (int64, error) {
	p := strings.Split(state, ".")
	if len(p) != 4 || code == "" {
		return 0, ErrOAuthState
	}
	key, err := d.oauthKey(ctx)
	if err != nil {
		return 0, err
	}
	exp, err := strconv.ParseInt(p[2], 10, 64)
	if err != nil || !hmac.Equal([]byte(p[3]), []byte(sign(key, "state", p[0], p[1], p[2]))) ||
		p[1] != strconv.FormatInt(agentID, 10) || d.Now().Unix() > exp {
		return 0, ErrOAuthState
	}
	id, _ := strconv.ParseInt(p[0], 10, 64)
	mb, err := d.Store.Mailbox(ctx, id)
	if err != nil {
		return 0, err
	}
	cfg, err := d.oauthConfig(mb)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(sign(key, "pkce", state)))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", fault.Invalid, fault.Field("code", "oauth", "the provider refused the sign-in: "+oauthReason(err)))
	}
	if tok.RefreshToken == "" {
		return 0, fault.Field("code", "oauth", "the provider gave no refresh token: allow offline access for this client")
	}
	if err := d.keepToken(ctx, mb, tok); err != nil {
		return 0, err
	}
	d.Log.Info("mailbox connected with OAuth2", "mailbox", mb.Address)
	return id, nil
}

func oauthReason(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return re.ErrorCode + " " + re.ErrorDescription
	}
	return err.Error()
}

// keepToken seals and stores a mailbox's tokens.
func (d *Desk) keepToken(ctx context.Context, mb *email.Mailbox, tok *oauth2.Token) error {
	o := mb.OAuth
	var err error
	if o.AccessToken, err = d.Secrets.Seal(tok.AccessToken); err != nil {
		return err
	}
	if tok.RefreshToken != "" {
		if o.RefreshToken, err = d.Secrets.Seal(tok.RefreshToken); err != nil {
			return err
		}
	}
	o.Expiry = tok.Expiry.UTC()
	mb.OAuth = o
	return d.Store.SaveOAuth(ctx, mb.ID, o)
}

// oauthToken returns a valid access token for a mailbox that signs in
// with OAuth2, renewing it with the refresh token when it expired (and
// keeping the new one, and a rotated refresh token, sealed).
func (d *Desk) oauthToken(ctx context.Context, mb *email.Mailbox) (string, error) {
	if !mb.OAuth.Connected() {
		return "", fmt.Errorf("%w: %s", email.ErrPermanent, email.ReasonNotConnected)
	}
	cfg, err := d.oauthConfig(mb)
	if err != nil {
		return "", fmt.Errorf("%w: %w", email.ErrPermanent, err)
	}
	refresh, err := d.Secrets.Open(mb.OAuth.RefreshToken)
	if err != nil {
		return "", fmt.Errorf("%w: the refresh token cannot be read with this desk's key", email.ErrPermanent)
	}
	access := ""
	if mb.OAuth.AccessToken != "" {
		access, _ = d.Secrets.Open(mb.OAuth.AccessToken)
	}
	old := &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: mb.OAuth.Expiry, TokenType: "Bearer"}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := cfg.TokenSource(ctx, old).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return "", fmt.Errorf("%w: %s (%s): connect it again", email.ErrPermanent, email.ReasonRevokedPrefix, oauthReason(err))
		}
		return "", fmt.Errorf("renewing the OAuth2 token: %s", oauthReason(err))
	}
	if tok.AccessToken != access {
		if tok.RefreshToken == "" {
			tok.RefreshToken = refresh
		}
		if err := d.keepToken(context.WithoutCancel(ctx), mb, tok); err != nil {
			return "", err
		}
	}
	return tok.AccessToken, nil
}

// inlineURL signs the link of a mail's inline image for the frame that
// shows the mail; it is good for 6 to 7 hours (whole hours, so that a
// browser's cache keeps the image across page loads).
func (d *Desk) inlineURL(id int64) string {
	exp := strconv.FormatInt(d.Now().Add(7*time.Hour).Truncate(time.Hour).Unix(), 10)
	return fmt.Sprintf("/api/v1/inline/%d?exp=%s&sig=%s", id, exp, sign(d.inlineKey, "inline", strconv.FormatInt(id, 10), exp))
}

func (d *Desk) inlineOK(id int64, exp, sig string) bool {
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || d.Now().Unix() > n {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(sign(d.inlineKey, "inline", strconv.FormatInt(id, 10), exp)))
}
