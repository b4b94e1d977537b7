package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"nbhd/tiles"
)

// tileCacheCollector reports the tile cache's counters at scrape time; the
// bench script reads renders (database queries) from it.
type tileCacheCollector struct{ cache *tiles.Cache }

var (
	tileHits      = prometheus.NewDesc("nbhd_tile_cache_hits_total", "Tile requests answered from the cache.", nil, nil)
	tileMisses    = prometheus.NewDesc("nbhd_tile_cache_misses_total", "Tile requests not in the cache.", nil, nil)
	tileRenders   = prometheus.NewDesc("nbhd_tile_renders_total", "Tiles rendered by the database (concurrent misses share one).", nil, nil)
	tileEvictions = prometheus.NewDesc("nbhd_tile_cache_evictions_total", "Tiles evicted to stay within the limit.", nil, nil)
	tileBytes     = prometheus.NewDesc("nbhd_tile_cache_bytes", "Bytes the cached tiles take.", nil, nil)
	tileEntries   = prometheus.NewDesc("nbhd_tile_cache_entries", "Cached tiles.", nil, nil)
	tileLimit     = prometheus.NewDesc("nbhd_tile_cache_limit_bytes", "The cache's size limit (0: disabled).", nil, nil)
)

func (tileCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tileHits, tileMisses, tileRenders, tileEvictions, tileBytes, tileEntries, tileLimit} {
		ch <- d
	}
}

func (t tileCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := t.cache.Stats()
	for d, v := range map[*prometheus.Desc]int64{tileHits: s.Hits, tileMisses: s.Misses, tileRenders: s.Renders, tileEvictions: s.Evictions} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	for d, v := range map[*prometheus.Desc]int64{tileBytes: s.Used, tileEntries: s.Entries, tileLimit: s.Limit} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
}
