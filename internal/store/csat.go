package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/csat"
)

// InsertSurvey records that the survey of a resolution is sent; false
// when it already was (a survey per resolution, whatever retried).
func (tx *Tx) InsertSurvey(ctx context.Context, ticketID, resolution, contactID int64, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO csat_surveys (ticket_id, resolution, contact_id, sent_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`,
		ticketID, resolution, contactID, utc(now))
	if err != nil {
		return false, fmt.Errorf("recording a survey: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Survey reports whether the survey of a resolution was sent.
func (s *Store) Survey(ctx context.Context, ticketID, resolution int64) (bool, error) {
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM csat_surveys WHERE ticket_id = ? AND resolution = ?`, ticketID, resolution); err != nil {
		return false, err
	}
	return n > 0, nil
}

// RateTicket records a rating of a resolution once: false (and nothing
// written) when it was rated already. The ticket's team and assignee at
// the time are kept with it for the reports.
func (s *Store) RateTicket(ctx context.Context, r *csat.Rating) (bool, error) {
	var first bool
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		first, err = tx.RateTicket(ctx, r)
		return err
	})
	return first, err
}

// RateTicket records a rating inside tx (see Store.RateTicket).
func (tx *Tx) RateTicket(ctx context.Context, r *csat.Rating) (bool, error) {
	r.CreatedAt = utc(r.CreatedAt)
	var id []int64
	if err := tx.sel(ctx, &id, `INSERT INTO csat_ratings (ticket_id, resolution, contact_id, agent_id, team_id, rating, comment, created_at)
SELECT ?, ?, ?, assignee_id, team_id, ?, ?, ? FROM tickets WHERE id = ? ON CONFLICT (ticket_id, resolution) DO NOTHING RETURNING id`,
		r.TicketID, r.Resolution, r.ContactID, r.Rating, r.Comment, r.CreatedAt, r.TicketID); err != nil {
		return false, fmt.Errorf("recording a rating: %w", err)
	}
	if len(id) == 0 {
		return false, nil
	}
	r.ID = id[0]
	return true, nil
}

const ratingCols = `r.id, r.ticket_id, r.resolution, r.contact_id, r.agent_id, r.team_id, r.rating, r.comment, r.created_at`

// Ratings lists ratings, newest first, with the filter's conditions.
func (s *Store) Ratings(ctx context.Context, f csat.Filter) ([]csat.Rating, error) {
	where, args := ratingWhere(f)
	q := `SELECT ` + ratingCols + `, COALESCE(c.name, '') AS contact_name, COALESCE(t.subject, '') AS subject FROM csat_ratings r
LEFT JOIN contacts c ON c.id = r.contact_id LEFT JOIN tickets t ON t.id = r.ticket_id` + where + ` ORDER BY r.created_at DESC, r.id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var out []csat.Rating
	if err := s.r.SelectContext(ctx, &out, s.q(q), args...); err != nil {
		return nil, fmt.Errorf("listing ratings: %w", err)
	}
	return out, nil
}

func ratingWhere(f csat.Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, v any) { conds, args = append(conds, c), append(args, v) }
	if f.TicketID != nil {
		add("r.ticket_id = ?", *f.TicketID)
	}
	if f.ContactID != nil {
		add("r.contact_id = ?", *f.ContactID)
	}
	if f.TeamID != nil {
		add("r.team_id = ?", *f.TeamID)
	}
	if f.AgentID != nil {
		add("r.agent_id = ?", *f.AgentID)
	}
	if f.InTeams != nil {
		ids := append([]int64{-1}, f.InTeams...)
		ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		conds = append(conds, "r.team_id IN ("+ph+")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if f.From != nil {
		add("r.created_at >= ?", utc(*f.From))
	}
	if f.To != nil {
		add("r.created_at < ?", utc(*f.To))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// CSATSummary counts the ratings (by score) and the surveys sent under
// the filter (surveys by their sending time, team and assignee now).
func (s *Store) CSATSummary(ctx context.Context, f csat.Filter) (csat.Summary, error) {
	var sum csat.Summary
	where, args := ratingWhere(f)
	var rows []struct {
		Rating int `db:"rating"`
		N      int `db:"n"`
	}
	if err := s.r.SelectContext(ctx, &rows, s.q(`SELECT r.rating, COUNT(*) AS n FROM csat_ratings r`+where+` GROUP BY r.rating`), args...); err != nil {
		return sum, fmt.Errorf("counting ratings: %w", err)
	}
	for _, r := range rows {
		sum.ByScore[r.Rating] += r.N
		sum.Ratings += r.N
	}
	var conds []string
	var sargs []any
	if f.TeamID != nil {
		conds, sargs = append(conds, "t.team_id = ?"), append(sargs, *f.TeamID)
	}
	if f.AgentID != nil {
		conds, sargs = append(conds, "t.assignee_id = ?"), append(sargs, *f.AgentID)
	}
	if f.InTeams != nil {
		ids := append([]int64{-1}, f.InTeams...)
		conds = append(conds, "t.team_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")")
		for _, id := range ids {
			sargs = append(sargs, id)
		}
	}
	if f.From != nil {
		conds, sargs = append(conds, "s.sent_at >= ?"), append(sargs, utc(*f.From))
	}
	if f.To != nil {
		conds, sargs = append(conds, "s.sent_at < ?"), append(sargs, utc(*f.To))
	}
	q := `SELECT COUNT(*) FROM csat_surveys s JOIN tickets t ON t.id = s.ticket_id`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	if err := s.r.GetContext(ctx, &sum.Surveys, s.q(q), sargs...); err != nil {
		return sum, fmt.Errorf("counting surveys: %w", err)
	}
	return sum, nil
}
