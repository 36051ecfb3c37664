package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/contact"
)

// indexContact rewrites a contact's search terms from its stored name,
// emails and phones, inside tx.
func (tx *Tx) indexContact(ctx context.Context, id int64) error {
	var name string
	if err := tx.queryRow(ctx, `SELECT name FROM contacts WHERE id = ?`, id).Scan(&name); err != nil {
		return notFound(err, contact.ErrNotFound)
	}
	var emails, phones []string
	if err := tx.sel(ctx, &emails, `SELECT email FROM contact_emails WHERE contact_id = ? ORDER BY position`, id); err != nil {
		return err
	}
	if err := tx.sel(ctx, &phones, `SELECT phone FROM contact_phones WHERE contact_id = ? ORDER BY position`, id); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM contact_terms WHERE contact_id = ?`, id); err != nil {
		return fmt.Errorf("indexing contact %d: %w", id, err)
	}
	for _, t := range contact.SearchTerms(name, emails, phones) {
		if _, err := tx.exec(ctx, `INSERT INTO contact_terms (term, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, t, id); err != nil {
			return fmt.Errorf("indexing contact %d: %w", id, err)
		}
	}
	return nil
}

// BackfillContactTerms indexes the contacts that have no search terms yet
// (stored before contact search by any word existed), 500 per
// transaction; it returns how many it indexed.
func (s *Store) BackfillContactTerms(ctx context.Context) (int, error) {
	n := 0
	var last int64
	for {
		// Walk the contacts by id, 500 at a time, and index those without
		// terms: each batch reads its own rows only (a NOT EXISTS over the
		// whole table would be planned on the statistics of a table still
		// being filled, and re-read every done contact each time).
		var ids []int64
		if err := s.w.SelectContext(ctx, &ids, s.q(`SELECT id FROM contacts WHERE id > ? ORDER BY id LIMIT 500`), last); err != nil {
			return n, fmt.Errorf("finding contacts to index: %w", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		last = ids[len(ids)-1]
		q, args, err := s.in(`SELECT DISTINCT contact_id FROM contact_terms WHERE contact_id IN (?)`, ids)
		if err != nil {
			return n, err
		}
		var have []int64
		if err := s.w.SelectContext(ctx, &have, q, args...); err != nil {
			return n, fmt.Errorf("finding contacts to index: %w", err)
		}
		done := map[int64]bool{}
		for _, id := range have {
			done[id] = true
		}
		var todo []int64
		for _, id := range ids {
			if !done[id] {
				todo = append(todo, id)
			}
		}
		if len(todo) == 0 {
			continue
		}
		err = s.InTx(ctx, func(tx *Tx) error {
			for _, id := range todo {
				if err := tx.indexContact(ctx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(todo)
	}
}

// contactMatch is the condition and arguments that find contacts by a
// search: every word a prefix of one of their terms, or (for a phone
// number) their phone digits ending like the number's.
func (s *Store) contactMatch(q string) (string, []any) {
	words, phone := contact.QueryTerms(q)
	if len(words) == 0 {
		return "", nil
	}
	if len(words) > 8 {
		words = words[:8]
	}
	var conds []string
	var args []any
	in := `id IN (SELECT contact_id FROM contact_terms WHERE term >= ? AND term < ?)`
	for _, w := range words {
		conds = append(conds, in)
		args = append(args, w, w+"\U0010FFFF")
	}
	cond := "(" + strings.Join(conds, " AND ") + ")"
	if phone != "" {
		cond = "(" + cond + " OR " + in + ")"
		args = append(args, phone, phone+"\U0010FFFF")
	}
	return cond, args
}

// FindOrCreateContactByPhone returns the contact whose phone number ends
// with phone's digits (so "333 123 4567" finds "+39 333 1234567"), the
// oldest when several do, or creates one with name and that number.
func (tx *Tx) FindOrCreateContactByPhone(ctx context.Context, phone, name, language string, now time.Time) (int64, bool, error) {
	_, key := contact.QueryTerms(phone)
	if key != "" {
		var ids []int64
		if err := tx.sel(ctx, &ids, `SELECT contact_id FROM contact_terms WHERE term >= ? AND term < ? ORDER BY contact_id LIMIT 1`, key, key+"\U0010FFFF"); err != nil {
			return 0, false, fmt.Errorf("finding a caller by phone: %w", err)
		}
		if len(ids) > 0 {
			return ids[0], false, nil
		}
	}
	now = utc(now)
	var id int64
	if err := tx.queryRow(ctx, `INSERT INTO contacts (name, language, created_at, updated_at) VALUES (?,?,?,?) RETURNING id`,
		strings.TrimSpace(name), language, now, now).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("creating contact: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO contact_phones (contact_id, phone, position) VALUES (?,?,0)`, id, phone); err != nil {
		return 0, false, fmt.Errorf("adding phone: %w", err)
	}
	return id, true, tx.indexContact(ctx, id)
}
