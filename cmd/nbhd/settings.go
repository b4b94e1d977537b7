package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"nbhd/data"
)

// cmdSettings shows settings, or merges a JSON object into one and
// recomputes everything derived from it in the same transaction.
func cmdSettings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("settings", stderr)
	url := databaseFlag(fs)
	wait := waitFlag(fs, stderr)
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 2 {
		return usageError{"usage: nbhd settings [KEY [JSON-OBJECT]]"}
	}
	db, err := connect(ctx, *url, "settings")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if len(pos) < 2 {
		list, err := db.Settings(ctx, append(pos, "")[0])
		if errors.Is(err, data.ErrNoSetting) {
			return usageError{err.Error()}
		}
		if err != nil {
			return err
		}
		for _, s := range list {
			fmt.Fprintf(stdout, "%s = %s\n", s.Key, s.Value)
		}
		return nil
	}
	err = db.ChangeSetting(ctx, pos[0], []byte(pos[1]), *wait)
	var invalid *data.InvalidSettingError
	if errors.As(err, &invalid) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "updated %s and recomputed estimates and profiles\n", pos[0])
	return nil
}
