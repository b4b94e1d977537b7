package api

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// cors allows cross-origin GETs from any origin ("*", the default) or from
// an allow-list, and answers preflight OPTIONS requests itself.
func cors(origins []string) gin.HandlerFunc {
	anyOrigin := len(origins) == 0 || slices.Contains(origins, "*")
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		h := c.Writer.Header()
		allowed := origin != "" && (anyOrigin || slices.Contains(origins, origin))
		if allowed {
			if anyOrigin {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Add("Vary", "Origin")
			}
			h.Set("Access-Control-Expose-Headers", "ETag, Last-Modified, Content-Crs, Link, X-Request-Id")
		}
		if c.Request.Method == http.MethodOptions {
			h.Set("Allow", "GET, HEAD, OPTIONS")
			if allowed {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Accept, Accept-Encoding, Authorization, If-None-Match, If-Modified-Since, X-Request-Id")
				h.Set("Access-Control-Max-Age", "86400")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// conditional sets the validators of a public response that depends only on
// the data version and the request (path, query and representation), and
// answers 304 when the client's copy is current. It reports whether it did.
func (s *Server) conditional(c *gin.Context, f format) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s?%s|%s", c.Request.URL.Path, c.Request.URL.RawQuery, f)
	etag := fmt.Sprintf(`W/"%d-%x"`, s.store.Version(), h.Sum64())
	modified := s.store.VersionTime()
	hdr := c.Writer.Header()
	hdr.Set("ETag", etag)
	if !modified.IsZero() {
		hdr.Set("Last-Modified", modified.Format(http.TimeFormat))
	}
	hdr.Set("Cache-Control", s.cacheControl)
	hdr.Add("Vary", "Accept, Accept-Encoding")
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

// body is a response body written in pieces: buffered, and gzip-compressed
// when the client accepts it. Nothing reaches the client until the buffer
// fills or Close, so an error before then can still become a clean 4xx/5xx.
type body struct {
	bw *bufio.Writer
	gz *gzip.Writer
}

// newBody sets the content type (and encoding) and returns the writer.
func newBody(c *gin.Context, f format) *body {
	c.Header("Content-Type", mediaTypes[f])
	b := &body{}
	var w io.Writer = c.Writer
	if acceptsGzip(c.GetHeader("Accept-Encoding")) {
		c.Header("Content-Encoding", "gzip")
		b.gz = gzipWriters.Get().(*gzip.Writer)
		b.gz.Reset(c.Writer)
		w = b.gz
	}
	b.bw = bufio.NewWriterSize(w, 32<<10)
	return b
}

func (b *body) Write(p []byte) (int, error)       { return b.bw.Write(p) }
func (b *body) WriteString(s string) (int, error) { return b.bw.WriteString(s) }

// Close flushes everything to the client.
func (b *body) Close() error {
	err := b.bw.Flush()
	if b.gz != nil {
		if cerr := b.gz.Close(); err == nil {
			err = cerr
		}
		gzipWriters.Put(b.gz)
		b.gz = nil
	}
	return err
}

// timestamp formats a time as OGC API documents do (RFC 3339, UTC).
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
