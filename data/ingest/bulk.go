package ingest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// deferredIndexes are spatial indexes dropped for a bulk load into an empty
// table and built again, whole, before anything reads them: inserting 1.7
// million postcodes one by one into three GiST indexes cost most of
// England's Code-Point load, where a build from scratch sorts them once.
type deferredIndexes []string

// postcodeKinds are the import kinds that fill nbhd.postcodes.
var postcodeKinds = map[string]bool{"postcodes": true, "codepoint": true, "onspd": true}

// deferPostcodeIndexes drops the GiST indexes of nbhd.postcodes when it is
// empty, remembering their definitions (pg_indexes.indexdef) to build them
// again; nothing is dropped from a table that holds rows.
func deferPostcodeIndexes(ctx context.Context, tx pgx.Tx) (deferredIndexes, error) {
	var empty bool
	if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM nbhd.postcodes)").Scan(&empty); err != nil {
		return nil, fmt.Errorf("check nbhd.postcodes: %w", err)
	}
	if !empty {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT format('%I.%I', schemaname, indexname), indexdef FROM pg_indexes
		WHERE schemaname = 'nbhd' AND tablename = 'postcodes' AND indexdef LIKE '% USING gist %' ORDER BY indexname`)
	if err != nil {
		return nil, fmt.Errorf("read indexes of nbhd.postcodes: %w", err)
	}
	type index struct{ Name, Def string }
	indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return nil, fmt.Errorf("read indexes of nbhd.postcodes: %w", err)
	}
	var out deferredIndexes
	for _, ix := range indexes {
		// the name is quoted by format('%I.%I') from the catalogue, not input
		if _, err := tx.Exec(ctx, "DROP INDEX "+ix.Name); err != nil {
			return nil, fmt.Errorf("drop index %s for the load: %w", ix.Name, err)
		}
		out = append(out, ix.Def)
	}
	return out, nil
}

// restore builds the dropped indexes again from their definitions.
func (d deferredIndexes) restore(ctx context.Context, tx pgx.Tx) error {
	for _, def := range d {
		if _, err := tx.Exec(ctx, def); err != nil {
			return fmt.Errorf("build index again after the load (%s): %w", def, err)
		}
	}
	return nil
}
