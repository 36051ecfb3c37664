package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/agent"
)

const agentCols = `id, email, name, role, language, timezone, availability, active, mail_notices, app_notices, skill_languages, skill_topics, password_hash, failed_logins, locked_until, created_at, updated_at`

// CreateAgent stores a new agent and sets its ID.
func (s *Store) CreateAgent(ctx context.Context, a *agent.Agent) error {
	a.CreatedAt, a.UpdatedAt = utc(a.CreatedAt), utc(a.UpdatedAt)
	if a.MailNotices == "" {
		a.MailNotices = "assigned,customer,sla,rule"
	}
	if a.AppNotices == "" {
		a.AppNotices = "assigned,customer,mention"
	}
	err := s.w.QueryRowxContext(ctx, s.q(`INSERT INTO agents (email, name, role, language, timezone, availability, active,
mail_notices, app_notices, skill_languages, skill_topics, password_hash, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`),
		a.Email, a.Name, a.Role, a.Language, a.Timezone, a.Availability, a.Active, a.MailNotices, a.AppNotices, a.SkillLanguages, a.SkillTopics, a.PasswordHash, a.CreatedAt, a.UpdatedAt).Scan(&a.ID)
	if isUnique(err) {
		return conflict("email", "another agent has this email")
	}
	if err != nil {
		return fmt.Errorf("creating agent: %w", err)
	}
	return nil
}

// Agent reads one agent with their team memberships.
func (s *Store) Agent(ctx context.Context, id int64) (*agent.Agent, error) {
	return s.agentWhere(ctx, "id = ?", id)
}

// AgentByEmail reads one agent by email.
func (s *Store) AgentByEmail(ctx context.Context, email string) (*agent.Agent, error) {
	return s.agentWhere(ctx, "email = ?", agent.NormaliseEmail(email))
}

func (s *Store) agentWhere(ctx context.Context, cond string, arg any) (*agent.Agent, error) {
	var a agent.Agent
	if err := sqlx.GetContext(ctx, s.r, &a, s.q(`SELECT `+agentCols+` FROM agents WHERE `+cond), arg); err != nil {
		return nil, notFound(err, agent.ErrNotFound)
	}
	if err := sqlx.SelectContext(ctx, s.r, &a.TeamIDs, s.q(`SELECT team_id FROM team_members WHERE agent_id = ? ORDER BY team_id`), a.ID); err != nil {
		return nil, fmt.Errorf("reading teams of agent: %w", err)
	}
	return &a, nil
}

// Agents lists agents ordered by name.
func (s *Store) Agents(ctx context.Context, limit, offset int) ([]agent.Agent, error) {
	var out []agent.Agent
	if err := sqlx.SelectContext(ctx, s.r, &out, s.q(`SELECT `+agentCols+` FROM agents ORDER BY name, id LIMIT ? OFFSET ?`), limit, offset); err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	var mem []struct {
		TeamID  int64 `db:"team_id"`
		AgentID int64 `db:"agent_id"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &mem, `SELECT team_id, agent_id FROM team_members ORDER BY team_id`); err != nil {
		return nil, fmt.Errorf("listing memberships: %w", err)
	}
	idx := map[int64]int{}
	for i := range out {
		idx[out[i].ID] = i
		out[i].TeamIDs = []int64{}
	}
	for _, m := range mem {
		if i, ok := idx[m.AgentID]; ok {
			out[i].TeamIDs = append(out[i].TeamIDs, m.TeamID)
		}
	}
	return out, nil
}

// CountAdmins counts active admins (first start creates one when zero).
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.r.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM agents WHERE role = 'admin' AND active = TRUE`))
	return n, err
}

// UpdateAgent writes the fields of a that p sets (and updated_at), never
// the others: a profile edit read before an admin's change of role or
// active flag cannot undo it (issue 9). a holds the validated values
// (a.Apply(p)). Deactivating an agent deletes their sessions and API
// tokens in the same transaction: access ends at once.
func (s *Store) UpdateAgent(ctx context.Context, a *agent.Agent, p agent.Patch) error {
	var sets []string
	var args []any
	add := func(col string, set bool, v any) {
		if set {
			sets = append(sets, col+"=?")
			args = append(args, v)
		}
	}
	add("email", p.Email != nil, a.Email)
	add("name", p.Name != nil, a.Name)
	add("role", p.Role != nil, a.Role)
	add("language", p.Language != nil, a.Language)
	add("timezone", p.Timezone != nil, a.Timezone)
	add("availability", p.Availability != nil, a.Availability)
	add("active", p.Active != nil, a.Active)
	add("mail_notices", p.MailNotices != nil, a.MailNotices)
	add("app_notices", p.AppNotices != nil, a.AppNotices)
	add("skill_languages", p.SkillLanguages != nil, a.SkillLanguages)
	add("skill_topics", p.SkillTopics != nil, a.SkillTopics)
	if len(sets) == 0 {
		return nil
	}
	sets = append(sets, "updated_at=?")
	args = append(args, utc(a.UpdatedAt), a.ID)
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, s.q(`UPDATE agents SET `+strings.Join(sets, ", ")+` WHERE id=?`), args...)
		if isUnique(err) {
			return conflict("email", "another agent has this email")
		}
		if err != nil {
			return fmt.Errorf("updating agent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return agent.ErrNotFound
		}
		if p.Active != nil && !a.Active {
			return tx.revokeAccess(ctx, a.ID)
		}
		return nil
	})
}

func (tx *Tx) revokeAccess(ctx context.Context, agentID int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM sessions WHERE agent_id = ?`), agentID); err != nil {
		return fmt.Errorf("revoking sessions: %w", err)
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM api_tokens WHERE agent_id = ?`), agentID); err != nil {
		return fmt.Errorf("revoking tokens: %w", err)
	}
	return nil
}

// SetPassword replaces an agent's password hash, clears any lockout and
// signs out every other session.
func (s *Store) SetPassword(ctx context.Context, agentID int64, hash string, now time.Time, keepSession string) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, s.q(`UPDATE agents SET password_hash=?, failed_logins=0, locked_until=NULL, updated_at=? WHERE id=?`), hash, utc(now), agentID)
		if err != nil {
			return fmt.Errorf("setting password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return agent.ErrNotFound
		}
		_, err = tx.tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE agent_id = ? AND token_hash <> ?`), agentID, keepSession)
		return err
	})
}

// BeginLoginAttempt counts a sign-in attempt before its password is
// evaluated (one UPDATE, so parallel attempts are counted one by one) and
// locks the account until lockUntil when the count reaches limit. While
// the account is locked at now it counts nothing and returns false.
func (s *Store) BeginLoginAttempt(ctx context.Context, agentID int64, limit int, now, lockUntil time.Time) (bool, error) {
	ok := false
	err := s.InTx(ctx, func(tx *Tx) error {
		var n int
		err := tx.tx.QueryRowxContext(ctx, s.q(`UPDATE agents SET failed_logins = failed_logins + 1
WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?) RETURNING failed_logins`), agentID, utc(now)).Scan(&n)
		if errors.Is(err, errNoRows) {
			return nil // locked
		}
		if err != nil {
			return fmt.Errorf("counting a sign-in attempt: %w", err)
		}
		ok = true
		if n >= limit {
			// This attempt is still evaluated; a right password clears
			// the lock (ResetLoginFailures), a wrong one leaves it.
			_, err := tx.tx.ExecContext(ctx, s.q(`UPDATE agents SET locked_until = ?, failed_logins = 0 WHERE id = ?`), utc(lockUntil), agentID)
			return err
		}
		return nil
	})
	return ok, err
}

// ResetLoginFailures clears the failure count after a good login.
func (s *Store) ResetLoginFailures(ctx context.Context, agentID int64) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE id = ? AND (failed_logins <> 0 OR locked_until IS NOT NULL)`), agentID)
	return err
}
