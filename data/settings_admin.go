package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Setting is one stored setting, its value as indented JSON.
type Setting struct {
	Key, Value string
}

// ErrNoSetting reports a setting key that does not exist.
var ErrNoSetting = errors.New("no such setting")

// InvalidSettingError is a settings change that was refused: bad JSON, or
// a value that ValidateSetting rejects.
type InvalidSettingError struct{ Err error }

func (e *InvalidSettingError) Error() string { return e.Err.Error() }
func (e *InvalidSettingError) Unwrap() error { return e.Err }

// Settings returns every setting, or the one named key ("" for all).
func (a *Admin) Settings(ctx context.Context, key string) ([]Setting, error) {
	rows, err := a.conn.Query(ctx, "SELECT key, jsonb_pretty(value) FROM nbhd.settings WHERE $1 = '' OR key = $1 ORDER BY key", key)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Setting])
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if key != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w %q", ErrNoSetting, key)
	}
	return out, nil
}

// ChangeSetting merges patch, a JSON object, into setting key (MergePatch:
// nested members merge, null removes), validates the whole result, stores it
// and recomputes everything derived from the settings, in one transaction.
// A refused change is an *InvalidSettingError and changes nothing.
func (a *Admin) ChangeSetting(ctx context.Context, key string, patch []byte, w LockWait) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(patch, &obj); err != nil || obj == nil {
		msg := "not a JSON object"
		if err != nil {
			msg = err.Error()
		}
		return &InvalidSettingError{fmt.Errorf(`%s: the value must be a JSON object of the members to change, e.g. '{"shares": {"chaotic": 0.04}}': %s`, key, msg)}
	}
	return pgx.BeginFunc(ctx, a.conn, func(tx pgx.Tx) error {
		if err := LockData(ctx, tx, "change of setting "+key, w); err != nil {
			return err
		}
		var stored []byte
		err := tx.QueryRow(ctx, "SELECT value FROM nbhd.settings WHERE key = $1 FOR UPDATE", key).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return &InvalidSettingError{fmt.Errorf("%w %q (settings are %s)", ErrNoSetting, key, strings.Join(SettingKeys(), ", "))}
		}
		if err != nil {
			return fmt.Errorf("read setting %s: %w", key, err)
		}
		merged, err := MergePatch(stored, patch)
		if err != nil {
			return fmt.Errorf("merge setting %s: %w", key, err)
		}
		if err := ValidateSetting(key, merged); err != nil {
			return &InvalidSettingError{err}
		}
		if _, err := tx.Exec(ctx, "UPDATE nbhd.settings SET value = $2::jsonb WHERE key = $1", key, merged); err != nil {
			return fmt.Errorf("update setting %s: %w", key, err)
		}
		// Refresh also bumps the data version, so caches follow.
		return Refresh(ctx, tx)
	})
}
