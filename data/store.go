package data

import (
	"context"
	"errors"
	"fmt"
	"net"
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

// Config configures the server's connection pools. Zero values take the
// defaults below.
type Config struct {
	URL              string
	StatementTimeout time.Duration // per statement; 0 means 10s
	// MaxConns sizes the public pool; 0 means DefaultMaxConns. Responses
	// are read from PostgreSQL in full before they are written, so a
	// connection is held for a query's time only, never a client's.
	MaxConns int32
	// StaffMaxConns sizes the staff pool; 0 means a quarter of MaxConns,
	// at least 2.
	StaffMaxConns int32
	// AcquireTimeout is the longest a query waits for a pooled connection
	// before failing with ErrUnavailable; 0 means 5s.
	AcquireTimeout time.Duration
	// ConnectTimeout bounds making a connection when the URL has no
	// connect_timeout; 0 means 5s.
	ConnectTimeout time.Duration
}

// Pool defaults.
const (
	DefaultMaxConns       = 8
	defaultAcquireTimeout = 5 * time.Second
	defaultConnectTimeout = 5 * time.Second
)

// withDefaults fills in the zero values.
func (cfg Config) withDefaults() Config {
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 10 * time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.StaffMaxConns <= 0 {
		cfg.StaffMaxConns = max(2, cfg.MaxConns/4)
	}
	if cfg.AcquireTimeout <= 0 {
		cfg.AcquireTimeout = defaultAcquireTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	return cfg
}

// Store holds one read-only pool per request role and the current data
// version.
type Store struct {
	public  *pool
	staff   *pool
	url     string
	version atomic.Int64
	stamp   atomic.Pointer[versionStamp]
	cats    catalogueCache
}

// Open connects both pools. Each connection SETs ROLE once when it is made, so
// a query never runs with more privilege than its pool's role.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
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

func openPool(ctx context.Context, cfg Config, a Access) (*pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	if a == Staff {
		pc.MaxConns = cfg.StaffMaxConns
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	}
	// TCP keepalives notice a database host that has vanished (a network
	// partition, a dead VM) within about a minute instead of the kernel's
	// two hours; deadlines cover a database that is there but not answering.
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}}
	pc.ConnConfig.DialFunc = dialer.DialContext
	// An idle connection is pinged before use (pgxpool's default, after 1 s
	// idle); a ping that does not come back in time drops the connection
	// rather than handing a dead one to a request.
	pc.PingTimeout = cfg.AcquireTimeout
	rp := pc.ConnConfig.RuntimeParams
	rp["statement_timeout"] = fmt.Sprint(cfg.StatementTimeout.Milliseconds())
	rp["idle_in_transaction_session_timeout"] = fmt.Sprint((cfg.StatementTimeout * 2).Milliseconds())
	if a == Public {
		// Staff requests write their audit rows; the role's grants allow
		// nothing else.
		rp["default_transaction_read_only"] = "on"
	}
	rp["application_name"] = "nbhd-" + a.role()
	// A backend whose client has gone (nbhd killed) stops its query within
	// seconds instead of running it to the end.
	rp["client_connection_check_interval"] = "5000"
	// Requests are short; JIT compilation would cost more than it saves.
	rp["jit"] = "off"
	role := a.role()
	pc.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET ROLE "+pgx.Identifier{role}.Sanitize())
		return err
	}
	pp, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open %s pool: %w", role, err)
	}
	if err := pp.Ping(ctx); err != nil {
		pp.Close()
		return nil, fmt.Errorf("connect as %s: %w", role, err)
	}
	return &pool{conns: pp, acquireTimeout: cfg.AcquireTimeout}, nil
}

// Close closes both pools.
func (s *Store) Close() {
	s.public.Close()
	s.staff.Close()
}

func (s *Store) pool(a Access) *pool {
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
