package data

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Dataset is one loaded import, as `nbhd datasets` lists it.
type Dataset struct {
	ID         int64
	Kind, Key  string
	Rows       int
	ImportedAt time.Time
	ImportedBy string
	Vintage    string
	Licence    string
	Title      string
}

// Datasets lists the loaded datasets in the order they were imported.
func (a *Admin) Datasets(ctx context.Context) ([]Dataset, error) {
	rows, err := a.conn.Query(ctx, `SELECT id, kind, key, rows, imported_at, imported_by, vintage, licence, title
		FROM nbhd.datasets ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Dataset, error) {
		var d Dataset
		err := r.Scan(&d.ID, &d.Kind, &d.Key, &d.Rows, &d.ImportedAt, &d.ImportedBy, &d.Vintage, &d.Licence, &d.Title)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("read datasets: %w", err)
	}
	return out, nil
}

// HasData reports whether any dataset is loaded.
func (a *Admin) HasData(ctx context.Context) (bool, error) {
	var has bool
	if err := a.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.datasets)").Scan(&has); err != nil {
		return false, fmt.Errorf("count datasets: %w", err)
	}
	return has, nil
}

// ErrNoDataset reports a dataset id that is not loaded.
var ErrNoDataset = errors.New("no such dataset")

// DropDataset removes one dataset in one transaction: its rows in every
// table go with it (ON DELETE CASCADE), derived rows follow by trigger
// (combined deprivation), derived statistics are recomputed, and the data
// version bumps so servers drop cached tiles and profiles.
func (a *Admin) DropDataset(ctx context.Context, id int64, w LockWait) (Dataset, error) {
	d := Dataset{ID: id}
	err := pgx.BeginFunc(ctx, a.conn, func(tx pgx.Tx) error {
		if err := LockData(ctx, tx, fmt.Sprintf("drop of dataset %d", id), w); err != nil {
			return err
		}
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

// Refresh recomputes the demand estimates and every derived statistic
// (profiles, access, disclosure-controlled demand) from the loaded data and
// bumps the data version, in tx.
func Refresh(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "SELECT logic.refresh()"); err != nil {
		return fmt.Errorf("refresh derived statistics: %w", err)
	}
	return nil
}
