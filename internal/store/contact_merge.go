package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// MergeContacts folds the duplicate contact from into the survivor into, in
// one transaction: emails, phones, requested tickets, copies on tickets and
// authored messages move; the survivor keeps its details and takes the
// duplicate's where it has none; every ticket that changes requester
// records it in its history; the duplicate is deleted. It returns how many
// tickets changed requester.
func (s *Store) MergeContacts(ctx context.Context, into, from int64, actor ticket.Actor, now time.Time) (int, error) {
	if into == from {
		return 0, fault.Field("from", "different", "a contact cannot be merged into itself")
	}
	moved := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		var dst, src contact.Contact
		if err := tx.tx.GetContext(ctx, &dst, s.q(`SELECT `+contactCols+` FROM contacts WHERE id = ?`+s.forUpdate()), into); err != nil {
			return notFound(err, contact.ErrNotFound)
		}
		if err := tx.tx.GetContext(ctx, &src, s.q(`SELECT `+contactCols+` FROM contacts WHERE id = ?`+s.forUpdate()), from); err != nil {
			if err == errNoRows {
				return fault.Field("from", "exists", "no contact has this id")
			}
			return err
		}
		steps := []struct {
			q    string
			args []any
		}{
			{`UPDATE contact_emails SET contact_id = ?, position = position + 100 WHERE contact_id = ?`, []any{into, from}},
			{`INSERT INTO contact_phones (contact_id, phone, position) SELECT ?, phone, position + 100 FROM contact_phones WHERE contact_id = ? ON CONFLICT DO NOTHING`, []any{into, from}},
			{`INSERT INTO ticket_ccs (ticket_id, contact_id) SELECT ticket_id, ? FROM ticket_ccs WHERE contact_id = ? ON CONFLICT DO NOTHING`, []any{into, from}},
			{`DELETE FROM ticket_ccs WHERE contact_id = ?`, []any{from}},
			{`UPDATE messages SET author_contact_id = ? WHERE author_contact_id = ?`, []any{into, from}},
		}
		for _, st := range steps {
			if _, err := tx.tx.ExecContext(ctx, s.q(st.q), st.args...); err != nil {
				return fmt.Errorf("merging contacts: %w", err)
			}
		}
		var ids []int64
		if err := tx.tx.SelectContext(ctx, &ids, s.q(`SELECT id FROM tickets WHERE requester_id = ? ORDER BY id`), from); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, s.q(`UPDATE tickets SET requester_id = ? WHERE requester_id = ?`), into, from); err != nil {
			return fmt.Errorf("moving tickets: %w", err)
		}
		var actorID *int64
		if actor.Type != ticket.ActorSystem {
			id := actor.ID
			actorID = &id
		}
		evs := make([]ticket.Event, 0, len(ids))
		for _, id := range ids {
			evs = append(evs, ticket.Event{TicketID: id, ActorType: actor.Type, ActorID: actorID, Field: "requester",
				Before: strconv.FormatInt(from, 10), After: strconv.FormatInt(into, 10), CreatedAt: now})
		}
		for len(evs) > 0 { // bounded statements for contacts with many tickets
			n := min(len(evs), 500)
			if err := tx.InsertEvents(ctx, evs[:n]); err != nil {
				return err
			}
			evs = evs[n:]
		}
		moved = len(ids)
		// The survivor keeps its own details and fills gaps from the duplicate.
		if dst.Name == "" {
			dst.Name = src.Name
		}
		if dst.Language == "" {
			dst.Language = src.Language
		}
		if dst.OrganisationID == nil {
			dst.OrganisationID = src.OrganisationID
		}
		if src.Notes != "" {
			dst.Notes = strings.TrimSpace(dst.Notes + "\n\n" + src.Notes)
		}
		if _, err := tx.tx.ExecContext(ctx, s.q(`UPDATE contacts SET name=?, language=?, organisation_id=?, notes=?, updated_at=? WHERE id=?`),
			dst.Name, dst.Language, dst.OrganisationID, dst.Notes, utc(now), into); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, s.q(`DELETE FROM contacts WHERE id = ?`), from); err != nil {
			return err
		}
		return tx.indexContact(ctx, into)
	})
	return moved, err
}
