package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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

// pool is a pgx pool whose every Query, QueryRow and Exec first acquires a
// connection within acquireTimeout, so a request never queues for a
// connection longer than that: when the pool is exhausted or the database
// is not answering, it fails fast with ErrUnavailable. The statement itself
// runs under the caller's context (the request's deadline).
type pool struct {
	conns          *pgxpool.Pool
	acquireTimeout time.Duration
}

// Close closes the pool, waiting for its connections to be released.
func (p *pool) Close() { p.conns.Close() }

// Stat is the pool's statistics.
func (p *pool) Stat() *pgxpool.Stat { return p.conns.Stat() }

func (p *pool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, p.acquireTimeout)
	defer cancel()
	c, err := p.conns.Acquire(actx)
	if err == nil {
		return c, nil
	}
	if ctx.Err() != nil {
		// The caller's own context ended: its client left, or its deadline
		// passed while waiting (IsUnavailable says so).
		return nil, fmt.Errorf("acquire connection: %w", err)
	}
	return nil, fmt.Errorf("%w: no connection within %s: %w", ErrUnavailable, p.acquireTimeout, err)
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
