package api

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb/maptile"

	"nbhd/data"
	"nbhd/tiles"
)

// Tile serving: /tiles/{layer}/{z}/{x}/{y}.mvt and /tiles/{layer}.json for
// every public layer, for "all", the composite of every layer, and for a
// composite of chosen layers, their ids joined by commas.
const (
	mvtType = "application/vnd.mapbox-vector-tile"
	// DefaultTileCacheBytes is the tile cache's size when Config leaves it 0.
	DefaultTileCacheBytes = 64 << 20
)

func newTileCache(cfg Config) *tiles.Cache {
	limit := cfg.TileCacheBytes
	switch {
	case limit == 0:
		limit = DefaultTileCacheBytes
	case limit < 0:
		limit = 0
	}
	return tiles.NewCache(limit)
}

// DataChanged drops every cached tile and calls the purge hook. The
// server calls it when the data version moves (data.Store.WatchVersion),
// which with read replicas happens only once a replica has replayed the
// new version, so no tile rendered from older data is cached under it.
// Tiles are keyed by version, so old ones are never served again anyway;
// this frees their memory at once and keeps a render that was in flight
// from storing its tile.
func (s *Server) DataChanged(version int64) {
	s.tiles.Purge(version)
	s.searches.purge(version)
	s.log.Debug("tile cache and search answers purged", "data_version", version)
	s.warmer.changed()
	if s.prerender != nil {
		s.prerender.changed(version)
	}
	if prev := s.seen.Swap(version); prev < version && s.purge != nil {
		s.purge.changed(prev, version)
	}
}

// tileSet resolves a /tiles name (data.Catalogue.Tiles) to its layers and
// its key: 404 for a layer that is not there, 400 for a list that cannot
// be one.
func tileSet(cat *data.Catalogue, name string) ([]*data.Layer, string, error) {
	layers, key, err := cat.Tiles(name)
	switch {
	case errors.Is(err, data.ErrBadTileSet):
		return nil, "", badRequest("%v: a composite of chosen layers is their ids joined by commas, each once", err)
	case err != nil:
		return nil, "", notFound("%v; /tiles/all.json lists them", err)
	}
	return layers, key, nil
}

// composite reports whether a tile set holds more than one layer's
// queryables: "all" or a list.
func composite(key string) bool {
	return key == data.AllLayers || strings.Contains(key, data.LayerSeparator)
}

// tile serves one vector tile from the cache, rendering it on a miss: 200
// with the MVT (gzip when the client accepts it), 204 for a tile with no
// features, 304 when If-None-Match holds its ETag. A collection's tile
// takes a CQL2 filter (filter, filter-lang, filter-crs); the composite
// refuses one. /tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}, the
// OGC API – Tiles path of the composite, shares this route.
func (s *Server) tile(c *gin.Context) error {
	name := c.Param("layer")
	if name == tiles.WebMercatorQuadID { // no layer has this name
		return s.ogcTile(c, data.AllLayers, name, c.Param("z"), c.Param("x"), c.Param("y"))
	}
	if err := noParams(c, append([]string{"borough"}, filterParams...)...); err != nil {
		return err
	}
	ctx := c.Request.Context()
	// The cache key's version must not be older than the data a render
	// reads (data.Store.Settle).
	s.store.Settle(ctx)
	cat, err := s.store.Catalogue(ctx)
	if err != nil {
		return err
	}
	layers, key, err := tileSet(cat, name)
	if err != nil {
		return err
	}
	y, ok := strings.CutSuffix(c.Param("y"), ".mvt")
	if !ok {
		return notFound("tiles are at /tiles/{layer}/{z}/{x}/{y}.mvt")
	}
	t, err := tiles.Parse(c.Param("z"), c.Param("x"), y)
	if err != nil {
		return badRequest("%v", err)
	}
	where, err := tileFilter(c.Request.URL.Query(), key, layers)
	if err != nil {
		return err
	}
	return s.serveTile(c, cat, key, layers, t, where)
}

// tileFilter reads a tile request's CQL2 filter: nil without one. A filter
// uses one collection's queryables, so a composite refuses it.
func tileFilter(q url.Values, name string, layers []*data.Layer) (*data.Predicate, error) {
	boroughs, err := parseBoroughs(q)
	if err != nil {
		return nil, err
	}
	if composite(name) {
		for _, p := range filterParams {
			if _, ok := q[p]; ok {
				return nil, badRequest("composite tiles (all, or layers joined by commas) take no %s: a filter uses one collection's queryables, "+
					"so filter the tiles of that collection, /tiles/{layer}/{z}/{x}/{y}.mvt or "+
					"/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", p)
			}
		}
		return boroughs, nil
	}
	where, err := parseFilter(q, layers[0])
	if err != nil {
		return nil, err
	}
	return data.And(where, boroughs), nil
}

// serveTile answers with tile t of tile set name from the cache, rendering
// it on a miss. The filter's canonical form is part of the cache key, so
// requests that spell one filter differently share a tile.
func (s *Server) serveTile(c *gin.Context, cat *data.Catalogue, name string, layers []*data.Layer, t maptile.Tile, where *data.Predicate) error {
	key := tiles.Key{Layer: name, Version: cat.Version, Tile: t}
	if where != nil {
		key.Filter = where.Key()
	}
	e, err := s.tiles.Get(c.Request.Context(), key, func(ctx context.Context) ([]byte, error) {
		rctx, cancel := s.renderContext(ctx)
		defer cancel()
		return s.store.FilteredTile(rctx, layers, t, where)
	})
	if err != nil {
		return err
	}
	s.tileSurrogates.set(c.Writer.Header(), cat.Version, name, layers)
	body, gz, err := s.tileBody(c.Request, key, e)
	if err != nil {
		return err
	}
	_, _, _ = s.writeTile(c.Writer, c.Request, key, e, body, gz) // deadlineWriter reports a cut
	return nil
}

// renderContext detaches a tile render from the client that started it.
// A render is shared by every request waiting for that tile and cached for
// later ones, so one client hanging up does not cancel it: it runs to the
// end, still bounded by the request's deadline (and statement_timeout),
// and Server.Abort still cancels it at shutdown. A storm of hang-ups thus
// costs no query cancels inside the composite ST_AsMVT query, where one
// crashed a PostgreSQL backend in the fault sweep of issue 11.
func (s *Server) renderContext(ctx context.Context) (context.Context, context.CancelFunc) {
	r := context.WithoutCancel(ctx)
	var cancel context.CancelFunc
	if dl, ok := ctx.Deadline(); ok {
		r, cancel = context.WithDeadline(r, dl)
	} else {
		r, cancel = context.WithCancel(r)
	}
	stop := context.AfterFunc(s.closing, cancel)
	return r, func() {
		stop()
		cancel()
	}
}

// tileBody is the body a request gets for a tile: its gzip bytes when the
// client accepts gzip (gz), the plain MVT otherwise, nil for an empty tile.
func (s *Server) tileBody(r *http.Request, key tiles.Key, e *tiles.Entry) (body []byte, gz bool, err error) {
	gz = acceptsGzip(r.Header.Get("Accept-Encoding"))
	switch {
	case e.Empty():
		return nil, gz, nil
	case gz:
		return e.Gzip, true, nil
	}
	body, err = s.tiles.Plain(key, e)
	return body, false, err
}

// writeTile writes a tile with its validators (body and gz from
// tileBody), and returns the status, the bytes written and the write's
// error (which a deadlineWriter reports itself). The ETag is
// the content's hash, with the filter's for a filtered tile, and "-gz"
// for the gzip representation.
func (s *Server) writeTile(w http.ResponseWriter, r *http.Request, key tiles.Key, e *tiles.Entry, body []byte, gz bool) (status, size int, werr error) {
	filter := key.Filter
	tag := e.Hash
	if filter != "" {
		h := fnv.New64a()
		_, _ = h.Write([]byte(filter))
		tag += "-f" + strconv.FormatUint(h.Sum64(), 16)
	}
	etag := `"` + tag + `"`
	if gz && !e.Empty() {
		etag = `"` + tag + `-gz"` // a different representation, a different tag
	}
	h := w.Header()
	// Added to, not set: with a list of CORS origins, Origin is there.
	if v, ok := h["Vary"]; ok {
		h["Vary"] = append(v, "Accept-Encoding")
	} else {
		h["Vary"] = varyEncoding
	}
	h["Cache-Control"] = s.cacheControl
	h["Etag"] = []string{etag}
	switch {
	case etagMatch(r.Header.Get("If-None-Match"), etag):
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, 0, nil
	case e.Empty():
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, 0, nil
	case gz:
		h["Content-Encoding"] = encodingGzip
	}
	h["Content-Type"] = mvtContentType
	// A length spares net/http chunking the body into extra writes.
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	n, werr := w.Write(body)
	return http.StatusOK, n, werr
}

// Shared values of a tile's headers (api/security.go says why).
var (
	varyEncoding   = []string{"Accept-Encoding"}
	encodingGzip   = []string{"gzip"}
	mvtContentType = []string{mvtType}
)

// acceptsGzip reads Accept-Encoding: gzip (or x-gzip, or *) with a q above 0.
func acceptsGzip(header string) bool {
	gzipQ, anyQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				} else {
					q = 0
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			anyQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

// tileJSON serves the TileJSON 3.0.0 document of a layer, of "all" or of
// a composite of chosen layers (whose tile URL lists them in catalogue order);
// /tiles/WebMercatorQuad, the OGC tileset of the composite, shares its route.
func (s *Server) tileJSON(c *gin.Context) error {
	if c.Param("layer") == tiles.WebMercatorQuadID {
		return s.tileset(c, data.AllLayers) // OGC API – Tiles: the composite's tileset
	}
	name, ok := strings.CutSuffix(c.Param("layer"), ".json")
	if !ok {
		return notFound("TileJSON is at /tiles/{layer}.json")
	}
	if err := noParams(c); err != nil {
		return err
	}
	cat, err := s.store.Catalogue(c.Request.Context())
	if err != nil {
		return err
	}
	layers, key, err := tileSet(cat, name)
	if err != nil {
		return err
	}
	tj := tiles.NewTileJSON(cat.TileSource(key, layers), s.absoluteURL(c, "/tiles/"+key+"/{z}/{x}/{y}.mvt"))
	c.Writer.Header()["Cache-Control"] = s.cacheControl
	surrogateKeys(c.Writer.Header(), cat.Version, data.LayerIDs(layers)...)
	c.Writer.Header().Add("Vary", "X-Forwarded-Proto")
	c.JSON(http.StatusOK, tj)
	return nil
}

// absoluteURL makes path absolute for links that must be (TileJSON tile
// URLs): Config.BaseURL when set, else the request's scheme (X-Forwarded-Proto
// from a proxy, else whether it came over TLS) and Host.
func (s *Server) absoluteURL(c *gin.Context, path string) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/") + path
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	proto, _, _ := strings.Cut(c.GetHeader("X-Forwarded-Proto"), ",")
	if p := strings.ToLower(strings.TrimSpace(proto)); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + c.Request.Host + path
}
