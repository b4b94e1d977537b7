package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrNoDataset reports a dataset id that is not loaded.
var ErrNoDataset = errors.New("no such dataset")

// Dropped describes a removed dataset.
type Dropped struct {
	ID        int64
	Kind, Key string
	Title     string
	Rows      int
}

// Drop removes one dataset in one transaction: its rows in every table go
// with it (ON DELETE CASCADE), derived rows follow by trigger (combined
// deprivation), derived statistics are recomputed, and the data version
// bumps so servers drop cached tiles and profiles.
func Drop(ctx context.Context, db Beginner, id int64) (Dropped, error) {
	d := Dropped{ID: id}
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "DELETE FROM nbhd.datasets WHERE id = $1 RETURNING kind, key, title, rows", id).
			Scan(&d.Kind, &d.Key, &d.Title, &d.Rows)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("dataset %d: %w (nbhd datasets lists them)", id, ErrNoDataset)
		}
		if err != nil {
			return fmt.Errorf("drop dataset %d: %w", id, err)
		}
		// Estimates, profiles and access measures are derived from what
		// is loaded: recompute them without the dropped rows.
		return Refresh(ctx, tx)
	})
	return d, err
}
