package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

// BenchmarkTileHandler measures the whole handler, in process: cold (the
// cache disabled, so every request renders in PostgreSQL) and warm (every
// request a cache hit, which the server answers without its router:
// api/tilehit.go), for one polygon layer and the composite at z12.
func BenchmarkTileHandler(b *testing.B) {
	store, err := data.Open(context.Background(), data.Config{URL: dbtest.New(b, true)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(store.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, mode := range []struct {
		name  string
		cache int64
	}{{"cold", -1}, {"warm", 64 << 20}} {
		srv := api.New(api.Config{TileCacheBytes: mode.cache}, store, log)
		for _, path := range []string{"/tiles/small-areas/12/2018/1323.mvt", "/tiles/all/12/2018/1323.mvt"} {
			b.Run(mode.name+path[6:len(path)-4], func(b *testing.B) {
				req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					srv.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: %d", path, w.Code)
					}
				}
			})
		}
	}
}
