package data_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// TestBandTilesDrawWhatPostGISDraws checks every tile of the sample at each
// band's own zoom, where features inside the tile skip ST_AsMVTGeom
// (logic.tile_band, onGrid in tiles.go): each feature's geometry must be the
// one PostGIS's ST_AsMVTGeom draws from the geometry simplified for that
// zoom (logic.generalise), ring for ring and point for point, wherever the
// ring starts.
func TestBandTilesDrawWhatPostGISDraws(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	conn := dbtest.Conn(t, url)
	cat := catalogue(t, s)
	_, src, _ := cat.TileSet(data.AllLayers)
	inside, crossing := 0, 0
	for _, l := range cat.Layers {
		for _, z := range l.Bands {
			if z < l.MinZoom {
				continue
			}
			lo, hi := tiles.Cover(src.Extent, z)
			for x := lo.X; x <= hi.X; x++ {
				for y := lo.Y; y <= hi.Y; y++ {
					tl := maptile.New(x, y, z)
					b, err := s.Tile(context.Background(), []*data.Layer{l}, tl)
					if err != nil {
						t.Fatal(err)
					}
					got := featureShapes(t, l, b)
					want, in, out := postgisShapes(t, conn, l, tl)
					inside, crossing = inside+in, crossing+out
					if len(got) != len(want) {
						t.Errorf("%s %d/%d/%d: %d features, PostGIS draws %d", l.ID, z, x, y, len(got), len(want))
					}
					for id, w := range want {
						if g, ok := got[id]; !ok {
							t.Errorf("%s %d/%d/%d: %s missing", l.ID, z, x, y, id)
						} else if !slices.Equal(g, w) {
							t.Errorf("%s %d/%d/%d: %s drawn as\n%v\nPostGIS draws\n%v", l.ID, z, x, y, id, g, w)
						}
					}
				}
			}
		}
	}
	// Both ways of drawing were taken.
	if inside == 0 || crossing == 0 {
		t.Errorf("%d features inside their tiles, %d crossing an edge: the test misses a path", inside, crossing)
	}
	t.Logf("%d features inside their tiles, %d crossing an edge", inside, crossing)
}

// featureShapes decodes a one-layer tile into each feature's rings, keyed
// by the feature's id or, in tiles without it, by the layer's key field.
func featureShapes(t *testing.T, l *data.Layer, b []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, layer := range decode(t, b) {
		for _, f := range layer.Features {
			id, ok := f.Properties["id"]
			if !ok {
				id = f.Properties[l.Key]
			}
			out[fmt.Sprint(id)] = rings(f.Geometry)
		}
	}
	return out
}

// postgisShapes draws the layer's features in tile tl with ST_AsMVTGeom
// from the geometry simplified for the zoom, and counts those whose
// generalised bounding box lies inside the tile and its buffer.
func postgisShapes(t *testing.T, conn *pgx.Conn, l *data.Layer, tl maptile.Tile) (shapes map[string][]string, inside, crossing int) {
	t.Helper()
	args := []any{int(tl.Z), int(tl.X), int(tl.Y), tiles.Extent, tiles.Buffer}
	where := ""
	if l.SetID != "" {
		where = " AND t.set_id = $6"
		args = append(args, l.SetID)
	}
	q := fmt.Sprintf(`SELECT ST_AsMVT(q, 'ref', $4, 'geom'), count(*) FILTER (WHERE q.inside), count(*) FILTER (WHERE NOT q.inside) FROM (
  SELECT t.%s::text AS id, ST_AsMVTGeom(g, ST_TileEnvelope($1, $2, $3), $4, $5, true) AS geom,
         g @ ST_TileEnvelope($1, $2, $3, margin => $5::float8 / $4) AS inside
  FROM %s t, logic.generalise(t.geom_3857, $1) g
  WHERE t.geom_3857 && ST_TileEnvelope($1, $2, $3, margin => $5::float8 / $4)%s
) q WHERE q.geom IS NOT NULL`, pgx.Identifier{l.Key}.Sanitize(), l.View.Sanitize(), where)
	var b []byte
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&b, &inside, &crossing); err != nil {
		t.Fatal(err)
	}
	shapes = map[string][]string{}
	for _, layer := range decode(t, b) {
		for _, f := range layer.Features {
			shapes[fmt.Sprint(f.Properties["id"])] = rings(f.Geometry)
		}
	}
	return shapes, inside, crossing
}

// rings lists a polygon's parts, each as its rings in order with their
// points in order from the least point, so the same ring started elsewhere
// compares equal and a ring wound the other way does not. Parts are sorted:
// their order in a multipolygon means nothing.
func rings(g orb.Geometry) []string {
	var polys orb.MultiPolygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		polys = g
	default:
		return []string{fmt.Sprintf("not a polygon: %v", g)}
	}
	var out []string
	for _, p := range polys {
		var part []string
		for _, r := range p {
			pts := r
			if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
				pts = pts[:len(pts)-1]
			}
			least := 0
			for i, pt := range pts {
				if pt[0] < pts[least][0] || (pt[0] == pts[least][0] && pt[1] < pts[least][1]) {
					least = i
				}
			}
			part = append(part, fmt.Sprint(append(slices.Clone(pts[least:]), pts[:least]...)))
		}
		out = append(out, fmt.Sprint(part))
	}
	slices.Sort(out)
	return out
}
