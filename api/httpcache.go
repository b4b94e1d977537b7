package api

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzip"

	"nbhd/data"
)

// conditional sets the validators of a public response that depends only on
// the data version and the request (path, query and representation), and
// answers 304 when the client's copy is current. It reports whether it did.
func (s *Server) conditional(c *gin.Context, f format) bool {
	s.store.Settle(c.Request.Context()) // the version must not be older than the data read next
	h := fnv.New64a()
	fmt.Fprintf(h, "%s?%s|%s", c.Request.URL.Path, c.Request.URL.RawQuery, f)
	etag := fmt.Sprintf(`W/"%d-%x"`, s.store.Version(), h.Sum64())
	modified := s.store.VersionTime()
	hdr := c.Writer.Header()
	hdr.Set("ETag", etag)
	if !modified.IsZero() {
		hdr.Set("Last-Modified", modified.Format(http.TimeFormat))
	}
	hdr["Cache-Control"] = s.cacheControl
	hdr.Add("Vary", "Accept, Accept-Encoding")
	surrogateKeys(c.Writer.Header(), s.store.Version(), routeLayer(c)...)
	if inm := c.GetHeader("If-None-Match"); inm != "" {
		if etagMatch(inm, etag) {
			c.Status(http.StatusNotModified)
			c.Writer.WriteHeaderNow()
			return true
		}
		return false
	}
	if ims, err := http.ParseTime(c.GetHeader("If-Modified-Since")); err == nil && !modified.IsZero() && !modified.After(ims) {
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return true
	}
	return false
}

// publicCacheControl is the Cache-Control of public responses: max-age
// for browsers and, when configured, s-maxage and stale-while-revalidate
// for shared caches. A CDN that is purged on each data change
// (Config.PurgeURL) can keep responses far longer than browsers, which
// revalidate with the ETag; stale-while-revalidate lets it answer at once
// while it revalidates in the background.
func publicCacheControl(cfg Config) string {
	cc := fmt.Sprintf("public, max-age=%d", int(cfg.CacheMaxAge.Seconds()))
	if cfg.CacheSMaxAge > 0 {
		cc += fmt.Sprintf(", s-maxage=%d", int(cfg.CacheSMaxAge.Seconds()))
	}
	if cfg.StaleWhileRevalidate > 0 {
		cc += fmt.Sprintf(", stale-while-revalidate=%d", int(cfg.StaleWhileRevalidate.Seconds()))
	}
	return cc
}

// Surrogate keys name what a cached response depends on, so a CDN purge
// can target it: every response that depends on the data carries
// keyData and the key of its data version (versionKey), and one about a
// layer that layer's key (nbhd-layer-{id}; a composite tile, every
// layer's). The purge hook sends the version keys of superseded versions.
const keyData = "nbhd-data"

func versionKey(v int64) string { return "nbhd-v" + strconv.FormatInt(v, 10) }

// surrogateKeys sets Surrogate-Key (space-separated, as Fastly and others
// read it) and Cache-Tag (comma-separated, as Cloudflare and others do).
func surrogateKeys(h http.Header, version int64, layers ...string) {
	sk, ct := surrogateValues(version, layers...)
	h["Surrogate-Key"] = sk
	h["Cache-Tag"] = ct
}

func surrogateValues(version int64, layers ...string) (surrogateKey, cacheTag []string) {
	keys := []string{keyData, versionKey(version)}
	for _, l := range layers {
		if validKeyPart(l) {
			keys = append(keys, "nbhd-layer-"+l)
		}
	}
	return []string{strings.Join(keys, " ")}, []string{strings.Join(keys, ",")}
}

// tileSurrogates keeps the surrogate key headers of each tile set at the
// current data version: they are the same for every tile of a set, and
// building them was a few percent of a cached tile's time. The values are
// shared, as api/security.go's are.
type tileSurrogates struct {
	mu      sync.Mutex
	version int64
	bySet   map[string][2][]string
}

// maxTileSurrogates bounds the sets kept: composites of chosen layers
// can be many.
const maxTileSurrogates = 256

// set sets the surrogate key headers of a tile of tile set key (whose
// layers are layers) at version.
func (t *tileSurrogates) set(h http.Header, version int64, key string, layers []*data.Layer) {
	t.mu.Lock()
	if t.version != version || t.bySet == nil {
		t.version, t.bySet = version, map[string][2][]string{}
	}
	v, ok := t.bySet[key]
	if !ok {
		v[0], v[1] = surrogateValues(version, data.LayerIDs(layers)...)
		if len(t.bySet) < maxTileSurrogates {
			t.bySet[key] = v
		}
	}
	t.mu.Unlock()
	h["Surrogate-Key"] = v[0]
	h["Cache-Tag"] = v[1]
}

// routeLayer is the layer a request is about, from its route: a
// collection, or a neighbourhood set's layer. It comes from the path, so
// it is checked to be a plain name before it goes into a header.
func routeLayer(c *gin.Context) []string {
	if id := c.Param("collection"); id != "" {
		return []string{id}
	}
	if set := c.Param("set"); set != "" {
		return []string{"neighbourhoods-" + set}
	}
	return nil
}

// validKeyPart accepts the characters of layer ids, and nothing a header
// or a key list could be confused by.
func validKeyPart(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// etagMatch compares weakly, as If-None-Match requires.
func etagMatch(header, etag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == "*" || strip(t) == strip(etag) {
			return true
		}
	}
	return false
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

var bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(io.Discard, 32<<10) }}

const (
	bodyKey        = "nbhd.body"
	spoolBudgetKey = "nbhd.spool_budget"
)

// body is a response body written in pieces: gzip-compressed when the
// client accepts it and it is not tiny (encoder), and spooled (see spool)
// until Close sends it with its Content-Length. Nothing reaches the client
// before Close, so a handler reads all its rows, and releases its
// connection, before it writes, and an error before Close can still become
// a clean 4xx/5xx.
type body struct {
	c  *gin.Context
	sp *spool
	bw *bufio.Writer
	gz *gzip.Writer

	acceptsGzip bool      // the client takes gzip; encoder decides whether it gets it
	closing     bool      // Close is flushing bw: what it flushes is the whole rest
	out         io.Writer // where encoder writes, once decided: sp or gz
}

// minGzip is the smallest body worth compressing. Below it gzip saves a few
// hundred bytes at most, and building its Huffman tables for them costs
// more than sending them (a search answer, 7 % of its CPU).
const minGzip = 1024

// encoder is what a body's buffer flushes into. Its first write decides the
// encoding: bw flushes before Close only when its 32 KB are full, so a
// first write during Close shorter than minGzip is the whole body, and is
// sent as it is.
type encoder struct{ b *body }

func (e encoder) Write(p []byte) (int, error) {
	b := e.b
	if b.out == nil {
		b.out = b.sp
		if b.acceptsGzip && (!b.closing || len(p) >= minGzip) {
			b.c.Header("Content-Encoding", "gzip")
			b.gz = gzipWriters.Get().(*gzip.Writer)
			b.gz.Reset(b.sp)
			b.out = b.gz
		}
	}
	return b.out.Write(p)
}

// newBody sets the content type and returns the writer.
func newBody(c *gin.Context, f format) *body {
	c.Header("Content-Type", mediaTypes[f])
	if f == fHTML {
		c.Header("Content-Security-Policy", pageCSP)
	}
	var budget *spoolBudget
	if v, ok := c.Get(spoolBudgetKey); ok {
		budget = v.(*spoolBudget)
	}
	b := &body{c: c, sp: newSpool(budget), acceptsGzip: acceptsGzip(c.GetHeader("Accept-Encoding"))}
	b.bw = bufWriters.Get().(*bufio.Writer)
	b.bw.Reset(encoder{b})
	c.Set(bodyKey, b)
	return b
}

func (b *body) Write(p []byte) (int, error)       { return b.bw.Write(p) }
func (b *body) WriteString(s string) (int, error) { return b.bw.WriteString(s) }

// Close finishes the body and sends it. A client that stops reading is
// cut off by the write deadline; that is logged with the request
// (deadlineWriter), not returned as an error.
func (b *body) Close() error {
	b.closing = true
	err := b.bw.Flush()
	if b.gz != nil && err == nil {
		err = b.gz.Close()
	}
	b.releaseWriters() // not needed while the client reads
	if err != nil {
		b.release()
		return err
	}
	b.c.Header("Content-Length", strconv.FormatInt(b.sp.Size(), 10))
	b.c.Writer.WriteHeaderNow()
	_, err = b.sp.WriteTo(b.c.Writer)
	b.release()
	if _, cut := b.c.Get(cutKey); cut {
		b.c.Abort()
		return nil
	}
	return err
}

// release returns the body's buffers; it is safe to call twice.
func (b *body) release() {
	b.releaseWriters()
	b.sp.Release()
}

// releaseWriters returns the gzip and buffered writers to their pools.
func (b *body) releaseWriters() {
	if b.gz != nil {
		b.gz.Reset(io.Discard)
		gzipWriters.Put(b.gz)
		b.gz = nil
	}
	b.out = nil
	if b.bw != nil {
		b.bw.Reset(io.Discard)
		bufWriters.Put(b.bw)
		b.bw = nil
	}
}

// releaseBody releases the body a handler made, if it did not send it.
func releaseBody(c *gin.Context) {
	if v, ok := c.Get(bodyKey); ok {
		v.(*body).release()
	}
}

// timestamp formats a time as OGC API documents do (RFC 3339, UTC).
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
