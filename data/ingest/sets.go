package ingest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A neighbourhood set is written the same way whichever kind brings it:
// boundaries (polygons, --level msoa|ward|custom) or neighbourhoods (a list
// of small areas). Both name it with --set and title it with --set-title.

// setIdent names a set's dataset: kind neighbourhood_set, key the set id.
func setIdent(j Job) (string, string, error) {
	set := j.Options.text(optSet)
	if !setIDRe.MatchString(set) {
		return "", "", fmt.Errorf("--set must name the neighbourhood set in lower case letters, digits, - or _ (e.g. ward), got %q", set)
	}
	return "neighbourhood_set", set, nil
}

// writeSet replaces the job's neighbourhood set with the neighbourhoods
// that hoodsSQL selects (columns code, name, geom, where $1 is the set id),
// records its title (default: its id), description and dataset, and returns
// how many neighbourhoods it has. The caller writes the membership of small
// areas; the old members go with the old neighbourhoods.
func writeSet(ctx context.Context, tx pgx.Tx, job Job, ds int64, hoodsSQL string) (int, error) {
	set := job.Options.text(optSet)
	title := job.Options.text(optSetTitle)
	if title == "" {
		title = set
	}
	if _, err := tx.Exec(ctx, `INSERT INTO nbhd.neighbourhood_sets (id, title, description) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description`,
		set, title, job.Dataset.Title); err != nil {
		return 0, fmt.Errorf("write neighbourhood set: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM nbhd.neighbourhoods WHERE set_id = $1", set); err != nil {
		return 0, fmt.Errorf("clear neighbourhoods: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.neighbourhoods (set_id, code, name, geom, dataset_id)
		SELECT $1, h.code, h.name, h.geom, $2 FROM (`+hoodsSQL+`) h`, set, ds)
	if err != nil {
		return 0, fmt.Errorf("write neighbourhoods: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
