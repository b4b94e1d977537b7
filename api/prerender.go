package api

import (
	"context"
	"math"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"

	"nbhd/data"
	"nbhd/tiles"
)

// Pre-rendering (Config.PrerenderZooms): when the server starts and after
// each data change, the low zooms of the composites the built-in map asks
// for (data.Catalogue.MapTileSets) and of "all", over the data's extent, are
// rendered into the tile cache in the background, one tile at a
// time, so no user meets a cold national tile (a z8 tile of England's
// small areas takes a second or more to render). A change arriving while
// it runs restarts it on the new version; requests never wait for it, and
// a request for a tile it is rendering shares that render.

// prerenderTimeout bounds one tile's render.
const prerenderTimeout = 2 * time.Minute

// prerenderer renders the low zooms of the map's composites and of "all"
// after each version change.
type prerenderer struct {
	s     *Server
	zooms int
	wake  chan int64
	tiles prometheus.Counter
}

func newPrerenderer(s *Server, zooms int) *prerenderer {
	return &prerenderer{s: s, zooms: zooms, wake: make(chan int64, 1),
		tiles: prometheus.NewCounter(prometheus.CounterOpts{Name: "nbhd_prerendered_tiles_total",
			Help: "Tiles the server rendered into its cache in the background after a data change."})}
}

// changed asks for the tiles of version; a pending older request is
// replaced.
func (p *prerenderer) changed(version int64) {
	for {
		select {
		case p.wake <- version:
			return
		default:
		}
		select {
		case <-p.wake:
		default:
		}
	}
}

// run pre-renders each version it is woken for until ctx ends.
func (p *prerenderer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case v := <-p.wake:
			p.render(ctx, v)
		}
	}
}

// render fills the cache with the tiles of zooms 0 to p.zooms-1 over the
// data's extent, stopping early when a newer version is asked for (the
// wake channel then holds it) or ctx ends. It renders the composites the
// built-in map asks for (one per neighbourhood set) first, each lowest
// zoom first, then "all", which other clients ask for: when the cache
// cannot hold them all (England's z0-z10 are 82 MB, the default cache 64
// MB), what is left out is not the map's.
func (p *prerenderer) render(ctx context.Context, version int64) {
	start := time.Now()
	cat, err := p.s.store.Catalogue(ctx)
	if err != nil {
		p.s.log.Warn("pre-render: read the catalogue", "err", err)
		return
	}
	type set struct {
		key    string
		layers []*data.Layer
	}
	var sets []set
	for _, key := range append(cat.MapTileSets(), data.AllLayers) {
		if layers, key, err := cat.Tiles(key); err == nil {
			sets = append(sets, set{key, layers})
		}
	}
	bound, ok := cat.Extent(cat.Layers)
	if !ok {
		return
	}
	n := 0
	for _, ts := range sets {
		for z := range maptile.Zoom(p.zooms) {
			for _, t := range tilesOver(bound, z) {
				if len(p.wake) > 0 || ctx.Err() != nil {
					p.s.log.Info("pre-render superseded", "data_version", cat.Version, "tiles", n)
					return
				}
				// Past nine tenths of the cache, the next tiles would evict
				// the ones just rendered: stop, and say what to change.
				if st := p.s.tiles.Stats(); st.Used > st.Limit/10*9 {
					p.s.log.Warn("pre-render stopped: the tile cache is nearly full; raise --tile-cache-mb or lower --prerender-max-zoom",
						"tile_set", ts.key, "zoom", z, "tiles", n, "cache_mb", st.Limit>>20)
					return
				}
				rctx, cancel := context.WithTimeout(ctx, prerenderTimeout)
				_, err := p.s.tiles.Get(rctx, tiles.Key{Layer: ts.key, Version: cat.Version, Tile: t}, func(ctx context.Context) ([]byte, error) {
					return p.s.store.FilteredTile(ctx, ts.layers, t, nil)
				})
				cancel()
				if err != nil {
					if ctx.Err() == nil {
						p.s.log.Warn("pre-render stopped", "tile", t, "err", err)
					}
					return
				}
				n++
				p.tiles.Inc()
			}
		}
	}
	p.s.log.Info("pre-rendered", "data_version", cat.Version, "asked", version, "max_zoom", p.zooms-1,
		"tiles", n, "seconds", math.Round(time.Since(start).Seconds()*10)/10)
}

// tilesOver lists the tiles at zoom z that cover bound (lon/lat), row by
// row from the north-west.
func tilesOver(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	nw := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z)
	se := maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	out := make([]maptile.Tile, 0, (se.X-nw.X+1)*(se.Y-nw.Y+1))
	for y := nw.Y; y <= se.Y; y++ {
		for x := nw.X; x <= se.X; x++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}
