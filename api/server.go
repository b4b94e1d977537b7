package api

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/tiles"
)

// Config configures the HTTP API.
type Config struct {
	// BaseURL is the public URL prefix used in links (e.g. behind a proxy);
	// empty derives it from each request.
	BaseURL string
	// Version is reported on the landing page.
	Version string
	// CORSOrigins may read the API from a browser: "*" (the default, when
	// empty) or a list of origins.
	CORSOrigins []string
	// CacheMaxAge is the max-age of public responses; 0 means 60 s.
	CacheMaxAge time.Duration
	// TrustedProxies may set X-Forwarded-For; by default none is trusted
	// and the client is the connection's peer (for rate limits).
	TrustedProxies []string
	// AuthFailuresPerMinute is how many failed key checks a client may make
	// per minute; 0 means 10.
	AuthFailuresPerMinute int
	// BasemapStyle is an optional MapLibre style URL the viewer draws under
	// nbhd's layers; empty means no basemap (works offline).
	BasemapStyle string
	// BasemapOrigins are further origins the basemap loads tiles, sprites
	// or glyphs from, for the map's Content-Security-Policy (the style's
	// own origin is always allowed).
	BasemapOrigins []string
	// SeparateMetrics leaves /metrics off the API: it is served by
	// MetricsHandler on a listener of its own.
	SeparateMetrics bool
	// ViewerFS replaces the embedded viewer files (tests).
	ViewerFS fs.FS
	// TileCacheBytes bounds the vector tile cache; 0 means
	// DefaultTileCacheBytes and a negative value disables it (api/tiles.go).
	TileCacheBytes int64
	// SearchAnswers is how many /search answers are kept (api/searchcache.go);
	// 0 means DefaultSearchAnswers and a negative value keeps none.
	SearchAnswers int
	// RequestTimeout is every request's deadline, which its queries run
	// under; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// WriteTimeout is the longest one write to a client may block; 0 means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// CacheSMaxAge and StaleWhileRevalidate, when set, add s-maxage and
	// stale-while-revalidate to public responses' Cache-Control, for
	// shared caches (a CDN, a reverse proxy) in front (api/httpcache.go).
	CacheSMaxAge         time.Duration
	StaleWhileRevalidate time.Duration
	// PurgeURL is POSTed the surrogate keys of superseded data after each
	// data change (api/purge.go); PurgeHeader ("Name: value") is sent
	// with it. Empty: no purge hook.
	PurgeURL    string
	PurgeHeader string
	// PMTilesURL makes the map draw its boundaries from a PMTiles archive
	// (absolute, or relative to the server) instead of /tiles.
	PMTilesURL string
	// PrerenderZooms is how many zoom levels, from 0, of the composite
	// tile set are rendered into the cache at start and after each data
	// change (api/prerender.go); 0 renders none.
	PrerenderZooms int
}

// Server is the HTTP API over a store.
type Server struct {
	cfg     Config
	store   *data.Store
	log     *slog.Logger
	metrics *metrics
	engine  *gin.Engine
	// cacheControl is the Cache-Control of public responses; it and the
	// map's Content-Security-Policy are shared values (api/security.go).
	cacheControl []string
	mapPolicy    []string
	limiter      *failureLimiter
	outage       *outageLog
	viewer       viewerCache
	tiles        *tiles.Cache
	searches     *searchAnswers
	// closing ends at Abort: work detached from its request (tile renders)
	// runs under it.
	closing  context.Context
	abort    context.CancelFunc
	inFlight atomic.Int64
	spools   *spoolBudget
	// seen is the data version last passed to DataChanged; purge calls
	// the purge hook, when configured.
	seen      atomic.Int64
	purge     *purger
	prerender *prerenderer
	warmer    *warmer
	ids       *requestIDs
	cors      *corsPolicy
	// tileSurrogates keeps tile sets' surrogate key headers.
	tileSurrogates tileSurrogates
}

// New builds the server and its routes.
func New(cfg Config, store *data.Store, log *slog.Logger) *Server {
	gin.SetMode(gin.ReleaseMode)
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.CacheMaxAge <= 0 {
		cfg.CacheMaxAge = time.Minute
	}
	if cfg.AuthFailuresPerMinute <= 0 {
		cfg.AuthFailuresPerMinute = 10
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	s := &Server{cfg: cfg, store: store, log: log, metrics: newMetrics(store),
		cacheControl: []string{publicCacheControl(cfg)},
		limiter:      newFailureLimiter(cfg.AuthFailuresPerMinute, time.Minute),
		outage:       &outageLog{interval: outageLogInterval},
		mapPolicy:    []string{mapCSP(cfg.BasemapStyle, append(originOf(cfg.PMTilesURL), cfg.BasemapOrigins...))},
		spools:       newSpoolBudget(defaultSpoolBudget),
		ids:          newRequestIDs(),
		cors:         newCORSPolicy(cfg.CORSOrigins)}
	s.closing, s.abort = context.WithCancel(context.Background())
	s.tiles = newTileCache(cfg)
	s.searches = newSearchAnswers(cfg.SearchAnswers)
	s.seen.Store(store.Version())
	s.metrics.reg.MustRegister(tileCacheCollector{s.tiles}, searchAnswersCollector{s.searches}, replicaCollector{store})
	s.warmer = newWarmer()
	go s.runWarmer(s.closing, s.warmer)
	s.warmer.changed()
	if cfg.PrerenderZooms > 0 && s.tiles.Stats().Limit > 0 {
		s.prerender = newPrerenderer(s, cfg.PrerenderZooms)
		s.metrics.reg.MustRegister(s.prerender.tiles)
		go s.prerender.run(s.closing)
		s.prerender.changed(store.Version())
	}
	if cfg.PurgeURL != "" {
		s.purge = newPurger(cfg.PurgeURL, cfg.PurgeHeader, log)
		s.metrics.reg.MustRegister(s.purge)
		go s.purge.run(s.closing)
	}
	e := gin.New()
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		log.Warn("ignoring bad trusted proxies", "err", err)
		_ = e.SetTrustedProxies(nil)
	}
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.Use(s.track, withRequest(s.ids, log, s.outage), accessLog(log), s.metrics.middleware(), recoverJSON(),
		deadlines(cfg.RequestTimeout, cfg.WriteTimeout), s.securityHeaders, s.auditStaff, checkInput(), cors(s.cors))
	s.routes(e)
	s.engine = e
	return s
}

// track counts the requests being handled, for InFlight, and hands them
// the server's spool memory budget.
func (s *Server) track(c *gin.Context) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	c.Set(spoolBudgetKey, s.spools)
	c.Next()
}

// MetricsHandler serves the Prometheus metrics (GET and HEAD), for a
// listener of their own (Config.SeparateMetrics).
func (s *Server) MetricsHandler() http.Handler {
	h := s.metrics.handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// InFlight is the number of requests being handled now.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// Abort cancels the work the server runs detached from requests (tile
// renders). The server calls it when its shutdown grace is over, after
// cancelling the requests themselves.
func (s *Server) Abort() { s.abort() }

// ServeHTTP makes Server an http.Handler. A cached tile is served without
// the router (api/tilehit.go); everything else goes through it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveTileHit(w, r) {
		return
	}
	s.engine.ServeHTTP(w, r)
}

// routes is every route nbhd serves, in one place.
func (s *Server) routes(e *gin.Engine) {
	get := func(path string, h handlerFunc) {
		e.GET(path, handle(h))
		e.HEAD(path, handle(h))
	}
	get("/healthz", s.healthz)
	get("/readyz", s.readyz)
	if !s.cfg.SeparateMetrics {
		e.GET("/metrics", gin.WrapH(s.metrics.handler()))
		e.HEAD("/metrics", gin.WrapH(s.metrics.handler()))
	}

	// OGC API – Features.
	get("/", s.landing)
	get("/conformance", s.conformance)
	get("/api", s.openAPI)
	get("/collections", s.collections)
	get("/collections/:collection", s.collectionOne)
	get("/collections/:collection/queryables", s.queryables)
	get("/collections/:collection/items", s.items)
	get("/collections/:collection/items/:feature", s.itemOrStaff)
	// OGC API – Features Part 4 on community-assets: the asset register
	// that staff keep (api/register.go).
	e.POST("/collections/:collection/items", handle(s.createAsset))
	e.PUT("/collections/:collection/items/:feature", handle(s.replaceAsset))
	e.PATCH("/collections/:collection/items/:feature", handle(s.updateAsset))
	e.DELETE("/collections/:collection/items/:feature", handle(s.closeAsset))
	get("/collections/:collection/items/:feature/history", s.assetHistory) // staff only

	// Neighbourhood insight.
	get("/boroughs", s.boroughs)
	get("/boroughs/:lad", s.borough)
	get("/indicators", s.indicators)
	get("/neighbourhoods", s.neighbourhoodSets)
	get("/neighbourhoods/:set", s.neighbourhoods)
	get("/neighbourhoods/:set/:code", s.profile)
	get("/insights/asset-gaps", s.assetGaps)
	get("/outreach", s.outreach) // staff only
	get("/search", s.search)

	// The Deal: investment against need, and the doorstep of every GP
	// practice and school (api/grants.go, api/doorstep.go).
	get("/insights/investment", s.investment)
	get("/gp-practices/:code/doorstep", s.gpDoorstep)
	get("/schools/:id/doorstep", s.schoolDoorstep)

	// The map viewer.
	e.GET("/map", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/map/") })
	get("/map/*file", s.mapFile)

	// Vector tiles and their TileJSON (api/tiles.go); :layer is a layer id
	// or "all", with ".json" for TileJSON.
	get("/tiles/:layer", s.tileJSON)
	get("/tiles/:layer/:z/:x/:y", s.tile)
	s.ogcTilesRoutes(get) // OGC API – Tiles (api/ogctiles.go)

	e.NoRoute(handle(func(c *gin.Context) error { return notFound("no such resource: %s", c.Request.URL.Path) }))
	e.NoMethod(handle(func(c *gin.Context) error {
		return &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", Description: c.Request.Method + " is not allowed here"}
	}))
}
