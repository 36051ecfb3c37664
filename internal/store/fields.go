package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/ticket"
)

// Tags lists tags by name with their ticket counts.
func (s *Store) Tags(ctx context.Context, limit, offset int) ([]ticket.Tag, error) {
	var out []ticket.Tag
	err := sqlx.SelectContext(ctx, s.r, &out, s.q(`SELECT g.id, g.name, (SELECT COUNT(*) FROM ticket_tags tt WHERE tt.tag_id = g.id) AS tickets
FROM tags g ORDER BY g.name LIMIT ? OFFSET ?`), limit, offset)
	if err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	return out, nil
}

// CreateTag adds a tag (existing names conflict).
func (s *Store) CreateTag(ctx context.Context, name string) (*ticket.Tag, error) {
	t := &ticket.Tag{Name: name}
	err := s.w.QueryRowxContext(ctx, s.q(`INSERT INTO tags (name) VALUES (?) RETURNING id`), name).Scan(&t.ID)
	if isUnique(err) {
		return nil, conflict("name", "this tag exists")
	}
	return t, err
}

// DeleteTag removes a tag from every ticket and from the list.
func (s *Store) DeleteTag(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM tags WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting tag: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ticket.ErrTagNotFound
	}
	return nil
}

const fieldCols = `id, key, label, type, options, required, active, customer_visible, position, created_at, updated_at`

// FieldDefs lists custom field definitions in display order.
func (s *Store) FieldDefs(ctx context.Context) ([]ticket.FieldDef, error) {
	return s.fieldDefs(ctx, s.r)
}

func (s *Store) fieldDefs(ctx context.Context, db sqlx.QueryerContext) ([]ticket.FieldDef, error) {
	var out []ticket.FieldDef
	if err := sqlx.SelectContext(ctx, db, &out, `SELECT `+fieldCols+` FROM field_defs ORDER BY position, id`); err != nil {
		return nil, fmt.Errorf("listing custom fields: %w", err)
	}
	return out, nil
}

// FieldDef reads one custom field definition.
func (s *Store) FieldDef(ctx context.Context, id int64) (*ticket.FieldDef, error) {
	var d ticket.FieldDef
	if err := sqlx.GetContext(ctx, s.r, &d, s.q(`SELECT `+fieldCols+` FROM field_defs WHERE id = ?`), id); err != nil {
		return nil, notFound(err, ticket.ErrFieldNotFound)
	}
	return &d, nil
}

// CreateFieldDef stores a custom field definition.
func (s *Store) CreateFieldDef(ctx context.Context, d *ticket.FieldDef) error {
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	err := s.w.QueryRowxContext(ctx, s.q(`INSERT INTO field_defs (key, label, type, options, required, active, customer_visible, position, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`), d.Key, d.Label, d.Type, d.Options, d.Required, d.Active, d.CustomerVisible, d.Position, d.CreatedAt, d.UpdatedAt).Scan(&d.ID)
	if isUnique(err) {
		return conflict("key", "another custom field has this key")
	}
	return err
}

// UpdateFieldDef writes a custom field definition (the key never changes:
// ticket values refer to it).
func (s *Store) UpdateFieldDef(ctx context.Context, d *ticket.FieldDef) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE field_defs SET label=?, options=?, required=?, active=?, customer_visible=?, position=?, updated_at=? WHERE id=?`),
		d.Label, d.Options, d.Required, d.Active, d.CustomerVisible, d.Position, utc(d.UpdatedAt), d.ID)
	if err != nil {
		return fmt.Errorf("updating custom field: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ticket.ErrFieldNotFound
	}
	return nil
}
