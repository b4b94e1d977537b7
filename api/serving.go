package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Serving limits: Config's zero values take these.
const (
	// DefaultRequestTimeout bounds a request's database work: every query
	// runs under a context with this deadline.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultWriteTimeout is the longest one write to a client may block.
	// A client that reads nothing for this long is cut off; one that reads
	// a writePiece in each such span may take as long as it needs.
	DefaultWriteTimeout = 20 * time.Second
	// retryAfter is what a 503 tells clients to wait, in seconds.
	retryAfter = "2"
	// outageLogInterval is how often a database outage is logged.
	outageLogInterval = 10 * time.Second
)

// errRequestDeadline is the cause of a request context whose deadline
// passed, to tell it from a client that went away.
var errRequestDeadline = errors.New("request deadline passed")

const cutKey = "nbhd.cut"

// writePiece is the most written to a client under one write deadline:
// a client is served as long as it takes a piece per write timeout (64
// KiB per 20 s by default, 3.2 KB/s). Most tiles go in one piece: on
// loopback, 32 KiB pieces cost the half of England's z12 composite tiles
// over 32 KiB a third write call each, and a fifth of their warm rate
// (docs/performance.md).
const writePiece = 64 << 10

// deadlines gives every request a deadline on its context, which every
// query runs under, and every write to the client a deadline of its own
// (http.ResponseController.SetWriteDeadline before each piece of at most
// writePiece bytes): a client that stops reading is cut off after
// writeTimeout without progress, however long the whole download.
func deadlines(requestTimeout, writeTimeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeoutCause(c.Request.Context(), requestTimeout, errRequestDeadline)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		raw := http.ResponseWriter(c.Writer)
		if u, ok := raw.(interface{ Unwrap() http.ResponseWriter }); ok {
			raw = u.Unwrap()
		}
		w := &deadlineWriter{ResponseWriter: c.Writer, c: c,
			timed: timedWriter{ResponseWriter: c.Writer, rc: http.NewResponseController(raw), timeout: writeTimeout}}
		c.Writer = w
		c.Next()
		w.finish()
	}
}

// timedWriter sets a write deadline before every write of at most
// writePiece bytes and keeps the first failed write's error: the write
// side of deadlines, for the router's responses (deadlineWriter) and the
// cached tiles served without it (api/tilehit.go).
type timedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	err     error
	// armed is when the write deadline was last set.
	armed time.Time
}

func (w *timedWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), writePiece)
		w.arm(time.Now())
		m, err := w.ResponseWriter.Write(p[:k])
		n += m
		if err != nil {
			w.err = err
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// arm gives the next write until now plus the write timeout.
func (w *timedWriter) arm(now time.Time) {
	_ = w.rc.SetWriteDeadline(now.Add(w.timeout))
	w.armed = now
}

// flush pushes out what net/http still buffers, under a deadline. A flush
// right after a write keeps that write's deadline, with at least seven
// eighths of the timeout left: setting a deadline costs as much as a
// cached tile's lookup, and a cached tile is one write.
func (w *timedWriter) flush() error {
	if w.err != nil {
		return w.err
	}
	if now := time.Now(); now.Sub(w.armed) > w.timeout/8 {
		w.arm(now)
	}
	if err := w.rc.Flush(); err != nil {
		w.err = err
	}
	return w.err
}

// deadlineWriter is a gin writer whose writes are timed, and which notes
// a cut response on the request, so the access log reports it as such,
// with the bytes that went out.
type deadlineWriter struct {
	gin.ResponseWriter
	c     *gin.Context
	timed timedWriter // writing to the same gin writer
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	n, err := w.timed.Write(p)
	if err != nil {
		w.c.Set(cutKey, err)
	}
	return n, err
}

func (w *deadlineWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// finish pushes out what net/http still buffers, under a deadline, so that
// a client that stopped reading near the end is noticed too. Small bodies
// without a Content-Length are left to net/http, which then sets one.
func (w *deadlineWriter) finish() {
	if w.timed.err != nil || !w.Written() || w.c.Request.Method == http.MethodHead {
		return
	}
	if w.Size() <= 2048 && w.Header().Get("Content-Length") == "" {
		return
	}
	if err := w.timed.flush(); err != nil {
		w.c.Set(cutKey, err)
	}
}

// clientGone reports whether the request's context ended because its
// client hung up (or the server is shutting down), not by its deadline.
func clientGone(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errRequestDeadline)
}

// outageLog reports database outages at most once per interval, with the
// number of requests answered 503 since the last report, rather than one
// error line per request.
type outageLog struct {
	mu       sync.Mutex
	interval time.Duration
	last     time.Time
	refused  int
}

const outageKey = "nbhd.outage"

func (o *outageLog) note(log *slog.Logger, err error) {
	o.mu.Lock()
	o.refused++
	now := time.Now()
	if !o.last.IsZero() && now.Sub(o.last) < o.interval {
		o.mu.Unlock()
		return
	}
	n := o.refused
	o.refused, o.last = 0, now
	o.mu.Unlock()
	log.Error("database unavailable: answering 503", "err", err, "requests_refused", n, "next_report_in", o.interval)
}
