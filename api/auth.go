package api

import (
	"errors"
	"net/http"
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
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return data.Key{}, unauthorized("this is staff-only data: send a staff key as Authorization: Bearer <token>")
	}
	k, err := s.store.VerifyKey(c.Request.Context(), strings.TrimSpace(token))
	if errors.Is(err, data.ErrBadKey) {
		s.limiter.fail(client)
		logger(c).Warn("rejected staff key", "client", client)
		return data.Key{}, unauthorized("the key is not valid or has been revoked")
	}
	if err != nil {
		return data.Key{}, err
	}
	c.Writer.Header().Del("WWW-Authenticate")
	return k, nil
}
