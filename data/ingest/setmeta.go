package ingest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// recordSet records a neighbourhood set's level (ward, msoa or custom) and
// the year of its geography ("" when unknown), so wards of 2024 and 2025
// can be told apart and loaded side by side under their own set ids.
func recordSet(ctx context.Context, tx pgx.Tx, set, level string, vintage int) error {
	v := ""
	if vintage != 0 {
		v = strconv.Itoa(vintage)
	}
	if level != "ward" && level != "msoa" {
		level = "custom"
	}
	if _, err := tx.Exec(ctx, `UPDATE nbhd.neighbourhood_sets SET level = $2, vintage = $3 WHERE id = $1`, set, level, v); err != nil {
		return fmt.Errorf("record set level and year: %w", err)
	}
	return nil
}
