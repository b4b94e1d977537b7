package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

const (
	loggerKey    = "nbhd.logger"
	requestIDKey = "nbhd.request_id"
)

var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// requestIDs gives every request an id (a sane client X-Request-Id is
// kept) and echoes it in the response. Ids are a random per-process prefix
// and a counter: unique, and cheap on the hot path of cached tiles.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var prefix [4]byte
	_, _ = rand.Read(prefix[:])
	return &requestIDs{prefix: hex.EncodeToString(prefix[:])}
}

// assign returns the id of a request whose X-Request-Id is client, and
// sets it on the response's headers h.
func (g *requestIDs) assign(h http.Header, client string) string {
	id := client
	if id == "" || !clientRequestID.MatchString(id) {
		id = g.prefix + strconv.FormatUint(g.n.Add(1), 16)
	}
	h["X-Request-Id"] = []string{id}
	return id
}

// withRequest gives every request its id, its logger and the outage log.
func withRequest(ids *requestIDs, base *slog.Logger, outage *outageLog) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := ids.assign(c.Writer.Header(), c.GetHeader("X-Request-Id"))
		c.Set(requestIDKey, id)
		c.Set(loggerKey, base)
		c.Set(outageKey, outage)
		c.Next()
	}
}

// accessLog logs one line per request (when info is enabled, or for 5xx
// other than 503, whose outages outageLog reports). A response cut off by
// its write deadline, or by the client, is logged as such at warn, with the
// status it had and the bytes that went out before the cut.
func accessLog(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		cutErr, _ := c.Get(cutKey)
		err, _ := cutErr.(error)
		logRequest(c.Request, base, requestID(c), route(c), c.Writer.Status(), c.Writer.Size(), start, err)
	}
}

// logRequest writes the access log line of a request answered with
// status and size bytes, cut short by cut if that is not nil.
func logRequest(r *http.Request, base *slog.Logger, id, route string, status, size int, start time.Time, cut error) {
	level := slog.LevelInfo
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		level = slog.LevelError
	case cut != nil:
		level = slog.LevelWarn
	}
	ctx := r.Context()
	if !base.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int("bytes", max(size, 0)),
		slog.Duration("duration", time.Since(start)),
	}
	if cut != nil {
		attrs = append(attrs, slog.Bool("cut", true), slog.Any("write_err", cut))
	}
	base.With("request_id", id).LogAttrs(ctx, level, "request", attrs...)
}

// route is the matched route pattern, which keeps metric labels bounded.
func route(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// recoverJSON turns a panic into a logged 500 with a JSON body; an aborted
// streamed response is re-panicked so net/http drops the connection.
func recoverJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(r)
			}
			logger(c).Error("panic", "panic", r)
			if !c.Writer.Written() {
				c.AbortWithStatusJSON(http.StatusInternalServerError, &Error{Code: "InternalError",
					Description: "internal error; quote request id " + requestID(c)})
				return
			}
			panic(http.ErrAbortHandler)
		}()
		c.Next()
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
