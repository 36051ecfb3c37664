package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Setting reads the desk setting key into dest (JSON); a setting never
// saved leaves dest as it was (its defaults) and reports false.
func (s *Store) Setting(ctx context.Context, key string, dest any) (bool, error) {
	var raw []string
	if err := s.sel(ctx, &raw, `SELECT value FROM desk_settings WHERE key = ?`, key); err != nil {
		return false, fmt.Errorf("reading setting %s: %w", key, err)
	}
	if len(raw) == 0 {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw[0]), dest); err != nil {
		return false, fmt.Errorf("reading setting %s: %w", key, err)
	}
	return true, nil
}

// SetSetting saves the desk setting key as value's JSON.
func (s *Store) SetSetting(ctx context.Context, key string, value any, now time.Time) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO desk_settings (key, value, updated_at) VALUES (?,?,?)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`), key, string(b), utc(now))
	if err != nil {
		return fmt.Errorf("saving setting %s: %w", key, err)
	}
	return nil
}

// Setting reads a desk setting inside the transaction (as Store.Setting).
func (tx *Tx) Setting(ctx context.Context, key string, dest any) (bool, error) {
	var raw []string
	if err := tx.sel(ctx, &raw, `SELECT value FROM desk_settings WHERE key = ?`, key); err != nil {
		return false, fmt.Errorf("reading setting %s: %w", key, err)
	}
	if len(raw) == 0 {
		return false, nil
	}
	return true, json.Unmarshal([]byte(raw[0]), dest)
}
