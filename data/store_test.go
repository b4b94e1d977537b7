package data_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"nbhd/data"
	"nbhd/data/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func open(t *testing.T, url string) *data.Store {
	t.Helper()
	s, err := data.Open(context.Background(), data.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// privateTables lists every table of the private schema, so a new table is
// covered by the privilege test without editing it.
func privateTables(t *testing.T, url string) []string {
	conn := dbtest.Conn(t, url)
	rows, err := conn.Query(context.Background(), "SELECT tablename FROM pg_tables WHERE schemaname = 'nbhd' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if len(out) < 10 {
		t.Fatalf("only %d private tables found: %v", len(out), out)
	}
	return out
}

func TestPublicRoleCannotReadPrivateTables(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	ctx := context.Background()
	for _, tbl := range privateTables(t, url) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE nbhd_public"); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, "SELECT * FROM nbhd."+tbl+" LIMIT 1")
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("nbhd_public reading nbhd.%s: %v, want permission denied", tbl, err)
		}
		_ = tx.Rollback(ctx)
	}
	// And the public views work for it.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE nbhd_public"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM api.small_areas").Scan(&n); err != nil || n != 200 {
		t.Errorf("nbhd_public reading api.small_areas: %d rows, %v", n, err)
	}
}

func TestServerPoolsRunAsTheirRoles(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	ctx := context.Background()
	for _, c := range []struct {
		a    data.Access
		role string
	}{{data.Public, "nbhd_public"}, {data.Staff, "nbhd_staff"}} {
		var role string
		var readOnly string
		if err := s.QueryRowForTest(ctx, c.a, "SELECT current_user, current_setting('transaction_read_only')", &role, &readOnly); err != nil {
			t.Fatal(err)
		}
		wantRO := map[data.Access]string{data.Public: "on", data.Staff: "off"}[c.a]
		if role != c.role || readOnly != wantRO {
			t.Errorf("pool %v runs as %s (read only %s), want %s (read only %s)", c.a, role, readOnly, c.role, wantRO)
		}
	}
	var n int
	err := s.QueryRowForTest(ctx, data.Public, "SELECT count(*) FROM nbhd.small_areas", &n)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("public pool read nbhd.small_areas: %v, want permission denied", err)
	}
	if err := s.QueryRowForTest(ctx, data.Staff, "SELECT count(*) FROM nbhd.small_areas", &n); err != nil || n != 200 {
		t.Errorf("staff pool: %d small areas, %v", n, err)
	}
}

func TestMigrateIsIdempotentAndReadyChecksIt(t *testing.T) {
	url := dbtest.New(t, false)
	conn := dbtest.Conn(t, url)
	applied, err := data.Migrate(context.Background(), conn)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, %v; want nothing", applied, err)
	}
	s := open(t, url)
	if err := s.Ready(context.Background()); err != nil {
		t.Fatalf("Ready on a migrated database: %v", err)
	}
	if _, err := conn.Exec(context.Background(), "DELETE FROM nbhd.schema_migrations WHERE version = (SELECT max(version) FROM nbhd.schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(context.Background()); !errors.Is(err, data.ErrMigrationsPending) {
		t.Errorf("Ready with a migration missing: %v, want ErrMigrationsPending", err)
	}
}

func TestVersionWatcherSeesChangesFromOtherConnections(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changed := make(chan int64, 16)
	go s.WatchVersion(ctx, slog.Default(), func(v int64) { changed <- v })
	before := s.Version()
	// No wait for the listener: it re-reads the version once it listens,
	// so a change made before then is still seen.
	conn := dbtest.Conn(t, url)
	if _, err := conn.Exec(context.Background(), "UPDATE nbhd.datasets SET title = title || ' (edited)' WHERE id = (SELECT min(id) FROM nbhd.datasets)"); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-changed:
		if v <= before || s.Version() != v {
			t.Errorf("version moved from %d to %d (store says %d)", before, v, s.Version())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no version change seen within 2 s")
	}
}
