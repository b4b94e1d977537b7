package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"nbhd/data/migrations"
)

// Migration is one embedded, versioned SQL file. Once applied anywhere it
// never changes: its SHA-256 is stored with it and checked on every
// migrate and readiness check.
type Migration struct {
	Version int
	Name    string
	SQL     string
	SHA256  string
}

// Definition is one embedded file of views, functions and triggers: the
// domain rules. Definitions are re-applied, all of them in file order,
// whenever any of them changes, so a rule can change without editing a
// versioned migration.
type Definition struct {
	Name string
	SQL  string
}

// definitionSchemas are dropped whole before the definitions are applied
// again: nothing else lives in them.
var definitionSchemas = []string{"api", "staff", "logic"}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with NNNN_", n)
		}
		b, err := migrations.FS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", n, err)
		}
		out = append(out, Migration{Version: v, Name: n, SQL: string(b), SHA256: digest(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// Definitions lists the embedded definition files in name order.
func Definitions() ([]Definition, error) {
	names, err := fs.Glob(migrations.FS, "definitions/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list definitions: %w", err)
	}
	sort.Strings(names)
	out := make([]Definition, 0, len(names))
	for _, n := range names {
		b, err := migrations.FS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read definition %s: %w", n, err)
		}
		out = append(out, Definition{Name: n, SQL: string(b)})
	}
	return out, nil
}

// DefinitionsDigest is one SHA-256 over every definition's name and text.
func DefinitionsDigest(defs []Definition) string {
	h := sha256.New()
	for _, d := range defs {
		fmt.Fprintf(h, "%s\x00%d\x00%s", d.Name, len(d.SQL), d.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// LatestMigration is the highest embedded migration version.
func LatestMigration() (int, error) {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0, fmt.Errorf("no embedded migrations: %w", err)
	}
	return ms[len(ms)-1].Version, nil
}

// migrationLock is the advisory lock key that serialises concurrent migrators.
const migrationLock = 7_402_031_001

// ErrMigrationsPending means the database schema is older than this binary.
var ErrMigrationsPending = errors.New("database migrations are not current: run nbhd migrate")

// MigrationChangedError means a migration file differs from the one applied
// to the database: migrations are immutable once applied.
type MigrationChangedError struct {
	Name           string
	Applied, Embed string
}

func (e *MigrationChangedError) Error() string {
	return fmt.Sprintf("migration %s was changed after it was applied (database sha256 %.12s…, this binary %.12s…): "+
		"applied migrations are immutable; restore the file and add a new migration instead", e.Name, e.Applied, e.Embed)
}

// UnknownMigrationError means the database has a migration this binary does
// not know: it was migrated by a newer nbhd.
type UnknownMigrationError struct {
	Version int
	Name    string
}

func (e *UnknownMigrationError) Error() string {
	return fmt.Sprintf("database has migration %s, which this nbhd does not know: it was migrated by a newer version", e.Name)
}

// appliedMigration is a row of nbhd.schema_migrations.
type appliedMigration struct {
	Version int
	Name    string
	SHA256  string
}

// Querier is what reading the migration state needs: a connection, pool or
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// MigrationState compares the database's applied migrations and
// definitions with this binary's.
type MigrationState struct {
	Pending            []Migration
	DefinitionsChanged bool
}

// Current reports whether nothing is left to apply.
func (s MigrationState) Current() bool { return len(s.Pending) == 0 && !s.DefinitionsChanged }

// CheckMigrations reads the applied migrations through q (the public role
// may: api.schema_migrations) and compares them with the embedded ones. A
// changed or unknown applied migration is an error naming the file.
func CheckMigrations(ctx context.Context, q Querier, table string) (MigrationState, error) {
	ms, err := Migrations()
	if err != nil {
		return MigrationState{}, err
	}
	defs, err := Definitions()
	if err != nil {
		return MigrationState{}, err
	}
	rows, err := q.Query(ctx, "SELECT version, name, coalesce(sha256, '') FROM "+table+" ORDER BY version")
	if err != nil {
		return MigrationState{}, fmt.Errorf("read applied migrations: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowToStructByPos[appliedMigration])
	if err != nil {
		return MigrationState{}, fmt.Errorf("read applied migrations: %w", err)
	}
	var state MigrationState
	byVersion := map[int]Migration{}
	for _, m := range ms {
		byVersion[m.Version] = m
	}
	done := map[int]bool{}
	var storedDigest string
	for _, a := range applied {
		if a.Version == definitionsVersion {
			storedDigest = a.SHA256
			continue
		}
		m, ok := byVersion[a.Version]
		if !ok {
			return state, &UnknownMigrationError{Version: a.Version, Name: a.Name}
		}
		if a.SHA256 != "" && a.SHA256 != m.SHA256 {
			return state, &MigrationChangedError{Name: m.Name, Applied: a.SHA256, Embed: m.SHA256}
		}
		done[a.Version] = true
	}
	for _, m := range ms {
		if !done[m.Version] {
			state.Pending = append(state.Pending, m)
		}
	}
	state.DefinitionsChanged = storedDigest != DefinitionsDigest(defs)
	return state, nil
}

// definitionsVersion is the schema_migrations row that records the digest
// of the definitions last applied (version 0 is never a migration's).
const definitionsVersion = 0

// Migrate brings the database to this binary's schema in one transaction:
// it checks that applied migrations are unchanged, drops the definitions
// (views, functions, triggers in schemas api, staff and logic) when anything
// is to be applied, applies pending migrations in order, applies every
// definition again, and records each file's SHA-256. It returns the names
// applied. Concurrent callers wait on an advisory lock.
func Migrate(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // released with the session anyway
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS nbhd;
		CREATE TABLE IF NOT EXISTS nbhd.schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
		ALTER TABLE nbhd.schema_migrations ADD COLUMN IF NOT EXISTS sha256 text`); err != nil {
		return nil, fmt.Errorf("create migrations table: %w", err)
	}
	state, err := CheckMigrations(ctx, conn, "nbhd.schema_migrations")
	if err != nil {
		return nil, err
	}
	if err := recordUnknownChecksums(ctx, conn); err != nil {
		return nil, err
	}
	if state.Current() {
		return nil, nil
	}
	defs, err := Definitions()
	if err != nil {
		return nil, err
	}
	var applied []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var hadDefinitions bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nbhd.schema_migrations WHERE version = $1)",
			definitionsVersion).Scan(&hadDefinitions); err != nil {
			return fmt.Errorf("read definitions state: %w", err)
		}
		// Versioned migrations run without the definitions, so they may
		// change any table the views read; a database that never had
		// definitions has its legacy views dropped by migration 0007.
		if hadDefinitions {
			if err := dropDefinitions(ctx, tx); err != nil {
				return err
			}
		}
		for _, m := range state.Pending {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO nbhd.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
				m.Version, m.Name, m.SHA256); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
			applied = append(applied, m.Name)
		}
		// Legacy views and anything a migration left in the definitions'
		// schemas go too: those schemas hold definitions only.
		if err := dropDefinitions(ctx, tx); err != nil {
			return err
		}
		for _, d := range defs {
			if _, err := tx.Exec(ctx, d.SQL); err != nil {
				return fmt.Errorf("apply definitions %s: %w", d.Name, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO nbhd.schema_migrations (version, name, sha256) VALUES ($1, 'definitions', $2)
			ON CONFLICT (version) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()`,
			definitionsVersion, DefinitionsDigest(defs)); err != nil {
			return fmt.Errorf("record definitions: %w", err)
		}
		if state.DefinitionsChanged {
			applied = append(applied, "definitions")
		}
		// Rules or tables changed: every derived figure is made again under
		// the new rules, in the same transaction.
		if _, err := tx.Exec(ctx, "SELECT logic.refresh_all()"); err != nil {
			return fmt.Errorf("refresh derived statistics after migrating: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// recordUnknownChecksums stores the checksums of migrations applied before
// nbhd recorded them (databases migrated by earlier versions): from now on
// an edit to those files is caught too.
func recordUnknownChecksums(ctx context.Context, conn *pgx.Conn) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := conn.Exec(ctx, "UPDATE nbhd.schema_migrations SET sha256 = $2 WHERE version = $1 AND sha256 IS NULL",
			m.Version, m.SHA256); err != nil {
			return fmt.Errorf("record checksum of %s: %w", m.Name, err)
		}
	}
	return nil
}

// dropDefinitions drops every object the definitions create.
func dropDefinitions(ctx context.Context, tx pgx.Tx) error {
	for _, s := range definitionSchemas {
		if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("drop definitions schema %s: %w", s, err)
		}
	}
	return nil
}
