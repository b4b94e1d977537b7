package data_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"nbhd/data"
)

// BenchmarkTileLayers times Store.Tile on a loaded database, one tile set
// at a time, over tiles where people live: the tiles of 600 postcodes drawn
// as scripts/bench-england.sh draws its request lists. It reports each
// tile set's time per tile on one connection (PostgreSQL's work and the
// round trip, no HTTP, no gzip) and its mean size, the figures behind the
// layer tables of docs/performance.md. Run it on synthetic England with:
//
//	NBHD_BENCH_DATABASE_URL="$(NBHD_PG_DB=nbhd_england2 scripts/pg.sh url)" \
//	  go test -run '^$' -bench TileLayers -benchtime 600x ./data
//
// NBHD_BENCH_ZOOM (default 12) picks the zoom, NBHD_BENCH_TILE_SETS (space
// separated, default every layer and all) the tile sets.
// NBHD_BENCH_COUNT_CLUSTERS=1 counts point clusters per tile, as a filtered
// tile does, instead of reading the cells counted on publish.
func BenchmarkTileLayers(b *testing.B) {
	url := os.Getenv("NBHD_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("NBHD_BENCH_DATABASE_URL names no loaded database to measure")
	}
	zoom := 12
	if v, err := strconv.Atoi(os.Getenv("NBHD_BENCH_ZOOM")); err == nil {
		zoom = v
	}
	ctx := context.Background()
	s, err := data.Open(ctx, data.Config{URL: url, MaxConns: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cat, err := s.Catalogue(ctx)
	if err != nil {
		b.Fatal(err)
	}
	list := postcodeTiles(b, url, maptile.Zoom(zoom))
	sets := strings.Fields(os.Getenv("NBHD_BENCH_TILE_SETS"))
	if len(sets) == 0 {
		sets = append(data.LayerIDs(cat.Layers), data.AllLayers)
	}
	for _, name := range sets {
		layers, _, err := cat.Tiles(name)
		if err != nil {
			b.Fatal(err)
		}
		if os.Getenv("NBHD_BENCH_COUNT_CLUSTERS") == "1" {
			layers = countingClusters(layers)
		}
		b.Run(name, func(b *testing.B) {
			bytes := 0
			for i := range b.N {
				mvt, err := s.Tile(ctx, layers, list[i%len(list)])
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(mvt)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/tile")
			b.ReportMetric(float64(bytes)/1024/float64(b.N), "KB/tile")
		})
	}
}

// postcodeTiles are the distinct tiles at z of 600 postcodes, chosen by the
// hash of the postcode so every run draws the same ones.
func postcodeTiles(b *testing.B, url string, z maptile.Zoom) []maptile.Tile {
	b.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(),
		`SELECT ST_X(geom), ST_Y(geom) FROM nbhd.postcodes ORDER BY md5(postcode) LIMIT 600`)
	if err != nil {
		b.Fatal(err)
	}
	points, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (orb.Point, error) {
		var p orb.Point
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		b.Fatal(err)
	}
	seen := map[maptile.Tile]bool{}
	var out []maptile.Tile
	for _, p := range points {
		if t := maptile.At(p, z); !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		b.Fatal("no postcodes loaded")
	}
	return out
}

// countingClusters is layers with the point layers' clusters counted per
// tile rather than read from the cells counted on publish.
func countingClusters(layers []*data.Layer) []*data.Layer {
	out := make([]*data.Layer, len(layers))
	for i, l := range layers {
		c := *l
		c.Cells = ""
		out[i] = &c
	}
	return out
}
