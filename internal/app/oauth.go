package app

import (
	"context"

	"github.com/sportello/sportello/internal/channel/email"
)

// oauthToken returns a fresh access token for a mailbox that signs in
// with OAuth2 (see oauthflow.go).
func (d *Desk) oauthToken(ctx context.Context, mb *email.Mailbox) (string, error) {
	return "", email.ErrPermanent
}
