package data_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
)

func connectAdmin(t *testing.T, url string) *data.Admin {
	t.Helper()
	db, err := data.Connect(context.Background(), url, "nbhd test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func TestDropIsAtomicAndBumpsTheDataVersion(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	db := connectAdmin(t, url)
	before := scalar[int64](t, conn, "SELECT version FROM nbhd.data_version")
	id := scalar[int64](t, conn, "SELECT id FROM nbhd.datasets WHERE kind = 'schools'")
	d, err := db.DropDataset(context.Background(), id, data.LockWait{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != "schools" || d.Rows == 0 {
		t.Errorf("dropped %+v", d)
	}
	if n := scalar[int64](t, conn, "SELECT count(*) FROM api.schools"); n != 0 {
		t.Errorf("%d schools left in the public view", n)
	}
	if after := scalar[int64](t, conn, "SELECT version FROM nbhd.data_version"); after <= before {
		t.Errorf("data version %d -> %d", before, after)
	}
	if _, err := db.DropDataset(context.Background(), id, data.LockWait{}); !errors.Is(err, data.ErrNoDataset) {
		t.Errorf("dropping it again: %v", err)
	}
}

func TestChangeSettingMergesNestedMembers(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	db := connectAdmin(t, url)
	ctx := context.Background()
	if err := db.ChangeSetting(ctx, "", "demand_model", []byte(`{"shares": {"chaotic": 0.05}}`), data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	// The migration's defaults are the expectation: 0.22 and the weights stay.
	if got := scalar[float64](t, conn, "SELECT (value->'shares'->>'just_coping')::float8 FROM nbhd.settings WHERE key = 'demand_model'"); got != 0.22 {
		t.Errorf("shares.just_coping %v after changing shares.chaotic; want 0.22 kept", got)
	}
	if got := scalar[float64](t, conn, "SELECT (value->'shares'->>'chaotic')::float8 FROM nbhd.settings WHERE key = 'demand_model'"); got != 0.05 {
		t.Errorf("shares.chaotic %v, want 0.05", got)
	}
	if got := scalar[float64](t, conn, "SELECT (value->'weights'->'chaotic'->>'health')::float8 FROM nbhd.settings WHERE key = 'demand_model'"); got != 0.35 {
		t.Errorf("weights.chaotic.health %v, want 0.35 kept", got)
	}
	// A null member removes one: a required one is refused, naming its path.
	err := db.ChangeSetting(ctx, "", "demand_model", []byte(`{"shares": {"just_coping": null}}`), data.LockWait{})
	var invalid *data.InvalidSettingError
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "demand_model.shares.just_coping is missing") {
		t.Errorf("removing shares.just_coping: %v", err)
	}
	for patch, want := range map[string]string{
		`{"shares": {"chaotic": 2}}`:         "demand_model.shares.chaotic must be a number from 0 to 1",
		`{"shares": {"chaotik": 0.1}}`:       "demand_model.shares.chaotik: unknown member",
		`{"weights": {"chaotic": {"x": 1}}}`: "demand_model.weights.chaotic.x: unknown member",
		`{"shares": {"just_coping": 0.99}}`:  "demand_model.shares.chaotic and demand_model.shares.just_coping add up to more than 1",
		`[1, 2]`:                             "must be a JSON object",
	} {
		err := db.ChangeSetting(ctx, "", "demand_model", []byte(patch), data.LockWait{})
		if !errors.As(err, &invalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", patch, err, want)
		}
	}
	if got := scalar[float64](t, conn, "SELECT (value->'shares'->>'chaotic')::float8 FROM nbhd.settings WHERE key = 'demand_model'"); got != 0.05 {
		t.Errorf("a refused change was stored: shares.chaotic %v", got)
	}
}

func TestMergePatch(t *testing.T) {
	for _, c := range []struct{ target, patch, want string }{
		{`{"a":{"b":1,"c":2}}`, `{"a":{"b":3}}`, `{"a":{"b":3,"c":2}}`},
		{`{"a":{"b":1,"c":2}}`, `{"a":{"b":null}}`, `{"a":{"c":2}}`},
		{`{"a":1}`, `{"a":{"b":2}}`, `{"a":{"b":2}}`},
		{`{"a":{"b":1}}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"a":1}`, `{"z":"x"}`, `{"a":1,"z":"x"}`},
	} {
		got, err := data.MergePatch([]byte(c.target), []byte(c.patch))
		if err != nil || string(got) != c.want {
			t.Errorf("MergePatch(%s, %s) = %s, %v; want %s", c.target, c.patch, got, err, c.want)
		}
	}
}

func TestDataChangesQueueAndSayWhatTheyWaitFor(t *testing.T) {
	url := dbtest.New(t, true)
	ctx := context.Background()
	first := connectAdmin(t, url)
	tx, err := first.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back below
	if err := data.LockData(ctx, tx, "import of gias gias", data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	pid := scalar[int](t, dbtest.Conn(t, url), "SELECT pid FROM pg_stat_activity WHERE application_name = 'nbhd: import of gias gias'")
	second := connectAdmin(t, url)
	var said []string
	id := scalar[int64](t, dbtest.Conn(t, url), "SELECT id FROM nbhd.datasets WHERE kind = 'schools'")
	_, err = second.DropDataset(ctx, id, data.LockWait{Wait: 500 * time.Millisecond, Waiting: func(m string) { said = append(said, m) }})
	if !errors.Is(err, data.ErrBusy) {
		t.Fatalf("drop while an import holds the lock: %v, want ErrBusy", err)
	}
	want := fmt.Sprintf("waiting for another import of gias gias (pid %d) since ", pid)
	if len(said) != 1 || !strings.HasPrefix(said[0], want) {
		t.Errorf("said %q, want one message starting %q", said, want)
	}
	if !strings.Contains(err.Error(), "gave up after 500ms") {
		t.Errorf("error %q does not say how long it waited", err)
	}
	// Once the first finishes, the second goes ahead.
	done := make(chan error, 1)
	go func() {
		_, err := second.DropDataset(ctx, id, data.LockWait{Wait: 10 * time.Second})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("drop after the lock was released: %v", err)
	}
}
