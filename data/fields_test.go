package data_test

import (
	"context"
	"testing"

	"nbhd/data"
)

// TestIntegerFieldSizesMatchTheirColumns reads every integer field's view
// column type from the database: the catalogue's Bits must match it, or a
// filter value the column cannot hold would reach PostgreSQL (a 500)
// instead of being refused with a 400.
func TestIntegerFieldSizesMatchTheirColumns(t *testing.T) {
	cat, conn := sampleCatalogue(t)
	ctx := context.Background()
	sizes := map[string]int{"smallint": 16, "integer": 32, "bigint": 64}
	checked := 0
	for _, l := range cat.Layers {
		for _, f := range l.Fields {
			if f.Type != data.Integer {
				continue
			}
			var typ string
			if err := conn.QueryRow(ctx, `SELECT data_type FROM information_schema.columns
				WHERE table_schema = $1 AND table_name = $2 AND column_name = $3`, l.View[0], l.View[1], f.Name).Scan(&typ); err != nil {
				t.Fatalf("%s.%s: %v", l.ID, f.Name, err)
			}
			want, ok := sizes[typ]
			if !ok {
				t.Errorf("%s.%s is an Integer field on a %s column", l.ID, f.Name, typ)
				continue
			}
			got := f.Bits
			if got == 0 {
				got = 64
			}
			if got != want {
				t.Errorf("%s.%s: Bits %d, but the column is %s (%d bits)", l.ID, f.Name, f.Bits, typ, want)
			}
			checked++
		}
	}
	if checked < 15 {
		t.Errorf("only %d integer fields checked", checked)
	}
}
