package data_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// sampleCatalogue is the catalogue of a database with the sample loaded,
// with a connection of the owner's to check it against.
func sampleCatalogue(t *testing.T) (*data.Catalogue, *pgx.Conn) {
	t.Helper()
	url := dbtest.New(t, true)
	cat, err := open(t, url).Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cat, dbtest.Conn(t, url)
}

// TestLayerExtentsAreTheirFeaturesExtents compares every layer's count and
// extents in the catalogue, which layers with Boxes read from the boxes kept
// on publish, with the extents of the features' full geometries.
func TestLayerExtentsAreTheirFeaturesExtents(t *testing.T) {
	cat, conn := sampleCatalogue(t)
	ctx := context.Background()
	boxed := 0
	for _, l := range cat.Layers {
		var hasBoxes bool
		if err := conn.QueryRow(ctx, `SELECT count(*) = 2 FROM information_schema.columns
			WHERE table_schema = $1 AND table_name = $2 AND column_name IN ('bbox', 'bbox_bng')`, l.View[0], l.View[1]).Scan(&hasBoxes); err != nil {
			t.Fatal(err)
		}
		if hasBoxes != l.Boxes {
			t.Errorf("%s: view %s has boxes %v, layer says %v", l.ID, l.View.Sanitize(), hasBoxes, l.Boxes)
		}
		if l.Boxes {
			boxed++
		}
		where, args := "", []any{}
		if l.SetID != "" {
			where, args = "WHERE set_id = $1", []any{l.SetID}
		}
		var n int64
		var b [8]float64
		if err := conn.QueryRow(ctx, `SELECT count(*),
			ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)),
			ST_XMin(ST_Extent(geom_bng)), ST_YMin(ST_Extent(geom_bng)), ST_XMax(ST_Extent(geom_bng)), ST_YMax(ST_Extent(geom_bng))
			FROM `+l.View.Sanitize()+` `+where, args...).Scan(&n,
			&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7]); err != nil {
			t.Fatalf("%s: %v", l.ID, err)
		}
		info := cat.Info[l.ID]
		got := [8]float64{info.Extent.Min[0], info.Extent.Min[1], info.Extent.Max[0], info.Extent.Max[1],
			info.ExtentBNG.Min[0], info.ExtentBNG.Min[1], info.ExtentBNG.Max[0], info.ExtentBNG.Max[1]}
		if n == 0 || info.Count != n || got != b {
			t.Errorf("%s: %d features, extents %v; the features' own: %d, %v", l.ID, info.Count, got, n, b)
		}
	}
	if boxed < 3 {
		t.Errorf("only %d layers read their extents from boxes", boxed)
	}
}
