package data

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Admin is one session as the schema owner, for the operator's commands
// (migrate, import, datasets, keys, settings). Unlike the server's pools it
// has no statement timeout, since a national file takes minutes to import;
// instead the server checks every second that the client is still there, so
// the backend of a killed command stops within seconds rather than holding
// its locks until its statement ends.
type Admin struct {
	conn *pgx.Conn
}

// ConnectTimeout bounds how long Connect waits for the server when the URL
// sets no connect_timeout.
const ConnectTimeout = 15 * time.Second

// clientCheckInterval is how often a running statement checks that the
// client has not gone (client_connection_check_interval, PostgreSQL 14+).
const clientCheckInterval = time.Second

// idleInTransaction ends a session that sits in a transaction doing nothing.
const idleInTransaction = 10 * time.Minute

// Connect opens an Admin session. purpose (e.g. "nbhd import") names it in
// pg_stat_activity.
func Connect(ctx context.Context, url, purpose string) (*Admin, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = ConnectTimeout
	}
	rp := cfg.RuntimeParams
	rp["application_name"] = purpose
	// A client whose machine vanishes (no FIN, no RST) is found by TCP
	// keepalives within about 30 s; these are ignored on a unix socket.
	rp["tcp_keepalives_idle"] = "15"
	rp["tcp_keepalives_interval"] = "5"
	rp["tcp_keepalives_count"] = "3"
	// A client that stops (SIGSTOP, a suspended laptop) inside a
	// transaction would hold its locks for ever; between statements an
	// import only reads its file, for well under this.
	rp["idle_in_transaction_session_timeout"] = strconv.FormatInt(idleInTransaction.Milliseconds(), 10)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database (is it running? `make db` starts the local one): %w", err)
	}
	a := &Admin{conn: conn}
	if err := a.checkClient(ctx); err != nil {
		a.Close(ctx)
		return nil, err
	}
	return a, nil
}

// checkClient turns on client_connection_check_interval where the server
// has it (PostgreSQL 14 and later); older servers notice a gone client only
// when they next write to it.
func (a *Admin) checkClient(ctx context.Context) error {
	v, err := strconv.Atoi(a.conn.PgConn().ParameterStatus("server_version_num"))
	if err != nil {
		var s string
		if err := a.conn.QueryRow(ctx, "SHOW server_version_num").Scan(&s); err != nil {
			return fmt.Errorf("read server version: %w", err)
		}
		v, _ = strconv.Atoi(s)
	}
	if v < 140000 {
		return nil
	}
	if _, err := a.conn.Exec(ctx, "SELECT set_config('client_connection_check_interval', $1, false)",
		strconv.FormatInt(clientCheckInterval.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("set client_connection_check_interval: %w", err)
	}
	return nil
}

// Close ends the session; it uses its own context so that a cancelled
// command still says goodbye to the server.
func (a *Admin) Close(ctx context.Context) {
	_ = a.conn.Close(context.WithoutCancel(ctx))
}

// Begin starts a transaction, so an Admin is what ingest.Run and
// ingest.LoadSample write through.
func (a *Admin) Begin(ctx context.Context) (pgx.Tx, error) {
	return a.conn.Begin(ctx)
}

// Migrate applies pending migrations (see the package-level Migrate).
func (a *Admin) Migrate(ctx context.Context) ([]string, error) {
	return Migrate(ctx, a.conn)
}

// CreateKey stores a new staff key and returns its token, shown once.
func (a *Admin) CreateKey(ctx context.Context, name, role string, scopes []string) (string, Key, error) {
	return CreateKey(ctx, a.conn, name, role, scopes)
}

// ListKeys lists every staff key, live or revoked.
func (a *Admin) ListKeys(ctx context.Context) ([]Key, error) {
	return ListKeys(ctx, a.conn)
}

// RevokeKey revokes a live key (ErrNotFound when there is none).
func (a *Admin) RevokeKey(ctx context.Context, id int64) error {
	return RevokeKey(ctx, a.conn, id)
}
