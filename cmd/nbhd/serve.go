package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	neturl "net/url"
	"strings"
	"time"

	"nbhd/api"
	"nbhd/data"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("log level %q: use debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("log format %q: use text or json", format)}
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("serve")
	url := databaseFlag(fs)
	addr := fs.String("addr", ":8080", "listen address")
	baseURL := fs.String("base-url", "", "public URL prefix for links (default: from each request's Host)")
	stmtTimeout := fs.Duration("statement-timeout", 10*time.Second, "longest a database statement may run (shorter than --request-timeout)")
	reqTimeout := fs.Duration("request-timeout", api.DefaultRequestTimeout, "deadline of each request's database work; past it the request is answered 503")
	writeTimeout := fs.Duration("write-timeout", api.DefaultWriteTimeout, "longest one write to a client may block before the client is cut off")
	acquireTimeout := fs.Duration("acquire-timeout", 5*time.Second, "longest a request waits for a pooled database connection before a 503")
	maxConns := fs.Int("max-conns", data.DefaultMaxConns, "connections in the public pool")
	staffConns := fs.Int("staff-max-conns", 0, "connections in the staff pool (default: a quarter of --max-conns, at least 2)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	shutdown := fs.Duration("shutdown-timeout", 20*time.Second, "on SIGTERM, how long in-flight requests may finish before they are cancelled")
	cors := fs.String("cors-origins", "*", "origins allowed to read the API from a browser: * or a comma-separated list (staff routes: listed origins only)")
	maxAge := fs.Duration("cache-max-age", time.Minute, "Cache-Control max-age of public responses")
	proxies := fs.String("trusted-proxies", "", "proxies whose X-Forwarded-For names the client (comma-separated IPs or CIDRs; default none)")
	basemap := fs.String("basemap-style", "", "MapLibre style URL drawn under the map's layers (default: none, works offline)")
	basemapOrigins := fs.String("basemap-origins", "", "further origins the basemap loads tiles, sprites or glyphs from (comma-separated), for the map's Content-Security-Policy")
	debugAddr := fs.String("debug-addr", "", "serve Go pprof profiles on this address (e.g. 127.0.0.1:6060; default off)")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address instead of the public one (e.g. 127.0.0.1:9100)")
	authFailures := fs.Int("auth-failures-per-minute", 10, "failed staff-key checks a client may make per minute before 429s")
	tileCacheMB := fs.Int("tile-cache-mb", api.DefaultTileCacheBytes>>20, "vector tile cache size in MiB (0 disables it: every tile is a query)")
	searchAnswers := fs.Int("search-answers", api.DefaultSearchAnswers, "how many /search answers to keep in memory by data version and query (0: none, every search is a query)")
	readURLs := fs.String("read-database-url", "", "read replicas (comma-separated URLs, e.g. hot standbys of --database-url): public reads go to them, each with a pool of --max-conns; staff requests, keys and audit stay on --database-url")
	pollInterval := fs.Duration("version-poll-interval", data.DefaultVersionPollInterval, "how often the data version and replica lag are read from the read servers (notifications from the primary also trigger a read)")
	maxLag := fs.Duration("max-replica-lag", data.DefaultMaxReplicaLag, "replica lag past which /readyz fails (with several replicas: when none is within it)")
	sMaxAge := fs.Duration("cache-s-maxage", 0, "Cache-Control s-maxage of public responses, for a CDN or proxy cache in front (0: not sent)")
	swr := fs.Duration("cache-stale-while-revalidate", 0, "Cache-Control stale-while-revalidate of public responses (0: not sent)")
	purgeURL := fs.String("purge-url", "", "after each data change, POST the superseded versions' surrogate keys here as JSON (docs/deploy.md); default none")
	purgeHeader := fs.String("purge-header", "", "a header sent with each purge call, as 'Name: value' (e.g. an API token; prefer NBHD_PURGE_HEADER)")
	prerenderMax := fs.Int("prerender-max-zoom", 10, "after start and each data change, render the composite tiles of zooms 0 to this over the data into the cache in the background (-1: none)")
	pmtilesURL := fs.String("pmtiles-url", "", "draw the map's boundaries from this PMTiles archive (nbhd export pmtiles; absolute or relative to this server) instead of /tiles")
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd serve [flags]",
		about: `Serves the OGC API - Features, vector tiles, neighbourhood profiles, the staff outreach
endpoint and the map, from the database as it is (run nbhd migrate first). Requests run as the
database roles nbhd_public and nbhd_staff. SIGINT or SIGTERM lets requests finish for
--shutdown-timeout, then stops.`,
		examples: []string{
			"nbhd serve",
			"nbhd serve --addr 127.0.0.1:9090 --base-url https://maps.example.org/nbhd",
			"NBHD_DATABASE_URL=postgres://nbhd@db/nbhd nbhd serve --log-format json",
		},
	})
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	switch {
	case *reqTimeout <= 0 || *writeTimeout <= 0 || *acquireTimeout <= 0 || *shutdown <= 0:
		return usageError{"--request-timeout, --write-timeout, --acquire-timeout and --shutdown-timeout must be positive"}
	case *stmtTimeout >= *reqTimeout:
		// A statement PostgreSQL times out itself is a 504 (the query was
		// too heavy); a request whose deadline passes first is a 503 (the
		// database did not answer). The order keeps the two apart.
		return usageError{fmt.Sprintf("--statement-timeout (%s) must be shorter than --request-timeout (%s)", *stmtTimeout, *reqTimeout)}
	case *maxConns < 1 || *staffConns < 0:
		return usageError{"--max-conns must be at least 1"}
	case *pollInterval <= 0 || *maxLag <= 0:
		return usageError{"--version-poll-interval and --max-replica-lag must be positive"}
	case *sMaxAge < 0 || *swr < 0:
		return usageError{"--cache-s-maxage and --cache-stale-while-revalidate may not be negative"}
	}
	if err := checkURL("--purge-url", *purgeURL, true); err != nil {
		return err
	}
	if err := checkURL("--pmtiles-url", *pmtilesURL, false); err != nil {
		return err
	}
	if *purgeHeader != "" && !strings.Contains(*purgeHeader, ":") {
		return usageError{"--purge-header must be 'Name: value'"}
	}
	store, err := data.Open(ctx, data.Config{URL: *url, StatementTimeout: *stmtTimeout, MaxConns: int32(*maxConns),
		StaffMaxConns: int32(*staffConns), AcquireTimeout: *acquireTimeout, ReadURLs: splitList(*readURLs),
		VersionPollInterval: *pollInterval, MaxReplicaLag: *maxLag})
	if err != nil {
		return err
	}
	defer func() {
		store.Close()
		log.Info("database pools closed")
	}()
	if err := store.Ready(ctx); err != nil {
		return err
	}
	cacheBytes := int64(*tileCacheMB) << 20
	if *tileCacheMB <= 0 {
		cacheBytes = -1
	}
	answers := *searchAnswers
	if answers <= 0 {
		answers = -1
	}
	handler := api.New(api.Config{BaseURL: *baseURL, Version: version, CORSOrigins: splitList(*cors), CacheMaxAge: *maxAge,
		TrustedProxies: splitList(*proxies), AuthFailuresPerMinute: *authFailures, BasemapStyle: *basemap,
		BasemapOrigins: splitList(*basemapOrigins), TileCacheBytes: cacheBytes, SearchAnswers: answers, RequestTimeout: *reqTimeout,
		WriteTimeout: *writeTimeout, SeparateMetrics: *metricsAddr != "", CacheSMaxAge: *sMaxAge, StaleWhileRevalidate: *swr,
		PurgeURL: *purgeURL, PurgeHeader: *purgeHeader, PMTilesURL: *pmtilesURL,
		PrerenderZooms: max(*prerenderMax+1, 0)}, store, log)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go store.WatchVersion(watchCtx, log, func(v int64) {
		log.Info("data changed", "version", v)
		handler.DataChanged(v)
	})

	// Requests run under base, which the end of the shutdown grace cancels.
	base, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Writes have deadlines of their own (--write-timeout, per write);
		// this is only the backstop for anything that escapes them.
		WriteTimeout: *reqTimeout + 2**writeTimeout,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:  func(net.Listener) context.Context { return base },
	}
	if *debugAddr != "" {
		go servePprof(ctx, *debugAddr, log)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	var metricsSrv *http.Server
	if *metricsAddr != "" {
		mln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *metricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		metricsSrv = &http.Server{Handler: handler.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: time.Minute}
		go func() { _ = metricsSrv.Serve(mln) }()
		defer metricsSrv.Close()
		log.Info("serving metrics", "addr", mln.Addr().String())
	}
	printURLs(stdout, ln.Addr().String(), *metricsAddr == "")
	log.Info("serving", "addr", ln.Addr().String(), "version", version, "data_version", store.Version(), "read_replicas", len(store.Replicas()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return shutDown(ctx, srv, handler, cancelRequests, *shutdown, log)
}

// shutDown stops the server within grace: it stops accepting, lets
// in-flight requests finish, and when grace is over cancels those still
// running (their queries with them) and closes their connections, so a
// client that never reads cannot keep the process alive. It returns once
// the handlers have returned, so that the pools close cleanly after it.
func shutDown(ctx context.Context, srv *http.Server, handler *api.Server, cancelRequests func(), grace time.Duration, log *slog.Logger) error {
	log.Info("shutting down", "grace", grace, "in_flight", handler.InFlight())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Warn("shutdown grace over: cancelling in-flight requests", "in_flight", handler.InFlight())
	cancelRequests() // every request's context, and so its query
	handler.Abort()  // work detached from requests (tile renders)
	_ = srv.Close()  // every connection, so blocked writes fail at once
	// Cancelled handlers return within moments (a query's cancellation, a
	// failed write); wait for them so their connections are back in the
	// pool before it closes, but never for ever.
	deadline := time.Now().Add(5 * time.Second)
	for handler.InFlight() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := handler.InFlight(); n > 0 {
		log.Error("requests still running after cancellation; exiting anyway", "in_flight", n)
	}
	return nil
}

func printURLs(w io.Writer, addr string, withMetrics bool) {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	base := "http://" + net.JoinHostPort(host, port)
	fmt.Fprintf(w, "nbhd is serving on %s\n", base)
	for _, p := range []string{"/map/", "/", "/collections", "/tiles/all.json", "/api", "/readyz", "/metrics"} {
		if p != "/metrics" || withMetrics {
			fmt.Fprintf(w, "  %s%s\n", base, p)
		}
	}
}

// checkURL refuses a URL flag that is not http(s) (absolute, or for the
// map's archive also a path on this server).
func checkURL(flag, raw string, absolute bool) error {
	if raw == "" {
		return nil
	}
	u, err := neturl.Parse(raw)
	switch {
	case err != nil:
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host != "" {
			return nil
		}
	case !absolute && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"):
		return nil
	}
	if absolute {
		return usageError{fmt.Sprintf("%s %q: want an http(s) URL", flag, raw)}
	}
	return usageError{fmt.Sprintf("%s %q: want an http(s) URL or a path on this server starting with /", flag, raw)}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// servePprof serves Go's profiles on a separate, opt-in address, so they
// are never reachable through the public API.
func servePprof(ctx context.Context, addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("pprof server stopped", "err", err)
	}
}
