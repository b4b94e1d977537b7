package data

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AdminBorough is one loaded borough, as `nbhd boroughs` lists it.
type AdminBorough struct {
	Code, Name        string
	SmallAreas        int
	Population        int
	NeighbourhoodSets []string
	Datasets          int
}

// Boroughs lists the boroughs that have small areas loaded.
func (a *Admin) Boroughs(ctx context.Context) ([]AdminBorough, error) {
	rows, err := a.conn.Query(ctx, `SELECT b.code, b.name, b.small_areas, b.population, b.neighbourhood_sets,
		(SELECT count(*) FROM nbhd.datasets d WHERE b.code = ANY(d.boroughs))::integer
		FROM api.boroughs b ORDER BY b.code`)
	if err != nil {
		return nil, fmt.Errorf("list boroughs: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AdminBorough])
	if err != nil {
		return nil, fmt.Errorf("list boroughs: %w", err)
	}
	return out, nil
}

// ErrNoBorough reports a borough with nothing loaded.
var ErrNoBorough = errors.New("no such borough loaded")

// DropBorough removes a borough's rows, and only those, from every dataset
// in one transaction (logic.drop_borough): a dataset left with no rows
// goes, one that also covers other boroughs keeps theirs. Derived
// statistics are refreshed and the data version bumps. It returns how many
// datasets it touched.
func (a *Admin) DropBorough(ctx context.Context, code string, w LockWait) (int, error) {
	if !boroughCodeRe.MatchString(code) {
		return 0, fmt.Errorf("%q is not a local authority district code, such as E08000010: %w", code, ErrNoBorough)
	}
	var n int
	err := pgx.BeginFunc(ctx, a.conn, func(tx pgx.Tx) error {
		if err := LockData(ctx, tx, "drop of borough "+code, w); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT logic.drop_borough($1)", code).Scan(&n); err != nil {
			return fmt.Errorf("drop borough %s: %w", code, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: %w (nbhd boroughs lists them)", code, ErrNoBorough)
		}
		return Refresh(ctx, tx)
	})
	return n, err
}
