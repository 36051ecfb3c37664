// Package csat is customer satisfaction (DOMAIN §4, §8): a rating from 1
// to 5 with an optional comment, one per resolution of a ticket, given by
// its requester through a signed link. CSAT is the share of ratings of 4
// or 5 among all ratings, always said with the response rate (ratings /
// surveys sent) and the number of ratings.
package csat

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/fault"
)

// Rating is one customer's rating of one resolution.
type Rating struct {
	ID          int64     `db:"id"`
	TicketID    int64     `db:"ticket_id"`
	Resolution  int64     `db:"resolution"`
	ContactID   int64     `db:"contact_id"`
	AgentID     *int64    `db:"agent_id"`
	TeamID      *int64    `db:"team_id"`
	Rating      int       `db:"rating"`
	Comment     string    `db:"comment"`
	CreatedAt   time.Time `db:"created_at"`
	ContactName string    `db:"contact_name"`
	Subject     string    `db:"subject"`
}

// MaxComment bounds a rating's comment.
const MaxComment = 2000

// Validate checks the score and the comment.
func (r *Rating) Validate() error {
	var c fault.Checker
	c.Check(r.Rating >= 1 && r.Rating <= 5, "rating", "range", "a score from 1 to 5")
	r.Comment = strings.TrimSpace(r.Comment)
	c.Check(utf8.RuneCountInString(r.Comment) <= MaxComment, "comment", "max_length", "at most 2000 characters")
	return c.Err()
}

// Filter selects ratings.
type Filter struct {
	TicketID, ContactID, TeamID, AgentID *int64
	// InTeams keeps the ratings of tickets of these teams (a lead's
	// report); nil: no such limit.
	InTeams  []int64
	From, To *time.Time
	Limit    int
}

// Summary is the satisfaction of a set of ratings.
type Summary struct {
	Ratings int    // n
	Surveys int    // surveys sent
	ByScore [6]int // index 1..5
}

// Percent is CSAT: ratings of 4 or 5 out of all ratings, in percent; ok
// is false without ratings.
func (s Summary) Percent() (float64, bool) {
	if s.Ratings == 0 {
		return 0, false
	}
	return 100 * float64(s.ByScore[4]+s.ByScore[5]) / float64(s.Ratings), true
}

// ResponseRate is ratings / surveys sent, in percent; ok is false before
// any survey.
func (s Summary) ResponseRate() (float64, bool) {
	if s.Surveys == 0 {
		return 0, false
	}
	return 100 * float64(s.Ratings) / float64(s.Surveys), true
}

// SettingsKey is the desk setting holding the survey's Settings.
const SettingsKey = "csat"

// Settings of the survey: how long after solving it is sent.
type Settings struct {
	DelayHours int `json:"delay_hours"`
}

// DefaultSettings: a day after solving.
func DefaultSettings() Settings { return Settings{DelayHours: 24} }

// Validate checks the delay (0 to 14 days: the link expires after 14).
func (s Settings) Validate() error {
	var c fault.Checker
	c.Check(s.DelayHours >= 0 && s.DelayHours <= 14*24, "delay_hours", "range", "from 0 to 336 hours")
	return c.Err()
}
