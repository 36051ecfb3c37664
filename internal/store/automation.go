package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/routing"
	"github.com/sportello/sportello/internal/webhook"
)

// rulesVersionKey is the desk setting bumped by every change to the rules,
// so that each node's compiled copy is refreshed at its next use.
const rulesVersionKey = "rules.version"

type ruleRow struct {
	ID         int64     `db:"id"`
	Name       string    `db:"name"`
	Position   int       `db:"position"`
	Active     bool      `db:"active"`
	Definition string    `db:"definition"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

func (r ruleRow) rule() (automation.Rule, error) {
	out := automation.Rule{ID: r.ID, Name: r.Name, Position: r.Position, Active: r.Active, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	var d automation.Definition
	if err := json.Unmarshal([]byte(r.Definition), &d); err != nil {
		return out, fmt.Errorf("reading rule %d: %w", r.ID, err)
	}
	out.SetDef(d)
	return out, nil
}

func rulesFrom(rows []ruleRow) ([]automation.Rule, error) {
	out := make([]automation.Rule, 0, len(rows))
	for _, r := range rows {
		x, err := r.rule()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

const ruleCols = `id, name, position, active, definition, created_at, updated_at`

// Rules lists every rule in order.
func (s *Store) Rules(ctx context.Context) ([]automation.Rule, error) {
	var rows []ruleRow
	if err := s.sel(ctx, &rows, `SELECT `+ruleCols+` FROM rules ORDER BY position, id`); err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	return rulesFrom(rows)
}

// Rule reads one rule.
func (s *Store) Rule(ctx context.Context, id int64) (*automation.Rule, error) {
	var rows []ruleRow
	if err := s.sel(ctx, &rows, `SELECT `+ruleCols+` FROM rules WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("reading rule: %w", err)
	}
	if len(rows) == 0 {
		return nil, automation.ErrNotFound
	}
	r, err := rows[0].rule()
	return &r, err
}

// ActiveRules reads the active rules in order, and the rules' version,
// inside a transaction (the rule engine's cache is refreshed there).
func (tx *Tx) ActiveRules(ctx context.Context) ([]automation.Rule, int64, error) {
	v, err := tx.RulesVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	var rows []ruleRow
	if err := tx.sel(ctx, &rows, `SELECT `+ruleCols+` FROM rules WHERE active = TRUE ORDER BY position, id`); err != nil {
		return nil, 0, fmt.Errorf("listing rules: %w", err)
	}
	rs, err := rulesFrom(rows)
	return rs, v, err
}

// RulesVersion is the rules' version (0 before any change).
func (tx *Tx) RulesVersion(ctx context.Context) (int64, error) {
	var v int64
	if _, err := tx.Setting(ctx, rulesVersionKey, &v); err != nil {
		return 0, err
	}
	return v, nil
}

func (tx *Tx) bumpRules(ctx context.Context, now time.Time) error {
	v, err := tx.RulesVersion(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO desk_settings (key, value, updated_at) VALUES (?,?,?)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`, rulesVersionKey, fmt.Sprint(v+1), utc(now))
	return err
}

// SaveRule creates (ID 0) or updates a rule. An update based on a copy
// read before since's updated_at is refused (ErrChanged).
func (s *Store) SaveRule(ctx context.Context, r *automation.Rule, since time.Time) error {
	def := mustJSON(r.Def())
	return named(s.InTx(ctx, func(tx *Tx) error {
		r.UpdatedAt = utc(r.UpdatedAt)
		if r.ID == 0 {
			r.CreatedAt = utc(r.CreatedAt)
			if err := tx.queryRow(ctx, `INSERT INTO rules (name, position, active, definition, created_at, updated_at)
VALUES (?,?,?,?,?,?) RETURNING id`, r.Name, r.Position, r.Active, def, r.CreatedAt, r.UpdatedAt).Scan(&r.ID); err != nil {
				return fmt.Errorf("creating rule: %w", err)
			}
		} else {
			if err := tx.unchangedSince(ctx, "rules", r.ID, since, automation.ErrNotFound); err != nil {
				return err
			}
			res, err := tx.exec(ctx, `UPDATE rules SET name=?, position=?, active=?, definition=?, updated_at=? WHERE id=?`,
				r.Name, r.Position, r.Active, def, r.UpdatedAt, r.ID)
			if err != nil {
				return fmt.Errorf("updating rule: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return automation.ErrNotFound
			}
		}
		return tx.bumpRules(ctx, r.UpdatedAt)
	}), "another rule has this name")
}

// MoveRule moves a rule one place up or down the order and numbers the
// positions 10, 20, … again. The rules' version is bumped first: on
// PostgreSQL that row lock makes two moves at once take turns, each
// reading the order the other left.
func (s *Store) MoveRule(ctx context.Context, id int64, up bool, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.bumpRules(ctx, now); err != nil {
			return err
		}
		var ids []int64
		if err := tx.sel(ctx, &ids, `SELECT id FROM rules ORDER BY position, id`); err != nil {
			return fmt.Errorf("reading the rules' order: %w", err)
		}
		i := slices.Index(ids, id)
		if i < 0 {
			return automation.ErrNotFound
		}
		j := i + 1
		if up {
			j = i - 1
		}
		if j >= 0 && j < len(ids) {
			ids[i], ids[j] = ids[j], ids[i]
		}
		for k, rid := range ids {
			if _, err := tx.exec(ctx, `UPDATE rules SET position = ? WHERE id = ?`, (k+1)*10, rid); err != nil {
				return fmt.Errorf("ordering rules: %w", err)
			}
		}
		return nil
	})
}

// SetRuleActive switches a rule on or off (nothing else of it changes).
func (s *Store) SetRuleActive(ctx context.Context, id int64, active bool, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE rules SET active=?, updated_at=? WHERE id=?`, active, utc(now), id)
		if err != nil {
			return fmt.Errorf("switching rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return automation.ErrNotFound
		}
		return tx.bumpRules(ctx, now)
	})
}

// DeleteRule removes a rule.
func (s *Store) DeleteRule(ctx context.Context, id int64, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM rules WHERE id=?`, id)
		if err != nil {
			return fmt.Errorf("deleting rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return automation.ErrNotFound
		}
		return tx.bumpRules(ctx, now)
	})
}

// RuleFireCounts counts, per rule, the tickets each has acted on (from
// the history: each action is an event by the rule).
func (s *Store) RuleFireCounts(ctx context.Context, ruleID int64) (map[int64]int64, error) {
	var rows []struct {
		ID int64 `db:"actor_id"`
		N  int64 `db:"n"`
	}
	q, args := `SELECT actor_id, COUNT(DISTINCT ticket_id) AS n FROM ticket_events WHERE actor_type = 'rule' AND field = 'rule'`, []any{}
	if ruleID != 0 {
		q, args = q+` AND actor_id = ?`, append(args, ruleID)
	}
	if err := s.sel(ctx, &rows, q+` GROUP BY actor_id`, args...); err != nil {
		return nil, fmt.Errorf("counting rule runs: %w", err)
	}
	out := map[int64]int64{}
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// TimeCandidate is a ticket a time rule may consider: the instant it
// counts from (creation or last update).
type TimeCandidate struct {
	ID     int64     `db:"id"`
	Anchor time.Time `db:"anchor"`
}

// TimeCandidates lists up to limit unsolved tickets whose anchor (created
// or updated, per since) is at or before before, that rule has not
// considered at that anchor yet, oldest first. statuses, when given,
// narrows them.
func (s *Store) TimeCandidates(ctx context.Context, ruleID int64, since string, statuses []string, before time.Time, limit int) ([]TimeCandidate, error) {
	col := "updated_at"
	if since == "created" {
		col = "created_at"
	}
	q := `SELECT t.id, t.` + col + ` AS anchor FROM tickets t WHERE t.` + col + ` <= ? AND t.status <> 'closed' AND t.merged_into_id IS NULL`
	args := []any{utc(before)}
	if len(statuses) > 0 {
		q += ` AND t.status IN (?` + strings.Repeat(",?", len(statuses)-1) + `)`
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	q += ` AND NOT EXISTS (SELECT 1 FROM rule_runs r WHERE r.rule_id = ? AND r.ticket_id = t.id AND r.anchor = t.` + col + `) ORDER BY t.` + col + `, t.id LIMIT ?`
	args = append(args, ruleID, limit)
	var out []TimeCandidate
	if err := s.sel(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("listing tickets for time rules: %w", err)
	}
	return out, nil
}

// ClaimRuleRun records that a time rule considered a ticket at anchor;
// false when it already had (another node, or an earlier scan).
func (tx *Tx) ClaimRuleRun(ctx context.Context, ruleID, ticketID int64, anchor, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO rule_runs (rule_id, ticket_id, anchor, created_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`,
		ruleID, ticketID, utc(anchor), utc(now))
	if err != nil {
		return false, fmt.Errorf("recording rule run: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// AssignCandidates locks a team's row (so that concurrent assignments to
// it are decided one at a time, each seeing the last one's ticket) and
// returns its assignment settings and its active members as candidates.
func (tx *Tx) AssignCandidates(ctx context.Context, teamID int64) (mode string, limit int, cands []routing.Candidate, err error) {
	var set []struct {
		Mode string `db:"assign_mode"`
		Cap  int    `db:"assign_cap"`
	}
	if err := tx.sel(ctx, &set, `SELECT assign_mode, assign_cap FROM teams WHERE id = ?`, teamID); err != nil {
		return "", 0, nil, fmt.Errorf("reading team assignment: %w", err)
	}
	if len(set) == 0 || set[0].Mode == routing.Manual {
		return routing.Manual, 0, nil, nil
	}
	if tx.s.dialect == Postgres {
		// NO KEY UPDATE: the ticket this transaction inserted holds a KEY
		// SHARE lock on the team row (its foreign key), which FOR UPDATE
		// would wait on in every concurrent creator: a deadlock. NO KEY
		// UPDATE still serialises the assigners among themselves.
		if _, err := tx.exec(ctx, `SELECT id FROM teams WHERE id = ? FOR NO KEY UPDATE`, teamID); err != nil {
			return "", 0, nil, fmt.Errorf("locking the team for assignment: %w", err)
		}
		if err := tx.sel(ctx, &set, `SELECT assign_mode, assign_cap FROM teams WHERE id = ?`, teamID); err != nil {
			return "", 0, nil, fmt.Errorf("reading team assignment: %w", err)
		}
		if len(set) == 0 || set[0].Mode == routing.Manual {
			return routing.Manual, 0, nil, nil
		}
	}
	var rows []struct {
		ID       int64      `db:"id"`
		Avail    string     `db:"availability"`
		Lang     string     `db:"language"`
		Skills   string     `db:"skill_languages"`
		Topics   string     `db:"skill_topics"`
		Last     *time.Time `db:"last_assigned_at"`
		OpenOnes int        `db:"open_count"`
	}
	// Open tickets are counted only when the decision needs them (least
	// loaded, or a cap): turn by turn without a cap, they are not read.
	open := `(SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = a.id AND t.status IN ('new','open'))`
	if set[0].Mode == routing.RoundRobin && set[0].Cap == 0 {
		open = `0`
	}
	err = tx.sel(ctx, &rows, `SELECT a.id, a.availability, a.language, a.skill_languages, a.skill_topics, m.last_assigned_at,
 `+open+` AS open_count
FROM team_members m JOIN agents a ON a.id = m.agent_id WHERE m.team_id = ? AND a.active = TRUE ORDER BY a.id`, teamID)
	if err != nil {
		return "", 0, nil, fmt.Errorf("reading team members for assignment: %w", err)
	}
	for _, r := range rows {
		c := routing.Candidate{AgentID: r.ID, Online: r.Avail == "online", Open: r.OpenOnes}
		if r.Last != nil {
			c.LastAssigned = r.Last.UnixNano()
		}
		c.Languages = splitList(r.Skills)
		if len(c.Languages) == 0 {
			c.Languages = []string{r.Lang}
		}
		c.Topics = splitList(r.Topics)
		cands = append(cands, c)
	}
	return set[0].Mode, set[0].Cap, cands, nil
}

// MarkAssigned moves an agent to the end of a team's round-robin turn.
func (tx *Tx) MarkAssigned(ctx context.Context, teamID, agentID int64, now time.Time) error {
	_, err := tx.exec(ctx, `UPDATE team_members SET last_assigned_at = ? WHERE team_id = ? AND agent_id = ?`, utc(now), teamID, agentID)
	return err
}

// EscalationTarget is the team a ticket of team teamID escalates to: the
// team's own choice, else the lowest-tier team above its tier; nil when
// there is none (the top tier).
func (tx *Tx) EscalationTarget(ctx context.Context, teamID *int64) (*int64, error) {
	var ids []int64
	var err error
	if teamID == nil {
		err = tx.sel(ctx, &ids, `SELECT id FROM teams ORDER BY tier, id LIMIT 1`)
	} else {
		err = tx.sel(ctx, &ids, `SELECT COALESCE(t.escalate_to_id, (SELECT n.id FROM teams n WHERE n.tier > t.tier ORDER BY n.tier, n.id LIMIT 1), 0)
FROM teams t WHERE t.id = ?`, *teamID)
	}
	if err != nil {
		return nil, fmt.Errorf("finding the next tier: %w", err)
	}
	if len(ids) == 0 || ids[0] == 0 || (teamID != nil && ids[0] == *teamID) {
		return nil, nil
	}
	return &ids[0], nil
}

// TeamLeads lists the active leads among a team's members; with none (or
// no team), the desk's active admins.
func (tx *Tx) TeamLeads(ctx context.Context, teamID *int64) ([]int64, error) {
	var ids []int64
	if teamID != nil {
		if err := tx.sel(ctx, &ids, `SELECT a.id FROM team_members m JOIN agents a ON a.id = m.agent_id
WHERE m.team_id = ? AND a.role = 'lead' AND a.active = TRUE ORDER BY a.id`, *teamID); err != nil {
			return nil, fmt.Errorf("listing team leads: %w", err)
		}
	}
	if len(ids) == 0 {
		if err := tx.sel(ctx, &ids, `SELECT id FROM agents WHERE role = 'admin' AND active = TRUE ORDER BY id`); err != nil {
			return nil, fmt.Errorf("listing admins: %w", err)
		}
	}
	return ids, nil
}

// TeamMembers lists a team's active members.
func (tx *Tx) TeamMembers(ctx context.Context, teamID int64) ([]int64, error) {
	var ids []int64
	if err := tx.sel(ctx, &ids, `SELECT a.id FROM team_members m JOIN agents a ON a.id = m.agent_id
WHERE m.team_id = ? AND a.active = TRUE ORDER BY a.id`, teamID); err != nil {
		return nil, fmt.Errorf("listing team members: %w", err)
	}
	return ids, nil
}

// TeamName reads a team's name inside the transaction ("" when none).
func (tx *Tx) TeamName(ctx context.Context, id *int64) (string, error) {
	if id == nil {
		return "", nil
	}
	var names []string
	if err := tx.sel(ctx, &names, `SELECT name FROM teams WHERE id = ?`, *id); err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}

// AgentAvailability reads an agent's availability ("" when unknown).
func (tx *Tx) AgentAvailability(ctx context.Context, id int64) (string, error) {
	var v []string
	if err := tx.sel(ctx, &v, `SELECT availability FROM agents WHERE id = ?`, id); err != nil || len(v) == 0 {
		return "", err
	}
	return v[0], nil
}

// RequesterFacts reads what rules and macros know of a ticket's requester:
// name, first email, language, organisation id and name.
func (tx *Tx) RequesterFacts(ctx context.Context, contactID int64) (name, email, lang string, orgID *int64, org string, err error) {
	var rows []struct {
		Name  string  `db:"name"`
		Lang  string  `db:"language"`
		OrgID *int64  `db:"organisation_id"`
		Org   *string `db:"org"`
		Email *string `db:"email"`
	}
	err = tx.sel(ctx, &rows, `SELECT c.name, c.language, c.organisation_id, o.name AS org,
 (SELECT e.email FROM contact_emails e WHERE e.contact_id = c.id ORDER BY e.position, e.email LIMIT 1) AS email
FROM contacts c LEFT JOIN organisations o ON o.id = c.organisation_id WHERE c.id = ?`, contactID)
	if err != nil || len(rows) == 0 {
		return "", "", "", nil, "", err
	}
	r := rows[0]
	if r.Email != nil {
		email = *r.Email
	}
	if r.Org != nil {
		org = *r.Org
	}
	return r.Name, email, r.Lang, r.OrgID, org, nil
}

// SetContactLanguage sets a contact's language when it has none yet.
func (tx *Tx) SetContactLanguage(ctx context.Context, contactID int64, lang string) error {
	_, err := tx.exec(ctx, `UPDATE contacts SET language = ? WHERE id = ? AND language = ''`, lang, contactID)
	return err
}

// --- macros ---

type macroRow struct {
	ID          int64     `db:"id"`
	Name        string    `db:"name"`
	OwnerID     *int64    `db:"owner_id"`
	Kind        string    `db:"kind"`
	Variants    string    `db:"variants"`
	Actions     string    `db:"actions"`
	KBArticleID *int64    `db:"kb_article_id"`
	UsageCount  int64     `db:"usage_count"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

func (r macroRow) macro() automation.Macro {
	m := automation.Macro{ID: r.ID, Name: r.Name, OwnerID: r.OwnerID, Kind: r.Kind, KBArticleID: r.KBArticleID,
		UsageCount: r.UsageCount, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	_ = json.Unmarshal([]byte(r.Variants), &m.Variants)
	_ = json.Unmarshal([]byte(r.Actions), &m.Actions)
	return m
}

const macroCols = `id, name, owner_id, kind, variants, actions, kb_article_id, usage_count, created_at, updated_at`

// Macros lists the macros an agent may use: the shared ones and their
// own, by name. agentID 0 lists every macro (admins' management view).
func (s *Store) Macros(ctx context.Context, agentID int64) ([]automation.Macro, error) {
	var rows []macroRow
	q, args := `SELECT `+macroCols+` FROM macros ORDER BY name, id`, []any{}
	if agentID != 0 {
		q, args = `SELECT `+macroCols+` FROM macros WHERE owner_id IS NULL OR owner_id = ? ORDER BY name, id`, []any{agentID}
	}
	if err := s.sel(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("listing macros: %w", err)
	}
	out := make([]automation.Macro, len(rows))
	for i, r := range rows {
		out[i] = r.macro()
	}
	return out, nil
}

// Macro reads one macro.
func (s *Store) Macro(ctx context.Context, id int64) (*automation.Macro, error) {
	var rows []macroRow
	if err := s.sel(ctx, &rows, `SELECT `+macroCols+` FROM macros WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("reading macro: %w", err)
	}
	if len(rows) == 0 {
		return nil, automation.ErrMacroNotFound
	}
	m := rows[0].macro()
	return &m, nil
}

// TxMacro reads one macro inside a transaction.
func (tx *Tx) TxMacro(ctx context.Context, id int64) (*automation.Macro, error) {
	var rows []macroRow
	if err := tx.sel(ctx, &rows, `SELECT `+macroCols+` FROM macros WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("reading macro: %w", err)
	}
	if len(rows) == 0 {
		return nil, automation.ErrMacroNotFound
	}
	m := rows[0].macro()
	return &m, nil
}

// SaveMacro creates (ID 0) or updates a macro; an update over a copy read
// before since is refused (ErrChanged).
func (s *Store) SaveMacro(ctx context.Context, m *automation.Macro, since time.Time) error {
	vars, acts := mustJSON(m.Variants), mustJSON(m.Actions)
	return named(s.InTx(ctx, func(tx *Tx) error {
		m.UpdatedAt = utc(m.UpdatedAt)
		if m.ID == 0 {
			m.CreatedAt = utc(m.CreatedAt)
			return tx.queryRow(ctx, `INSERT INTO macros (name, owner_id, kind, variants, actions, kb_article_id, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?) RETURNING id`, m.Name, m.OwnerID, m.Kind, vars, acts, m.KBArticleID, m.CreatedAt, m.UpdatedAt).Scan(&m.ID)
		}
		if err := tx.unchangedSince(ctx, "macros", m.ID, since, automation.ErrMacroNotFound); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE macros SET name=?, owner_id=?, kind=?, variants=?, actions=?, kb_article_id=?, updated_at=? WHERE id=?`,
			m.Name, m.OwnerID, m.Kind, vars, acts, m.KBArticleID, m.UpdatedAt, m.ID)
		if err != nil {
			return fmt.Errorf("updating macro: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return automation.ErrMacroNotFound
		}
		return nil
	}), "another macro of yours, or a shared one, has this name")
}

// DeleteMacro removes a macro.
func (s *Store) DeleteMacro(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM macros WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting macro: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return automation.ErrMacroNotFound
	}
	return nil
}

// SharedMacrosOfKind lists the shared macros of a kind (the escalation
// script rules and escalations send), oldest first.
func (tx *Tx) SharedMacrosOfKind(ctx context.Context, kind string) ([]automation.Macro, error) {
	var rows []macroRow
	if err := tx.sel(ctx, &rows, `SELECT `+macroCols+` FROM macros WHERE owner_id IS NULL AND kind = ? ORDER BY id`, kind); err != nil {
		return nil, fmt.Errorf("listing macros: %w", err)
	}
	out := make([]automation.Macro, len(rows))
	for i, r := range rows {
		out[i] = r.macro()
	}
	return out, nil
}

// MacroUsed counts one use of a macro.
func (tx *Tx) MacroUsed(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, `UPDATE macros SET usage_count = usage_count + 1 WHERE id = ?`, id)
	return err
}

// --- webhooks ---

type hookRow struct {
	ID           int64     `db:"id"`
	Name         string    `db:"name"`
	URL          string    `db:"url"`
	Secret       string    `db:"secret"`
	Events       string    `db:"events"`
	Active       bool      `db:"active"`
	AllowPrivate bool      `db:"allow_private"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

func (r hookRow) hook() webhook.Webhook {
	w := webhook.Webhook{ID: r.ID, Name: r.Name, URL: r.URL, Secret: r.Secret, Active: r.Active, AllowPrivate: r.AllowPrivate,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	_ = json.Unmarshal([]byte(r.Events), &w.Events)
	return w
}

const hookCols = `id, name, url, secret, events, active, allow_private, created_at, updated_at`

// Webhooks lists every webhook.
func (s *Store) Webhooks(ctx context.Context) ([]webhook.Webhook, error) {
	var rows []hookRow
	if err := s.sel(ctx, &rows, `SELECT `+hookCols+` FROM webhooks ORDER BY name, id`); err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	out := make([]webhook.Webhook, len(rows))
	for i, r := range rows {
		out[i] = r.hook()
	}
	return out, nil
}

// Webhook reads one webhook.
func (s *Store) Webhook(ctx context.Context, id int64) (*webhook.Webhook, error) {
	var rows []hookRow
	if err := s.sel(ctx, &rows, `SELECT `+hookCols+` FROM webhooks WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("reading webhook: %w", err)
	}
	if len(rows) == 0 {
		return nil, webhook.ErrNotFound
	}
	w := rows[0].hook()
	return &w, nil
}

// SubscribedWebhooks lists the active webhooks subscribed to event, inside
// a transaction (their deliveries are queued there).
func (tx *Tx) SubscribedWebhooks(ctx context.Context, event string) ([]int64, error) {
	var rows []hookRow
	if err := tx.sel(ctx, &rows, `SELECT `+hookCols+` FROM webhooks WHERE active = TRUE ORDER BY id`); err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	var ids []int64
	for _, r := range rows {
		w := r.hook()
		for _, e := range w.Events {
			if e == event {
				ids = append(ids, w.ID)
				break
			}
		}
	}
	return ids, nil
}

// SaveWebhook creates (ID 0) or updates a webhook.
func (s *Store) SaveWebhook(ctx context.Context, w *webhook.Webhook, since time.Time) error {
	evs := mustJSON(w.Events)
	return named(s.InTx(ctx, func(tx *Tx) error {
		w.UpdatedAt = utc(w.UpdatedAt)
		if w.ID == 0 {
			w.CreatedAt = utc(w.CreatedAt)
			return tx.queryRow(ctx, `INSERT INTO webhooks (name, url, secret, events, active, allow_private, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?) RETURNING id`, w.Name, w.URL, w.Secret, evs, w.Active, w.AllowPrivate, w.CreatedAt, w.UpdatedAt).Scan(&w.ID)
		}
		if err := tx.unchangedSince(ctx, "webhooks", w.ID, since, webhook.ErrNotFound); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE webhooks SET name=?, url=?, events=?, active=?, allow_private=?, updated_at=? WHERE id=?`,
			w.Name, w.URL, evs, w.Active, w.AllowPrivate, w.UpdatedAt, w.ID)
		if err != nil {
			return fmt.Errorf("updating webhook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return webhook.ErrNotFound
		}
		return nil
	}), "another webhook has this name")
}

// named turns a unique-name violation into a conflict naming the field.
func named(err error, detail string) error {
	if isUnique(err) {
		return conflict("name", detail)
	}
	return err
}

// DeleteWebhook removes a webhook and its delivery log.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM webhooks WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return webhook.ErrNotFound
	}
	return nil
}

// InsertDelivery logs one delivery attempt.
func (s *Store) InsertDelivery(ctx context.Context, d *webhook.Delivery) error {
	d.CreatedAt = utc(d.CreatedAt)
	return s.w.QueryRowxContext(ctx, s.q(`INSERT INTO webhook_deliveries (webhook_id, event, ticket_id, attempt, status_code, ok, duration_ms, error, created_at)
VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`), d.WebhookID, d.Event, d.TicketID, d.Attempt, d.StatusCode, d.OK, d.DurationMS, d.Error, d.CreatedAt).Scan(&d.ID)
}

// Deliveries lists a webhook's latest delivery attempts, newest first.
func (s *Store) Deliveries(ctx context.Context, webhookID int64, limit int) ([]webhook.Delivery, error) {
	var out []webhook.Delivery
	if err := s.sel(ctx, &out, `SELECT id, webhook_id, event, ticket_id, attempt, status_code, ok, duration_ms, error, created_at
FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhookID, limit); err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	return out, nil
}

// TicketsToHandBack lists the new and open tickets assigned to an agent in
// teams that give an away agent's tickets back (reassign_away, with an
// assignment mode), oldest first, at most limit.
func (s *Store) TicketsToHandBack(ctx context.Context, agentID int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.r.SelectContext(ctx, &ids, s.q(`SELECT t.id FROM tickets t JOIN teams tm ON tm.id = t.team_id
WHERE t.assignee_id = ? AND t.status IN ('new','open') AND tm.reassign_away = TRUE AND tm.assign_mode <> 'manual'
ORDER BY t.created_at, t.id LIMIT ?`), agentID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing an away agent's tickets: %w", err)
	}
	return ids, nil
}

// WaitingForAgent lists the unassigned new and open tickets of the teams
// an agent belongs to that assign by themselves, oldest first, at most
// limit: what an agent coming online may take.
func (s *Store) WaitingForAgent(ctx context.Context, agentID int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.r.SelectContext(ctx, &ids, s.q(`SELECT t.id FROM tickets t JOIN teams tm ON tm.id = t.team_id
JOIN team_members m ON m.team_id = t.team_id AND m.agent_id = ?
WHERE t.assignee_id IS NULL AND t.status IN ('new','open') AND tm.assign_mode <> 'manual'
ORDER BY t.created_at, t.id LIMIT ?`), agentID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing tickets waiting for an agent: %w", err)
	}
	return ids, nil
}
