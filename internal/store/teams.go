package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/team"
)

type teamRow struct {
	team.Team
	LanguagesJSON string `db:"languages"`
	TopicsJSON    string `db:"topics"`
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	return mustJSON(l)
}

// CreateTeam stores a team with its members and sets its ID.
func (s *Store) CreateTeam(ctx context.Context, t *team.Team) error {
	return s.InTx(ctx, func(tx *Tx) error {
		t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
		if err := tx.checkEscalation(ctx, t); err != nil {
			return err
		}
		err := tx.tx.QueryRowxContext(ctx, s.q(`INSERT INTO teams (name, tier, languages, topics, assign_mode, assign_cap, reassign_away, escalate_to_id, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`), t.Name, t.Tier, jsonList(t.Languages), jsonList(t.Topics), t.AssignMode, t.AssignCap, t.ReassignAway, t.EscalateToID, t.CreatedAt, t.UpdatedAt).Scan(&t.ID)
		if isUnique(err) {
			return conflict("name", "another team has this name")
		}
		if err != nil {
			return fmt.Errorf("creating team: %w", err)
		}
		return tx.setMembers(ctx, t.ID, t.MemberIDs)
	})
}

// UpdateTeam writes a team and replaces its members.
func (s *Store) UpdateTeam(ctx context.Context, t *team.Team, since time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.unchangedSince(ctx, "teams", t.ID, since, team.ErrNotFound); err != nil {
			return err
		}
		if err := tx.checkEscalation(ctx, t); err != nil {
			return err
		}
		res, err := tx.tx.ExecContext(ctx, s.q(`UPDATE teams SET name=?, tier=?, languages=?, topics=?, assign_mode=?, assign_cap=?, reassign_away=?, escalate_to_id=?, updated_at=? WHERE id=?`),
			t.Name, t.Tier, jsonList(t.Languages), jsonList(t.Topics), t.AssignMode, t.AssignCap, t.ReassignAway, t.EscalateToID, utc(t.UpdatedAt), t.ID)
		if isUnique(err) {
			return conflict("name", "another team has this name")
		}
		if err != nil {
			return fmt.Errorf("updating team: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return team.ErrNotFound
		}
		return tx.setMembers(ctx, t.ID, t.MemberIDs)
	})
}

// checkEscalation refuses a next tier that is no team.
func (tx *Tx) checkEscalation(ctx context.Context, t *team.Team) error {
	if t.EscalateToID == nil {
		return nil
	}
	ok, err := tx.exists(ctx, `SELECT 1 FROM teams WHERE id = ?`, *t.EscalateToID)
	if err != nil {
		return err
	}
	if !ok {
		return errField("escalate_to_id", "exists", "no team has this id")
	}
	return nil
}

func (tx *Tx) setMembers(ctx context.Context, teamID int64, ids []int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM team_members WHERE team_id = ?`), teamID); err != nil {
		return err
	}
	for _, id := range ids {
		ok, err := tx.exists(ctx, `SELECT 1 FROM agents WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("team members: %w", errField("member_ids", "exists", fmt.Sprintf("no agent has id %d", id)))
		}
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO team_members (team_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING`), teamID, id); err != nil {
			return fmt.Errorf("adding team member: %w", err)
		}
	}
	return nil
}

// DeleteTeam removes a team; its tickets keep existing without a team.
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM teams WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting team: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return team.ErrNotFound
	}
	return nil
}

// Team reads one team with its members.
func (s *Store) Team(ctx context.Context, id int64) (*team.Team, error) {
	ts, err := s.teams(ctx, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, team.ErrNotFound
	}
	return &ts[0], nil
}

// Teams lists every team by tier and name.
func (s *Store) Teams(ctx context.Context) ([]team.Team, error) { return s.teams(ctx, "") }

func (s *Store) teams(ctx context.Context, where string, args ...any) ([]team.Team, error) {
	var rows []teamRow
	if err := sqlx.SelectContext(ctx, s.r, &rows, s.q(`SELECT id, name, tier, languages, topics, assign_mode, assign_cap, reassign_away, escalate_to_id, created_at, updated_at FROM teams `+where+` ORDER BY tier, name`), args...); err != nil {
		return nil, fmt.Errorf("listing teams: %w", err)
	}
	var mem []struct {
		TeamID  int64 `db:"team_id"`
		AgentID int64 `db:"agent_id"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &mem, `SELECT team_id, agent_id FROM team_members ORDER BY agent_id`); err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	out := make([]team.Team, len(rows))
	idx := map[int64]int{}
	for i, r := range rows {
		t := r.Team
		_ = json.Unmarshal([]byte(r.LanguagesJSON), &t.Languages)
		_ = json.Unmarshal([]byte(r.TopicsJSON), &t.Topics)
		t.MemberIDs = []int64{}
		out[i] = t
		idx[t.ID] = i
	}
	for _, m := range mem {
		if i, ok := idx[m.TeamID]; ok {
			out[i].MemberIDs = append(out[i].MemberIDs, m.AgentID)
		}
	}
	return out, nil
}
