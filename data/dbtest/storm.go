package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Strings runs a query returning one text column on a test database.
func Strings(t testing.TB, dbURL, sql string, args ...any) []string {
	t.Helper()
	conn := Conn(t, dbURL)
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Ping connects to dbURL and closes the connection: nil once the server
// accepts connections.
func Ping(ctx context.Context, dbURL string) error {
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	return c.Close(context.Background())
}

// CancelStorm runs queries on one direct connection as role until end,
// each under a context that expires after timeout() — so PostgreSQL is
// sent a cancel request mid-query, as a client hanging up does — and
// reuses the connection afterwards. It returns how many queries were
// cancelled and how many completed.
func CancelStorm(t testing.TB, dbURL, role string, end time.Time, next func() (string, []any), timeout func() time.Duration) (cancelled, completed int64) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Error(err)
		return
	}
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for time.Now().Before(end) {
		if conn == nil || conn.IsClosed() {
			if conn, err = pgx.ConnectConfig(context.Background(), cfg); err != nil {
				t.Errorf("connect: %v", err)
				return
			}
			if _, err := conn.Exec(context.Background(), "SET ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
				t.Errorf("set role: %v", err)
				return
			}
		}
		sql, args := next()
		ctx, cancel := context.WithTimeout(context.Background(), timeout())
		var out []byte
		err := conn.QueryRow(ctx, sql, args...).Scan(&out)
		cancel()
		if err != nil {
			cancelled++
		} else {
			completed++
		}
	}
	return cancelled, completed
}

// Rows runs a query on a test database and returns each row as text (its
// values joined by |), for comparing states of the database.
func Rows(t testing.TB, dbURL, sql string, args ...any) []string {
	t.Helper()
	conn := Conn(t, dbURL)
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
