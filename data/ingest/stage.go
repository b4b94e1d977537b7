package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
)

// Rows are streamed from a parser into a temporary staging table with COPY,
// checked there in SQL (duplicates, unknown codes) and then moved into place.

// copySource adapts a row-producing function to pgx.CopyFromSource. next
// returns io.EOF after the last row.
type copySource struct {
	next func() ([]any, error)
	row  []any
	err  error
}

func (c *copySource) Next() bool {
	c.row, c.err = c.next()
	if errors.Is(c.err, io.EOF) {
		c.err = nil
		return false
	}
	return c.err == nil
}

func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.err }

// stage creates a temporary table dropped at commit and copies rows into it.
func stage(ctx context.Context, tx pgx.Tx, table, columns string, names []string, next func() ([]any, error)) error {
	// An earlier import in the same transaction (load-sample) may have
	// left a staging table of the same name.
	if _, err := tx.Exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS pg_temp.%[1]s; CREATE TEMP TABLE %[1]s (%[2]s) ON COMMIT DROP",
		pgx.Identifier{table}.Sanitize(), columns)); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	src := &copySource{next: next}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, src)
	if err != nil {
		// pgx aborts the COPY with the source's error as text; return the
		// source's own error so callers can tell bad input from failure.
		if src.err != nil {
			return src.err
		}
		return fmt.Errorf("copy rows: %w", err)
	}
	return nil
}

// firstBad runs a query returning (row number, message) of the first staged
// row that fails a check, and turns it into an InputError.
func firstBad(ctx context.Context, tx pgx.Tx, loc at, field, sql string, args ...any) error {
	var n int
	var msg string
	err := tx.QueryRow(ctx, sql, args...).Scan(&n, &msg)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", field, err)
	}
	return loc.err(n, field, "%s", msg)
}
