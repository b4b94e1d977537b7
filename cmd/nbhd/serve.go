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
	stmtTimeout := fs.Duration("statement-timeout", 10*time.Second, "longest a database statement may run")
	maxConns := fs.Int("max-conns", 0, "connections per database pool (default: pgx's, max(4, CPUs))")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	shutdown := fs.Duration("shutdown-timeout", 20*time.Second, "how long to let requests finish on SIGTERM")
	cors := fs.String("cors-origins", "*", "origins allowed to read the API from a browser: * or a comma-separated list")
	maxAge := fs.Duration("cache-max-age", time.Minute, "Cache-Control max-age of public responses")
	proxies := fs.String("trusted-proxies", "", "proxies whose X-Forwarded-For names the client (comma-separated IPs or CIDRs; default none)")
	basemap := fs.String("basemap-style", "", "MapLibre style URL drawn under the map's layers (default: none, works offline)")
	debugAddr := fs.String("debug-addr", "", "serve Go pprof profiles on this address (e.g. 127.0.0.1:6060; default off)")
	authFailures := fs.Int("auth-failures-per-minute", 10, "failed staff-key checks a client may make per minute before 429s")
	tileCacheMB := fs.Int("tile-cache-mb", api.DefaultTileCacheBytes>>20, "vector tile cache size in MiB (0 disables it: every tile is a query)")
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
	store, err := data.Open(ctx, data.Config{URL: *url, StatementTimeout: *stmtTimeout, MaxConns: int32(*maxConns)})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Ready(ctx); err != nil {
		return err
	}
	cacheBytes := int64(*tileCacheMB) << 20
	if *tileCacheMB <= 0 {
		cacheBytes = -1
	}
	handler := api.New(api.Config{BaseURL: *baseURL, Version: version, CORSOrigins: splitList(*cors), CacheMaxAge: *maxAge,
		TrustedProxies: splitList(*proxies), AuthFailuresPerMinute: *authFailures, BasemapStyle: *basemap,
		TileCacheBytes: cacheBytes}, store, log)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go store.WatchVersion(watchCtx, log, func(v int64) {
		log.Info("data changed", "version", v)
		handler.DataChanged(v)
	})

	srv := &http.Server{
		Addr:              *addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if *debugAddr != "" {
		go servePprof(ctx, *debugAddr, log)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	printURLs(stdout, ln.Addr().String())
	log.Info("serving", "addr", ln.Addr().String(), "version", version, "data_version", store.Version())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", *shutdown)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func printURLs(w io.Writer, addr string) {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	base := "http://" + net.JoinHostPort(host, port)
	fmt.Fprintf(w, "nbhd is serving on %s\n", base)
	for _, p := range []string{"/map/", "/", "/collections", "/tiles/all.json", "/api", "/readyz", "/metrics"} {
		fmt.Fprintf(w, "  %s%s\n", base, p)
	}
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
