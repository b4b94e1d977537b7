package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"nbhd/tiles"
)

// tileRoute is the route of /tiles/{layer}/{z}/{x}/{y}.mvt, as metrics and
// the access log name it.
const tileRoute = "/tiles/:layer/:z/:x/:y"

// serveTileHit answers a plain request for a cached tile without the
// router and its middleware, and reports whether it did. A warm tile is
// one write of bytes already in memory, and on a 2-core machine gin's
// context, ten middleware hops, a request deadline with its timer
// and a copy of the request were a fifth of its cost. It takes only what
// needs none of them: GET or HEAD of /tiles/{layer}/{z}/{x}/{y}.mvt with
// no query but the map's borough choice (borough=CODE,...) and no
// credentials, for a tile in the cache, at a data version that is loaded
// and settled. Anything else returns false untouched and
// goes through the router, which gives every answer, this one included.
// The headers are set by the functions the middleware and the tile
// handler use, so both paths give the same bytes (TestTileHitMatchesRouter).
func (s *Server) serveTileHit(w http.ResponseWriter, r *http.Request) bool {
	// An empty query ("?") takes the router too, which answers it as it
	// answers none: tests compare the two paths that way.
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.ForceQuery && r.URL.RawQuery == "" {
		return false
	}
	if _, ok := r.Header["Authorization"]; ok {
		return false // audited (auditStaff)
	}
	layer, z, x, y, ok := tilePath(r.URL.Path)
	if !ok {
		return false
	}
	cat, ok := s.store.SettledCatalogue()
	if !ok {
		return false
	}
	layers, key, err := cat.Tiles(layer)
	if err != nil {
		return false
	}
	t, err := tiles.Parse(z, x, y)
	if err != nil {
		return false
	}
	k := tiles.Key{Layer: key, Version: cat.Version, Tile: t}
	if r.URL.RawQuery != "" {
		// Only the map's borough choice: one borough parameter, as the
		// router reads it; anything else, the router answers.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil || len(q) != 1 || len(q["borough"]) != 1 {
			return false
		}
		where, err := tileFilter(q, key, layers)
		if err != nil || where == nil {
			return false
		}
		k.Filter = where.Key()
	}
	e := s.tiles.Lookup(k)
	if e == nil {
		return false
	}
	body, gz, err := s.tileBody(r, k, e)
	if err != nil {
		return false // the router's answer reports it
	}

	start := time.Now()
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	s.metrics.tileHits.Inc()
	h := w.Header()
	id := s.ids.assign(h, r.Header.Get("X-Request-Id"))
	s.setSecurityHeaders(h, r.URL.Path)
	s.cors.apply(h, r)
	s.tileSurrogates.set(h, cat.Version, key, layers)
	// Written and flushed under deadlines as the router's answers are.
	tw := &timedWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.cfg.WriteTimeout}
	status, size, cut := s.writeTile(tw, r, k, e, body, gz)
	if cut == nil && status == http.StatusOK && r.Method != http.MethodHead {
		cut = tw.flush()
	}
	s.metrics.observeTile(r.Method, status, start)
	logRequest(r, s.log, id, tileRoute, status, size, start, cut)
	return true
}

// tilePath splits /tiles/{layer}/{z}/{x}/{y}.mvt; ok is false for any
// other path. The parts are checked by the catalogue and tiles.Parse.
func tilePath(path string) (layer, z, x, y string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/tiles/")
	if !ok {
		return "", "", "", "", false
	}
	rest, ok = strings.CutSuffix(rest, ".mvt")
	if !ok {
		return "", "", "", "", false
	}
	layer, rest, _ = strings.Cut(rest, "/")
	z, rest, _ = strings.Cut(rest, "/")
	x, y, ok = strings.Cut(rest, "/")
	if !ok || layer == "" || strings.Contains(y, "/") {
		return "", "", "", "", false
	}
	return layer, z, x, y, true
}
