package api_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sort"
	"testing"
	"time"

	"nbhd/data/dbtest"
)

// BenchmarkItems measures whole requests through the HTTP stack and the
// database: go test -bench Items -run XXX ./api/
func BenchmarkItems(b *testing.B) {
	e := newBenchEnv(b)
	for _, bc := range []struct{ name, path string }{
		{"limit=100", "/collections/small-areas/items?limit=100"},
		{"limit=10000", "/collections/community-assets/items?limit=10000"},
		{"polygons-limit=10000", "/collections/small-areas/items?limit=10000"},
		{"feature", "/collections/gp-practices/items/P92001"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+bc.path, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", bc.path, resp.StatusCode)
				}
				bytes = n
			}
			b.SetBytes(bytes)
		})
	}
}

// BenchmarkStreamingMemory streams the largest collection (by bytes) again
// and again and reports how far the heap grew: it must stay flat, because
// rows go from pgx's buffer into a bounded spool (pooled chunks, then a
// file) without being collected, and the spool is released after each
// response.
func BenchmarkStreamingMemory(b *testing.B) {
	e := newBenchEnv(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+"/collections/small-areas/items?limit=10000", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "heap-growth-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<10), "alloc-KB/op")
}

// BenchmarkProfile requests every ward's profile in turn and reports the
// latency percentiles (the target is p99 under 50 ms):
// go test -run XXX -bench Profile ./api/
func BenchmarkProfile(b *testing.B) {
	e := newBenchEnv(b)
	var codes []string
	rows, err := dbtest.Conn(b, e.dbURL).Query(context.Background(), "SELECT code FROM nbhd.neighbourhoods WHERE set_id = 'ward' ORDER BY code")
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var c string
		_ = rows.Scan(&c)
		codes = append(codes, c)
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+"/neighbourhoods/ward/"+codes[i%len(codes)], nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%d", resp.StatusCode)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
