package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// BenchmarkAssetChange measures one staff change to the asset register
// through the HTTP stack: the checks, the write, the refresh of what it
// affects (its small areas, postcodes within reach, the borough's
// estimates and neighbourhood figures) and the audit row, in one
// transaction. A rename and a move alternate:
// go test -bench AssetChange -benchtime 10x -run XXX ./api/
func BenchmarkAssetChange(b *testing.B) {
	e := newBenchEnv(b)
	token, _, err := data.CreateKey(context.Background(), dbtest.Conn(b, e.dbURL), "bench", "staff", []string{"assets:write"})
	if err != nil {
		b.Fatal(err)
	}
	id := dbtest.Strings(b, e.dbURL, "SELECT id FROM nbhd.community_assets ORDER BY id LIMIT 1")[0]
	at := dbtest.Strings(b, e.dbURL, `SELECT format('[%s, %s]', round(ST_X(geom)::numeric, 6), round(ST_Y(geom)::numeric, 6)) FROM nbhd.community_assets WHERE id = $1
		UNION ALL SELECT format('[%s, %s]', round(ST_X(p)::numeric, 6), round(ST_Y(p)::numeric, 6)) FROM (SELECT ST_PointOnSurface(geom) p FROM nbhd.small_areas ORDER BY code LIMIT 1) x`, id)
	for _, bc := range []struct{ name, patch string }{
		{"rename", `{"properties": {"name": "Renamed %d"}}`},
		{"move", `{"geometry": {"type": "Point", "coordinates": %s}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				body := fmt.Sprintf(bc.patch, i)
				if bc.name == "move" {
					body = fmt.Sprintf(bc.patch, at[i%2])
				}
				i++
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPatch,
					e.url+"/collections/community-assets/items/"+id+"?note=bench", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/merge-patch+json")
				req.Header.Set("If-Match", "*")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%d %s", resp.StatusCode, msg)
				}
			}
		})
	}
}
