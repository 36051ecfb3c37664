package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// SQL is the transaction's database/sql handle, for the job queue to
// insert its jobs in the same transaction.
func (tx *Tx) SQL() *sql.Tx { return tx.tx.Tx }

const outboundCols = `id, mailbox_id, ticket_id, message_id, kind, mail_id, from_name, reply_to, to_addr, cc_addrs, subject,
body_text, body_html, in_reply_to, refs, auto, status, attempts, last_error, created_at, updated_at, sent_at`

// ErrOutboundNotFound reports an outbox row that does not exist.
var ErrOutboundNotFound = fmt.Errorf("outgoing mail %w", fault.NotFound)

// TicketMailbox is the mailbox a ticket's mail goes out through: the one
// its newest inbound mail came to, else its team's, else the first.
func (tx *Tx) TicketMailbox(ctx context.Context, ticketID int64, teamID *int64) (*email.Mailbox, error) {
	var ms []email.Mailbox
	err := tx.sel(ctx, &ms, `SELECT `+mailboxCols+` FROM mailboxes WHERE id = (SELECT mailbox_id FROM mail_ids
WHERE ticket_id = ? AND direction = 'in' ORDER BY created_at DESC LIMIT 1)`, ticketID)
	if err == nil && len(ms) == 0 && teamID != nil {
		err = tx.sel(ctx, &ms, `SELECT `+mailboxCols+` FROM mailboxes WHERE team_id = ? ORDER BY id LIMIT 1`, *teamID)
	}
	if err == nil && len(ms) == 0 {
		err = tx.sel(ctx, &ms, `SELECT `+mailboxCols+` FROM mailboxes ORDER BY id LIMIT 1`)
	}
	if err != nil {
		return nil, fmt.Errorf("choosing the mailbox of ticket %d: %w", ticketID, err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return &ms[0], nil
}

// MailboxTx reads one mailbox inside the transaction (nil when it is gone).
func (tx *Tx) MailboxTx(ctx context.Context, id int64) (*email.Mailbox, error) {
	var ms []email.Mailbox
	if err := tx.sel(ctx, &ms, `SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`, id); err != nil || len(ms) == 0 {
		return nil, err
	}
	return &ms[0], nil
}

// MailThread returns a ticket's newest inbound Message-ID and its stored
// ids oldest first (the newest 20), for In-Reply-To and References.
func (tx *Tx) MailThread(ctx context.Context, ticketID int64) (string, []string, error) {
	var rows []struct {
		ID  string `db:"message_id"`
		Dir string `db:"direction"`
	}
	if err := tx.sel(ctx, &rows, `SELECT message_id, direction FROM mail_ids WHERE ticket_id = ? ORDER BY created_at DESC LIMIT 20`, ticketID); err != nil {
		return "", nil, fmt.Errorf("reading the mail thread: %w", err)
	}
	last := ""
	refs := make([]string, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i-- {
		refs = append(refs, rows[i].ID)
	}
	for _, r := range rows {
		if r.Dir == "in" {
			last = r.ID
			break
		}
	}
	if last == "" && len(refs) > 0 {
		last = refs[len(refs)-1]
	}
	return last, refs, nil
}

// Recipient returns a contact's primary address, name and language, and
// whether that address bounced permanently.
func (tx *Tx) Recipient(ctx context.Context, contactID int64) (addr, name, lang string, undeliverable bool, err error) {
	var rows []struct {
		Email string `db:"email"`
		Bad   string `db:"undeliverable"`
		Name  string `db:"name"`
		Lang  string `db:"language"`
	}
	err = tx.sel(ctx, &rows, `SELECT COALESCE(e.email, '') AS email, COALESCE(e.undeliverable, '') AS undeliverable, c.name, c.language
FROM contacts c LEFT JOIN contact_emails e ON e.contact_id = c.id WHERE c.id = ? ORDER BY e.undeliverable <> '', e.position LIMIT 1`, contactID)
	if err != nil || len(rows) == 0 {
		return "", "", "", false, err
	}
	r := rows[0]
	return r.Email, r.Name, r.Lang, r.Bad != "", nil
}

// CCRecipients are the deliverable primary addresses of a ticket's CCs.
func (tx *Tx) CCRecipients(ctx context.Context, ticketID int64) ([]string, error) {
	var out []string
	err := tx.sel(ctx, &out, `SELECT e.email FROM ticket_ccs cc JOIN contact_emails e ON e.contact_id = cc.contact_id
WHERE cc.ticket_id = ? AND e.undeliverable = '' AND e.position = (SELECT MIN(position) FROM contact_emails x WHERE x.contact_id = cc.contact_id)
ORDER BY e.email`, ticketID)
	return out, err
}

// AgentMail returns what a mail notice to an agent needs.
func (tx *Tx) AgentMail(ctx context.Context, agentID int64) (addr, name, lang, zone string, notices []string, ok bool, err error) {
	var rows []struct {
		Email, Name, Language, Timezone string
		Notices                         string `db:"mail_notices"`
		Active                          bool
	}
	err = tx.sel(ctx, &rows, `SELECT email, name, language, timezone, mail_notices, active FROM agents WHERE id = ?`, agentID)
	if err != nil || len(rows) == 0 || !rows[0].Active {
		return "", "", "", "", nil, false, err
	}
	r := rows[0]
	return r.Email, r.Name, r.Language, r.Timezone, splitList(r.Notices), true, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// MailTemplate returns an admin's version of a template.
func (tx *Tx) MailTemplate(ctx context.Context, name, lang string) (string, string, bool, error) {
	var rows []struct{ Subject, Body string }
	if err := tx.sel(ctx, &rows, `SELECT subject, body FROM mail_templates WHERE name = ? AND language = ?`, name, lang); err != nil || len(rows) == 0 {
		return "", "", false, err
	}
	return rows[0].Subject, rows[0].Body, true, nil
}

// AutoMailsSince counts automatic mail to an address since t.
func (tx *Tx) AutoMailsSince(ctx context.Context, addr string, since time.Time) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM outbound_mails WHERE to_addr = ? AND created_at >= ? AND auto <> ''`, addr, utc(since)).Scan(&n)
	return n, err
}

// TicketAutoMailsSince counts automatic mail to a ticket's customers
// since t (agents' notices are not counted).
func (tx *Tx) TicketAutoMailsSince(ctx context.Context, ticketID int64, since time.Time) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM outbound_mails WHERE ticket_id = ? AND created_at >= ? AND auto <> '' AND kind <> 'notify'`, ticketID, utc(since)).Scan(&n)
	return n, err
}

// InsertOutbound writes an outbox row and records its Message-ID, so that
// replies to it thread (a notice to an agent threads nowhere).
func (tx *Tx) InsertOutbound(ctx context.Context, o *email.Outbound) error {
	o.CreatedAt, o.UpdatedAt = utc(o.CreatedAt), utc(o.UpdatedAt)
	if o.Status == "" {
		o.Status = email.Queued
	}
	err := tx.queryRow(ctx, `INSERT INTO outbound_mails (mailbox_id, ticket_id, message_id, kind, mail_id, from_name, reply_to, to_addr,
cc_addrs, subject, body_text, body_html, in_reply_to, refs, auto, status, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`, o.MailboxID, o.TicketID, o.MessageID, o.Kind, o.MailID, o.FromName, o.ReplyTo,
		o.To, o.CC, o.Subject, o.Text, o.HTML, o.InReplyTo, o.Refs, o.Auto, o.Status, o.CreatedAt, o.UpdatedAt).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("writing to the outbox: %w", err)
	}
	if o.MailboxID == nil {
		return nil
	}
	tid := o.TicketID
	if o.Kind == "notify" {
		tid = nil
	}
	if _, err := tx.exec(ctx, `INSERT INTO mail_ids (mailbox_id, message_id, ticket_id, direction, class, created_at)
VALUES (?,?,?,'out','sent',?) ON CONFLICT DO NOTHING`, *o.MailboxID, o.MailID, tid, o.CreatedAt); err != nil {
		return fmt.Errorf("recording a sent Message-ID: %w", err)
	}
	return nil
}

// Outbound reads one outbox row.
func (s *Store) Outbound(ctx context.Context, id int64) (*email.Outbound, error) {
	var o email.Outbound
	// The writer: the job may run the moment its row commits.
	if err := s.w.GetContext(ctx, &o, s.q(`SELECT `+outboundCols+` FROM outbound_mails WHERE id = ?`), id); err != nil {
		return nil, notFound(err, ErrOutboundNotFound)
	}
	return &o, nil
}

// OutboundOfTicket lists a ticket's outgoing mail, oldest first.
func (s *Store) OutboundOfTicket(ctx context.Context, ticketID int64) ([]email.Outbound, error) {
	var out []email.Outbound
	if err := s.sel(ctx, &out, `SELECT `+outboundCols+` FROM outbound_mails WHERE ticket_id = ? ORDER BY id`, ticketID); err != nil {
		return nil, fmt.Errorf("listing a ticket's mail: %w", err)
	}
	return out, nil
}

// OutboundStatus counts the outbox by status.
func (s *Store) OutboundStatus(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	if err := s.sel(ctx, &rows, `SELECT status, COUNT(*) AS n FROM outbound_mails GROUP BY status`); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// MessageAttachments lists a message's files.
func (s *Store) MessageAttachments(ctx context.Context, messageID int64) ([]ticket.Attachment, error) {
	var out []ticket.Attachment
	if err := s.sel(ctx, &out, `SELECT id, message_id, filename, content_type, size, sha256, created_at FROM attachments WHERE message_id = ? ORDER BY id`, messageID); err != nil {
		return nil, fmt.Errorf("reading attachments: %w", err)
	}
	return out, nil
}

// MarkOutbound records a send attempt's outcome. A row already sent stays
// sent (a job run twice reports the first success).
func (s *Store) MarkOutbound(ctx context.Context, id int64, status, lastError string, attempts int, sentAt *time.Time, now time.Time) error {
	var at *time.Time
	if sentAt != nil {
		t := utc(*sentAt)
		at = &t
	}
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE outbound_mails SET status = ?, last_error = ?, attempts = ?, sent_at = COALESCE(?, sent_at), updated_at = ?
WHERE id = ? AND status <> 'sent'`), status, lastError, attempts, at, utc(now), id)
	if err != nil {
		return fmt.Errorf("recording a send: %w", err)
	}
	return nil
}

// ErrNotResendable refuses to resend a mail that is still on its way.
var ErrNotResendable = fmt.Errorf("%w: %w", fault.Conflict, fault.Field("status", "state", "only a failed or sent mail can be sent again"))

// RequeueOutbound puts a failed (or sent) mail back in the queue, inside
// tx; the caller queues its job there too.
func (tx *Tx) RequeueOutbound(ctx context.Context, id, ticketID int64, now time.Time) error {
	var st string
	err := tx.queryRow(ctx, `SELECT status FROM outbound_mails WHERE id = ? AND ticket_id = ?`+tx.s.forUpdate(), id, ticketID).Scan(&st)
	if errors.Is(err, errNoRows) {
		return ErrOutboundNotFound
	}
	if err != nil {
		return err
	}
	if st != email.Failed && st != email.Sent {
		return ErrNotResendable
	}
	_, err = tx.exec(ctx, `UPDATE outbound_mails SET status = 'queued', last_error = '', sent_at = NULL, updated_at = ? WHERE id = ?`, utc(now), id)
	return err
}
