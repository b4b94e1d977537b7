package data_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// An applied migration whose file changed afterwards (simulated by changing
// the stored checksum, which is what an edited file looks like to the
// database) stops both migrate and the readiness check, naming the file.
func TestEditedMigrationIsRefusedByName(t *testing.T) {
	ctx := context.Background()
	url := dbtest.New(t, false)
	conn := dbtest.Conn(t, url)
	if _, err := conn.Exec(ctx, "UPDATE nbhd.schema_migrations SET sha256 = repeat('0', 64) WHERE name = '0002_insight.sql'"); err != nil {
		t.Fatal(err)
	}
	_, err := data.Migrate(ctx, conn)
	var changed *data.MigrationChangedError
	if !errors.As(err, &changed) || changed.Name != "0002_insight.sql" || !strings.Contains(err.Error(), "0002_insight.sql") {
		t.Fatalf("migrate after an edit: %v, want a MigrationChangedError naming 0002_insight.sql", err)
	}
	s := open(t, url)
	if err := s.Ready(ctx); !errors.As(err, &changed) || changed.Name != "0002_insight.sql" {
		t.Errorf("Ready after an edit: %v, want a MigrationChangedError naming 0002_insight.sql", err)
	}
}

// A database migrated by a newer nbhd is refused, not silently served.
func TestUnknownAppliedMigrationIsRefused(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Conn(t, dbtest.New(t, false))
	if _, err := conn.Exec(ctx, "INSERT INTO nbhd.schema_migrations (version, name, sha256) VALUES (9999, '9999_future.sql', 'x')"); err != nil {
		t.Fatal(err)
	}
	_, err := data.Migrate(ctx, conn)
	var unknown *data.UnknownMigrationError
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Fatalf("migrate with an unknown migration applied: %v", err)
	}
}

// Definitions are applied again whenever they differ from the ones
// recorded, and the rules they define work afterwards.
func TestChangedDefinitionsAreReapplied(t *testing.T) {
	ctx := context.Background()
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	var before int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM api.neighbourhood_indicators").Scan(&before); err != nil || before == 0 {
		t.Fatalf("indicators before: %d, %v", before, err)
	}
	if _, err := conn.Exec(ctx, "UPDATE nbhd.schema_migrations SET sha256 = 'stale' WHERE version = 0"); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	if err := s.Ready(ctx); !errors.Is(err, data.ErrMigrationsPending) {
		t.Errorf("Ready with stale definitions: %v, want ErrMigrationsPending", err)
	}
	applied, err := data.Migrate(ctx, conn)
	if err != nil || len(applied) != 1 || applied[0] != "definitions" {
		t.Fatalf("migrate with stale definitions applied %v, %v; want [definitions]", applied, err)
	}
	var after int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM api.neighbourhood_indicators").Scan(&after); err != nil || after != before {
		t.Errorf("indicators after re-applying definitions: %d (%v), want %d", after, err, before)
	}
	if err := s.Ready(ctx); err != nil {
		t.Errorf("Ready after migrate: %v", err)
	}
}

// A database migrated before checksums were kept (sha256 empty) gets its
// checksums recorded, so later edits are caught there too.
func TestChecksumsAreRecordedForOldDatabases(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Conn(t, dbtest.New(t, false))
	if _, err := conn.Exec(ctx, "UPDATE nbhd.schema_migrations SET sha256 = NULL WHERE version > 0"); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var missing int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM nbhd.schema_migrations WHERE sha256 IS NULL").Scan(&missing); err != nil || missing != 0 {
		t.Errorf("%d migrations without a checksum after migrate (%v)", missing, err)
	}
}

// Upgrading a database made by nbhd before definitions existed (migrations
// 0001-0006 only, with data in it) keeps the data and derives from it.
func TestUpgradeFromBeforeDefinitionsKeepsData(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewEmpty(t)
	conn := dbtest.Conn(t, url)
	ms, err := data.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA nbhd; CREATE TABLE nbhd.schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version > 6 {
			break
		}
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("apply %s as an old nbhd would: %v", m.Name, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO nbhd.schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `
		INSERT INTO nbhd.datasets (kind, key, title) VALUES ('small_areas', 'lsoa', 'old import');
		INSERT INTO nbhd.small_areas (code, name, vintage, geom, dataset_id)
		SELECT 'E01000001', 'Old 001A', 2021,
		       ST_Multi(ST_MakeEnvelope(-2.6, 53.5, -2.59, 53.51, 4326)), id FROM nbhd.datasets;
		INSERT INTO nbhd.small_area_population (code, population, period, dataset_id)
		SELECT 'E01000001', 1500, 'mid-2020', id FROM nbhd.datasets`); err != nil {
		t.Fatal(err)
	}
	applied, err := data.Migrate(ctx, conn)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if len(applied) == 0 || applied[len(applied)-1] != "definitions" {
		t.Errorf("upgrade applied %v, want the new migrations then definitions", applied)
	}
	var pop int
	if err := conn.QueryRow(ctx, "SELECT population FROM api.small_areas WHERE code = 'E01000001'").Scan(&pop); err != nil || pop != 1500 {
		t.Errorf("population through the public view after the upgrade: %d, %v", pop, err)
	}
}

// Periods order by the date they end: a mid-2024 estimate is older than a
// 2025 figure, whatever the text says.
func TestPeriodsOrderByDate(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Conn(t, dbtest.New(t, false))
	cases := []struct {
		periods []string
		latest  string
	}{
		{[]string{"2025", "mid-2024"}, "2025"},
		{[]string{"mid-2024", "mid-2023"}, "mid-2024"},
		{[]string{"2024/25", "2024"}, "2024/25"},
		{[]string{"2024-25", "2025-Q1", "2025-02"}, "2025-Q1"},
		{[]string{"2025-Q2", "2025-Q1"}, "2025-Q2"},
		{[]string{"mid-2030", "nonsense"}, "mid-2030"},
		{[]string{"nonsense", "mid-2030"}, "mid-2030"},
	}
	for _, c := range cases {
		var got string
		if err := conn.QueryRow(ctx, "SELECT logic.latest_period(p) FROM unnest($1::text[]) p", c.periods).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.latest {
			t.Errorf("latest of %v: %s, want %s", c.periods, got, c.latest)
		}
	}
}

// Every GIN index the requests read is built without fastupdate: each
// republish would otherwise leave rows in its pending list, which every
// search scans until a vacuum empties it.
func TestGINIndexesHaveNoPendingList(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Conn(t, dbtest.New(t, false))
	var gin, pending []string
	if err := conn.QueryRow(ctx, `
		SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}'),
		       coalesce(array_agg(c.relname::text ORDER BY c.relname)
		                FILTER (WHERE NOT coalesce(c.reloptions @> '{fastupdate=off}', false)), '{}')
		FROM pg_class c JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE am.amname = 'gin' AND n.nspname IN ('api', 'nbhd', 'staff')`).Scan(&gin, &pending); err != nil {
		t.Fatal(err)
	}
	if len(gin) == 0 {
		t.Fatal("no GIN index found: the search's trigram index is gone, or this query no longer finds it")
	}
	if len(pending) > 0 {
		t.Errorf("GIN indexes with a pending list (fastupdate on): %v", pending)
	}
}
