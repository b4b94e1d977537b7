package data_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// replicated is a primary with a migrated database and two streaming hot
// standbys of it, in clusters of the test's own.
type replicated struct {
	primary, a, b *dbtest.Cluster
	url           string // the primary's database
}

func newReplicated(t *testing.T) *replicated {
	t.Helper()
	p := dbtest.NewCluster(t)
	url := p.NewDatabase(t, "nbhd", false)
	return &replicated{primary: p, a: p.NewStandby(t), b: p.NewStandby(t), url: url}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	if _, err := dbtest.Conn(t, url).Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func versionAt(t *testing.T, url string) int64 {
	t.Helper()
	var v int64
	if err := dbtest.Conn(t, url).QueryRow(context.Background(), "SELECT version FROM api.data_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReplicaFollowsTheVersionOnlyOnceReplayed: the version a server on
// standbys serves moves after an import on the primary, but only once a
// standby has replayed it; reads then go only to standbys that have; a
// standby whose replay is paused makes Ready fail once it lags past the
// limit, and resuming it clears that.
func TestReplicaFollowsTheVersionOnlyOnceReplayed(t *testing.T) {
	r := newReplicated(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := data.Open(ctx, data.Config{URL: r.url, ReadURLs: []string{r.a.URL("nbhd"), r.b.URL("nbhd")},
		VersionPollInterval: 100 * time.Millisecond, MaxReplicaLag: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type change struct {
		version, atA, atB int64
	}
	changes := make(chan change, 10)
	go s.WatchVersion(ctx, slog.Default(), func(v int64) {
		// What each standby had replayed when the version moved.
		changes <- change{v, versionAt(t, r.a.URL("nbhd")), versionAt(t, r.b.URL("nbhd"))}
	})
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("ready with two current standbys: %v", err)
	}
	if rs := s.Replicas(); len(rs) != 2 || !rs[0].Standby || !rs[1].Up {
		t.Fatalf("replicas: %+v", rs)
	}

	// An import on the primary reaches the servers through the standbys.
	v0 := s.Version()
	start := time.Now()
	exec(t, r.url, "SELECT logic.data_changed()")
	select {
	case c := <-changes:
		if c.version != v0+1 || max(c.atA, c.atB) < c.version {
			t.Fatalf("version moved to %d when the standbys had %d and %d", c.version, c.atA, c.atB)
		}
		t.Logf("version %d served %v after the change on the primary", c.version, time.Since(start).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatalf("version still %d 2 s after a change on the primary", s.Version())
	}

	// Standby a stops replaying; a change on the primary reaches b only.
	exec(t, r.a.URL("postgres"), "SELECT pg_wal_replay_pause()")
	exec(t, r.url, "SELECT logic.data_changed()")
	select {
	case c := <-changes:
		if c.atB < c.version || c.atA >= c.version {
			t.Fatalf("version %d: standby a has %d (paused), b %d", c.version, c.atA, c.atB)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("version did not move with one standby current")
	}
	// Reads now go to b alone: a has not replayed the version served. The
	// follower's polls (every 100 ms) use a's pool too; reads sent there
	// would be about half of the 200.
	before, b0 := s.PoolStats()["replica1"].AcquireCount(), s.PoolStats()["replica2"].AcquireCount()
	began := time.Now()
	for range 200 {
		if _, err := s.Search(ctx, "E01", 5); err != nil {
			t.Fatal(err)
		}
	}
	polls := int64(time.Since(began)/(100*time.Millisecond)) + 2
	if n := s.PoolStats()["replica1"].AcquireCount() - before; n > polls {
		t.Errorf("%d connections taken on the paused standby during 200 reads (polls account for %d at most)", n, polls)
	}
	if n := s.PoolStats()["replica2"].AcquireCount() - b0; n < 200 {
		t.Errorf("%d connections taken on the current standby for 200 reads", n)
	}
	// b is current, so the server is ready; once b pauses too and both
	// lag past the limit, it is not.
	if err := s.Ready(ctx); err != nil {
		t.Errorf("ready with one current standby: %v", err)
	}
	exec(t, r.b.URL("postgres"), "SELECT pg_wal_replay_pause()")
	exec(t, r.url, "SELECT logic.data_changed()")
	served := s.Version()
	deadline := time.Now().Add(5 * time.Second)
	var lagErr *data.ReplicaLagError
	for {
		err := s.Ready(ctx)
		if errors.As(err, &lagErr) {
			t.Logf("not ready %v after the change: %v", time.Since(deadline.Add(-5*time.Second)).Round(time.Millisecond), err)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still ready 5 s after both standbys stopped replaying (limit 1 s): %v %+v", err, s.Replicas())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.Version() != served {
		t.Errorf("version moved to %d while no standby had replayed it", s.Version())
	}
	for _, rs := range lagErr.Replicas {
		if !rs.ReplayPaused || rs.Lag() < time.Second || rs.BehindBytes <= 0 {
			t.Errorf("lagging standby reported as %+v", rs)
		}
	}
	exec(t, r.a.URL("postgres"), "SELECT pg_wal_replay_resume()")
	exec(t, r.b.URL("postgres"), "SELECT pg_wal_replay_resume()")
	select {
	case c := <-changes:
		if c.version != served+1 {
			t.Errorf("after resuming, version %d; want %d", c.version, served+1)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("version did not move after replay resumed")
	}
	deadline = time.Now().Add(3 * time.Second)
	for s.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready 3 s after replay resumed: %v", s.Ready(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplicaDownReadsGoToTheOther: a standby that stops answering is
// passed over, and Open needs only one standby to answer.
func TestReplicaDownReadsGoToTheOther(t *testing.T) {
	r := newReplicated(t)
	ctx := context.Background()
	r.a.Stop(t)
	s, err := data.Open(ctx, data.Config{URL: r.url, ReadURLs: []string{r.a.URL("nbhd"), r.b.URL("nbhd")},
		VersionPollInterval: 100 * time.Millisecond, AcquireTimeout: time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatalf("open with one of two standbys down: %v", err)
	}
	defer s.Close()
	for range 10 {
		if _, err := s.Search(ctx, "E01", 5); err != nil {
			t.Fatalf("read with one standby down: %v", err)
		}
	}
	if err := s.Ready(ctx); err != nil {
		t.Errorf("ready with one standby up: %v", err)
	}
	if rs := s.Replicas(); rs[0].Up || !rs[1].Up {
		t.Errorf("replicas: %+v", rs)
	}
	r.b.Stop(t)
	if _, err := s.Search(ctx, "E01", 5); !data.IsUnavailable(err) {
		t.Errorf("read with every standby down: %v, want unavailable", err)
	}
}
