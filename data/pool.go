package data

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnavailable means the database could not serve a request in time: no
// pooled connection within the acquire timeout. IsUnavailable also
// recognises refused, lost and unanswered connections. Callers answer 503
// with Retry-After: the request was fine, the database was not.
var ErrUnavailable = errors.New("database unavailable")

// IsUnavailable reports whether err means the database is unreachable or
// unresponsive (as opposed to a query it answered with an error): an
// acquire timeout, a failed or lost connection, PostgreSQL shutting down,
// starting up or out of connections, or a deadline that passed while
// waiting on it.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
			"53300": // too many connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection exception
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// pool is a set of interchangeable PostgreSQL servers, each with a pgx
// pool: the primary alone (the staff pool; public reads without replicas)
// or the read replicas. Every Query, QueryRow and Exec first acquires a
// connection within acquireTimeout, so a request never queues for a
// connection longer than that: when the pools are exhausted or the
// database is not answering, it fails fast with ErrUnavailable. The
// statement itself runs under the caller's context (the request's
// deadline).
//
// With several members a query goes to the least busy one (round robin
// among equals) that is up and has replayed at least the data version the
// server serves (floor), so a reply never holds data older than the
// version its ETag names.
type pool struct {
	members        []*member
	acquireTimeout time.Duration
	// floor is the data version a member must have replayed to serve a
	// query; nil serves from any member (the primary).
	floor func() int64
	next  atomic.Uint32
}

// member is one server of a pool and what the version follower last saw
// of it (data/version.go).
type member struct {
	name    string
	conns   *pgxpool.Pool
	version atomic.Int64 // the data version it had replayed when last polled
	down    atomic.Bool  // its last poll failed
	lag     replicaLag
}

// Close closes the pools, waiting for their connections to be released.
func (p *pool) Close() {
	for _, m := range p.members {
		m.conns.Close()
	}
}

// Stat is the first member's statistics (the only member of a pool on the
// primary).
func (p *pool) Stat() *pgxpool.Stat { return p.members[0].conns.Stat() }

// candidates orders the members a query may use, best first: up and
// current, least busy. A member behind the floor is never used: a query
// there would answer with older data than the version it is served under.
func (p *pool) candidates() ([]*member, error) {
	if len(p.members) == 1 && p.floor == nil {
		return p.members, nil
	}
	want := int64(0)
	if p.floor != nil {
		want = p.floor()
	}
	start := int(p.next.Add(1))
	var up, down []*member
	for i := range p.members {
		m := p.members[(start+i)%len(p.members)]
		switch {
		case m.version.Load() < want:
		case m.down.Load():
			down = append(down, m)
		default:
			up = append(up, m)
		}
	}
	busy := func(m *member) float64 {
		st := m.conns.Stat()
		return float64(st.AcquiredConns()) / float64(max(1, st.MaxConns()))
	}
	// Stable: equally busy members keep their round-robin order.
	slices.SortStableFunc(up, func(a, b *member) int { return cmp.Compare(busy(a), busy(b)) })
	if up = append(up, down...); len(up) > 0 {
		return up, nil
	}
	return nil, fmt.Errorf("%w: no read replica has replayed data version %d", ErrUnavailable, want)
}

func (p *pool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	ms, err := p.candidates()
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, p.acquireTimeout)
	defer cancel()
	for i, m := range ms {
		c, err := m.conns.Acquire(actx)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			// The caller's own context ended: its client left, or its
			// deadline passed while waiting (IsUnavailable says so).
			return nil, fmt.Errorf("acquire connection: %w", err)
		}
		// A member that refuses connections is passed over for the next
		// one, within the same acquire timeout.
		if i == len(ms)-1 || actx.Err() != nil || !IsUnavailable(err) {
			return nil, fmt.Errorf("%w: no connection within %s: %w", ErrUnavailable, p.acquireTimeout, err)
		}
	}
	return nil, ErrUnavailable // ms is never empty
}

// Query runs a query on a connection of its own; closing the rows (or
// reading them to the end) releases the connection.
func (p *pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &connRows{Rows: rows, conn: c}, nil
}

// QueryRow runs a query returning at most one row; Scan releases the
// connection.
func (p *pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return &connRow{row: c.QueryRow(ctx, sql, args...), conn: c}
}

// Exec runs a statement and releases its connection.
func (p *pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

// connRows releases its connection as soon as the rows are done.
type connRows struct {
	pgx.Rows
	conn *pgxpool.Conn
}

func (r *connRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.release()
	return false
}

func (r *connRows) Close() {
	r.Rows.Close()
	r.release()
}

func (r *connRows) release() {
	if r.conn != nil {
		r.conn.Release()
		r.conn = nil
	}
}

type connRow struct {
	row  pgx.Row
	conn *pgxpool.Conn
}

func (r *connRow) Scan(dest ...any) error {
	defer r.conn.Release()
	return r.row.Scan(dest...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
