package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/ticket"
)

const ticketCols = `id, subject, status, priority, channel, requester_id, team_id, assignee_id, language,
custom_fields, merged_into_id, follow_up_of_id, reopen_count, created_at, updated_at, first_reply_at, solved_at, closed_at, sla_due, sla_warn, version`

// TicketTx runs fn in a write transaction for the ticket service.
func (s *Store) TicketTx(ctx context.Context, fn func(ticket.Tx) error) error {
	return s.InTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Ticket reads one ticket with its tags and CCs.
func (s *Store) Ticket(ctx context.Context, id int64) (*ticket.Ticket, error) {
	return s.readTicket(ctx, nil, id, "")
}

// readTicket reads a ticket from the readers, or inside tx when not nil.
func (s *Store) readTicket(ctx context.Context, tx *Tx, id int64, suffix string) (*ticket.Ticket, error) {
	var t ticket.Ticket
	q := `SELECT ` + ticketCols + ` FROM tickets WHERE id = ?` + suffix
	var err error
	var db sqlx.QueryerContext = s.r
	if tx != nil {
		db = txQuerier{tx}
		err = tx.queryRow(ctx, q, id).StructScan(&t)
	} else {
		err = s.get(ctx, &t, q, id)
	}
	if err != nil {
		return nil, notFound(err, ticket.ErrNotFound)
	}
	ts := []*ticket.Ticket{&t}
	if err := s.loadSets(ctx, db, ts); err != nil {
		return nil, err
	}
	return &t, nil
}

// loadSets fills tags and CCs for a page of tickets with two queries.
func (s *Store) loadSets(ctx context.Context, db sqlx.QueryerContext, ts []*ticket.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]int64, len(ts))
	byID := make(map[int64]*ticket.Ticket, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
		byID[t.ID] = t
		t.Tags = []string{}
		t.CCIDs = []int64{}
	}
	q, args, err := s.in(`SELECT tt.ticket_id, g.name FROM ticket_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.ticket_id IN (?) ORDER BY g.name`, ids)
	if err != nil {
		return err
	}
	rows, err := db.QueryxContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading tags: %w", err)
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return err
		}
		byID[id].Tags = append(byID[id].Tags, name)
	}
	rows.Close()
	q, args, err = s.in(`SELECT ticket_id, contact_id FROM ticket_ccs WHERE ticket_id IN (?) ORDER BY contact_id`, ids)
	if err != nil {
		return err
	}
	rows, err = db.QueryxContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading ccs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, cid int64
		if err := rows.Scan(&id, &cid); err != nil {
			return err
		}
		byID[id].CCIDs = append(byID[id].CCIDs, cid)
	}
	return rows.Err()
}

var sortSQL = map[string]string{
	"-updated":  "updated_at DESC, id DESC",
	"updated":   "updated_at ASC, id ASC",
	"-created":  "created_at DESC, id DESC",
	"created":   "created_at ASC, id ASC",
	"-priority": "priority DESC, updated_at DESC, id DESC",
	"priority":  "priority ASC, updated_at DESC, id DESC",
	"-number":   "id DESC",
	"number":    "id ASC",
	// Requester order reads the name of every requester in the queue: it
	// costs a sort of the whole queue, unlike the orders above.
	"requester":  "(SELECT LOWER(c.name) FROM contacts c WHERE c.id = requester_id) ASC, id DESC",
	"-requester": "(SELECT LOWER(c.name) FROM contacts c WHERE c.id = requester_id) DESC, id DESC",
	// The next SLA deadline, soonest (most overdue) first; tickets
	// without one last (they hold NoDeadline).
	"deadline": "sla_due ASC, id ASC",
}

// searchCandidates caps how many of the newest matching tickets a text
// search ranks: a word found in half the desk would otherwise make every
// search rank hundreds of thousands of rows. Filters narrow the candidates
// before the cap, so older tickets stay findable with a filter or a more
// precise query.
const searchCandidates = 1000

// ticketWhere builds the WHERE clause (with leading " WHERE ") for f.
func ticketWhere(f ticket.Filter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if len(f.Statuses) > 0 {
		add("status IN (?)", f.Statuses)
	}
	if len(f.Priorities) > 0 {
		add("priority IN (?)", f.Priorities)
	}
	switch {
	case f.NoTeam:
		add("team_id IS NULL")
	case f.TeamID != nil:
		add("team_id = ?", *f.TeamID)
	case len(f.TeamIDs) > 0:
		add("team_id IN (?)", f.TeamIDs)
	}
	switch {
	case f.NoAssignee:
		add("assignee_id IS NULL")
	case f.AssigneeID != nil:
		add("assignee_id = ?", *f.AssigneeID)
	}
	if f.RequesterID != nil {
		add("requester_id = ?", *f.RequesterID)
	}
	if f.OrgID != nil {
		add("requester_id IN (SELECT id FROM contacts WHERE organisation_id = ?)", *f.OrgID)
	}
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if f.UpdatedAfter != nil {
		add("updated_at > ?", utc(*f.UpdatedAfter))
	}
	if f.UpdatedBefore != nil {
		add("updated_at < ?", utc(*f.UpdatedBefore))
	}
	if f.CreatedAfter != nil {
		add("created_at >= ?", utc(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		add("created_at < ?", utc(*f.CreatedBefore))
	}
	switch f.SLA {
	case ticket.SLABreached:
		add("sla_due <= ?", f.SLANow.Unix())
	case ticket.SLAAtRisk:
		add("sla_warn <= ? AND sla_warn < "+noDeadline+" AND sla_due > ?", f.SLANow.Unix(), f.SLANow.Unix())
	}
	if f.Tag != "" {
		add("EXISTS (SELECT 1 FROM ticket_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.ticket_id = tickets.id AND g.name = ?)", strings.ToLower(f.Tag))
	}
	if v := f.VisibleTo; v != nil {
		switch {
		case v.Type == ticket.ActorContact:
			// A customer sees the tickets they asked or are copied on.
			add("(requester_id = ? OR EXISTS (SELECT 1 FROM ticket_ccs c WHERE c.ticket_id = tickets.id AND c.contact_id = ?))", v.ID, v.ID)
		case len(v.TeamIDs) > 0:
			add("(team_id IS NULL OR assignee_id = ? OR team_id IN (?))", v.ID, v.TeamIDs)
		default:
			add("(team_id IS NULL OR assignee_id = ?)", v.ID)
		}
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// Tickets lists tickets matching f in a stable order.
//
// With several statuses, each status is read as its own ordered index range
// (limited to the page) and the ranges are merged: a single IN would make
// the database sort every matching row first, which for "all open" at a
// million tickets is hundreds of thousands of rows.
func (s *Store) Tickets(ctx context.Context, f ticket.Filter) ([]ticket.Ticket, error) {
	order, ok := sortSQL[f.Sort]
	if !ok {
		order = sortSQL["-updated"]
	}
	if !f.Text.Empty() {
		return s.searchTickets(ctx, f, order)
	}
	var query string
	var args []any
	if len(f.Statuses) > 1 {
		var parts []string
		for i, st := range f.Statuses {
			one := f
			one.Statuses = []ticket.Status{st}
			where, a := ticketWhere(one)
			parts = append(parts, fmt.Sprintf(`SELECT * FROM (SELECT %s FROM tickets%s ORDER BY %s LIMIT ?) AS s%d`, ticketCols, where, order, i))
			args = append(args, a...)
			args = append(args, f.Limit+f.Offset)
		}
		query = `SELECT * FROM (` + strings.Join(parts, " UNION ALL ") + `) AS merged ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	} else {
		where, a := ticketWhere(f)
		query = `SELECT ` + ticketCols + ` FROM tickets` + where + " ORDER BY " + order + " LIMIT ? OFFSET ?"
		args = a
	}
	args = append(args, f.Limit, f.Offset)
	q, a, err := s.in(query, args...)
	if err != nil {
		return nil, err
	}
	var out []ticket.Ticket
	if err := sqlx.SelectContext(ctx, s.r, &out, q, a...); err != nil {
		return nil, fmt.Errorf("listing tickets: %w", err)
	}
	return out, s.withSets(ctx, out)
}

func (s *Store) withSets(ctx context.Context, out []ticket.Ticket) error {
	ptrs := make([]*ticket.Ticket, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return s.loadSets(ctx, s.r, ptrs)
}

// searchMatches returns the newest searchCandidates tickets that match
// f.Text and the filters, newest first.
//
// On PostgreSQL the words' matches are read first, alone, under a cap of
// one more than searchCandidates: the planner cannot tell a rare word from
// a common one outside its statistics (it assumes 0.5 % of the rows), and
// joined with the tickets it would start parallel workers or walk the
// whole table to find one order number. When the words match no more than
// the cap, the filters are applied to those tickets by number; otherwise,
// with filters, the join finds the newest matches that pass them.
func (s *Store) searchMatches(ctx context.Context, f ticket.Filter) ([]int64, error) {
	where, args := ticketWhere(f)
	and := strings.Replace(where, " WHERE ", " AND ", 1)
	limit := fmt.Sprint(searchCandidates)
	var query string
	if s.dialect == SQLite {
		query = `SELECT tickets.id FROM ticket_fts JOIN tickets ON tickets.id = ticket_fts.rowid
WHERE ticket_fts MATCH ?` + and + ` ORDER BY ticket_fts.rowid DESC LIMIT ` + limit
		args = append([]any{f.Text.FTS5()}, args...)
	} else {
		var ids []int64
		if err := s.r.SelectContext(ctx, &ids, s.q(`SELECT ticket_id FROM ticket_search WHERE doc @@ to_tsquery('simple', ?)
ORDER BY ticket_id DESC LIMIT `+fmt.Sprint(searchCandidates+1)), f.Text.TSQuery()); err != nil {
			return nil, fmt.Errorf("searching tickets: %w", err)
		}
		switch {
		case where == "":
			return ids[:min(len(ids), searchCandidates)], nil
		case len(ids) == 0:
			return nil, nil
		case len(ids) <= searchCandidates:
			query = `SELECT id FROM tickets WHERE id IN (?)` + and + ` ORDER BY id DESC`
			args = append([]any{ids}, args...)
		default:
			query = `SELECT tickets.id FROM ticket_search s JOIN tickets ON tickets.id = s.ticket_id
WHERE s.doc @@ to_tsquery('simple', ?)` + and + ` ORDER BY s.ticket_id DESC LIMIT ` + limit
			args = append([]any{f.Text.TSQuery()}, args...)
		}
	}
	q, a, err := s.in(query, args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if err := s.r.SelectContext(ctx, &ids, q, a...); err != nil {
		return nil, fmt.Errorf("searching tickets: %w", err)
	}
	return ids, nil
}

// candidate is a matching ticket before ranking.
type candidate struct {
	ID      int64  `db:"id"`
	Subject string `db:"subject"`
	score   int
}

// searchTickets lists a page of the tickets matching f.Text and the
// filters, in f's order. "relevance" is how many of the query's words the
// subject holds (stemmed as the index is), then newest first: the same rule
// on both engines gives the same order on both. (SQLite's bm25 was
// dropped: it reads a common word's whole posting list on every query, 60
// ms for a word found in most of 1,000,000 tickets.)
func (s *Store) searchTickets(ctx context.Context, f ticket.Filter, order string) ([]ticket.Ticket, error) {
	ids, err := s.searchMatches(ctx, f)
	if err != nil || len(ids) == 0 || f.Limit <= 0 {
		return []ticket.Ticket{}, err
	}
	if f.Sort != "relevance" {
		q, a, err := s.in(`SELECT `+ticketCols+` FROM tickets WHERE id IN (?) ORDER BY `+order+` LIMIT ? OFFSET ?`, ids, f.Limit, f.Offset)
		if err != nil {
			return nil, err
		}
		var out []ticket.Ticket
		if err := sqlx.SelectContext(ctx, s.r, &out, q, a...); err != nil {
			return nil, fmt.Errorf("listing found tickets: %w", err)
		}
		return out, s.withSets(ctx, out)
	}
	q, a, err := s.in(`SELECT id, subject FROM tickets WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	if err := sqlx.SelectContext(ctx, s.r, &cands, q, a...); err != nil {
		return nil, fmt.Errorf("ranking found tickets: %w", err)
	}
	for i := range cands {
		cands[i].score = f.Text.Score(cands[i].Subject)
	}
	slices.SortFunc(cands, func(x, y candidate) int { return cmp.Or(y.score-x.score, cmp.Compare(y.ID, x.ID)) })
	if f.Offset >= len(cands) {
		return []ticket.Ticket{}, nil
	}
	page := cands[f.Offset:min(len(cands), f.Offset+f.Limit)]
	pageIDs := make([]int64, len(page))
	pos := make(map[int64]int, len(page))
	for i, c := range page {
		pageIDs[i], pos[c.ID] = c.ID, i
	}
	q, a, err = s.in(`SELECT `+ticketCols+` FROM tickets WHERE id IN (?)`, pageIDs)
	if err != nil {
		return nil, err
	}
	var rows []ticket.Ticket
	if err := sqlx.SelectContext(ctx, s.r, &rows, q, a...); err != nil {
		return nil, fmt.Errorf("reading found tickets: %w", err)
	}
	out := make([]ticket.Ticket, len(pageIDs))
	for _, r := range rows {
		out[pos[r.ID]] = r
	}
	return out, s.withSets(ctx, out)
}

// CountMatching counts the tickets matching f (its order and page
// ignored), stopping at f.Limit when it is positive so that a count over a
// huge queue costs no more than reading that many index entries. With
// search words it counts the matches a search ranks, so at most
// searchCandidates.
func (s *Store) CountMatching(ctx context.Context, f ticket.Filter) (int64, error) {
	if !f.Text.Empty() {
		ids, err := s.searchMatches(ctx, f)
		n := int64(len(ids))
		if f.Limit > 0 {
			n = min(n, int64(f.Limit))
		}
		return n, err
	}
	where, args := ticketWhere(f)
	query := `SELECT COUNT(*) FROM tickets` + where
	if f.Limit > 0 {
		query = `SELECT COUNT(*) FROM (SELECT 1 FROM tickets` + where + ` LIMIT ?) AS capped`
		args = append(args, f.Limit)
	}
	q, a, err := s.in(query, args...)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.r.GetContext(ctx, &n, q, a...); err != nil {
		return 0, fmt.Errorf("counting tickets: %w", err)
	}
	return n, nil
}

// ContactNames maps contact ids to display names (name, or first email).
func (s *Store) ContactNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	q, a, err := s.in(`SELECT c.id, c.name, COALESCE((SELECT MIN(e.email) FROM contact_emails e WHERE e.contact_id = c.id), '') AS email
FROM contacts c WHERE c.id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID    int64  `db:"id"`
		Name  string `db:"name"`
		Email string `db:"email"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &rows, q, a...); err != nil {
		return nil, fmt.Errorf("reading contact names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
		if r.Name == "" {
			out[r.ID] = r.Email
		}
	}
	return out, nil
}

// TicketForUpdate reads a ticket and locks its row until the transaction ends.
func (tx *Tx) TicketForUpdate(ctx context.Context, id int64) (*ticket.Ticket, error) {
	return tx.s.readTicket(ctx, tx, id, tx.s.forUpdate())
}

// InsertTicket stores a new ticket and sets its ID.
func (tx *Tx) InsertTicket(ctx context.Context, t *ticket.Ticket) error {
	t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
	err := tx.queryRow(ctx, `INSERT INTO tickets (subject, status, priority, channel, requester_id, team_id,
assignee_id, language, custom_fields, merged_into_id, follow_up_of_id, reopen_count, created_at, updated_at, first_reply_at, solved_at, closed_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		t.Subject, t.Status, t.Priority, t.Channel, t.RequesterID, t.TeamID, t.AssigneeID, t.Language, t.CustomFields,
		t.MergedIntoID, t.FollowUpOfID, t.ReopenCount, t.CreatedAt, t.UpdatedAt, t.FirstReplyAt, t.SolvedAt, t.ClosedAt).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("inserting ticket: %w", err)
	}
	return nil
}

// UpdateTicket writes every column of t and raises its version. Callers
// hold the row lock (TicketForUpdate) and changed t from the locked copy,
// so writing every column loses nothing.
func (tx *Tx) UpdateTicket(ctx context.Context, t *ticket.Ticket) error {
	t.Version++
	_, err := tx.exec(ctx, `UPDATE tickets SET subject=?, status=?, priority=?, channel=?, requester_id=?,
team_id=?, assignee_id=?, language=?, custom_fields=?, merged_into_id=?, follow_up_of_id=?, reopen_count=?, updated_at=?,
first_reply_at=?, solved_at=?, closed_at=?, version=version+1 WHERE id=?`,
		t.Subject, t.Status, t.Priority, t.Channel, t.RequesterID, t.TeamID, t.AssigneeID, t.Language, t.CustomFields,
		t.MergedIntoID, t.FollowUpOfID, t.ReopenCount, utc(t.UpdatedAt), utcPtr(t.FirstReplyAt), utcPtr(t.SolvedAt), utcPtr(t.ClosedAt), t.ID)
	if err != nil {
		return fmt.Errorf("updating ticket %d: %w", t.ID, err)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// SetTags replaces a ticket's tags, creating unknown tags.
func (tx *Tx) SetTags(ctx context.Context, ticketID int64, tags []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM ticket_tags WHERE ticket_id = ?`, ticketID); err != nil {
		return fmt.Errorf("clearing tags: %w", err)
	}
	for _, name := range tags {
		id, err := tx.tagID(ctx, name)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO ticket_tags (ticket_id, tag_id) VALUES (?, ?)`, ticketID, id); err != nil {
			return fmt.Errorf("tagging ticket: %w", err)
		}
	}
	return nil
}

func (tx *Tx) tagID(ctx context.Context, name string) (int64, error) {
	// Most tags exist already: look first, create only when missing.
	var id int64
	err := tx.queryRow(ctx, `SELECT id FROM tags WHERE name = ?`, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if err != errNoRows {
		return 0, fmt.Errorf("reading tag: %w", err)
	}
	err = tx.queryRow(ctx, `INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id`, name).Scan(&id)
	if err == errNoRows { // created meanwhile by another transaction
		err = tx.queryRow(ctx, `SELECT id FROM tags WHERE name = ?`, name).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("creating tag: %w", err)
	}
	return id, nil
}

// SetCCs replaces a ticket's CC contacts.
func (tx *Tx) SetCCs(ctx context.Context, ticketID int64, ids []int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM ticket_ccs WHERE ticket_id = ?`, ticketID); err != nil {
		return fmt.Errorf("clearing ccs: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.exec(ctx, `INSERT INTO ticket_ccs (ticket_id, contact_id) VALUES (?, ?)`, ticketID, id); err != nil {
			return fmt.Errorf("adding cc: %w", err)
		}
	}
	return nil
}

// InsertMessage stores a message and sets its ID.
func (tx *Tx) InsertMessage(ctx context.Context, m *ticket.Message) error {
	m.CreatedAt = utc(m.CreatedAt)
	err := tx.queryRow(ctx, `INSERT INTO messages (ticket_id, kind, author_agent_id, author_contact_id,
body_text, body_html, channel, meta, created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`,
		m.TicketID, m.Kind, m.AuthorAgentID, m.AuthorContactID, m.BodyText, m.BodyHTML, m.Channel, m.Meta, m.CreatedAt).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("inserting message: %w", err)
	}
	if m.Kind == ticket.KindEvent {
		return nil
	}
	return tx.Reindex(ctx, m.TicketID)
}

// InsertAttachment stores an attachment record and sets its ID.
func (tx *Tx) InsertAttachment(ctx context.Context, a *ticket.Attachment) error {
	a.CreatedAt = utc(a.CreatedAt)
	err := tx.queryRow(ctx, `INSERT INTO attachments (message_id, filename, content_type, size, sha256, created_at)
VALUES (?,?,?,?,?,?) RETURNING id`, a.MessageID, a.Filename, a.ContentType, a.Size, a.SHA256, a.CreatedAt).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("inserting attachment: %w", err)
	}
	return nil
}

// MoveMessages re-parents every message of one ticket to another (merge).
func (tx *Tx) MoveMessages(ctx context.Context, from, to int64) error {
	if _, err := tx.exec(ctx, `UPDATE messages SET ticket_id = ? WHERE ticket_id = ?`, to, from); err != nil {
		return fmt.Errorf("moving messages: %w", err)
	}
	return tx.Reindex(ctx, from, to)
}

// InsertEvents appends events to tickets' histories in one statement.
func (tx *Tx) InsertEvents(ctx context.Context, evs []ticket.Event) error {
	if len(evs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO ticket_events (ticket_id, actor_type, actor_id, field, before, after, created_at) VALUES `)
	args := make([]any, 0, len(evs)*7)
	for i := range evs {
		e := &evs[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?)")
		args = append(args, e.TicketID, e.ActorType, e.ActorID, e.Field, e.Before, e.After, utc(e.CreatedAt))
	}
	if _, err := tx.exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("recording events: %w", err)
	}
	return nil
}

// FindOrCreateContact returns the contact owning email, creating it when
// unknown and joining it to the organisation that claims its domain.
func (tx *Tx) FindOrCreateContact(ctx context.Context, email, name, language string, now time.Time) (int64, bool, error) {
	var id int64
	err := tx.queryRow(ctx, `SELECT contact_id FROM contact_emails WHERE email = ?`, email).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if err != errNoRows {
		return 0, false, fmt.Errorf("finding contact: %w", err)
	}
	var org *int64
	var oid int64
	err = tx.queryRow(ctx, `SELECT organisation_id FROM organisation_domains WHERE domain = ?`, contact.EmailDomain(email)).Scan(&oid)
	switch {
	case err == nil:
		org = &oid
	case err != errNoRows:
		return 0, false, fmt.Errorf("finding organisation: %w", err)
	}
	now = utc(now)
	if err := tx.queryRow(ctx, `INSERT INTO contacts (name, language, organisation_id, created_at, updated_at)
VALUES (?,?,?,?,?) RETURNING id`, strings.TrimSpace(name), language, org, now, now).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("creating contact: %w", err)
	}
	var owner int64
	err = tx.queryRow(ctx, `INSERT INTO contact_emails (email, contact_id, position) VALUES (?, ?, 0)
ON CONFLICT (email) DO NOTHING RETURNING contact_id`, email, id).Scan(&owner)
	if err == errNoRows {
		// Another transaction created this address first: use theirs.
		if _, err := tx.exec(ctx, `DELETE FROM contacts WHERE id = ?`, id); err != nil {
			return 0, false, err
		}
		err = tx.queryRow(ctx, `SELECT contact_id FROM contact_emails WHERE email = ?`, email).Scan(&owner)
		return owner, false, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("adding contact email: %w", err)
	}
	return id, true, tx.indexContact(ctx, id)
}

func (tx *Tx) exists(ctx context.Context, query string, id int64) (bool, error) {
	var n int
	err := tx.queryRow(ctx, query, id).Scan(&n)
	if err == errNoRows {
		return false, nil
	}
	return err == nil, err
}

// ContactExists reports whether contact id exists.
func (tx *Tx) ContactExists(ctx context.Context, id int64) (bool, error) {
	return tx.exists(ctx, `SELECT 1 FROM contacts WHERE id = ?`, id)
}

// TeamExists reports whether team id exists.
func (tx *Tx) TeamExists(ctx context.Context, id int64) (bool, error) {
	return tx.exists(ctx, `SELECT 1 FROM teams WHERE id = ?`, id)
}

// AgentActive reports whether agent id exists and is active.
func (tx *Tx) AgentActive(ctx context.Context, id int64) (bool, error) {
	return tx.exists(ctx, `SELECT 1 FROM agents WHERE id = ? AND active = TRUE`, id)
}

// TxFieldDefs lists custom field definitions inside the transaction.
func (tx *Tx) TxFieldDefs(ctx context.Context) ([]ticket.FieldDef, error) {
	return tx.s.fieldDefs(ctx, tx.tx)
}

// Messages lists a ticket's thread, oldest first, with attachments.
func (s *Store) Messages(ctx context.Context, ticketID int64) ([]ticket.Message, error) {
	var out []ticket.Message
	err := s.sel(ctx, &out, (`SELECT id, ticket_id, kind, author_agent_id, author_contact_id, body_text,
body_html, channel, meta, created_at FROM messages WHERE ticket_id = ? ORDER BY created_at, id`), ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading messages: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	var atts []ticket.Attachment
	err = s.sel(ctx, &atts, (`SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, a.created_at
FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.ticket_id = ? ORDER BY a.id`), ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading attachments: %w", err)
	}
	idx := make(map[int64]int, len(out))
	for i, m := range out {
		idx[m.ID] = i
	}
	for _, a := range atts {
		if i, ok := idx[a.MessageID]; ok {
			out[i].Attachments = append(out[i].Attachments, a)
		}
	}
	return out, nil
}

// Events lists a ticket's history, oldest first.
func (s *Store) Events(ctx context.Context, ticketID int64) ([]ticket.Event, error) {
	var out []ticket.Event
	err := s.sel(ctx, &out, (`SELECT id, ticket_id, actor_type, actor_id, field, before, after, created_at
FROM ticket_events WHERE ticket_id = ? ORDER BY id`), ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading history: %w", err)
	}
	return out, nil
}

// Attachment reads one attachment record and the ticket it belongs to.
func (s *Store) Attachment(ctx context.Context, id int64) (*ticket.Attachment, int64, error) {
	var row struct {
		ticket.Attachment
		TicketID int64 `db:"ticket_id"`
	}
	err := s.get(ctx, &row, (`SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, a.created_at,
m.ticket_id FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = ?`), id)
	if err != nil {
		return nil, 0, notFound(err, ticket.ErrAttachmentNotFound)
	}
	return &row.Attachment, row.TicketID, nil
}

// Remembered returns what an agent's idempotency key made.
func (tx *Tx) Remembered(ctx context.Context, agentID int64, key string) (ticket.Remembered, bool, error) {
	var rec ticket.Remembered
	err := tx.queryRow(ctx, `SELECT fingerprint, ticket_id, message_id FROM idempotency_keys WHERE agent_id = ? AND key = ?`, agentID, key).StructScan(&rec)
	if errors.Is(err, errNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("reading idempotency key: %w", err)
	}
	return rec, true, nil
}

// Remember stores what an idempotency key made, in the transaction that
// made it; ticket.ErrKeyTaken when a concurrent twin stored it first.
func (tx *Tx) Remember(ctx context.Context, agentID int64, key string, rec ticket.Remembered, now time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO idempotency_keys (agent_id, key, fingerprint, ticket_id, message_id, created_at) VALUES (?,?,?,?,?,?)`,
		agentID, key, rec.Fingerprint, rec.TicketID, rec.MessageID, utc(now))
	if isUnique(err) {
		return ticket.ErrKeyTaken
	}
	if err != nil {
		return fmt.Errorf("storing idempotency key: %w", err)
	}
	return nil
}

// ForgetIdempotencyKeys deletes keys older than before (a day is plenty for
// retries; the janitor runs it hourly).
func (s *Store) ForgetIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM idempotency_keys WHERE created_at < ?`), utc(before))
	if err != nil {
		return 0, fmt.Errorf("forgetting idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
