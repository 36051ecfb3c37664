package routing

import (
	"slices"
	"strings"

	"github.com/sportello/sportello/internal/fault"
)

// Assignment modes of a team.
const (
	Manual      = "manual"
	RoundRobin  = "round_robin"
	LeastLoaded = "least_loaded"
)

// Modes lists the assignment modes.
var Modes = []string{Manual, RoundRobin, LeastLoaded}

// CheckMode validates a team's assignment settings.
func CheckMode(mode string, limit int) error {
	var ch fault.Checker
	ch.Check(slices.Contains(Modes, mode), "assign_mode", "enum", "must be one of "+strings.Join(Modes, ", "))
	ch.Check(limit >= 0 && limit <= 1000, "assign_cap", "range", "must be 0 (no cap) to 1000")
	return ch.Err()
}

// Candidate is one member of a team, as the assignment sees them.
type Candidate struct {
	AgentID int64
	Online  bool
	// Open counts the agent's tickets that are new or open (the ones
	// waiting on them; pending ones wait on the customer).
	Open int
	// LastAssigned is when the team last gave them a ticket (Unix
	// nanoseconds; 0 never): round-robin's turn.
	LastAssigned int64
	Languages    []string
	Topics       []string
}

// Need is what the ticket asks of its agent.
type Need struct {
	Language string
	Tags     []string
}

// Speaks reports whether c speaks lang.
func (c Candidate) Speaks(lang string) bool { return slices.Contains(c.Languages, lang) }

// Pick chooses who takes a ticket, or ok false when nobody may now (no
// one online, everyone at the cap): the ticket then waits in the team's
// queue. Only online agents under the cap are picked. When some member of
// the team speaks the ticket's language, only speakers are picked; when
// some eligible agent knows a topic among the ticket's tags, they are
// preferred. Round-robin gives the ticket to the eligible agent assigned
// longest ago; least-loaded to the one with the fewest open tickets (then
// by turn). Ties go to the lower id, so a decision is reproducible.
func Pick(mode string, limit int, need Need, cands []Candidate) (int64, bool) {
	if mode != RoundRobin && mode != LeastLoaded {
		return 0, false
	}
	pool := cands
	if need.Language != "" && slices.ContainsFunc(cands, func(c Candidate) bool { return c.Speaks(need.Language) }) {
		pool = slices.DeleteFunc(slices.Clone(cands), func(c Candidate) bool { return !c.Speaks(need.Language) })
	}
	var ok []Candidate
	for _, c := range pool {
		if c.Online && (limit == 0 || c.Open < limit) {
			ok = append(ok, c)
		}
	}
	if len(ok) == 0 {
		return 0, false
	}
	if len(need.Tags) > 0 {
		skilled := slices.DeleteFunc(slices.Clone(ok), func(c Candidate) bool {
			return !slices.ContainsFunc(c.Topics, func(t string) bool { return slices.Contains(need.Tags, t) })
		})
		if len(skilled) > 0 {
			ok = skilled
		}
	}
	best := ok[0]
	for _, c := range ok[1:] {
		if better(mode, c, best) {
			best = c
		}
	}
	return best.AgentID, true
}

func better(mode string, a, b Candidate) bool {
	if mode == LeastLoaded && a.Open != b.Open {
		return a.Open < b.Open
	}
	if a.LastAssigned != b.LastAssigned {
		return a.LastAssigned < b.LastAssigned
	}
	return a.AgentID < b.AgentID
}
