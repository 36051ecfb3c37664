package ticket

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
)

// SavedView is a named inbox view: the search page's filters kept as a
// query string, private to its author or shared with one of their teams.
type SavedView struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	AgentID   int64     `db:"agent_id"`
	TeamID    *int64    `db:"team_id"`
	Query     string    `db:"query"`
	CreatedAt time.Time `db:"created_at"`
}

// ErrViewNotFound is returned for a view that does not exist or that the
// agent may not see.
var ErrViewNotFound = fmt.Errorf("view %w", fault.NotFound)

// MaxViewName bounds a view's name.
const MaxViewName = 80

// CheckView validates a new view for its author: a name, and a team only
// among the author's own.
func CheckView(v *SavedView, author *agent.Agent) error {
	var ch fault.Checker
	v.Name = strings.TrimSpace(v.Name)
	switch {
	case v.Name == "":
		ch.Add("name", "required", "a view needs a name")
	case utf8.RuneCountInString(v.Name) > MaxViewName:
		ch.Add("name", "max_length", "at most 80 characters")
	}
	if v.TeamID != nil && !slices.Contains(author.TeamIDs, *v.TeamID) {
		ch.Add("team_id", "member", "views can be shared only with a team you belong to")
	}
	return ch.Err()
}

// CanSeeView reports whether a may use v: its author, or a member of the
// team it is shared with.
func CanSeeView(a *agent.Agent, v *SavedView) bool {
	return v.AgentID == a.ID || (v.TeamID != nil && slices.Contains(a.TeamIDs, *v.TeamID))
}

// CanDeleteView reports whether a may delete v: its author, an admin, or a
// lead of the team it is shared with.
func CanDeleteView(a *agent.Agent, v *SavedView) bool {
	return v.AgentID == a.ID || a.Role == agent.RoleAdmin ||
		(a.Role == agent.RoleLead && v.TeamID != nil && slices.Contains(a.TeamIDs, *v.TeamID))
}
