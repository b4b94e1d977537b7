package data_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// A z14 tile in central Hindley and the z8 tile holding the whole borough
// (worked out from the sample's extent independently, see tiles.TestCover).
var (
	hindley = maptile.New(8074, 5296, 14)
	borough = maptile.New(126, 82, 8)
)

func catalogue(t *testing.T, s *data.Store) *data.Catalogue {
	t.Helper()
	cat, err := s.Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func decode(t *testing.T, b []byte) mvt.Layers {
	t.Helper()
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("not an MVT: %v", err)
	}
	return ls
}

// ids runs an admin query returning the keys of a layer's rows matching a
// condition on the view row t, with $1..$3 = z, x, y.
func ids(t *testing.T, conn *pgx.Conn, l *data.Layer, cond string, tl maptile.Tile) []string {
	t.Helper()
	args := []any{int(tl.Z), int(tl.X), int(tl.Y)}
	q := fmt.Sprintf("SELECT t.%s::text FROM %s t WHERE %s", pgx.Identifier{l.Key}.Sanitize(), l.View.Sanitize(), cond)
	if l.SetID != "" {
		q += " AND t.set_id = $4"
		args = append(args, l.SetID)
	}
	rows, err := conn.Query(context.Background(), q+" ORDER BY 1", args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTileHasExactlyTheViewsFeaturesWithCatalogueProperties(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	conn := dbtest.Conn(t, url)
	cat := catalogue(t, s)
	for _, l := range cat.Layers {
		t.Run(l.ID, func(t *testing.T) {
			b, err := s.Tile(context.Background(), []*data.Layer{l}, hindley)
			if err != nil {
				t.Fatal(err)
			}
			ls := decode(t, b)
			if len(ls) != 1 || ls[0].Name != l.ID || ls[0].Extent != tiles.Extent {
				t.Fatalf("layers %v", ls)
			}
			got := map[string]bool{}
			fields := l.VectorLayer().Fields
			for _, f := range ls[0].Features {
				id, _ := f.Properties["id"].(string)
				if id == "" || got[id] {
					t.Errorf("feature id %q missing or repeated", id)
				}
				got[id] = true
				for k := range f.Properties {
					if _, ok := fields[k]; !ok {
						t.Errorf("property %q is not in the catalogue", k)
					}
				}
				if _, ok := f.Properties["point_count"]; ok {
					t.Errorf("point clustered at z14: %v", f.Properties)
				}
				b := f.Geometry.Bound()
				lo, hi := float64(-tiles.Buffer), float64(tiles.Extent+tiles.Buffer)
				if b.Min[0] < lo || b.Min[1] < lo || b.Max[0] > hi || b.Max[1] > hi {
					t.Errorf("feature %s outside the tile and its buffer: %v", id, b)
				}
			}
			// Every row well inside the tile is there; nothing is there that
			// does not reach the tile and its buffer.
			inside := ids(t, conn, l, "ST_Intersects(t.geom_3857, ST_Buffer(ST_TileEnvelope($1, $2, $3), -10))", hindley)
			near := ids(t, conn, l, "ST_Intersects(t.geom_3857, ST_TileEnvelope($1, $2, $3, margin => 64.0/4096))", hindley)
			if len(inside) == 0 {
				t.Fatal("no rows in the test tile; pick another")
			}
			for _, id := range inside {
				if !got[id] {
					t.Errorf("%s is in the tile but not in the MVT", id)
				}
			}
			for id := range got {
				if !slices.Contains(near, id) {
					t.Errorf("%s is in the MVT but not near the tile", id)
				}
			}
			checkProperties(t, conn, l, ls[0].Features[0].Properties)
		})
	}
}

// checkProperties compares one feature's properties with its view row,
// read as JSON by an admin connection.
func checkProperties(t *testing.T, conn *pgx.Conn, l *data.Layer, props map[string]any) {
	t.Helper()
	var row map[string]any
	q := fmt.Sprintf("SELECT to_jsonb(t) - 'geom' - 'geom_bng' - 'geom_3857' FROM %s t WHERE t.%s::text = $1",
		l.View.Sanitize(), pgx.Identifier{l.Key}.Sanitize())
	if err := conn.QueryRow(context.Background(), q, props["id"]).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, f := range l.Fields {
		want, has := row[f.Name]
		got, ok := props[f.Name]
		if f.NotInTiles {
			if ok {
				t.Errorf("%s: %s is in the tile but marked NotInTiles", props["id"], f.Name)
			}
			continue
		}
		if want == nil || !has {
			if ok {
				t.Errorf("%s: %s = %v in the tile, null in the view", props["id"], f.Name, got)
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %s = %v (%T) in the tile, %v in the view", props["id"], f.Name, got, got, want)
		}
	}
}

func TestPointsAreClusteredBelowTheClusterZoom(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	conn := dbtest.Conn(t, url)
	for _, l := range catalogue(t, s).Layers {
		if l.GeometryType != "Point" {
			continue
		}
		b, err := s.Tile(context.Background(), []*data.Layer{l}, borough)
		if err != nil {
			t.Fatal(err)
		}
		feats := decode(t, b)[0].Features
		total, clusters := 0, 0
		for _, f := range feats {
			n, isCluster := f.Properties["point_count"].(float64)
			if !isCluster {
				total++
				continue
			}
			clusters++
			if f.Properties["cluster"] != true || len(f.Properties) != 2 || n < 2 {
				t.Errorf("%s: cluster properties %v", l.ID, f.Properties)
			}
			total += int(n)
		}
		want := len(ids(t, conn, l, "ST_Intersects(t.geom_3857, ST_TileEnvelope($1, $2, $3))", borough))
		if total != want || clusters == 0 || len(feats) >= want {
			t.Errorf("%s at z8: %d features (%d clusters) standing for %d points; the tile holds %d", l.ID, len(feats), clusters, total, want)
		}
	}
}

// TestDenseTilesDrawGroups lowers the small-area layer's density limit to
// just under and at the number of small areas meeting the borough's z8
// tile: over the limit the tile holds exactly the groups meeting it, at
// the limit every small area; a tile past DenseBelow never merges.
func TestDenseTilesDrawGroups(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	conn := dbtest.Conn(t, url)
	l, ok := catalogue(t, s).Layer("small-areas")
	if !ok || l.Groups == nil || l.Groups.DenseAbove == 0 {
		t.Fatal("small-areas has no density limit")
	}
	meeting := "t.%s && ST_TileEnvelope($1, $2, $3, margin => 64.0/4096)"
	areas := ids(t, conn, l, fmt.Sprintf(meeting, "geom_z8"), borough)
	groups := dbtest.Strings(t, url, `SELECT coalesce(lad_code, '') || ':' || coalesce(imd_decile::text, '')
		FROM api.small_area_groups t WHERE `+fmt.Sprintf(meeting, "geom_z10")+` ORDER BY 1`, borough.Z, borough.X, borough.Y)
	tileIDs := func(limit int, tl maptile.Tile) []string {
		g := *l.Groups
		g.DenseAbove = limit
		dense := *l
		dense.Groups = &g
		b, err := s.Tile(context.Background(), []*data.Layer{&dense}, tl)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range decode(t, b)[0].Features {
			// A small area has its id; a merged shape has none, and is
			// named by what it merges.
			id, ok := f.Properties["id"].(string)
			if !ok {
				id = fmt.Sprintf("%v:%v", f.Properties["lad_code"], f.Properties["imd_decile"])
			}
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	if got := tileIDs(len(areas)-1, borough); !slices.Equal(got, groups) || len(groups) < 2 {
		t.Errorf("over the limit: %v, want the groups %v", got, groups)
	}
	if got := tileIDs(len(areas), borough); !slices.Equal(got, areas) {
		t.Errorf("at the limit: %d features, want the %d small areas", len(got), len(areas))
	}
	past := hindley
	for past.Z > l.Groups.DenseBelow {
		past = past.Parent()
	}
	if got, want := tileIDs(1, past), ids(t, conn, l, fmt.Sprintf(meeting, "geom_z12"), past); !slices.Equal(got, want) {
		t.Errorf("z%d with a limit of 1: %v, want the small areas %v", past.Z, got, want)
	}
}

// TestNeighbourhoodTilesCarryDetailFromZoom9 checks the thin low-zoom
// neighbourhood tiles: below zoom 9 a feature has its code and borough
// only; from zoom 9 every tile field, on features of the same set.
// Official boundaries are in tiles from zoom 9 only.
func TestNeighbourhoodTilesCarryDetailFromZoom9(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	var hoods *data.Layer
	for _, l := range catalogue(t, s).Layers {
		if l.SetID != "" && strings.HasPrefix(l.ID, "neighbourhoods-") && !strings.HasSuffix(l.ID, "-boundary") {
			hoods = l
			break
		}
	}
	if hoods == nil {
		t.Fatal("no neighbourhood layer in the sample")
	}
	props := func(tl maptile.Tile) (keys []string, ids []string) {
		b, err := s.Tile(context.Background(), []*data.Layer{hoods}, tl)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range decode(t, b)[0].Features {
			ids = append(ids, f.Properties["code"].(string))
			for k := range f.Properties {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		slices.Sort(keys)
		slices.Sort(ids)
		return keys, ids
	}
	detail := hindley
	for detail.Z > 9 {
		detail = detail.Parent()
	}
	thin, thinIDs := props(detail.Parent())
	if want := []string{"code", "lad_code"}; !slices.Equal(thin, want) {
		t.Errorf("z8 properties %v, want %v", thin, want)
	}
	full, fullIDs := props(detail)
	var want []string
	for _, f := range hoods.TileFields() {
		want = append(want, f.Name)
	}
	slices.Sort(want)
	inThin := true
	for _, id := range fullIDs {
		inThin = inThin && slices.Contains(thinIDs, id)
	}
	if !slices.Equal(full, want) || !inThin || len(fullIDs) == 0 {
		t.Errorf("z9: properties %v (want %v), features %v (z8: %v)", full, want, fullIDs, thinIDs)
	}

	boundary, ok := catalogue(t, s).Layer(hoods.ID + "-boundary")
	if !ok {
		t.Fatalf("no %s-boundary layer in the sample", hoods.ID)
	}
	for _, c := range []struct {
		tile maptile.Tile
		want bool
	}{{detail.Parent(), false}, {detail, true}} {
		b, err := s.Tile(context.Background(), []*data.Layer{hoods, boundary}, c.tile)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range decode(t, b) {
			names = append(names, l.Name)
		}
		if got := slices.Contains(names, boundary.ID); got != c.want {
			t.Errorf("z%d: layers %v; want %s: %v", c.tile.Z, names, boundary.ID, c.want)
		}
	}
	if vl := boundary.VectorLayer(); vl.MinZoom != 9 {
		t.Errorf("%s: TileJSON minzoom %d, want 9", boundary.ID, vl.MinZoom)
	}
}

func TestTilesAreReproducibleAndEmptyWhereThereIsNoData(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	cat := catalogue(t, s)
	ctx := context.Background()
	a, err := s.Tile(ctx, cat.Layers, maptile.New(2018, 1323, 12))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Tile(ctx, cat.Layers, maptile.New(2018, 1323, 12))
	if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("two renders of a tile differ (%d and %d bytes, %v)", len(a), len(b), err)
	}
	var names []string
	for _, l := range decode(t, a) {
		names = append(names, l.Name)
	}
	var want []string
	for _, l := range cat.Layers {
		want = append(want, l.ID)
	}
	if !slices.Equal(names, want) {
		t.Errorf("composite layers %v, want %v", names, want)
	}
	// Null Island has no neighbourhoods.
	empty, err := s.Tile(ctx, cat.Layers, maptile.At(orb.Point{0, 0}, 10))
	if err != nil || len(empty) != 0 {
		t.Errorf("tile with no data: %d bytes, %v", len(empty), err)
	}
}

// TestNoTileOfTheBoroughIsTooBig walks every composite tile covering the
// sample at z0-z12: generalisation must keep each under 500 KB on the full
// grid, never leaning on the byte budget to draw it lighter.
func TestNoTileOfTheBoroughIsTooBig(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	cat := catalogue(t, s)
	_, src, _ := cat.TileSet(data.AllLayers)
	const limit = 500 << 10
	biggest, n := 0, 0
	for z := maptile.Zoom(0); z <= 12; z++ {
		lo, hi := tiles.Cover(src.Extent, z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				b, err := s.Tile(context.Background(), cat.Layers, maptile.New(x, y, z))
				if err != nil {
					t.Fatal(err)
				}
				n++
				biggest = max(biggest, len(b))
				if len(b) > limit {
					t.Errorf("tile %d/%d/%d is %d bytes", z, x, y, len(b))
				}
				for _, l := range decode(t, b) {
					if l.Extent != tiles.Extent {
						t.Errorf("tile %d/%d/%d: layer %s drawn on a grid of %d", z, x, y, l.Name, l.Extent)
					}
				}
			}
		}
	}
	if want := tiles.CoverCount(src.Extent, 0, 12); n != want || n < 40 {
		t.Errorf("walked %d tiles, want %d", n, want)
	}
	t.Logf("%d tiles at z0-z12; the biggest is %d bytes", n, biggest)
}

// TestHeavyTilesAreDrawnLighter sets the byte budget below a composite
// tile's weight: it must come back on a coarser grid with every property,
// and with an impossible budget on the coarsest grid without the detail
// properties, small areas as their groups, points as they were.
func TestHeavyTilesAreDrawnLighter(t *testing.T) {
	url := dbtest.New(t, true)
	ctx := context.Background()
	full := open(t, url)
	cat := catalogue(t, full)
	tl := hindley
	for tl.Z > 9 {
		tl = tl.Parent()
	}
	draw := func(budget int) (mvt.Layers, int) {
		s, err := data.Open(ctx, data.Config{URL: url, TileBytes: budget})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		b, err := s.Tile(ctx, cat.Layers, tl)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Tile(ctx, cat.Layers, tl)
		if err != nil || !bytes.Equal(b, again) {
			t.Errorf("budget %d: two renders differ (%v)", budget, err)
		}
		return decode(t, b), len(b)
	}
	keys := func(l *mvt.Layer) []string {
		seen := map[string]bool{}
		for _, f := range l.Features {
			for k := range f.Properties {
				seen[k] = true
			}
		}
		return slices.Sorted(maps.Keys(seen))
	}
	heavy, size := draw(0)
	coarse, coarseSize := draw(size - 1)
	light, _ := draw(1)
	if len(heavy) != len(cat.Layers) || len(coarse) != len(heavy) || len(light) != len(heavy) {
		t.Fatalf("layers: %d full, %d coarse, %d light; want %d", len(heavy), len(coarse), len(light), len(cat.Layers))
	}
	if coarseSize >= size {
		t.Errorf("a budget of %d bytes gave %d", size-1, coarseSize)
	}
	for i, l := range cat.Layers {
		h, c, g := heavy[i], coarse[i], light[i]
		if h.Extent != tiles.Extent || c.Extent != tiles.Extent/4 || g.Extent != tiles.MinExtent {
			t.Errorf("%s: grids %d, %d, %d; want %d, %d, %d", l.ID, h.Extent, c.Extent, g.Extent, tiles.Extent, tiles.Extent/4, tiles.MinExtent)
		}
		if !slices.Equal(keys(c), keys(h)) || len(h.Features) == 0 {
			t.Errorf("%s: properties %v on the coarser grid, %v on the full one", l.ID, keys(c), keys(h))
		}
		var want []string
		switch {
		case l.IDTilesFrom > 0: // a set's layer: its code and borough
			want = []string{"code", "lad_code"}
		case l.Groups != nil: // small areas: their groups
			want = nil
			for _, f := range append(slices.Clone(l.Groups.By), l.Groups.Totals...) {
				want = append(want, f.Name)
			}
			slices.Sort(want)
		default: // points: as they were
			want = keys(h)
			if len(g.Features) != len(h.Features) {
				t.Errorf("%s: %d points drawn light, %d in full", l.ID, len(g.Features), len(h.Features))
			}
		}
		if got := keys(g); !slices.Equal(got, want) {
			t.Errorf("%s drawn light: properties %v, want %v", l.ID, got, want)
		}
	}
}

func TestVectorLayerFieldsFollowTheCatalogue(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	for _, l := range catalogue(t, s).Layers {
		vl := l.VectorLayer()
		if vl.ID != l.ID || vl.Fields["id"] != "String" {
			t.Errorf("%s: %+v", l.ID, vl)
		}
		for _, f := range l.Fields {
			want := map[data.FieldType]string{data.String: "String", data.Date: "String", data.Integer: "Number", data.Number: "Number", data.Boolean: "Boolean"}[f.Type]
			if f.NotInTiles {
				want = ""
			}
			if vl.Fields[f.Name] != want {
				t.Errorf("%s.%s: %q, want %q", l.ID, f.Name, vl.Fields[f.Name], want)
			}
		}
		b, _ := json.Marshal(vl)
		if (l.GeometryType == "Point") != bytes.Contains(b, []byte(`"point_count":"Number"`)) {
			t.Errorf("%s: point_count field %s", l.ID, b)
		}
	}
}

func BenchmarkTile(b *testing.B) {
	s, err := data.Open(context.Background(), data.Config{URL: dbtest.New(b, true)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	cat, err := s.Catalogue(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	sa, _ := cat.Layer("small-areas")
	for _, c := range []struct {
		name   string
		layers []*data.Layer
		tile   maptile.Tile
	}{
		{"small-areas/z8", []*data.Layer{sa}, borough},
		{"small-areas/z12", []*data.Layer{sa}, maptile.New(2018, 1323, 12)},
		{"small-areas/z14", []*data.Layer{sa}, hindley},
		{"all/z8", cat.Layers, borough},
		{"all/z12", cat.Layers, maptile.New(2018, 1323, 12)},
		{"all/z14", cat.Layers, hindley},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				mvt, err := s.Tile(context.Background(), c.layers, c.tile)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(mvt)))
			}
		})
	}
}

// TestTileQueriesRunAsThePublicRoleWithBoundValues points a layer at a
// private table (the tile query must be refused) and gives a layer hostile
// names (they must be values, not SQL).
func TestTileQueriesRunAsThePublicRoleWithBoundValues(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	cat := catalogue(t, s)
	sa, _ := cat.Layer("small-areas")
	private := *sa
	private.View = pgx.Identifier{"nbhd", "small_areas"}
	private.Fields = []data.Field{{Name: "name", Type: data.String}}
	_, err := s.Tile(context.Background(), []*data.Layer{&private}, hindley)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("tile from a private table: %v, want permission denied", err)
	}
	ward, _ := cat.Layer("neighbourhoods-ward")
	hostile := *ward
	hostile.ID = "x', 4096, 'geom') FROM pg_roles --"
	hostile.SetID = "ward' OR '1'='1"
	b, err := s.Tile(context.Background(), []*data.Layer{&hostile}, hindley)
	if err != nil || len(b) != 0 {
		t.Errorf("hostile set id: %d bytes, %v; want an empty tile (no such set)", len(b), err)
	}
	named := hostile // a layer is not changed once drawn: a copy
	named.SetID = "ward"
	b, err = s.Tile(context.Background(), []*data.Layer{&named}, hindley)
	if err != nil {
		t.Fatal(err)
	}
	if ls := decode(t, b); len(ls) != 1 || ls[0].Name != named.ID || len(ls[0].Features) == 0 {
		t.Errorf("hostile layer name: %v", ls)
	}
}
