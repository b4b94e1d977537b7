package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/ingest"
)

// cmdSettings shows settings, or merges a JSON object into one and
// recomputes everything derived from it in the same transaction.
func cmdSettings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("settings", stderr)
	url := databaseFlag(fs)
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	conn, err := connect(ctx, *url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	switch len(pos) {
	case 0, 1:
		rows, err := conn.Query(ctx, "SELECT key, jsonb_pretty(value) FROM nbhd.settings WHERE $1 = '' OR key = $1 ORDER BY key", append(pos, "")[0])
		if err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s = %s\n", k, v)
			n++
		}
		if n == 0 && len(pos) == 1 {
			return usageError{fmt.Sprintf("no setting %q", pos[0])}
		}
		return rows.Err()
	case 2:
		var patch map[string]any
		if err := json.Unmarshal([]byte(pos[1]), &patch); err != nil {
			return usageError{fmt.Sprintf("value must be a JSON object of top-level members to replace, e.g. '{\"shares\":{\"chaotic\":0.04,\"just_coping\":0.2}}': %v", err)}
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var merged []byte
			err := tx.QueryRow(ctx, "UPDATE nbhd.settings SET value = value || $2::jsonb WHERE key = $1 RETURNING value", pos[0], pos[1]).Scan(&merged)
			if errors.Is(err, pgx.ErrNoRows) {
				return usageError{fmt.Sprintf("no setting %q", pos[0])}
			}
			if err != nil {
				return fmt.Errorf("update setting: %w", err)
			}
			if err := data.ValidateSetting(pos[0], merged); err != nil {
				return usageError{err.Error()}
			}
			// Refresh also bumps the data version, so caches follow.
			if err := ingest.Refresh(ctx, tx); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "updated %s and recomputed estimates and profiles\n", pos[0])
			return nil
		})
	}
	return usageError{"usage: nbhd settings [KEY [JSON-OBJECT]]"}
}
