// Package dbtest gives tests their own real PostgreSQL databases, cloned
// from a migrated template (optionally with the sample loaded) that is
// built once per test process. There are no mocks of PostGIS in nbhd.
//
// The server comes from NBHD_TEST_DATABASE_URL, else NBHD_DATABASE_URL,
// else the local cluster scripts/pg.sh starts. Without a reachable server
// tests fail when CI is set and are skipped, loudly, otherwise.
package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/ingest"
	"nbhd/data/sample"
)

const prefix = "nbhd_t_"

// ServerURL is the URL tests connect to to create databases.
func ServerURL() string {
	for _, k := range []string{"NBHD_TEST_DATABASE_URL", "NBHD_DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return data.LocalURL()
}

// withDatabase returns u with its database name replaced.
func withDatabase(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	return p.String()
}

var (
	mu        sync.Mutex
	templates = map[bool]string{}
	created   []string
	counter   atomic.Int64
)

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("no PostgreSQL for tests at %s (run `make test`, which starts one): %v", ServerURL(), err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func admin(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, withDatabase(ServerURL(), "postgres"))
}

// template builds (once per process) a migrated template database, with
// the bundled sample loaded when withSample.
func template(ctx context.Context, withSample bool) (string, error) {
	if name, ok := templates[withSample]; ok {
		return name, nil
	}
	conn, err := admin(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%stpl_%d_%t", prefix, os.Getpid(), withSample)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	created = append(created, name)
	db, err := pgx.Connect(ctx, withDatabase(ServerURL(), name))
	if err != nil {
		return "", err
	}
	defer db.Close(ctx)
	if _, err := data.Migrate(ctx, db); err != nil {
		return "", err
	}
	if withSample {
		if err := ingest.LoadSample(ctx, db, sample.FS, sample.Dir, data.LockWait{}, nil, nil); err != nil {
			return "", fmt.Errorf("load sample into template: %w", err)
		}
	}
	templates[withSample] = name
	return name, nil
}

// New creates a fresh migrated database for t, with the sample loaded when
// withSample, and returns its URL. It is dropped when t ends.
func New(t testing.TB, withSample bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mu.Lock()
	defer mu.Unlock()
	tpl, err := template(ctx, withSample)
	if err != nil {
		if strings.Contains(err.Error(), "connect") || strings.Contains(err.Error(), "dial") {
			unavailable(t, err)
		}
		t.Fatalf("build template database: %v", err)
	}
	conn, err := admin(ctx)
	if err != nil {
		unavailable(t, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%s%d_%d", prefix, os.Getpid(), counter.Add(1))
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{tpl}.Sanitize())); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { drop(name) })
	return withDatabase(ServerURL(), name)
}

// NewEmpty creates a database with nothing in it: no
// migrations, for tests of upgrades. It is dropped when t ends.
func NewEmpty(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := admin(ctx)
	if err != nil {
		unavailable(t, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%s%d_%d", prefix, os.Getpid(), counter.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create empty test database: %v", err)
	}
	t.Cleanup(func() { drop(name) })
	return withDatabase(ServerURL(), name)
}

func drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := admin(ctx)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// Main runs a package's tests, then drops the templates this process made
// and any test databases left by processes that no longer exist.
func Main(m *testing.M) {
	dropStale()
	code := m.Run()
	for _, name := range created {
		drop(name)
	}
	os.Exit(code)
}

// dropStale removes test databases whose creating process has gone, as a
// killed test run leaves them behind.
func dropStale() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := admin(ctx)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", prefix+"%")
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		rest := strings.TrimPrefix(strings.TrimPrefix(n, prefix), "tpl_")
		pidText, _, _ := strings.Cut(rest, "_")
		pid, err := strconv.Atoi(pidText)
		if err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			continue
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
	}
}

// Conn opens an admin connection to a test database, closed when t ends.
func Conn(t testing.TB, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
