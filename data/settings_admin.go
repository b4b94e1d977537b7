package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
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

// Settings returns every setting, or the one named key ("" for all), in
// force for borough ("" for England's defaults): the defaults with the
// borough's own values merged over them.
func (a *Admin) Settings(ctx context.Context, borough, key string) ([]Setting, error) {
	rows, err := a.conn.Query(ctx, `SELECT key, jsonb_pretty(logic.setting(nullif($1, ''), key)) FROM nbhd.settings
		WHERE borough = '' AND ($2 = '' OR key = $2) ORDER BY key`, borough, key)
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

// boroughCodeRe is a local authority district code.
var boroughCodeRe = regexp.MustCompile(`^[EWSN][0-9]{8}$`)

// ChangeSetting merges patch, a JSON object, into setting key for borough
// ("" for England's defaults, which every borough inherits; a borough's
// own value holds only what differs): nested members merge, null removes.
// The value in force afterwards is validated whole, then stored, and
// everything derived from it is recomputed — for that borough only, or
// everywhere for a default — in one transaction. A refused change is an
// *InvalidSettingError and changes nothing.
func (a *Admin) ChangeSetting(ctx context.Context, borough, key string, patch []byte, w LockWait) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(patch, &obj); err != nil || obj == nil {
		msg := "not a JSON object"
		if err != nil {
			msg = err.Error()
		}
		return &InvalidSettingError{fmt.Errorf(`%s: the value must be a JSON object of the members to change, e.g. '{"shares": {"chaotic": 0.04}}': %s`, key, msg)}
	}
	if borough != "" && !boroughCodeRe.MatchString(borough) {
		return &InvalidSettingError{fmt.Errorf("--borough %q is not a local authority district code, such as E08000010", borough)}
	}
	return pgx.BeginFunc(ctx, a.conn, func(tx pgx.Tx) error {
		if err := LockData(ctx, tx, "change of setting "+key, w); err != nil {
			return err
		}
		var stored, own []byte
		err := tx.QueryRow(ctx, `SELECT d.value, o.value FROM nbhd.settings d
			LEFT JOIN nbhd.settings o ON o.key = d.key AND o.borough = $2 AND $2 <> ''
			WHERE d.key = $1 AND d.borough = '' FOR UPDATE OF d`, key, borough).Scan(&stored, &own)
		if errors.Is(err, pgx.ErrNoRows) {
			return &InvalidSettingError{fmt.Errorf("%w %q (settings are %s)", ErrNoSetting, key, strings.Join(SettingKeys(), ", "))}
		}
		if err != nil {
			return fmt.Errorf("read setting %s: %w", key, err)
		}
		if borough == "" {
			own = stored
		} else if own == nil {
			own = []byte("{}")
		}
		newOwn, err := MergePatch(own, patch)
		if err != nil {
			return fmt.Errorf("merge setting %s: %w", key, err)
		}
		inForce := newOwn
		if borough != "" {
			if inForce, err = MergePatch(stored, newOwn); err != nil {
				return fmt.Errorf("merge setting %s: %w", key, err)
			}
		}
		if err := ValidateSetting(key, inForce); err != nil {
			return &InvalidSettingError{err}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO nbhd.settings (borough, key, value) VALUES ($1, $2, $3::jsonb)
			ON CONFLICT (borough, key) DO UPDATE SET value = EXCLUDED.value`, borough, key, newOwn); err != nil {
			return fmt.Errorf("update setting %s: %w", key, err)
		}
		// Refresh also bumps the data version, so caches follow.
		return Refresh(ctx, tx)
	})
}
