// Package fault names the kinds of failure every Sportello layer agrees on.
//
// Domain packages wrap these sentinels in their own errors (ticket.ErrNotFound
// wraps NotFound); the HTTP layer maps the kind to a status without importing
// any domain package. Validation failures carry the offending fields and the
// rule each one broke, so callers can show the error next to the field.
package fault

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel kinds. Wrap them with %w; test with errors.Is.
var (
	NotFound     = errors.New("not found")
	Invalid      = errors.New("invalid input")
	Conflict     = errors.New("conflict")
	Forbidden    = errors.New("forbidden")
	Unauthorized = errors.New("unauthorized")
	TooMany      = errors.New("too many attempts")
	// Stale means the caller's copy is older than the stored one (an
	// If-Match that no longer matches).
	Stale = errors.New("precondition failed")
)

// Problem is one field that broke one rule.
type Problem struct {
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// ValidationError lists every problem found in one input. It matches Invalid
// under errors.Is.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("%s: %s", p.Field, p.Detail)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, Invalid) true for validation errors.
func (e *ValidationError) Is(target error) bool { return target == Invalid }

// Checker collects problems while validating an input.
type Checker struct {
	problems []Problem
}

// Add records that field broke rule.
func (c *Checker) Add(field, rule, detail string) {
	c.problems = append(c.problems, Problem{Field: field, Rule: rule, Detail: detail})
}

// Check records a problem when ok is false.
func (c *Checker) Check(ok bool, field, rule, detail string) {
	if !ok {
		c.Add(field, rule, detail)
	}
}

// OK reports whether no problem was recorded.
func (c *Checker) OK() bool { return len(c.problems) == 0 }

// Err returns the collected problems as a *ValidationError, or nil.
func (c *Checker) Err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

// Field returns a validation error for a single field.
func Field(field, rule, detail string) error {
	return &ValidationError{Problems: []Problem{{Field: field, Rule: rule, Detail: detail}}}
}
