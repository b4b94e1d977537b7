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
	fs := flags("settings")
	url := databaseFlag(fs)
	wait := waitFlag(fs, stderr)
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd settings [KEY [JSON-OBJECT]] [flags]",
		about: `With no arguments, shows every borough setting; with KEY, that one. With KEY and a JSON object,
merges the object into the setting (members of nested objects merge, so changing shares.chaotic
keeps shares.just_coping; null removes a member), checks the whole result, stores it and
recomputes the estimates, profiles and access measures in one transaction. A refused change
names the member by its full path and changes nothing. The settings: demand_model (shares,
steepness, weights of the demand estimates), disclosure (min_count, rounding,
min_neighbourhood_population), access (distance_m) and priority (weights of the outreach score);
docs/methodology.md explains each.`,
		examples: []string{
			"nbhd settings",
			"nbhd settings access '{\"distance_m\": 1200}'",
			"nbhd settings demand_model '{\"shares\": {\"chaotic\": 0.04}}'",
		},
	})
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
