package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/agent"
)

// The customer portal's sign-in: one-time links and sessions, their
// secrets kept as hashes (a copy of the database signs nobody in).

// KnownContactByEmail is the contact an address belongs to (0: none).
func (s *Store) KnownContactByEmail(ctx context.Context, email string) (int64, error) {
	var ids []int64
	if err := s.sel(ctx, &ids, `SELECT contact_id FROM contact_emails WHERE email = ?`, agent.NormaliseEmail(email)); err != nil {
		return 0, fmt.Errorf("finding a contact by email: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// CreatePortalLink stores a sign-in link's hash for a contact.
func (s *Store) CreatePortalLink(ctx context.Context, hash string, contactID int64, email string, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO portal_links (hash, contact_id, email, expires_at) VALUES (?,?,?,?)`), hash, contactID, email, utc(expires))
	if err != nil {
		return fmt.Errorf("storing a portal link: %w", err)
	}
	return nil
}

// UsePortalLink spends a sign-in link: its contact, or 0 when the link is
// unknown, used or expired. Two tabs spending it at once: one wins.
func (s *Store) UsePortalLink(ctx context.Context, hash string, now time.Time) (int64, error) {
	var ids []int64
	err := s.InTx(ctx, func(tx *Tx) error {
		return tx.sel(ctx, &ids, `UPDATE portal_links SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING contact_id`, utc(now), hash, utc(now))
	})
	if err != nil {
		return 0, fmt.Errorf("using a portal link: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// PortalLinkState tells a link's page whether it can still be used.
func (s *Store) PortalLinkState(ctx context.Context, hash string, now time.Time) (ok bool, err error) {
	var n int
	err = s.get(ctx, &n, `SELECT COUNT(*) FROM portal_links WHERE hash = ? AND used_at IS NULL AND expires_at > ?`, hash, utc(now))
	return n > 0, err
}

// CreatePortalSession stores a customer's session.
func (s *Store) CreatePortalSession(ctx context.Context, hash string, contactID int64, now, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO portal_sessions (hash, contact_id, created_at, expires_at) VALUES (?,?,?,?)`), hash, contactID, utc(now), utc(expires))
	if err != nil {
		return fmt.Errorf("storing a portal session: %w", err)
	}
	return nil
}

// PortalSession is the contact of a live session (0: none).
func (s *Store) PortalSession(ctx context.Context, hash string, now time.Time) (int64, error) {
	var ids []int64
	if err := s.sel(ctx, &ids, `SELECT contact_id FROM portal_sessions WHERE hash = ? AND expires_at > ?`, hash, utc(now)); err != nil {
		return 0, fmt.Errorf("reading a portal session: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// DeletePortalSession ends a session.
func (s *Store) DeletePortalSession(ctx context.Context, hash string) error {
	_, err := s.w.ExecContext(ctx, s.q(`DELETE FROM portal_sessions WHERE hash = ?`), hash)
	return err
}

// DeleteExpiredPortal forgets spent or expired sign-in links and expired
// sessions.
func (s *Store) DeleteExpiredPortal(ctx context.Context, now time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM portal_links WHERE expires_at < ? OR used_at IS NOT NULL`), utc(now)); err != nil {
		return fmt.Errorf("forgetting portal links: %w", err)
	}
	_, err := s.w.ExecContext(ctx, s.q(`DELETE FROM portal_sessions WHERE expires_at < ?`), utc(now))
	return err
}
