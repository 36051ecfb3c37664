package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/search"
)

// maxIndexBytes bounds the text indexed per ticket: a thread longer than
// this is findable by its first quarter megabyte.
const maxIndexBytes = 256 << 10

// searchDoc is one ticket's search document, already stemmed.
type searchDoc struct {
	id          int64
	title, body string
}

// Reindex rebuilds the search documents of tickets from their subject and
// their messages (not system events). The ticket service calls it when a
// subject changes; InsertMessage and MoveMessages call it themselves, so the
// index changes in the same transaction as the text.
func (tx *Tx) Reindex(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	docs, err := tx.s.buildDocs(ctx, tx.tx, ids, &search.Indexer{})
	if err != nil {
		return err
	}
	return tx.writeDocs(ctx, ids, docs)
}

// buildDocs reads the text of tickets and stems it.
func (s *Store) buildDocs(ctx context.Context, db sqlx.QueryerContext, ids []int64, ix *search.Indexer) ([]searchDoc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// The requester's name and organisation are part of the body, so that
	// a ticket is found by who asked.
	q, args, err := s.in(`SELECT t.id, t.subject, COALESCE(c.name, '') AS requester, COALESCE(o.name, '') AS org
FROM tickets t LEFT JOIN contacts c ON c.id = t.requester_id LEFT JOIN organisations o ON o.id = c.organisation_id
WHERE t.id IN (?) ORDER BY t.id`, ids)
	if err != nil {
		return nil, err
	}
	var subjects []struct {
		ID        int64  `db:"id"`
		Subject   string `db:"subject"`
		Requester string `db:"requester"`
		Org       string `db:"org"`
	}
	if err := sqlx.SelectContext(ctx, db, &subjects, q, args...); err != nil {
		return nil, fmt.Errorf("reading subjects to index: %w", err)
	}
	texts, err := s.messageTexts(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	bodies := map[int64]string{}
	for id, ts := range texts {
		var b strings.Builder
		for _, text := range ts {
			if b.Len() >= maxIndexBytes {
				break
			}
			if len(text) > maxIndexBytes-b.Len() {
				text = text[:maxIndexBytes-b.Len()]
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(text)
		}
		bodies[id] = b.String()
	}
	docs := make([]searchDoc, 0, len(subjects))
	for _, t := range subjects {
		d := searchDoc{id: t.ID, title: ix.IndexText(t.Subject)}
		d.body = ix.IndexText(t.Requester + "\n" + t.Org + "\n" + bodies[t.ID])
		docs = append(docs, d)
	}
	return docs, nil
}

// writeDocs replaces the search documents of ids with docs (a ticket among
// ids without a doc no longer exists and leaves the index).
func (tx *Tx) writeDocs(ctx context.Context, ids []int64, docs []searchDoc) error {
	s := tx.s
	if s.dialect == SQLite {
		q, args, err := s.in(`DELETE FROM ticket_fts WHERE rowid IN (?)`, ids)
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("clearing search documents: %w", err)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(docs))
	if s.dialect == SQLite {
		b.WriteString(`INSERT INTO ticket_fts (rowid, title, body) VALUES `)
	} else {
		b.WriteString(`INSERT INTO ticket_search (ticket_id, doc) VALUES `)
	}
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		if s.dialect == SQLite {
			b.WriteString("(?,?,?)")
		} else {
			b.WriteString("(?, setweight(to_tsvector('simple', ?), 'A') || to_tsvector('simple', ?))")
		}
		args = append(args, d.id, d.title, d.body)
	}
	if s.dialect == Postgres {
		b.WriteString(` ON CONFLICT (ticket_id) DO UPDATE SET doc = EXCLUDED.doc`)
	}
	if _, err := tx.tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
		return fmt.Errorf("writing search documents: %w", err)
	}
	return nil
}

// ReindexRange rebuilds the search documents of tickets from..to (ids,
// inclusive) in batches, for the generator and for desks that predate the
// index. progress, when set, hears how many tickets are done.
func (s *Store) ReindexRange(ctx context.Context, from, to int64, progress func(done int64)) error {
	const batch = 1000
	ix := &search.Indexer{}
	for start := from; start <= to; start += batch {
		end := min(to, start+batch-1)
		ids := make([]int64, 0, batch)
		for id := start; id <= end; id++ {
			ids = append(ids, id)
		}
		err := s.InTx(ctx, func(tx *Tx) error {
			docs, err := s.buildDocs(ctx, tx.tx, ids, ix)
			if err != nil {
				return err
			}
			return tx.writeDocs(ctx, ids, docs)
		})
		if err != nil {
			return fmt.Errorf("indexing tickets %d–%d: %w", start, end, err)
		}
		if progress != nil {
			progress(end - from + 1)
		}
	}
	return nil
}

// BackfillSearch indexes every ticket once after the search index was
// added to an existing desk; afterwards it does nothing.
func (s *Store) BackfillSearch(ctx context.Context) (int64, error) {
	var pending bool
	if err := s.r.GetContext(ctx, &pending, `SELECT pending FROM search_backfill`); err != nil {
		return 0, fmt.Errorf("reading search backfill state: %w", err)
	}
	if !pending {
		return 0, nil
	}
	top, err := s.MaxID(ctx, "tickets")
	if err != nil {
		return 0, err
	}
	if err := s.ReindexRange(ctx, 1, top, nil); err != nil {
		return 0, err
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE search_backfill SET pending = FALSE`); err != nil {
		return 0, fmt.Errorf("recording search backfill: %w", err)
	}
	return top, nil
}

// MessageTexts lists the text of the messages (not system events) of a
// page of tickets, oldest first: the search page cuts its snippets from it.
func (s *Store) MessageTexts(ctx context.Context, ticketIDs []int64) (map[int64][]string, error) {
	return s.messageTexts(ctx, s.r, ticketIDs)
}

// messageTexts reads message texts through db (the readers, or a
// transaction when indexing).
func (s *Store) messageTexts(ctx context.Context, db sqlx.QueryerContext, ticketIDs []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ticketIDs) == 0 {
		return out, nil
	}
	q, args, err := s.in(`SELECT ticket_id, body_text FROM messages WHERE ticket_id IN (?) AND kind <> 'event' ORDER BY ticket_id, id`, ticketIDs)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryxContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading message texts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return nil, err
		}
		out[id] = append(out[id], text)
	}
	return out, rows.Err()
}

// Snippets returns the first words of each ticket's newest customer
// message or public reply (for the queue's second line), by ticket.
func (s *Store) Snippets(ctx context.Context, ticketIDs []int64, max int) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ticketIDs) == 0 {
		return out, nil
	}
	q, args, err := s.in(`SELECT ticket_id, body_text FROM messages WHERE id IN (SELECT MAX(id) FROM messages
WHERE ticket_id IN (?) AND kind IN ('customer', 'reply') GROUP BY ticket_id)`, ticketIDs)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		TicketID int64  `db:"ticket_id"`
		Body     string `db:"body_text"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("reading snippets: %w", err)
	}
	for _, r := range rows {
		t := []rune(strings.Join(strings.Fields(r.Body), " "))
		if len(t) > max {
			t = append(t[:max], '…')
		}
		out[r.TicketID] = string(t)
	}
	return out, nil
}
