package data

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
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
	// ReadURLs are read replicas (hot standbys of URL, or any servers
	// with the same data): public reads go to them, each with a pool of
	// MaxConns, and the staff pool, imports, keys and audit rows stay on
	// URL. Empty means every read goes to URL.
	ReadURLs []string
	// VersionPollInterval is how often the data version and replica lag
	// are read from each read server (data/version.go); 0 means 1s.
	VersionPollInterval time.Duration
	// MaxReplicaLag is the replica lag past which Ready fails; 0 means
	// DefaultMaxReplicaLag.
	MaxReplicaLag time.Duration
	// TileBytes is the most a vector tile may weigh before it is drawn
	// again on a coarser grid (Store.Tile); 0 means tiles.MaxBytes.
	TileBytes int
}

// Pool defaults. DefaultMaxConns is twice the cores of the machine nbhd
// is measured on (as pg_tileserv's and pg_featureserv's 4): on England, 8
// connections to a 2-core PostgreSQL gave profiles p99 53 ms and searches
// 24 ms under 32 clients, 4 gave 38 ms and 15 ms, with cold tiles within
// noise of each other (docs/performance.md).
const (
	DefaultMaxConns       = 4
	defaultAcquireTimeout = 5 * time.Second
	defaultConnectTimeout = 5 * time.Second
	// DefaultMaxReplicaLag is how far behind its primary a read replica
	// may fall before Ready fails.
	DefaultMaxReplicaLag = 30 * time.Second
	// DefaultVersionPollInterval is how often the data version and the
	// replicas' lag are read.
	DefaultVersionPollInterval = time.Second
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
	if cfg.VersionPollInterval <= 0 {
		cfg.VersionPollInterval = DefaultVersionPollInterval
	}
	if cfg.MaxReplicaLag <= 0 {
		cfg.MaxReplicaLag = DefaultMaxReplicaLag
	}
	return cfg
}

// Store holds the read pool (public requests: the primary, or the read
// replicas), the staff pool on the primary, and the current data version.
type Store struct {
	public   *pool
	staff    *pool
	url      string
	replicas bool
	cfg      Config
	version  atomic.Int64
	stamp    atomic.Pointer[versionStamp]
	// wanted is the newest version the primary has announced (at
	// wantedAt, unix nanoseconds), which the read servers may not have
	// replayed yet; moved is closed whenever the version moves.
	wanted   atomic.Int64
	wantedAt atomic.Int64
	movedMu  sync.Mutex
	moved    chan struct{}
	// The catalogue, the neighbourhood sets and the indicator catalogue
	// are read once per data version.
	cats         versioned[*Catalogue]
	setIDs       versioned[map[string]bool]
	indicatorCat versioned[[]catalogueEntry]
	scopes       versioned[*profileScopes] // what profiles share by borough
	// registerGate holds back all but one asset register change at a
	// time (data/register.go).
	registerGate registerGate
	// statements keeps tile statements by tile set and zoom.
	statements tileStatements
}

// Open connects the pools. Each connection SETs ROLE once when it is made,
// so a query never runs with more privilege than its pool's role. With
// read replicas, Open needs at least one of them to answer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	s := &Store{url: cfg.URL, cfg: cfg, replicas: len(cfg.ReadURLs) > 0}
	var err error
	if s.staff, err = openPool(ctx, cfg, cfg.URL, Staff); err != nil {
		return nil, err
	}
	s.public = &pool{acquireTimeout: cfg.AcquireTimeout}
	if !s.replicas {
		m, err := openMember(ctx, cfg, cfg.URL, Public)
		if err != nil {
			s.staff.Close()
			return nil, err
		}
		m.name = "public"
		s.public.members = []*member{m}
	} else {
		var errs []error
		for i, u := range cfg.ReadURLs {
			m, err := openMember(ctx, cfg, u, Public)
			if err != nil {
				// Named by position: URLs hold host names and credentials.
				errs = append(errs, fmt.Errorf("read replica %d: %w", i+1, err))
				m, err = lazyMember(cfg, u, Public)
				if err != nil {
					s.Close()
					return nil, fmt.Errorf("read replica %d: %w", i+1, err)
				}
				m.down.Store(true)
			}
			m.name = fmt.Sprintf("replica%d", i+1)
			s.public.members = append(s.public.members, m)
		}
		if len(errs) == len(cfg.ReadURLs) {
			s.Close()
			return nil, errors.Join(errs...)
		}
		s.public.floor = s.Version
	}
	if _, err := s.RefreshVersion(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openPool opens a pool of one server.
func openPool(ctx context.Context, cfg Config, url string, a Access) (*pool, error) {
	m, err := openMember(ctx, cfg, url, a)
	if err != nil {
		return nil, err
	}
	m.name = a.role()
	return &pool{members: []*member{m}, acquireTimeout: cfg.AcquireTimeout}, nil
}

// openMember opens a server's pool and checks that it answers.
func openMember(ctx context.Context, cfg Config, url string, a Access) (*member, error) {
	m, err := lazyMember(cfg, url, a)
	if err != nil {
		return nil, err
	}
	if err := m.conns.Ping(ctx); err != nil {
		m.conns.Close()
		return nil, fmt.Errorf("connect as %s: %w", a.role(), err)
	}
	return m, nil
}

// lazyMember makes a server's pool without connecting.
func lazyMember(cfg Config, url string, a Access) (*member, error) {
	pc, err := pgxpool.ParseConfig(url)
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
	pp, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("open %s pool: %w", role, err)
	}
	return &member{conns: pp}, nil
}

// Close closes the pools.
func (s *Store) Close() {
	if s.public != nil {
		s.public.Close()
	}
	s.staff.Close()
}

func (s *Store) pool(a Access) *pool {
	if a == Staff {
		return s.staff
	}
	return s.public
}

// PoolStats reports each pool's statistics, for metrics: "public" and
// "staff", or with read replicas "replica1", "replica2"... and "staff".
func (s *Store) PoolStats() map[string]*pgxpool.Stat {
	out := map[string]*pgxpool.Stat{"staff": s.staff.Stat()}
	for _, m := range s.public.members {
		out[m.name] = m.conns.Stat()
	}
	return out
}

// Ready checks that the database answers as the public role and that its
// schema is this binary's: every migration applied and unchanged since, and
// the same definitions. A changed migration is reported by name. With read
// replicas, one of them must also be within MaxReplicaLag of the primary
// (a *ReplicaLagError otherwise).
func (s *Store) Ready(ctx context.Context) error {
	state, err := CheckMigrations(ctx, s.public, "api.schema_migrations")
	if err != nil {
		return err
	}
	if !state.Current() {
		return ErrMigrationsPending
	}
	if s.replicas {
		return s.replicasReady(ctx)
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
