package ingest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// deferredIndexes are spatial indexes dropped for a bulk load into an empty
// table and built again, whole, before the load's refresh: inserting 1.7
// million postcodes one by one into three GiST indexes cost most of
// England's Code-Point load, where a build from scratch sorts them once.
type deferredIndexes []string

// bulkTables are the tables a national load fills with millions of rows,
// and bulkPostcodes the import kinds that fill them.
var (
	bulkTables    = []string{"nbhd.postcodes"}
	bulkPostcodes = map[string]bool{"postcodes": true, "codepoint": true, "onspd": true}
)

// deferIndexes drops the GiST indexes of the bulk tables that are empty,
// remembering their definitions (pg_indexes.indexdef) to build them again.
// Nothing else in the load reads those indexes before the refresh.
func deferIndexes(ctx context.Context, tx pgx.Tx) (deferredIndexes, error) {
	var out deferredIndexes
	for _, table := range bulkTables {
		var empty bool
		if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM "+table+")").Scan(&empty); err != nil {
			return nil, fmt.Errorf("check %s: %w", table, err)
		}
		if !empty {
			continue
		}
		rows, err := tx.Query(ctx, `SELECT format('%I.%I', schemaname, indexname), indexdef FROM pg_indexes
			WHERE format('%I.%I', schemaname, tablename) = $1 AND indexdef LIKE '% USING gist %' ORDER BY indexname`, table)
		if err != nil {
			return nil, fmt.Errorf("read indexes of %s: %w", table, err)
		}
		var names, defs []string
		var name, def string
		if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
			names, defs = append(names, name), append(defs, def)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("read indexes of %s: %w", table, err)
		}
		for i, n := range names {
			// n is quoted by format('%I.%I') from the catalogue, not input
			if _, err := tx.Exec(ctx, "DROP INDEX "+n); err != nil {
				return nil, fmt.Errorf("drop index %s for the load: %w", n, err)
			}
			out = append(out, defs[i])
		}
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
