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
	borough := fs.String("borough", "", "the borough (local authority district code) whose own settings to show or change; default: England's, which every borough inherits")
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd settings [KEY [JSON-OBJECT]] [--borough CODE] [flags]",
		about: `With no arguments, shows every borough setting; with KEY, that one. With KEY and a JSON object,
merges the object into the setting (members of nested objects merge, so changing shares.chaotic
keeps shares.just_coping; null removes a member), checks the whole result, stores it and
recomputes the estimates, profiles and access measures in one transaction. A refused change
names the member by its full path and changes nothing. The settings: demand_model (shares,
steepness, weights of the demand estimates), disclosure (min_count, rounding,
min_neighbourhood_population), access (distance_m) and priority (weights of the outreach score);
docs/methodology.md explains each. Settings are England's defaults, which every borough inherits;
--borough CODE shows the settings in force there, and changes only that borough's own values
(and recomputes only that borough).`,
		examples: []string{
			"nbhd settings",
			"nbhd settings access '{\"distance_m\": 1200}'",
			"nbhd settings demand_model '{\"shares\": {\"chaotic\": 0.04}}'",
			"nbhd settings --borough E08000010 access '{\"distance_m\": 1000}'",
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
		list, err := db.Settings(ctx, *borough, append(pos, "")[0])
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
	err = db.ChangeSetting(ctx, *borough, pos[0], []byte(pos[1]), *wait)
	var invalid *data.InvalidSettingError
	if errors.As(err, &invalid) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	where := "England's default (every borough without its own value)"
	if *borough != "" {
		where = *borough
	}
	fmt.Fprintf(stdout, "updated %s for %s and recomputed estimates and profiles\n", pos[0], where)
	return nil
}
