package data

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Access is the database role a request runs as.
type Access int

// The two request roles. Public requests run as nbhd_public, which has no
// grant on the private schema; staff requests run as nbhd_staff.
const (
	Public Access = iota
	Staff
)

func (a Access) role() string {
	if a == Staff {
		return "nbhd_staff"
	}
	return "nbhd_public"
}

// Config configures the server's connection pools.
type Config struct {
	URL              string
	StatementTimeout time.Duration // per statement; 0 means 10s
	MaxConns         int32         // per pool; 0 means pgx's default
}

// Store holds one read-only pool per request role and the current data
// version.
type Store struct {
	public  *pgxpool.Pool
	staff   *pgxpool.Pool
	url     string
	version atomic.Int64
	stamp   atomic.Pointer[versionStamp]
	cats    catalogueCache
}

// Open connects both pools. Each connection SETs ROLE once when it is made, so
// a query never runs with more privilege than its pool's role.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 10 * time.Second
	}
	s := &Store{url: cfg.URL}
	var err error
	if s.public, err = openPool(ctx, cfg, Public); err != nil {
		return nil, err
	}
	if s.staff, err = openPool(ctx, cfg, Staff); err != nil {
		s.public.Close()
		return nil, err
	}
	if _, err := s.RefreshVersion(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openPool(ctx context.Context, cfg Config, a Access) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	rp := pc.ConnConfig.RuntimeParams
	rp["statement_timeout"] = fmt.Sprint(cfg.StatementTimeout.Milliseconds())
	rp["idle_in_transaction_session_timeout"] = fmt.Sprint((cfg.StatementTimeout * 2).Milliseconds())
	if a == Public {
		// Staff requests write their audit rows; the role's grants allow
		// nothing else.
		rp["default_transaction_read_only"] = "on"
	}
	rp["application_name"] = "nbhd-" + a.role()
	// Requests are short; JIT compilation would cost more than it saves.
	rp["jit"] = "off"
	role := a.role()
	pc.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET ROLE "+pgx.Identifier{role}.Sanitize())
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open %s pool: %w", role, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect as %s: %w", role, err)
	}
	return pool, nil
}

// Close closes both pools.
func (s *Store) Close() {
	s.public.Close()
	s.staff.Close()
}

func (s *Store) pool(a Access) *pgxpool.Pool {
	if a == Staff {
		return s.staff
	}
	return s.public
}

// PoolStats reports each pool's statistics, for metrics.
func (s *Store) PoolStats() map[string]*pgxpool.Stat {
	return map[string]*pgxpool.Stat{"public": s.public.Stat(), "staff": s.staff.Stat()}
}

// Ready checks that the database answers as the public role and that its
// schema is this binary's: every migration applied and unchanged since, and
// the same definitions. A changed migration is reported by name.
func (s *Store) Ready(ctx context.Context) error {
	state, err := CheckMigrations(ctx, s.public, "api.schema_migrations")
	if err != nil {
		return err
	}
	if !state.Current() {
		return ErrMigrationsPending
	}
	return nil
}

// IsTimeout reports whether err is PostgreSQL cancelling a statement that
// ran past statement_timeout.
func IsTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014"
}

// LocalURL is the private cluster scripts/pg.sh starts: 127.0.0.1 on
// $NBHD_PG_PORT (default 54329), database $NBHD_PG_DB (default nbhd), as
// the owner role nbhd. Its password is in var/pgpass, which is used when
// the command runs from the repository (otherwise PGPASSFILE or ~/.pgpass
// apply, as for any PostgreSQL client). It is every command's default, so
// setting the port alone is enough.
func LocalURL() string {
	port, db := os.Getenv("NBHD_PG_PORT"), os.Getenv("NBHD_PG_DB")
	if port == "" {
		port = "54329"
	}
	if db == "" {
		db = "nbhd"
	}
	u := "postgres://nbhd@127.0.0.1:" + port + "/" + db + "?sslmode=disable"
	if os.Getenv("PGPASSFILE") == "" {
		if abs, err := filepath.Abs(filepath.Join("var", "pgpass")); err == nil {
			if _, err := os.Stat(abs); err == nil {
				u += "&passfile=" + url.QueryEscape(abs)
			}
		}
	}
	return u
}
