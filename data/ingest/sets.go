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

// writeSet writes the neighbourhoods that hoodsSQL selects (columns code,
// name, geom, where $1 is the set id) into the job's set, records the set's
// title (default: its id) and description, and returns how many it wrote.
// A neighbourhood already in the set (an earlier import of the same
// borough) is taken over, and loses its members: the caller writes the
// membership of small areas. Neighbourhoods of other boroughs in the same
// set stay; those of this borough that the new file lacks go when the
// import finishes (logic.replace_earlier).
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
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.neighbourhoods (set_id, code, name, geom, dataset_id)
		SELECT $1, h.code, h.name, h.geom, $2 FROM (`+hoodsSQL+`) h
		ON CONFLICT (set_id, code) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom, dataset_id = EXCLUDED.dataset_id`, set, ds)
	if err != nil {
		return 0, fmt.Errorf("write neighbourhoods: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM nbhd.neighbourhood_members m USING nbhd.neighbourhoods n "+
		"WHERE n.set_id = $1 AND n.dataset_id = $2 AND m.set_id = n.set_id AND m.neighbourhood_code = n.code", set, ds); err != nil {
		return 0, fmt.Errorf("clear members: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
