package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// Error is an error with an HTTP status and an OGC API exception body:
// {"code": ..., "description": ...}. Its description is shown to clients.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"code"`
	Description string `json:"description"`
}

func (e *Error) Error() string { return e.Description }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Description: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NotFound", Description: fmt.Sprintf(format, args...)}
}

// handlerFunc is a gin handler that returns its error for writeError.
type handlerFunc func(c *gin.Context) error

// handle adapts a handlerFunc: any error it returns goes through writeError,
// and a spooled body it left is released whatever happened.
func handle(h handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer releaseBody(c)
		if err := h(c); err != nil {
			writeError(c, err)
		}
	}
}

// unavailable is the answer when the database cannot serve a request now.
func unavailable() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "Unavailable",
		Description: "the database is not available at the moment; try again shortly"}
}

// writeError is the one place errors become responses. Anything not an
// *Error is internal: it is logged with the request id and the client gets
// a generic 500 (or 503/504) with no internal text. A database that cannot
// be reached in time is a 503 with Retry-After, logged once per interval
// (outageLog), not once per request.
func writeError(c *gin.Context, err error) {
	var e *Error
	ctx := c.Request.Context()
	switch {
	case errors.As(err, &e):
	case errors.Is(err, data.ErrNotFound):
		e = notFound("not found")
	case clientGone(ctx):
		// The client went away (or the server is closing); nobody reads
		// this response.
		logger(c).Debug("request cancelled by client", "err", err)
		c.Abort()
		return
	case data.IsTimeout(err):
		// PostgreSQL itself cancelled the statement (statement_timeout).
		logger(c).Error("request timed out", "err", err)
		e = &Error{Status: http.StatusGatewayTimeout, Code: "Timeout", Description: "the request took too long; try a smaller area or page"}
	case data.IsUnavailable(err):
		if o, ok := c.Get(outageKey); ok {
			o.(*outageLog).note(logger(c), err)
		}
		e = unavailable()
		c.Header("Retry-After", retryAfter)
	default:
		logger(c).Error("internal error", "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "InternalError", Description: "internal error; quote request id " + requestID(c)}
	}
	if c.Writer.Written() {
		// Headers and part of a streamed body are already out: cut the
		// connection so the client sees a broken response, not a short one.
		logger(c).Error("error after response started", "err", err)
		c.Abort()
		panic(http.ErrAbortHandler)
	}
	// Headers set for the success response must not describe the error.
	h := c.Writer.Header()
	for _, k := range []string{"Content-Encoding", "Content-Length", "ETag", "Last-Modified", "Content-Crs", "Link", "Content-Disposition"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	c.AbortWithStatusJSON(e.Status, e)
}

// logger returns a logger carrying the request's id; it is made only when
// something is logged.
func logger(c *gin.Context) *slog.Logger {
	l := slog.Default()
	if v, ok := c.Get(loggerKey); ok {
		l = v.(*slog.Logger)
	}
	return l.With("request_id", requestID(c))
}
