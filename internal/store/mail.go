package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/channel/email"
)

const mailboxCols = `id, address, name, team_id, auto_ack, imap_host, imap_port, imap_tls, imap_user, imap_password,
imap_folder, imap_after, imap_move_to, poll_seconds, smtp_host, smtp_port, smtp_tls, smtp_user, smtp_password, auth, oauth,
signatures, created_at, updated_at`

// CreateMailbox stores a new mailbox and sets its ID.
func (s *Store) CreateMailbox(ctx context.Context, m *email.Mailbox) error {
	m.CreatedAt, m.UpdatedAt = utc(m.CreatedAt), utc(m.UpdatedAt)
	err := s.w.QueryRowxContext(ctx, s.q(`INSERT INTO mailboxes (address, name, team_id, auto_ack, imap_host, imap_port, imap_tls, imap_user,
imap_password, imap_folder, imap_after, imap_move_to, poll_seconds, smtp_host, smtp_port, smtp_tls, smtp_user, smtp_password, auth, oauth,
signatures, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`),
		m.Address, m.Name, m.TeamID, m.AutoAck, m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUser, m.IMAPPassword, m.IMAPFolder, m.IMAPAfter,
		m.IMAPMoveTo, m.PollSeconds, m.SMTPHost, m.SMTPPort, m.SMTPTLS, m.SMTPUser, m.SMTPPassword, m.Auth, m.OAuth, m.Signatures,
		m.CreatedAt, m.UpdatedAt).Scan(&m.ID)
	if isUnique(err) {
		return conflict("address", "another mailbox has this address")
	}
	if err != nil {
		return fmt.Errorf("creating mailbox: %w", err)
	}
	return nil
}

// UpdateMailbox writes a mailbox's settings, refusing when it changed
// since the caller read it at since (zero: no check).
func (s *Store) UpdateMailbox(ctx context.Context, m *email.Mailbox, since time.Time) error {
	m.UpdatedAt = utc(m.UpdatedAt)
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.unchangedSince(ctx, "mailboxes", m.ID, since, email.ErrMailboxNotFound); err != nil {
			return err
		}
		// Tokens are the desk's, not the form's: a refresh that landed
		// after the caller read the mailbox is kept (a changed client
		// drops them, as the caller's copy says).
		cur, err := tx.oauthOf(ctx, m.ID)
		if err != nil {
			return err
		}
		if m.OAuth.ClientID == cur.ClientID && m.OAuth.TokenURL == cur.TokenURL {
			m.OAuth.RefreshToken, m.OAuth.AccessToken, m.OAuth.Expiry = cur.RefreshToken, cur.AccessToken, cur.Expiry
		}
		res, err := tx.exec(ctx, `UPDATE mailboxes SET address=?, name=?, team_id=?, auto_ack=?, imap_host=?, imap_port=?, imap_tls=?, imap_user=?,
imap_password=?, imap_folder=?, imap_after=?, imap_move_to=?, poll_seconds=?, smtp_host=?, smtp_port=?, smtp_tls=?, smtp_user=?, smtp_password=?,
auth=?, oauth=?, signatures=?, updated_at=? WHERE id=?`,
			m.Address, m.Name, m.TeamID, m.AutoAck, m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUser, m.IMAPPassword, m.IMAPFolder, m.IMAPAfter,
			m.IMAPMoveTo, m.PollSeconds, m.SMTPHost, m.SMTPPort, m.SMTPTLS, m.SMTPUser, m.SMTPPassword, m.Auth, m.OAuth, m.Signatures, m.UpdatedAt, m.ID)
		if isUnique(err) {
			return conflict("address", "another mailbox has this address")
		}
		if err != nil {
			return fmt.Errorf("updating mailbox: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return email.ErrMailboxNotFound
		}
		return nil
	})
}

// SaveOAuth stores the tokens of a mailbox's OAuth2 sign-in (after a
// connection or a refresh) and nothing else: the mailbox's other settings
// and its updated_at stay as they are (a form open meanwhile is not
// refused for it, IDLE is not restarted), and tokens meant for a client
// the admin has replaced since are dropped.
func (s *Store) SaveOAuth(ctx context.Context, id int64, o email.OAuth) error {
	return s.InTx(ctx, func(tx *Tx) error {
		cur, err := tx.oauthOf(ctx, id)
		if err != nil {
			return err
		}
		if cur.ClientID != o.ClientID || cur.TokenURL != o.TokenURL {
			return nil // the admin changed the client: these tokens are not its
		}
		cur.RefreshToken, cur.AccessToken, cur.Expiry = o.RefreshToken, o.AccessToken, o.Expiry
		if _, err := tx.exec(ctx, `UPDATE mailboxes SET oauth = ? WHERE id = ?`, cur, id); err != nil {
			return fmt.Errorf("saving OAuth tokens: %w", err)
		}
		return nil
	})
}

// oauthOf reads a mailbox's OAuth2 state under its row lock.
func (tx *Tx) oauthOf(ctx context.Context, id int64) (email.OAuth, error) {
	var o email.OAuth
	if err := tx.queryRow(ctx, `SELECT oauth FROM mailboxes WHERE id = ?`+tx.s.forUpdate(), id).Scan(&o); err != nil {
		return o, notFound(err, email.ErrMailboxNotFound)
	}
	return o, nil
}

// DeleteMailbox removes a mailbox (its mail stays on the tickets).
func (s *Store) DeleteMailbox(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM mailboxes WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting mailbox: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return email.ErrMailboxNotFound
	}
	return nil
}

// SetMailTemplate stores an admin's version of a template ("" body:
// back to the shipped text).
func (s *Store) SetMailTemplate(ctx context.Context, name, lang, subject, body string, now time.Time) error {
	var err error
	if body == "" && subject == "" {
		_, err = s.w.ExecContext(ctx, s.q(`DELETE FROM mail_templates WHERE name = ? AND language = ?`), name, lang)
	} else {
		_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO mail_templates (name, language, subject, body, updated_at) VALUES (?,?,?,?,?)
ON CONFLICT (name, language) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`), name, lang, subject, body, utc(now))
	}
	if err != nil {
		return fmt.Errorf("saving the %s template: %w", name, err)
	}
	return nil
}

// MailTemplates returns the admins' versions of templates by name and
// language.
func (s *Store) MailTemplates(ctx context.Context) (map[string]map[string][2]string, error) {
	var rows []struct{ Name, Language, Subject, Body string }
	if err := s.sel(ctx, &rows, `SELECT name, language, subject, body FROM mail_templates`); err != nil {
		return nil, err
	}
	out := map[string]map[string][2]string{}
	for _, r := range rows {
		if out[r.Name] == nil {
			out[r.Name] = map[string][2]string{}
		}
		out[r.Name][r.Language] = [2]string{r.Subject, r.Body}
	}
	return out, nil
}

// Mailboxes lists every mailbox by address.
func (s *Store) Mailboxes(ctx context.Context) ([]email.Mailbox, error) {
	var out []email.Mailbox
	if err := s.sel(ctx, &out, `SELECT `+mailboxCols+` FROM mailboxes ORDER BY address`); err != nil {
		return nil, fmt.Errorf("listing mailboxes: %w", err)
	}
	return out, nil
}

// Mailbox reads one mailbox.
func (s *Store) Mailbox(ctx context.Context, id int64) (*email.Mailbox, error) {
	var m email.Mailbox
	if err := s.get(ctx, &m, `SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`, id); err != nil {
		return nil, notFound(err, email.ErrMailboxNotFound)
	}
	return &m, nil
}

// MailboxByAddress finds the mailbox of an address, its plus part ignored.
func (s *Store) MailboxByAddress(ctx context.Context, address string) (*email.Mailbox, error) {
	var m email.Mailbox
	if err := s.get(ctx, &m, `SELECT `+mailboxCols+` FROM mailboxes WHERE address = ?`, email.BaseAddress(address)); err != nil {
		return nil, notFound(err, email.ErrMailboxNotFound)
	}
	return &m, nil
}

// MailSeen tells whether a mailbox took in a Message-ID already.
func (s *Store) MailSeen(ctx context.Context, mailboxID int64, messageID string) (*email.Seen, error) {
	var row struct {
		TicketID *int64 `db:"ticket_id"`
		Class    string `db:"class"`
	}
	err := s.get(ctx, &row, `SELECT ticket_id, class FROM mail_ids WHERE mailbox_id = ? AND message_id = ?`, mailboxID, messageID)
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up a mail: %w", err)
	}
	return &email.Seen{TicketID: row.TicketID, Class: email.Class(row.Class)}, nil
}

// TicketByMessageIDs returns the ticket of the newest stored mail among
// ids, or 0.
func (s *Store) TicketByMessageIDs(ctx context.Context, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	if len(ids) > 100 {
		ids = ids[len(ids)-100:] // the newest end of a long References chain
	}
	q, args, err := s.in(`SELECT ticket_id FROM mail_ids WHERE message_id IN (?) AND ticket_id IS NOT NULL ORDER BY created_at DESC LIMIT 1`, ids)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.get(ctx, &id, q, args...)
	if errors.Is(err, errNoRows) {
		return 0, nil
	}
	return id, err
}

// RememberMail records a mail's id (idempotent: the first record stays).
func (s *Store) RememberMail(ctx context.Context, mailboxID int64, messageID string, ticketID *int64, direction string, class email.Class, rawSHA256 string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO mail_ids (mailbox_id, message_id, ticket_id, direction, class, raw_sha256, created_at)
VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`), mailboxID, messageID, ticketID, direction, string(class), rawSHA256, utc(now))
	if err != nil {
		return fmt.Errorf("remembering a mail: %w", err)
	}
	return nil
}

// Participates tells whether an address is the ticket's requester's, a
// CC's, or that of a contact in the requester's organisation.
func (s *Store) Participates(ctx context.Context, ticketID int64, addr string) (bool, error) {
	var n int
	err := s.get(ctx, &n, `SELECT COUNT(*) FROM contact_emails e JOIN tickets t ON t.id = ?
LEFT JOIN contacts req ON req.id = t.requester_id
LEFT JOIN contacts c ON c.id = e.contact_id
WHERE e.email = ? AND (e.contact_id = t.requester_id
  OR EXISTS (SELECT 1 FROM ticket_ccs cc WHERE cc.ticket_id = t.id AND cc.contact_id = e.contact_id)
  OR (req.organisation_id IS NOT NULL AND c.organisation_id = req.organisation_id))`, ticketID, addr)
	if err != nil {
		return false, fmt.Errorf("checking who takes part in a ticket: %w", err)
	}
	return n > 0, nil
}

// ContactIDByEmail finds or creates the contact of an address.
func (s *Store) ContactIDByEmail(ctx context.Context, addr, name string, now time.Time) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		id, _, err = tx.FindOrCreateContact(ctx, addr, name, "", now)
		return err
	})
	return id, err
}

// MarkUndeliverable records a permanent bounce status on an address.
func (s *Store) MarkUndeliverable(ctx context.Context, addr, status string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE contact_emails SET undeliverable = ? WHERE email = ?`), status, addr); err != nil {
		return fmt.Errorf("marking an address undeliverable: %w", err)
	}
	return nil
}

// Undeliverable returns the bounce status recorded on an address ("" for
// none).
func (s *Store) Undeliverable(ctx context.Context, addr string) (string, error) {
	var st string
	err := s.get(ctx, &st, `SELECT undeliverable FROM contact_emails WHERE email = ?`, addr)
	if errors.Is(err, errNoRows) {
		return "", nil
	}
	return st, err
}

// Secret returns the desk's secret of a name, making it from fresh on
// first use; every node reads the same one.
func (s *Store) Secret(ctx context.Context, name string, fresh func() string) (string, error) {
	if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO desk_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING`), name, fresh()); err != nil {
		return "", fmt.Errorf("storing the %s secret: %w", name, err)
	}
	var v string
	if err := s.w.GetContext(ctx, &v, s.q(`SELECT value FROM desk_secrets WHERE name = ?`), name); err != nil {
		return "", fmt.Errorf("reading the %s secret: %w", name, err)
	}
	return v, nil
}

// IMAPCursor returns where a mailbox's IMAP import stands (0, 0 before
// the first import).
func (s *Store) IMAPCursor(ctx context.Context, mailboxID int64) (validity, last uint32, err error) {
	var row struct {
		V int64 `db:"uid_validity"`
		L int64 `db:"last_uid"`
	}
	err = s.get(ctx, &row, `SELECT uid_validity, last_uid FROM imap_cursors WHERE mailbox_id = ?`, mailboxID)
	if errors.Is(err, errNoRows) {
		return 0, 0, nil
	}
	return uint32(row.V), uint32(row.L), err
}

// SetIMAPCursor records that a mailbox's import stored everything up to
// UID last of the folder with UIDVALIDITY validity.
func (s *Store) SetIMAPCursor(ctx context.Context, mailboxID int64, validity, last uint32) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO imap_cursors (mailbox_id, uid_validity, last_uid) VALUES (?,?,?)
ON CONFLICT (mailbox_id) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid`), mailboxID, int64(validity), int64(last))
	if err != nil {
		return fmt.Errorf("moving the IMAP cursor: %w", err)
	}
	return nil
}
