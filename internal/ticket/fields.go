package ticket

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

// ErrFieldNotFound is returned when no custom field definition matches.
var ErrFieldNotFound = fmt.Errorf("custom field %w", fault.NotFound)

// ErrTagNotFound is returned when no tag matches.
var ErrTagNotFound = fmt.Errorf("tag %w", fault.NotFound)

// Tag is a tag with how many tickets carry it.
type Tag struct {
	ID      int64  `db:"id"`
	Name    string `db:"name"`
	Tickets int64  `db:"tickets"`
}

// FieldType is the type of an admin-defined custom field.
type FieldType string

// Custom field types.
const (
	FieldText   FieldType = "text"
	FieldNumber FieldType = "number"
	FieldDate   FieldType = "date"
	FieldSelect FieldType = "select"
)

// StringList is a list of strings stored as JSON text.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	out := []string{}
	if err := scanJSON("string list", src, &out); err != nil {
		return err
	}
	*l = out
	return nil
}

// FieldDef defines a custom field admins add to tickets.
type FieldDef struct {
	ID       int64      `db:"id"`
	Key      string     `db:"key"`
	Label    string     `db:"label"`
	Type     FieldType  `db:"type"`
	Options  StringList `db:"options"`
	Required bool       `db:"required"`
	Active   bool       `db:"active"`
	// CustomerVisible fields are asked on the help centre's contact form.
	CustomerVisible bool      `db:"customer_visible"`
	Position        int       `db:"position"`
	CreatedAt       time.Time `db:"created_at"`
	UpdatedAt       time.Time `db:"updated_at"`
}

var fieldKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Validate checks a field definition.
func (d *FieldDef) Validate() error {
	var c fault.Checker
	d.Label = strings.TrimSpace(d.Label)
	c.Check(fieldKeyRe.MatchString(d.Key), "key", "pattern", "must start with a letter and hold only a-z, 0-9 and _ (max 40)")
	c.Check(d.Label != "" && len(d.Label) <= 100, "label", "required", "must be 1 to 100 characters")
	switch d.Type {
	case FieldText, FieldNumber, FieldDate:
		c.Check(len(d.Options) == 0, "options", "not_allowed", "only select fields have options")
	case FieldSelect:
		c.Check(len(d.Options) > 0, "options", "required", "a select field needs at least one option")
		seen := map[string]bool{}
		for _, o := range d.Options {
			if strings.TrimSpace(o) == "" || seen[o] {
				c.Add("options", "unique", "options must be non-empty and unique")
				break
			}
			seen[o] = true
		}
	default:
		c.Add("type", "enum", "must be one of text, number, date, select")
	}
	if d.Options == nil {
		d.Options = StringList{}
	}
	return c.Err()
}

// checkFieldValue validates one custom field value against its definition
// and returns the normalised value to store.
func checkFieldValue(d FieldDef, v any) (any, error) {
	field := "custom_fields." + d.Key
	if v == nil {
		if d.Required {
			return nil, fault.Field(field, "required", "this field is required")
		}
		return nil, nil
	}
	switch d.Type {
	case FieldText:
		s, ok := v.(string)
		if !ok || len(s) > 2000 {
			return nil, fault.Field(field, "text", "must be text of at most 2000 characters")
		}
		return s, nil
	case FieldNumber:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fault.Field(field, "number", "must be a number")
		}
		return f, nil
	case FieldDate:
		s, ok := v.(string)
		if !ok {
			return nil, fault.Field(field, "date", "must be a date as YYYY-MM-DD")
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fault.Field(field, "date", "must be a date as YYYY-MM-DD")
		}
		return s, nil
	case FieldSelect:
		s, ok := v.(string)
		if ok {
			for _, o := range d.Options {
				if o == s {
					return s, nil
				}
			}
		}
		return nil, fault.Field(field, "enum", "must be one of: "+strings.Join(d.Options, ", "))
	}
	return nil, fault.Field(field, "type", "unknown field type")
}
