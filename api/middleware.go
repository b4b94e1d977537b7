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

// withRequest gives every request an id (a sane client X-Request-Id is
// kept) and echoes it in the response. Ids are a random per-process prefix
// and a counter: unique, and cheap on the hot path of cached tiles.
func withRequest(base *slog.Logger, outage *outageLog) gin.HandlerFunc {
	var prefix [4]byte
	_, _ = rand.Read(prefix[:])
	p := hex.EncodeToString(prefix[:])
	var n atomic.Uint64
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if id == "" || !clientRequestID.MatchString(id) {
			id = p + strconv.FormatUint(n.Add(1), 16)
		}
		c.Set(requestIDKey, id)
		c.Set(loggerKey, base)
		c.Set(outageKey, outage)
		c.Header("X-Request-Id", id)
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
		status := c.Writer.Status()
		level := slog.LevelInfo
		cutErr, cut := c.Get(cutKey)
		switch {
		case status >= 500 && status != http.StatusServiceUnavailable:
			level = slog.LevelError
		case cut:
			level = slog.LevelWarn
		}
		if !base.Enabled(c.Request.Context(), level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.String("route", route(c)),
			slog.Int("status", status),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.Duration("duration", time.Since(start)),
		}
		if cut {
			attrs = append(attrs, slog.Bool("cut", true), slog.Any("write_err", cutErr))
		}
		logger(c).LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
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
