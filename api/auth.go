package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// failureLimiter counts failed key checks per client and refuses further
// attempts from a client past the limit until its window ends, so tokens
// cannot be guessed at speed.
type failureLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	seen   map[string]*failures
}

type failures struct {
	n     int
	until time.Time
}

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, now: time.Now, seen: map[string]*failures{}}
}

// blocked reports how long a client must wait, or 0.
func (l *failureLimiter) blocked(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.seen[client]
	now := l.now()
	if f == nil || now.After(f.until) {
		return 0
	}
	if f.n >= l.limit {
		return f.until.Sub(now)
	}
	return 0
}

func (l *failureLimiter) fail(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 10_000 { // forget expired clients now and then
		for k, f := range l.seen {
			if now.After(f.until) {
				delete(l.seen, k)
			}
		}
	}
	f := l.seen[client]
	if f == nil || now.After(f.until) {
		f = &failures{until: now.Add(l.window)}
		l.seen[client] = f
	}
	f.n++
}

func unauthorized(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "Unauthorized", Description: desc}
}

// staffKey authenticates a staff request by its bearer token.
func (s *Server) staffKey(c *gin.Context) (data.Key, error) {
	client := c.ClientIP()
	if wait := s.limiter.blocked(client); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return data.Key{}, &Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
			Description: "too many failed key checks from this client; try again later"}
	}
	c.Header("Cache-Control", "no-store")
	c.Header("WWW-Authenticate", `Bearer realm="nbhd staff"`)
	token := bearer(c)
	if token == "" {
		return data.Key{}, unauthorized("this is staff-only data: send a staff key as Authorization: Bearer <token>")
	}
	k, err := s.store.VerifyKey(c.Request.Context(), token)
	if errors.Is(err, data.ErrBadKey) {
		s.limiter.fail(client)
		logger(c).Warn("rejected staff key", "client", client)
		return data.Key{}, unauthorized("the key is not valid or has been revoked")
	}
	if err != nil {
		return data.Key{}, err
	}
	c.Writer.Header().Del("WWW-Authenticate")
	c.Set(staffKeyKey, k)
	return k, nil
}

// Context keys of the staff audit.
const (
	staffKeyKey  = "nbhd.staff_key"  // the verified key
	auditedKey   = "nbhd.audited"    // the handler wrote the audit row itself
	auditRowsKey = "nbhd.audit_rows" // rows the request was answered with
)

// bearer is the request's bearer token, or "".
func bearer(c *gin.Context) string {
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// audited reports the requests auditStaff records: staff routes, the
// register's writes and history, and staff reads of its items.
func audited(c *gin.Context) bool {
	if slices.Contains(staffPaths, c.Request.URL.Path) {
		return true
	}
	if !isRegisterRoute(c) {
		return false
	}
	m := c.Request.Method
	return (m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions) ||
		strings.HasSuffix(c.FullPath(), "/history") || c.GetHeader("Authorization") != ""
}

// auditStaff writes an audit row for every request to a staff route made
// with a valid key, whatever its answer: 200 (written by the handler before
// it sends any data, so an audit failure withholds the data; a change to the
// register writes its row in the change's transaction), and 400, 403, 404,
// 405, 412, 500 or 503 after the fact. Each row names the borough the
// request concerned, where the handler found one. A request refused before
// its handler checked the key (bad bytes in its query, say) has its key
// checked here.
func (s *Server) auditStaff(c *gin.Context) {
	if !audited(c) {
		c.Next()
		return
	}
	c.Next()
	if c.GetBool(auditedKey) {
		return
	}
	status := c.Writer.Status()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	v, ok := c.Get(staffKeyKey)
	if !ok {
		token, client := bearer(c), c.ClientIP()
		if token == "" || status == http.StatusUnauthorized || status == http.StatusTooManyRequests || s.limiter.blocked(client) > 0 {
			return // no valid key: not an authenticated request
		}
		k, err := s.store.VerifyKey(ctx, token)
		if errors.Is(err, data.ErrBadKey) {
			s.limiter.fail(client)
		}
		if err != nil {
			return
		}
		v = k
	}
	k := v.(data.Key)
	if err := s.store.Audit(ctx, k.ID, c.Request.Method, auditText(c.Request.URL.Path), auditText(c.Request.URL.RawQuery), c.GetInt(auditRowsKey), status, c.GetString(auditLadKey)); err != nil {
		logger(c).Error("could not write the audit row of a staff request", "err", err, "key", k.ID, "status", status)
	}
}

// auditText makes request text storable: PostgreSQL text holds neither NUL
// nor invalid UTF-8.
func auditText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\x00", "\ufffd")
}
