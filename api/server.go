package api

import (
	"log/slog"
	"net/http"

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
	// TileCacheBytes bounds the vector tile cache; 0 means
	// DefaultTileCacheBytes and a negative value disables it (api/tiles.go).
	TileCacheBytes int64
}

// Server is the HTTP API over a store.
type Server struct {
	cfg     Config
	store   *data.Store
	log     *slog.Logger
	metrics *metrics
	engine  *gin.Engine
	tiles   *tiles.Cache
}

// New builds the server and its routes.
func New(cfg Config, store *data.Store, log *slog.Logger) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, store: store, log: log, metrics: newMetrics(store)}
	s.tiles = newTileCache(cfg)
	s.metrics.reg.MustRegister(tileCacheCollector{s.tiles})
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.Use(withRequest(log), accessLog(), s.metrics.middleware(), recoverJSON())
	s.routes(e)
	s.engine = e
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// routes is every route nbhd serves, in one place.
func (s *Server) routes(e *gin.Engine) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", handle(s.readyz))
	e.GET("/metrics", gin.WrapH(s.metrics.handler()))

	e.GET("/collections/:collection/items", handle(s.items))

	// Vector tiles and their TileJSON (api/tiles.go); :layer is a layer id
	// or "all", with ".json" for TileJSON.
	e.GET("/tiles/:layer", handle(s.tileJSON))
	e.GET("/tiles/:layer/:z/:x/:y", handle(s.tile))

	e.NoRoute(handle(func(c *gin.Context) error { return notFound("no such resource: %s", c.Request.URL.Path) }))
	e.NoMethod(handle(func(c *gin.Context) error {
		return &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", Description: c.Request.Method + " is not allowed here"}
	}))
}
