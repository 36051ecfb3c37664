// Package team holds groups of agents that share a queue: their tier
// (L1, L2 …), their skills (languages and topics) and their members.
package team

import (
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

// ErrNotFound is returned when no team matches.
var ErrNotFound = fmt.Errorf("team %w", fault.NotFound)

// Team is a group of agents with a queue.
type Team struct {
	ID        int64    `db:"id"`
	Name      string   `db:"name"`
	Tier      int      `db:"tier"`
	Languages []string `db:"-"`
	Topics    []string `db:"-"`
	MemberIDs []int64  `db:"-"`
	// AssignMode is how new tickets find an agent (manual, round_robin,
	// least_loaded); AssignCap bounds an agent's new and open tickets for
	// it (0: no cap); ReassignAway gives an agent's new and open tickets
	// back to the team when they go away.
	AssignMode   string `db:"assign_mode"`
	AssignCap    int    `db:"assign_cap"`
	ReassignAway bool   `db:"reassign_away"`
	// EscalateToID is the next tier's team; none: the team of the next
	// higher tier.
	EscalateToID *int64    `db:"escalate_to_id"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

// Validate checks a team before it is stored, normalising skills to
// lower-case, trimmed, de-duplicated lists.
func (t *Team) Validate() error {
	var c fault.Checker
	t.Name = strings.TrimSpace(t.Name)
	c.Check(t.Name != "" && len(t.Name) <= 100, "name", "required", "must be 1 to 100 characters")
	c.Check(t.Tier >= 1 && t.Tier <= 9, "tier", "range", "must be between 1 and 9")
	if t.AssignMode == "" {
		t.AssignMode = "manual"
	}
	c.Check(t.AssignMode == "manual" || t.AssignMode == "round_robin" || t.AssignMode == "least_loaded",
		"assign_mode", "enum", "must be one of manual, round_robin, least_loaded")
	c.Check(t.AssignCap >= 0 && t.AssignCap <= 1000, "assign_cap", "range", "must be 0 (no cap) to 1000")
	c.Check(t.EscalateToID == nil || *t.EscalateToID != t.ID, "escalate_to_id", "not_self", "a team cannot escalate to itself")
	t.Languages = cleanList(t.Languages)
	t.Topics = cleanList(t.Topics)
	for _, l := range t.Languages {
		if len(l) < 2 || len(l) > 8 {
			c.Add("languages", "language_code", "each language must be a code such as it or en")
			break
		}
	}
	return c.Err()
}

func cleanList(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
